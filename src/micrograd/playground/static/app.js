// micrograd playground: the page. No build step, no libraries: one connection to the model
// (transport.js: the server's WebSocket, or the exported page's Python worker), which owns the
// model; this file only sends what the controls say and draws what comes back.
//   in:  state (data, network, settings), frame (losses, class probabilities over the plane,
//        neuron tiles, weights, the graph's numbers), graph (its SVG), status, pong, error
//   out: configure, add_point, pick, clear, regenerate, play, pause, step, reset, focus, ping
// features.js (the input column, neuron hover), plane.js (the Output panel's plane) and link.js
// (the shareable link) are loaded before this file and share its globals.
"use strict";

// Seaborn's "deep" palette, as micrograd.plot draws the boundary picture.
const CLASS_COLORS = ["#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860",
  "#da8bc3", "#8c8c8c", "#ccb974", "#64b5cd"];
const TINT = 0.55; // how much of the class colour shows over white
// Neurons and weights: purple above 0, grey below (micrograd.plot's neuron colours), so that no
// tile or line looks like a class.
const POS = [118, 42, 131]; // #762a83
const NEG = [77, 77, 77]; // #4d4d4d
const LINK_MAX = 3.3; // the widest weight line, px: the largest |w| of the frame
const $ = (id) => document.getElementById(id);

const S = {
  ws: null, state: null, frame: null, probs: null, addClass: 0, running: false,
  history: { step: [], train: [], val: [] },
  graph: { id: -1, nodes: [], zoom: 0.8, width: 0, height: 0, info: null },
  layout: null, plane: 400, linkWidths: [], ticks: null,
  values: null, hover: null, focusBytes: null, preview: null, addValue: 1, linkPending: false,
};

// ---------- connection ----------

function connect() {
  // the transport (transport.js): the server's WebSocket, or the exported page's Python worker
  if (S.ws) S.ws.close();
  const t = openTransport({
    onopen: () => { if (S.ws === t) setOnline(true); },
    onclose: (ev) => {
      if (S.ws !== t) return;
      const why = $("offline-why");
      why.dataset.text ??= why.innerHTML;
      if (ev.reason && ev.code !== 1000) why.textContent = ev.reason;  // e.g. the server is full
      else why.innerHTML = why.dataset.text;
      setOnline(false);
    },
    onmessage: (data) => {
      if (S.ws !== t) return;
      const msg = JSON.parse(data);
      const handler = HANDLERS[msg.type];
      if (handler) handler(msg);
    },
  });
  S.ws = t;
}

function send(msg) {
  if (S.ws) S.ws.send(JSON.stringify(msg));
}

const HANDLERS = {
  state: onState,
  frame: onFrame,
  graph: onGraph,
  walk: (m) => window.Walk?.onSteps(m), // backprop step by step (walkpanel.js)
  status: (m) => { setRunning(m.running); $("step-count").textContent = m.step.toLocaleString("en"); },
  pong: () => {},
  error: (m) => toast(m.message, NO_POINTS.test(m.message) ? hasTrainingPoints : null),
};

// The server's "there are no training points" error: gone as soon as the page has some.
const NO_POINTS = /no training points/;
const hasTrainingPoints = (st) => st.points.some((p) => p[3] === 0);

let toastTimer = null;
let toastUntil = null; // a state in which the toast no longer holds: hide it then
function toast(text, until = null) {
  const el = $("toast");
  el.textContent = text;
  el.classList.add("show");
  toastUntil = until;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(hideToast, 6000);
}

function hideToast() {
  clearTimeout(toastTimer);
  toastUntil = null;
  $("toast").classList.remove("show");
}

function setOnline(online) {
  // offline: nothing trains, so the run buttons show play, disabled, with an "offline" note
  document.body.classList.toggle("offline", !online);
  if (online) S.linkPending = true; // a new session: the link's settings are sent to it
  if (!online) setRunning(false);
  for (const id of ["play", "step", "reset"]) $(id).disabled = !online;
}

function setRunning(running) {
  S.running = running;
  document.body.classList.toggle("running", running);
}

// ---------- state: controls, points, the network's layout ----------

