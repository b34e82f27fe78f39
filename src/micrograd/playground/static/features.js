// micrograd playground: the input column of the network diagram and neuron hover.
// Every input feature the server knows is a tile; the ones in use are connected to the first
// layer, the others are drawn faded. A click switches a feature on or off (`configure features`);
// hovering any neuron tile asks the server for that neuron's output over the plane (`focus`), and
// the Output panel's plane shows it until the mouse leaves. Loaded before app.js (shared globals).
"use strict";

// [protocol name, label, value at (x1, x2)] in the order the session keeps them
const FEATURES = [
  ["x1", "x\u2081", (x, y) => x],
  ["x2", "x\u2082", (x, y) => y],
  ["x1_sq", "x\u2081\u00b2", (x, y) => x * x],
  ["x2_sq", "x\u2082\u00b2", (x, y) => y * y],
  ["x1_x2", "x\u2081x\u2082", (x, y) => x * y],
  ["sin_x1", "sin x\u2081", (x, y) => Math.sin(x)],
  ["sin_x2", "sin x\u2082", (x, y) => Math.sin(y)],
];
const FEATURE_NAMES = FEATURES.map((f) => f[0]);
const DEFAULT_FEATURES = ["x1", "x2"];

function activeFeatures() {
  const c = S.state && S.state.config;
  return (c && c.features) || DEFAULT_FEATURES;
}

function featureLabel(name) {
  const f = FEATURES.find((g) => g[0] === name);
  return f ? f[1] : name;
}

function featureGrid(name, T) {
  // the feature over a T×T grid of the plane (row 0 at the top), scaled into [-1, 1]
  const [x0, x1, y0, y1] = S.state.extent;
  const fn = FEATURES.find((g) => g[0] === name)[2];
  const out = new Float32Array(T * T);
  let m = 0;
  for (let r = 0; r < T; r++) {
    for (let c = 0; c < T; c++) {
      const v = fn(x0 + ((c + 0.5) / T) * (x1 - x0), y1 - ((r + 0.5) / T) * (y1 - y0));
      out[r * T + c] = v;
      m = Math.max(m, Math.abs(v));
    }
  }
  if (m > 0) for (let i = 0; i < out.length; i++) out[i] /= m;
  return out;
}

function toggleFeature(name) {
  // clicks quicker than the server's answer build on each other (S.featuresWant until a state)
  const on = new Set(S.featuresWant || activeFeatures());
  if (on.has(name)) on.delete(name);
  else on.add(name);
  if (!on.size) { toast("keep at least one input feature: switch another on first"); return; }
  S.featuresWant = FEATURE_NAMES.filter((n) => on.has(n));
  // the clicked tile is rebuilt under the mouse and never gets its mouseleave: end its preview
  // or focus now (else the plane keeps showing the feature; the next hover shows it again)
  if (S.preview) showLocalFeature(null);
  if (S.hover) setFocus(null);
  send({ type: "configure", features: S.featuresWant });
}

function buildInputColumn(net, x, rows, s) {
  // all features as tiles at the heights `rows`; returns the canvases of those in use, in order
  const active = activeFeatures();
  S.featuresWant = null;
  const used = [];
  FEATURES.forEach(([name, label], k) => {
    const on = active.includes(name);
    const cv = document.createElement("canvas");
    cv.className = on ? "tile feature" : "feature off";
    cv.dataset.feature = name;
    cv.width = cv.height = Math.round(s * (window.devicePixelRatio || 1));
    Object.assign(cv.style, { width: `${s}px`, height: `${s}px`, left: `${x - s / 2}px`,
      top: `${rows[k] - s / 2}px` });
    cv.title = `${label}: ${on ? "in use, click to remove" : "click to use it"}`;
    cv.onclick = () => toggleFeature(name);
    if (on) hoverable(cv, 0, active.indexOf(name));
    else {
      cv.onmouseenter = () => showLocalFeature(name);
      cv.onmouseleave = () => showLocalFeature(null);
    }
    net.appendChild(cv);
    const lab = document.createElement("span");
    lab.className = on ? "tile-label in" : "tile-label in off";
    lab.textContent = label;
    lab.style.top = `${rows[k]}px`;
    lab.style.left = `${x - s / 2 - 5}px`;
    net.appendChild(lab);
    if (on) used[active.indexOf(name)] = cv;
  });
  return used;
}

function drawFeatureTiles() {
  const L = S.layout;
  if (!L || !S.state) return;
  const T = 16;
  for (const cv of document.querySelectorAll("#net canvas[data-feature]")) {
    const g = featureGrid(cv.dataset.feature, T);
    paintTile(cv, T, (r, c) => g[r * T + c]);
  }
}

// ---------- hover: one neuron's output on the big plane ----------

function hoverable(cv, layer, index) {
  cv.dataset.layer = String(layer);
  cv.dataset.index = String(index);
  cv.onmouseenter = () => setFocus(layer, index);
  cv.onmouseleave = () => setFocus(null);
  if (S.hover && S.hover.layer === layer && S.hover.index === index) cv.classList.add("focused");
}

function setFocus(layer, index) {
  for (const el of document.querySelectorAll("#net .focused")) el.classList.remove("focused");
  if (layer === null) {
    if (S.hover) send({ type: "focus" });
    S.hover = null;
  } else {
    S.hover = { layer, index };
    send({ type: "focus", layer, index });
    const cv = document.querySelector(`#net canvas[data-layer="${layer}"][data-index="${index}"]`);
    if (cv) cv.classList.add("focused");
  }
  showPlaneNote();
  drawBoundary();
}

function keepFocus(sizes) {
  // after the diagram is rebuilt: a focus on a neuron that no longer exists is cleared
  const h = S.hover;
  if (h && (h.layer >= sizes.length || h.index >= sizes[h.layer])) setFocus(null);
}

function showLocalFeature(name) {
  // an unused feature: drawn from its formula, the server has no neuron for it
  S.preview = name;
  showPlaneNote();
  drawBoundary();
}

function focusName(h) {
  const sizes = S.state.sizes;
  if (h.layer === 0) return `input ${featureLabel(activeFeatures()[h.index])}`;
  if (h.layer === sizes.length - 1) {
    return S.state.classes ? `output: class ${h.index} probability` : "output: the predicted value";
  }
  return `layer ${h.layer}, neuron ${h.index}`;
}

function showPlaneNote() {
  const el = $("plane-note");
  if (!el) return;
  if (S.preview) el.textContent = `showing ${featureLabel(S.preview)} (not in use)`;
  else if (S.hover && S.state) el.textContent = `showing ${focusName(S.hover)}`;
  else el.textContent = "";
}
