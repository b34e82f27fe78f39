// micrograd playground: the loss curves above the plane, train and test (the history's "val": the
// points held out of training, as the metrics and the legend name them) against the step, on a
// log scale once the losses span more than a factor of 20. Its words are in the page's language
// (main.js draws it again when the language changes).
import { $, fmtNum, hiDpi } from "./format.js";
import { t } from "./i18n.js";

const SERIES = [["train", "#1f77b4"], ["val", "#d62728"]];

export function drawCurve(h) {
  // h: {step, train, val}, one entry per recorded step (null: no loss at that step)
  const W = $("curve").clientWidth || 400, H = 80, left = 50, right = 8, top = 8, bottom = 18;
  const ctx = hiDpi($("curve"), W, H);
  ctx.clearRect(0, 0, W, H);
  ctx.font = "10px system-ui, sans-serif";
  const vals = [...h.train, ...h.val].filter((v) => v !== null && v > 0);
  ctx.strokeStyle = "#dfe3ea";
  ctx.strokeRect(left + 0.5, top + 0.5, W - left - right, H - top - bottom);
  if (!vals.length) {
    ctx.fillStyle = "#98a2b3";
    ctx.fillText(t("loss curves appear when training starts"), left + 10, H / 2);
    return;
  }
  let lo = Math.min(...vals), hi = Math.max(...vals);
  const log = hi / lo > 20;
  const tf = log ? Math.log10 : (v) => v;
  if (!log) lo = 0;
  const a = tf(lo), b = tf(hi) === tf(lo) ? tf(lo) + 1 : tf(hi);
  const s0 = h.step[0], s1 = Math.max(h.step[h.step.length - 1], s0 + 1);
  const X = (s) => left + ((s - s0) / (s1 - s0)) * (W - left - right);
  const Y = (v) => top + (1 - (tf(v) - a) / (b - a)) * (H - top - bottom);
  for (const [key, color] of SERIES) {
    ctx.strokeStyle = color;
    ctx.lineWidth = 1.6;
    ctx.beginPath();
    let pen = false;
    h[key].forEach((v, i) => {
      if (v === null || v <= 0) { pen = false; return; }
      if (pen) ctx.lineTo(X(h.step[i]), Y(v));
      else ctx.moveTo(X(h.step[i]), Y(v));
      pen = true;
    });
    ctx.stroke();
  }
  ctx.fillStyle = "#667085";
  ctx.textAlign = "right";
  ctx.fillText(fmtNum(hi, 2), left - 4, top + 8);
  ctx.fillText(log ? fmtNum(lo, 2) : "0", left - 4, H - bottom);
  ctx.textAlign = "left";
  ctx.fillText(t("step {k}", { k: s0 }), left, H - 4);
  ctx.textAlign = "right";
  ctx.fillText(`${h.step[h.step.length - 1]}`, W - right, H - 4);
  ctx.textAlign = "left";
  // the key below the middle: each label after the last, as wide as it reads
  const key = [[t("\u2014 train"), "#1f77b4"], [t("\u2014 test"), "#d62728"]];
  if (log) key.push([t("log scale"), "#667085"]);
  let x = left + (W - left - right) / 2 - 60;
  for (const [label, color] of key) {
    ctx.fillStyle = color;
    ctx.fillText(label, x, H - 4);
    x += ctx.measureText(label).width + 10;
  }
}