function onState(st) {
  S.state = st;
  if (toastUntil && toastUntil(st)) hideToast();
  const c = st.config;
  S.history = { step: [...st.history.step], train: [...st.history.train], val: [...st.history.val] };
  const problem = c.problem || "classification";
  for (const b of document.querySelectorAll("#datasets button")) {
    b.classList.toggle("active", b.dataset.dataset === c.dataset);
    b.classList.toggle("hidden", (b.dataset.problem || "classification") !== problem);
  }
  setSlider("n", c.n, String(c.n));
  setSlider("noise", c.noise, c.noise.toFixed(2));
  setSlider("train_frac", c.train_frac, `${Math.round(c.train_frac * 100)}%`);
  setSelect("lr", c.lr);
  setSelect("activation", c.activation);
  setSelect("weight_decay", c.weight_decay);
  setSelect("batch_size", c.batch_size);
  setSelect("speed", c.speed);
  setSelect("problem", problem);
  setSelect("regularization", c.regularization || "none");
  setSelect("reg_rate", c.reg_rate || 0);
  $("show_test").checked = Boolean(c.show_test);
  $("discretize").checked = Boolean(c.discretize);
  const regression = !st.classes;
  $("add-hint").textContent = `Click the plane to add a point of ${regression ? "value" : "class"}`;
  $("add-class").classList.toggle("hidden", regression);
  $("add-value-box").classList.toggle("hidden", !regression);
  $("key-class").classList.toggle("hidden", regression);
  $("key-value").classList.toggle("hidden", !regression);
  const layers = c.hidden.length;
  $("layers-count").textContent = layers;
  $("layers-word").textContent = layers === 1 ? "layer" : "layers";
  $("layers-minus").disabled = layers === 0;
  $("layers-plus").disabled = layers >= 4;
  $("param-count").textContent = st.params.toLocaleString("en");
  $("engine").textContent = st.engine;
  $("points-count").textContent = st.points.length;
  $("step-count").textContent = st.step.toLocaleString("en");
  setRunning(st.running);
  if (S.addClass >= st.classes) S.addClass = 0;
  buildClassButtons(st.classes);
  buildLegend(st.classes, st.points);
  buildNetwork(st.sizes, c.hidden);
  document.body.dataset.connected = "1";
  drawCurve();
  drawBoundary();
  showGraphInfo();
  showPlaneNote();
  linkOnState(st);
}

function setSlider(id, value, text) {
  $(id).value = value;
  $(`${id}-out`).textContent = text;
}

function setSelect(id, value) {
  const el = $(id);
  const v = String(value);
  if (![...el.options].some((o) => o.value === v)) {
    const o = document.createElement("option");
    o.value = v;
    o.textContent = v;
    el.appendChild(o);
  }
  el.value = v;
}

function buildClassButtons(k) {
  const box = $("add-class");
  box.replaceChildren();
  for (let i = 0; i < k; i++) {
    const b = document.createElement("button");
    b.textContent = i;
    b.style.background = CLASS_COLORS[i];
    b.title = `add points of class ${i}`;
    b.classList.toggle("active", i === S.addClass);
    b.onclick = () => { S.addClass = i; buildClassButtons(k); };
    box.appendChild(b);
  }
}

function buildLegend(k, points) {
  const box = $("legend");
  box.replaceChildren();
  const item = (cls, color, text) => {
    const span = document.createElement("span");
    const i = document.createElement("i");
    i.className = cls;
    if (color) i.style.background = color;
    span.append(i, text);
    box.appendChild(span);
  };
  for (let i = 0; i < k; i++) item("", CLASS_COLORS[i], `class ${i}`);
  if (!k) valueLegend(box);
  const key = $("net-classes"); // the same class colours, in the network panel's key
  key.replaceChildren();
  for (let i = 0; i < k; i++) {
    const sw = document.createElement("i");
    sw.className = "swatch";
    sw.style.background = CLASS_COLORS[i];
    key.append(...(i ? [", "] : []), sw, `${i}`);
  }
  pointsLegend(box, points);
}

// ---------- the network diagram: input tiles, hidden neuron tiles, output tiles, links ----------

