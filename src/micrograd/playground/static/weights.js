// micrograd playground: the network diagram's numbers by the pointer. Over a weight line its
// value (and which neurons it joins); a click on it opens a box to type a new value, sent as
// `set_weight` (the model checks it, sets it and answers with a frame; training goes on from it).
// Over a neuron's tile its bias.
//   createWeightTips({ model, send, network }) -> { hit(x, y), tip }
import { $, fmtNum } from "./format.js";
import { say, words } from "./i18n.js";

const NEAR = 5; // px: a pointer this close to a weight's line is on it
const SAMPLES = 24; // points along each line for the distance

export function createWeightTips({ model, send, network }) {
  const net = $("net");
  const tip = document.createElement("div");
  tip.id = "weight-tip";
  let editing = null; // the weight being edited: {layer, neuron, input}

  function weightOf(l, j, i) {
    // the frame's weight i of neuron j in weight layer l; i === its inputs: the bias
    const f = model.frame, nin = network.layout.sizes[l];
    return f && f.weights[l] ? f.weights[l][j * (nin + 1) + i] : null;
  }

  function hit(x, y) {
    // the weight line nearest (x, y) in #net's pixels within NEAR: {layer, neuron, input}
    const L = network.layout;
    if (!L || !model.frame) return null;
    let best = null, bestD = NEAR * NEAR;
    for (let l = 0; l + 1 < L.sizes.length; l++) {
      const xa = L.xs[l] + L.s / 2, xb = L.xs[l + 1] - L.s / 2, xm = (xa + xb) / 2;
      if (x < xa - NEAR || x > xb + NEAR) continue;
      for (let j = 0; j < L.sizes[l + 1]; j++) {
        for (let i = 0; i < L.sizes[l]; i++) {
          const d = curveDistance(x, y, xa, xm, xb, L.columns[l][i], L.columns[l + 1][j]);
          if (d < bestD) { bestD = d; best = { layer: l, neuron: j, input: i }; }
        }
      }
    }
    return best;
  }

  function show(sentence, x, y) {
    say(tip, sentence.text, sentence.params);
    tip.style.left = `${x + 12}px`;
    tip.style.top = `${y + 12}px`;
    tip.classList.add("show");
  }

  function hide() {
    if (editing) return;
    tip.classList.remove("show");
    net.classList.remove("on-weight");
  }

  function onMove(ev) {
    if (editing) return;
    const r = net.getBoundingClientRect(), x = ev.clientX - r.left, y = ev.clientY - r.top;
    const t = ev.target;
    if (t.classList.contains("tile") && !t.dataset.feature && t.dataset.layer > 0) {
      const layer = Number(t.dataset.layer), index = Number(t.dataset.index);
      const b = weightOf(layer - 1, index, network.layout.sizes[layer - 1]);
      if (b !== null) show(words("bias {b}", { b: fmtNum(b, 3) }), x, y);
      net.classList.remove("on-weight");
      return;
    }
    const w = t.id === "links" ? hit(x, y) : null;
    net.classList.toggle("on-weight", Boolean(w));
    if (!w) { hide(); return; }
    show(words("weight {w} (click to change)", { w: fmtNum(weightOf(w.layer, w.neuron, w.input), 3) }), x, y);
  }

  function edit(ev) {
    // a click on a weight: a box with its value; Enter sends it, Escape or leaving drops it
    if (ev.target.id !== "links") return;
    const r = net.getBoundingClientRect(), x = ev.clientX - r.left, y = ev.clientY - r.top;
    const w = hit(x, y);
    if (!w) return;
    editing = w;
    const input = document.createElement("input");
    input.id = "weight-edit";
    input.type = "text";
    input.inputMode = "decimal";
    input.value = String(weightOf(w.layer, w.neuron, w.input));
    show(words("weight"), x, y);
    tip.classList.add("editing");
    tip.append(input);
    input.focus();
    input.select();
    input.onkeydown = (e) => {
      if (e.key === "Enter") {
        const text = input.value.trim(), v = Number(text);
        // not a number: sent as typed, so the model's checker says what is wrong with it
        send({ type: "set_weight", ...w, value: text !== "" && Number.isFinite(v) ? v : text });
        close();
      } else if (e.key === "Escape") close();
      e.stopPropagation(); // the page's keys (space: play) are not for this box
    };
    input.onblur = close;
  }

  function close() {
    if (!editing) return;
    editing = null;
    tip.classList.remove("editing");
    tip.replaceChildren();
    hide();
  }

  net.addEventListener("mousemove", onMove);
  net.addEventListener("mouseleave", hide);
  net.addEventListener("click", edit);
  net.append(tip); // the network's rebuilds keep it
  return { hit, tip };
}

function curveDistance(x, y, xa, xm, xb, ya, yb) {
  // the squared distance from (x, y) to the line drawn from (xa, ya) to (xb, yb) (a cubic Bézier
  // with both control points at xm), as SAMPLES straight pieces
  const at = (t) => {
    const u = 1 - t;
    return [u * u * u * xa + 3 * u * t * xm + t * t * t * xb,
      u * u * u * ya + 3 * u * t * (u * ya + t * yb) + t * t * t * yb];
  };
  let best = Infinity, [px, py] = at(0);
  for (let k = 1; k <= SAMPLES; k++) {
    const [qx, qy] = at(k / SAMPLES), dx = qx - px, dy = qy - py;
    const h = Math.max(0, Math.min(1, ((x - px) * dx + (y - py) * dy) / (dx * dx + dy * dy || 1)));
    best = Math.min(best, (px + h * dx - x) ** 2 + (py + h * dy - y) ** 2);
    [px, py] = [qx, qy];
  }
  return best;
}
