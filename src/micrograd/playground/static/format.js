// micrograd playground: small helpers every view uses: the element by id, numbers written as the
// graph's boxes write them, the frames' base64 bytes, and a canvas sized for the screen's pixels.

export const $ = (id) => document.getElementById(id);

export function fmtNum(x, decimals = 4) {
  // as micrograd.graph.fmt_number writes the graph's boxes: `decimals` places (see fixed), or
  // 3 significant digits in e-notation
  // ("7.08e-05") when those places would hide the number or it is huge
  if (x === null || x === undefined) return "\u2013";
  if (x === 0) return (0).toFixed(decimals);
  const a = Math.abs(x);
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  if (a >= 10 ** (1 - decimals) && a < 1e6) return fixed(x, decimals);
  const [m, e] = x.toExponential(2).split("e");
  return `${m}e${e[0]}${e.slice(1).padStart(2, "0")}`;
}

// x to `places` decimals, more (up to 6) when those would round it to a whole number it is not
// (0.99999 is not 1), and "whole ± distance" when even those would ("1 \u2212 2.7e-12"): as
// micrograd.graph.fixed
export function fixed(x, places) {
  let text = x.toFixed(places);
  const whole = Math.round(x);
  for (let p = places + 1; x !== whole && Number(text) === whole && p <= 6; p++) text = x.toFixed(p);
  if (x === whole || Number(text) !== whole) return text;
  const [m, e] = Math.abs(x - whole).toExponential(1).split("e");
  return `${whole} ${x > whole ? "+" : "\u2212"} ${m}e${e[0]}${e.slice(1).padStart(2, "0")}`;
}

export function fmtAcc(x) {
  return x === null || x === undefined ? "\u2013" : `${(100 * x).toFixed(1)}%`;
}

export function b64bytes(s) {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function hiDpi(cv, w, h) {
  // a 2D context drawing in CSS pixels on a canvas backed by the screen's device pixels
  const dpr = window.devicePixelRatio || 1;
  if (cv.width !== Math.round(w * dpr)) {
    cv.width = Math.round(w * dpr);
    cv.height = Math.round(h * dpr);
  }
  const ctx = cv.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  return ctx;
}

export function sameSizes(a, b) {
  return a && b && a.length === b.length && a.every((v, i) => v === b[i]);
}