function buildNetwork(sizes, hidden) {
  const net = $("net");
  for (const el of [...net.children]) if (el.id !== "links") el.remove();
  const W = net.clientWidth, H = net.clientHeight;
  const cols = sizes.length;
  const top = 52;
  const rows = sizes.map((n, i) => (i === 0 ? FEATURES.length : n)); // every feature has a tile
  const maxn = Math.max(...rows);
  const gap = maxn > 10 ? 3 : 8;
  const s = Math.max(12, Math.min(44, Math.floor((H - top - 8) / maxn) - gap));
  const pad = s / 2 + 30, padIn = s / 2 + 44; // room for the features' names on the left
  const xs = sizes.map((_, i) => (cols === 1 ? W / 2 : padIn + (i * (W - pad - padIn)) / (cols - 1)));
  const columns = rows.map((n, i) => {
    const total = n * s + (n - 1) * gap;
    const y0 = top + (H - top - total) / 2;
    return Array.from({ length: n }, (_, j) => y0 + j * (s + gap) + s / 2);
  });
  const tiles = [];
  sizes.forEach((n, i) => {
    const head = document.createElement("div");
    head.className = "col-head";
    head.style.left = `${xs[i]}px`;
    head.style.top = "0px";
    if (i === 0) head.append(spacer(), text("input"));
    else if (i === cols - 1) head.append(spacer(), text("output"));
    else {
      const li = i - 1;
      const pms = document.createElement("div");
      pms.className = "pms";
      pms.append(
        pmButton("\u2212", `remove a neuron from layer ${i}`, hidden[li] <= 1,
          () => setWidth(li, hidden[li] - 1), `neurons-minus-${i}`),
        pmButton("+", `add a neuron to layer ${i}`, hidden[li] >= 16,
          () => setWidth(li, hidden[li] + 1), `neurons-plus-${i}`));
      head.append(pms, text(`${n} neuron${n === 1 ? "" : "s"}`));
    }
    net.appendChild(head);
    if (i === 0) { // the features' tiles; the links start at the ones in use
      const used = activeFeatures().map((name) => columns[0][FEATURE_NAMES.indexOf(name)]);
      tiles.push(buildInputColumn(net, xs[0], columns[0], s));
      columns[0] = used;
      return;
    }
    const col = [];
    for (let j = 0; j < n; j++) {
      const cv = document.createElement("canvas");
      cv.className = i === cols - 1 ? "tile out" : "tile";
      cv.width = cv.height = Math.round(s * (window.devicePixelRatio || 1));
      Object.assign(cv.style, { width: `${s}px`, height: `${s}px`,
        left: `${xs[i] - s / 2}px`, top: `${columns[i][j] - s / 2}px` });
      hoverable(cv, i, j);
      if (i === cols - 1 && !S.state.classes) cv.title = "output: the predicted value";
      else if (i === cols - 1) { cv.title = `output: class ${j}`; cv.style.borderColor = CLASS_COLORS[j]; }
      else cv.title = `layer ${i}, neuron ${j}`;
      net.appendChild(cv);
      col.push(cv);
    }
    tiles.push(col);
    if (i === cols - 1 && S.state.classes) {
      for (let j = 0; j < n; j++) {
        const lab = document.createElement("span");
        lab.className = "tile-label";
        lab.textContent = `${j}`;
        lab.style.top = `${columns[i][j]}px`;
        lab.style.left = `${xs[i] + s / 2 + 6}px`;
        net.appendChild(lab);
      }
    }
  });
  S.layout = { sizes, xs, columns, s, tiles, W, H };
  keepFocus(sizes);
  drawFeatureTiles();
  drawLinks();
  if (S.frame && sameSizes(S.frame.sizes, sizes)) drawTiles(S.frame);
}

function spacer() {
  const d = document.createElement("div");
  d.style.height = "22px";
  return d;
}

function text(t) {
  const d = document.createElement("div");
  d.textContent = t;
  return d;
}

function pmButton(label, title, disabled, onclick, id) {
  const b = document.createElement("button");
  b.className = "pm";
  b.textContent = label;
  b.title = title;
  b.id = id;
  b.disabled = disabled;
  b.onclick = onclick;
  return b;
}

function setWidth(layer, width) {
  const hidden = [...S.state.config.hidden];
  hidden[layer] = Math.max(1, Math.min(16, width));
  send({ type: "configure", hidden });
}

function sameSizes(a, b) {
  return a && b && a.length === b.length && a.every((v, i) => v === b[i]);
}

