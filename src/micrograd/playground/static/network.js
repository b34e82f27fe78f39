// micrograd playground: the network diagram: the input tiles (focus.js), one tile per hidden
// neuron (its output over the plane), the output tiles (each class's probability, or the
// predicted value) and the weights as lines between them, in the tiles' colours for the same
// number, the widest the largest |w| of the frame (weights.js: a weight's value, and editing it).
// It owns the diagram's layout; the frames it paints come from the model.
//   createNetwork({ model, focus, send, schema })
//     -> { build(), paint(frame), layout, linkWidths, linkColours }
import { CLASS_COLORS, hexRgb, rgbCss, valueRgb } from "./colors.js";
import { featureGrid } from "./features.js";
import { $, b64bytes, sameSizes } from "./format.js";
import { paintBlend, paintTile } from "./tiles.js";
import { say, sayTitle, words } from "./i18n.js";

export const LINK_MAX = 3.3; // the widest weight line, px: the largest |w| of the frame

export function createNetwork({ model, focus, send, schema }) {
  const { min: minWidth, max: maxWidth } = schema.settings.hidden; // neurons in a hidden layer
  let layout = null; // {sizes, xs, columns, s, tiles, W, H} of the diagram drawn now
  let linkWidths = []; // each weight line's width, as last drawn
  let linkColours = []; // and its colour: the weight on the one scale (colors.js)

  function build() {
    const st = model.state, sizes = st.sizes, hidden = st.config.hidden;
    const net = $("net");
    for (const el of [...net.children]) if (el.id !== "links" && el.id !== "weight-tip") el.remove();
    const W = net.clientWidth, H = net.clientHeight;
    const cols = sizes.length;
    // close columns (many layers, a narrow window): each head's words on two lines, as wide as
    // the gap between columns, so no two heads touch
    const narrow = cols > 1 && (W - 120) / (cols - 1) < 76; // 120: the side pads' most
    const top = narrow ? 64 : 52;
    const rows = sizes.map((n, i) => (i === 0 ? focus.featureNames.length : n)); // every feature has a tile
    const maxn = Math.max(...rows);
    const gap = maxn > 10 ? 3 : 8;
    const s = Math.max(12, Math.min(44, Math.floor((H - top - 8) / maxn) - gap));
    const pad = s / 2 + 30, padIn = s / 2 + 44; // room for the features' names on the left
    const xs = sizes.map((_, i) => (cols === 1 ? W / 2 : padIn + (i * (W - pad - padIn)) / (cols - 1)));
    const columns = rows.map((n) => {
      const total = n * s + (n - 1) * gap;
      const y0 = top + (H - top - total) / 2;
      return Array.from({ length: n }, (_, j) => y0 + j * (s + gap) + s / 2);
    });
    const tiles = [];
    sizes.forEach((n, i) => {
      const head = columnHead(i, n, cols, hidden, xs[i]);
      if (narrow) { head.classList.add("narrow"); head.style.width = `${Math.floor(xs[1] - xs[0]) - 8}px`; }
      net.appendChild(head);
      if (i === 0) { // the features' tiles; the links start at the ones in use
        const used = focus.activeFeatures().map((name) => columns[0][focus.featureNames.indexOf(name)]);
        tiles.push(focus.buildInputColumn(net, xs[0], columns[0], s));
        columns[0] = used;
        return;
      }
      tiles.push(neuronColumn(net, i, n, cols, xs[i], columns[i], s));
    });
    layout = { sizes, xs, columns, s, tiles, W, H };
    focus.keepFocus(sizes);
    paintFeatures();
    drawLinks();
    if (model.frame && sameSizes(model.frame.sizes, sizes)) drawTiles(model.frame);
  }

  function columnHead(i, n, cols, hidden, x) {
    // above a column: its name, and for a hidden layer − and + buttons for its width
    const head = document.createElement("div");
    head.className = "col-head";
    head.style.left = `${x}px`;
    head.style.top = "0px";
    if (i === 0) head.append(spacer(), text(words("input")));
    else if (i === cols - 1) head.append(spacer(), text(words("output")));
    else {
      const li = i - 1, fixed = model.locked("hidden");
      const pms = document.createElement("div");
      pms.className = "pms";
      pms.append(
        pmButton("\u2212", words("remove a neuron from layer {i}", { i }), hidden[li] <= minWidth || fixed,
          () => setWidth(li, hidden[li] - 1), `neurons-minus-${i}`),
        pmButton("+", words("add a neuron to layer {i}", { i }), hidden[li] >= maxWidth || fixed,
          () => setWidth(li, hidden[li] + 1), `neurons-plus-${i}`));
      head.append(pms, text(words(n === 1 ? "{n} neuron" : "{n} neurons", { n })));
    }
    return head;
  }

  function neuronColumn(net, i, n, cols, x, ys, s) {
    // the tiles of layer i (the last: the outputs, labelled with their class)
    const classes = model.state.classes, out = i === cols - 1;
    const col = [];
    for (let j = 0; j < n; j++) {
      const cv = document.createElement("canvas");
      cv.className = out ? "tile out" : "tile";
      cv.width = cv.height = Math.round(s * (window.devicePixelRatio || 1));
      Object.assign(cv.style, { width: `${s}px`, height: `${s}px`,
        left: `${x - s / 2}px`, top: `${ys[j] - s / 2}px` });
      focus.hoverable(cv, i, j);
      if (out && !classes) sayTitle(cv, "output: the predicted value");
      else if (out) { sayTitle(cv, "output: class {i}", { i: j }); cv.style.borderColor = CLASS_COLORS[j]; }
      else sayTitle(cv, "layer {i}, neuron {j}", { i, j });
      net.appendChild(cv);
      col.push(cv);
    }
    if (out && classes) {
      for (let j = 0; j < n; j++) {
        const lab = document.createElement("span");
        lab.className = "tile-label";
        lab.textContent = `${j}`;
        lab.style.top = `${ys[j]}px`;
        lab.style.left = `${x + s / 2 + 6}px`;
        net.appendChild(lab);
      }
    }
    return col;
  }

  function setWidth(layer, width) {
    const hidden = [...model.state.config.hidden];
    hidden[layer] = Math.max(minWidth, Math.min(maxWidth, width));
    send({ type: "configure", hidden });
  }

  function paintFeatures() {
    // each input feature's tile: the feature itself over the plane
    if (!layout || !model.state) return;
    const T = 16;
    for (const cv of document.querySelectorAll("#net canvas[data-feature]")) {
      const g = featureGrid(cv.dataset.feature, model.state.extent, T);
      paintTile(cv, T, (r, c) => g[r * T + c]);
    }
  }

  function drawTiles(f) {
    const L = layout;
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
    // predicted value, on the one scale)
    const G = f.grid, K = f.classes, p = model.probs, values = model.values;
    const out = L.tiles[L.sizes.length - 1];
    if (!K) {
      if (values) paintTile(out[0], G, (r, c) => values[r * G + c] / 127.5 - 1);
      return;
    }
    out.forEach((cv, j) => {
      const col = hexRgb(CLASS_COLORS[j]);
      paintBlend(cv, G, (r, c) => [col, p[(r * G + c) * K + j] / 255]);
    });
  }

  function drawLinks() {
    const L = layout;
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
    const f = model.frame;
    const weights = f && sameSizes(f.sizes, L.sizes) ? f.weights : null;
    const wmax = weights ? maxWeight(weights, L.sizes) : 0;
    linkWidths = [];
    linkColours = [];
    for (let l = 0; l + 1 < L.sizes.length; l++) {
      const nin = L.sizes[l], nout = L.sizes[l + 1];
      const xa = L.xs[l] + L.s / 2, xb = L.xs[l + 1] - L.s / 2, xm = (xa + xb) / 2;
      for (let j = 0; j < nout; j++) {
        for (let i = 0; i < nin; i++) {
          const w = weights ? weights[l][j * (nin + 1) + i] : 0;
          const a = wmax > 0 ? Math.abs(w) / wmax : 0; // relative to this frame's largest |w|
          const colour = rgbCss(valueRgb(w)); // the tiles' colour for the same number
          ctx.strokeStyle = colour;
          ctx.lineWidth = 0.3 + (LINK_MAX - 0.3) * a;
          linkWidths.push(ctx.lineWidth);
          linkColours.push(colour);
          ctx.beginPath();
          ctx.moveTo(xa, L.columns[l][i]);
          ctx.bezierCurveTo(xm, L.columns[l][i], xm, L.columns[l + 1][j], xb, L.columns[l + 1][j]);
          ctx.stroke();
        }
      }
    }
  }

  return {
    build,
    paint(f) { drawTiles(f); drawLinks(); }, // a frame: the neurons' tiles and the weights
    get layout() { return layout; },
    get linkWidths() { return linkWidths; },
    get linkColours() { return linkColours; },
  };
}

function maxWeight(weights, sizes) {
  // the largest |w| of the frame (biases, not drawn, left out)
  let m = 0;
  weights.forEach((row, l) => row.forEach((w, k) => {
    if (k % (sizes[l] + 1) !== sizes[l]) m = Math.max(m, Math.abs(w));
  }));
  return m;
}

function spacer() {
  const d = document.createElement("div");
  d.style.height = "22px";
  return d;
}

function text(sentence) {
  const d = document.createElement("div");
  say(d, sentence.text, sentence.params);
  return d;
}

function pmButton(label, title, disabled, onclick, id) {
  const b = document.createElement("button");
  b.className = "pm";
  b.textContent = label;
  sayTitle(b, title.text, title.params);
  b.id = id;
  b.disabled = disabled;
  b.onclick = onclick;
  return b;
}