function paintBlend(cv, T, colourAt) {
  // a T×T image, scaled into cv: colourAt(row, col) gives [rgb, a], white blended toward rgb
  const off = document.createElement("canvas");
  off.width = off.height = T;
  const ctx = off.getContext("2d");
  const img = ctx.createImageData(T, T);
  for (let r = 0; r < T; r++) {
    for (let c = 0; c < T; c++) {
      const [base, a] = colourAt(r, c);
      const k = 4 * (r * T + c);
      img.data[k] = 255 + (base[0] - 255) * a;
      img.data[k + 1] = 255 + (base[1] - 255) * a;
      img.data[k + 2] = 255 + (base[2] - 255) * a;
      img.data[k + 3] = 255;
    }
  }
  ctx.putImageData(img, 0, 0);
  const g = cv.getContext("2d");
  g.imageSmoothingEnabled = true;
  g.drawImage(off, 0, 0, cv.width, cv.height);
}

function paintTile(cv, T, valueAt) {
  // valueAt(row, col) in [-1, 1]: grey below 0, white at 0, purple above
  paintBlend(cv, T, (r, c) => {
    const v = valueAt(r, c);
    return [v >= 0 ? POS : NEG, Math.min(1, Math.abs(v))];
  });
}

function drawTiles(f) {
  const L = S.layout;
  if (!L || !sameSizes(f.sizes, L.sizes)) return;
  const tiles = b64bytes(f.tiles);
  const T = f.tile;
  let k = 0;
  for (let i = 1; i < L.sizes.length - 1; i++) {
    for (const cv of L.tiles[i]) {
      const base = k * T * T;
      paintTile(cv, T, (r, c) => tiles[base + r * T + c] / 127.5 - 1);
      k++;
    }
  }
  // output tiles: the probability of each class over the plane, in its colour (regression: the
  // predicted value, on the plane's map)
  const G = f.grid, K = f.classes, p = S.probs;
  const out = L.tiles[L.sizes.length - 1];
  if (!K) {
    if (S.values) paintBlend(out[0], G, (r, c) => [S.values[r * G + c] >= 127.5 ? HIGH : LOW,
      Math.abs(S.values[r * G + c] / 127.5 - 1) * REG_TINT]);
    return;
  }
  out.forEach((cv, j) => {
    const col = hexRgb(CLASS_COLORS[j]);
    paintBlend(cv, G, (r, c) => [col, p[(r * G + c) * K + j] / 255]);
  });
}

function drawLinks() {
  const L = S.layout;
  const cv = $("links");
  const dpr = window.devicePixelRatio || 1;
  if (!L) return;
  if (cv.width !== Math.round(L.W * dpr)) {
    cv.width = Math.round(L.W * dpr);
    cv.height = Math.round(L.H * dpr);
  }
  const ctx = cv.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, L.W, L.H);
  const weights = S.frame && sameSizes(S.frame.sizes, L.sizes) ? S.frame.weights : null;
  const wmax = weights ? maxWeight(weights, L.sizes) : 0;
  S.linkWidths = [];
  for (let l = 0; l + 1 < L.sizes.length; l++) {
    const nin = L.sizes[l], nout = L.sizes[l + 1];
    const xa = L.xs[l] + L.s / 2, xb = L.xs[l + 1] - L.s / 2, xm = (xa + xb) / 2;
    for (let j = 0; j < nout; j++) {
      for (let i = 0; i < nin; i++) {
        const w = weights ? weights[l][j * (nin + 1) + i] : 0;
        const a = wmax > 0 ? Math.abs(w) / wmax : 0; // relative to this frame's largest |w|
        const col = w >= 0 ? POS : NEG;
        ctx.strokeStyle = `rgba(${col[0]},${col[1]},${col[2]},${0.12 + 0.55 * a})`;
        ctx.lineWidth = 0.3 + (LINK_MAX - 0.3) * a;
        S.linkWidths.push(ctx.lineWidth);
        ctx.beginPath();
        ctx.moveTo(xa, L.columns[l][i]);
        ctx.bezierCurveTo(xm, L.columns[l][i], xm, L.columns[l + 1][j], xb, L.columns[l + 1][j]);
        ctx.stroke();
      }
    }
  }
}

function maxWeight(weights, sizes) {
  // the largest |w| of the frame (biases, not drawn, left out)
  let m = 0;
  weights.forEach((row, l) => row.forEach((w, k) => {
    if (k % (sizes[l] + 1) !== sizes[l]) m = Math.max(m, Math.abs(w));
  }));
  return m;
}

// ---------- frames: numbers, curves, the plane, tiles, graph values ----------

function onFrame(f) {
  if (!S.state || f.classes !== S.state.classes) return; // a frame from before a data change
  S.frame = f;
  S.probs = f.probs ? b64bytes(f.probs) : null;
  S.values = f.values ? b64bytes(f.values) : null; // regression
  S.focusBytes = f.focus && f.focus.grid ? b64bytes(f.focus.grid) : null;
  setRunning(f.running);
  $("step-count").textContent = f.step.toLocaleString("en");
  $("train-loss").textContent = fmtNum(f.train_loss);
  $("train-loss").title = f.penalty ? `data loss; the regularization penalty adds ${fmtNum(f.penalty)}` : "";
  $("val-loss").textContent = fmtNum(f.val_loss);
  $("train-acc").textContent = fmtAcc(f.train_acc);
  $("val-acc").textContent = fmtAcc(f.val_acc);
  const h = S.history;
  const last = h.step.length - 1;
  if (last >= 0 && h.step[last] === f.step) {
    h.train[last] = f.train_loss;
    h.val[last] = f.val_loss;
  } else if (last < 0 || h.step[last] < f.step) {
    h.step.push(f.step);
    h.train.push(f.train_loss);
    h.val.push(f.val_loss);
    if (h.step.length > 2000) for (const key of ["step", "train", "val"]) h[key] = h[key].filter((_, i) => i % 2 === 0);
  }
  drawCurve();
  drawBoundary();
  drawTiles(f);
  drawLinks();
  updateGraph(f.graph);
}

function fmtNum(x, decimals = 4) {
  // as micrograd.graph.fmt_number writes the graph's boxes: `decimals` places, or 3 significant
  // digits in e-notation ("7.08e-05") when those places would hide the number or it is huge
  if (x === null || x === undefined) return "\u2013";
  if (x === 0) return (0).toFixed(decimals);
  const a = Math.abs(x);
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  if (a >= 10 ** (1 - decimals) && a < 1e6) return x.toFixed(decimals);
  const [m, e] = x.toExponential(2).split("e");
  return `${m}e${e[0]}${e.slice(1).padStart(2, "0")}`;
}

function fmtAcc(x) {
  return x === null || x === undefined ? "\u2013" : `${(100 * x).toFixed(1)}%`;
}

function b64bytes(s) {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function hexRgb(hex) {
  const v = parseInt(hex.slice(1), 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

function hiDpi(cv, w, h) {
  const dpr = window.devicePixelRatio || 1;
  if (cv.width !== Math.round(w * dpr)) {
    cv.width = Math.round(w * dpr);
    cv.height = Math.round(h * dpr);
  }
  const ctx = cv.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  return ctx;
}

function drawCurve() {
  const W = $("curve").clientWidth || 400, H = 110, left = 50, right = 8, top = 8, bottom = 18;
  const ctx = hiDpi($("curve"), W, H);
  ctx.clearRect(0, 0, W, H);
  ctx.font = "10px system-ui, sans-serif";
  const h = S.history;
  const vals = [...h.train, ...h.val].filter((v) => v !== null && v > 0);
  ctx.strokeStyle = "#dfe3ea";
  ctx.strokeRect(left + 0.5, top + 0.5, W - left - right, H - top - bottom);
  if (!vals.length) {
    ctx.fillStyle = "#98a2b3";
    ctx.fillText("loss curves appear when training starts", left + 10, H / 2);
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
  const series = [["train", "#1f77b4"], ["val", "#d62728"]];
  for (const [key, color] of series) {
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
  ctx.fillText(`step ${s0}`, left, H - 4);
  ctx.textAlign = "right";
  ctx.fillText(`${h.step[h.step.length - 1]}`, W - right, H - 4);
  ctx.textAlign = "left";
  const mid = left + (W - left - right) / 2 - 60;
  for (const [label, color, dx] of [["\u2014 train", "#1f77b4", 0], ["\u2014 val", "#d62728", 46]]) {
    ctx.fillStyle = color;
    ctx.fillText(label, mid + dx, H - 4);
  }
  ctx.fillStyle = "#667085";
  if (log) ctx.fillText("log scale", mid + 84, H - 4);
}


function toPixel(x, y) {
  const [x0, x1, y0, y1] = S.state.extent;
  return [((x - x0) / (x1 - x0)) * S.plane, ((y1 - y) / (y1 - y0)) * S.plane];
}

function drawBoundary() {
  const cv = $("boundary");
  S.plane = cv.clientWidth || 400; // square, as wide as the Output panel allows (at most 400)
  const W = S.plane, H = S.plane;
  const ctx = hiDpi(cv, W, H);
  ctx.fillStyle = "#ffffff";
  ctx.fillRect(0, 0, W, H);
  const st = S.state;
  if (!st) return;
  paintPlane(ctx, W, H);
  drawAxes(ctx, st.extent, W, H);
  drawPoints(ctx);
  cv.dataset.draws = String(Number(cv.dataset.draws || 0) + 1);
}

function drawContours(ctx, G, K, p, W, H) {
  // the edge of each class's region: where its probability minus the best other one is 0
  ctx.beginPath();
  for (let k = 0; k < (K === 2 ? 1 : K); k++) {
    const m = new Float32Array(G * G);
    for (let i = 0; i < G * G; i++) {
      let best = -1;
      for (let j = 0; j < K; j++) if (j !== k && p[i * K + j] > best) best = p[i * K + j];
      m[i] = p[i * K + k] - best;
    }
    marchZero(ctx, G, m, W, H);
  }
  ctx.stroke();
}

function drawAxes(ctx, extent, W, H) {
  // every tick in the extent, ends included; a label near an edge slides inward to stay whole
  const [x0, x1, y0, y1] = extent;
  const span = x1 - x0;
  const step = span > 6 ? 2 : span > 3 ? 1 : 0.5;
  const ticks = (a, b) => {
    const out = [];
    for (let k = Math.ceil(a / step - 1e-9); k * step <= b + 1e-9; k++) out.push(k * step);
    return out;
  };
  ctx.font = "10px system-ui, sans-serif";
  ctx.textAlign = "left";
  ctx.lineWidth = 1;
  ctx.strokeStyle = "rgba(40,40,40,0.8)";
  ctx.beginPath();
  for (const v of ticks(x0, x1)) { const x = toPixel(v, 0)[0]; ctx.moveTo(x, H); ctx.lineTo(x, H - 4); }
  for (const v of ticks(y0, y1)) { const y = toPixel(0, v)[1]; ctx.moveTo(0, y); ctx.lineTo(4, y); }
  ctx.stroke();
  ctx.fillStyle = "rgba(40,40,40,0.8)";
  ctx.strokeStyle = "rgba(255,255,255,0.8)"; // a halo: labels stay legible over any colour
  ctx.lineWidth = 3;
  const drawn = { x: [], y: [] };
  const label = (t, x, y) => { ctx.strokeText(t, x, y); ctx.fillText(t, x, y); };
  for (const v of ticks(x0, x1)) { // along the bottom
    const t = fmtTick(v), w = ctx.measureText(t).width;
    const left = Math.min(Math.max(toPixel(v, 0)[0] - w / 2, 2), W - 2 - w);
    label(t, left, H - 6);
    drawn.x.push([t, left, left + w]);
  }
  for (const v of ticks(y0, y1)) { // along the left edge, above the bottom row
    const t = fmtTick(v), w = ctx.measureText(t).width;
    const base = Math.min(Math.max(toPixel(0, v)[1] + 3.5, 11), H - 19);
    label(t, 6, base);
    drawn.y.push([t, base - 8, base, 6 + w]);
  }
  S.ticks = drawn;
}

function fmtTick(v) {
  const r = Math.round(v * 10) / 10;
  return r === 0 ? "0" : String(r).replace("-", "\u2212"); // a true minus sign
}

// ---------- the computation graph ----------

function onGraph(g) {
  const view = $("graph-view");
  S.graph.id = g.id;
  S.graph.nodes = [];
  $("graph-note").textContent = g.note || "";
  if (g.svg) {
    view.innerHTML = g.svg;
    const svg = view.querySelector("svg");
    const vb = svg.viewBox.baseVal;
    S.graph.width = vb.width * (4 / 3); // points to CSS pixels
    S.graph.height = vb.height * (4 / 3);
    for (const node of view.querySelectorAll("g.node")) {
      const m = /^v(\d+)$/.exec(node.querySelector("title").textContent);
      if (!m) continue;
      const texts = [...node.querySelectorAll("text")];
      S.graph.nodes[Number(m[1])] = {
        data: texts.find((t) => t.textContent.startsWith("data ")),
        grad: texts.find((t) => t.textContent.startsWith("grad ")),
      };
    }
    if (!S.graph.userZoom) {
      // a small graph is shown whole; a big one at 80%, scrolled to its loss
      const fit = fitZoom();
      S.graph.zoom = fit >= 0.55 ? Math.min(fit, 1) : 0.8;
    }
    applyZoom();
    showLoss();
  } else {
    const p = document.createElement("p");
    p.className = g.error ? "missing" : "hint";
    p.textContent = g.error || g.note || "";
    view.replaceChildren(p);
  }
  view.dataset.renders = String(Number(view.dataset.renders) + 1);
  view.dataset.id = String(g.id);
  showGraphInfo();
  window.Walk?.onGraph(g); // a walk in progress moves to the new picture
}

function updateGraph(vals) {
  if (!vals) return;
  S.graph.info = vals;
  showGraphInfo();
  if (window.Walk?.holds(vals)) return; // walking: the walk writes the boxes
  if (vals.id !== S.graph.id || !S.graph.nodes.length) return;
  const nodes = S.graph.nodes;
  for (let i = 0; i < vals.data.length; i++) {
    const n = nodes[i];
    if (!n) continue;
    const d = `data ${vals.data[i]}`, g = `grad ${vals.grad[i]}`;
    if (n.data && n.data.textContent !== d) n.data.textContent = d;
    if (n.grad && n.grad.textContent !== g) n.grad.textContent = g;
  }
  const view = $("graph-view");
  view.dataset.updates = String(Number(view.dataset.updates) + 1);
}

function showGraphInfo() {
  const st = S.state;
  const el = $("graph-info");
  if (!st || st.picked === null || st.picked >= st.points.length) { el.textContent = ""; return; }
  const p = st.points[st.picked];
  const loss = S.graph.info && S.graph.info.loss !== null ? ` \u00b7 its loss ${fmtNum(S.graph.info.loss)}` : "";
  el.textContent = `${p[3] ? "val" : "train"} point #${st.picked} (${fmtNum(p[0], 3)}, ${fmtNum(p[1], 3)}), ${st.classes ? `class ${p[2]}` : `value ${fmtNum(p[2], 2)}`}${loss}`;
}

function applyZoom() {
  const svg = $("graph-view").querySelector("svg");
  if (!svg) return;
  svg.setAttribute("width", `${S.graph.width * S.graph.zoom}px`);
  svg.setAttribute("height", `${S.graph.height * S.graph.zoom}px`);
}

function showLoss() {
  // scroll so that the loss (the last node) sits at the right, halfway down: where backprop starts
  const view = $("graph-view");
  const last = S.graph.nodes[S.graph.nodes.length - 1];
  const box = last && last.data && last.data.closest("g.node");
  if (!box) return;
  const r = box.getBoundingClientRect(), v = view.getBoundingClientRect();
  view.scrollLeft += r.right - v.right + 40;
  view.scrollTop += r.top - v.top - view.clientHeight / 2;
}

function zoomBy(factor) {
  S.graph.userZoom = true;
  S.graph.zoom = Math.max(0.05, Math.min(4, S.graph.zoom * factor));
  applyZoom();
}

function fitZoom() {
  const view = $("graph-view");
  return Math.min((view.clientWidth - 4) / S.graph.width, (view.clientHeight - 4) / S.graph.height);
}

function zoomFit() {
  if (!S.graph.width) return;
  S.graph.userZoom = true;
  S.graph.zoom = Math.min(fitZoom(), 1);
  applyZoom();
}

// ---------- controls ----------

function planeClick(ev) {
  const st = S.state;
  if (!st) return;
  const rect = $("boundary").getBoundingClientRect();
  const px = ((ev.clientX - rect.left) / rect.width) * S.plane;
  const py = ((ev.clientY - rect.top) / rect.height) * S.plane;
  let best = -1, bestD = 64; // within 8 px: pick that point
  st.points.forEach((p, i) => {
    if (!pointVisible(p)) return;
    const [qx, qy] = toPixel(p[0], p[1]);
    const d = (qx - px) ** 2 + (qy - py) ** 2;
    if (d < bestD) { best = i; bestD = d; }
  });
  if (best >= 0) { send({ type: "pick", index: best }); return; }
  const [x0, x1, y0, y1] = st.extent;
  const x = x0 + (px / S.plane) * (x1 - x0), y = y1 - (py / S.plane) * (y1 - y0);
  const what = st.classes ? { label: S.addClass } : { value: S.addValue };
  send({ type: "add_point", x: Math.round(x * 1000) / 1000, y: Math.round(y * 1000) / 1000, ...what });
}

function wire() {
  $("play").onclick = () => send({ type: S.running ? "pause" : "play" });
  $("step").onclick = () => send({ type: "step" });
  $("reset").onclick = () => send({ type: "reset" });
  $("regenerate").onclick = () => send({ type: "regenerate" });
  $("clear").onclick = () => send({ type: "clear" });
  $("reconnect").onclick = () => connect();
  for (const b of document.querySelectorAll("#datasets button")) {
    b.onclick = () => send({ type: "configure", dataset: b.dataset.dataset });
  }
  const slider = (id, parse, show) => {
    const el = $(id);
    el.oninput = () => { $(`${id}-out`).textContent = show(parse(el.value)); };
    el.onchange = () => send({ type: "configure", [id]: parse(el.value) });
  };
  slider("n", (v) => parseInt(v, 10), String);
  slider("noise", parseFloat, (v) => v.toFixed(2));
  slider("train_frac", parseFloat, (v) => `${Math.round(v * 100)}%`);
  for (const id of ["lr", "weight_decay"]) $(id).onchange = () => send({ type: "configure", [id]: parseFloat($(id).value) });
  for (const id of ["batch_size", "speed"]) $(id).onchange = () => send({ type: "configure", [id]: parseInt($(id).value, 10) });
  $("activation").onchange = () => send({ type: "configure", activation: $("activation").value });
  wireParity();
  $("layers-plus").onclick = () => {
    const h = S.state.config.hidden;
    if (h.length < 4) send({ type: "configure", hidden: [...h, h.length ? h[h.length - 1] : 4] });
  };
  $("layers-minus").onclick = () => {
    const h = S.state.config.hidden;
    if (h.length) send({ type: "configure", hidden: h.slice(0, -1) });
  };
  $("boundary").onclick = planeClick;
  $("zoom-in").onclick = () => zoomBy(1.25);
  $("zoom-out").onclick = () => zoomBy(0.8);
  $("zoom-fit").onclick = zoomFit;
  document.addEventListener("keydown", (ev) => {
    const tag = ev.target.tagName;
    if (ev.code === "Space" && tag !== "INPUT" && tag !== "SELECT" && tag !== "BUTTON") {
      ev.preventDefault();
      send({ type: S.running ? "pause" : "play" });
    }
  });
  window.addEventListener("resize", () => {
    if (!S.state) return;
    buildNetwork(S.state.sizes, S.state.config.hidden);
    drawCurve();
    drawBoundary();
  });
}

function wireParity() {
  // issue 14's controls: problem type, regularization, the plane's options, the point value
  $("problem").onchange = () => {
    const problem = $("problem").value;
    send({ type: "configure", problem, dataset: PROBLEM_DEFAULT[problem] });
  };
  $("regularization").onchange = () => send({ type: "configure", regularization: $("regularization").value });
  $("reg_rate").onchange = () => send({ type: "configure", reg_rate: parseFloat($("reg_rate").value) });
  for (const id of ["show_test", "discretize"]) $(id).onchange = () => send({ type: "configure", [id]: $(id).checked });
  const value = $("add-value");
  const showValue = () => {
    S.addValue = parseFloat(value.value);
    $("add-value-out").textContent = `${S.addValue > 0 ? "+" : S.addValue < 0 ? "\u2212" : ""}${Math.abs(S.addValue).toFixed(1)}`;
    $("add-value-out").style.color = rgbCss(valueRgb(S.addValue));
  };
  value.oninput = showValue;
  showValue();
  wireLink();
}

wire();
connect();
