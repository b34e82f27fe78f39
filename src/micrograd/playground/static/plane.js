// micrograd playground: the Output panel's plane. Classification: the class colours weighted by
// probability (or, discretized, the most probable class); regression: the predicted value on the
// page's one scale (or, discretized, its sign); while a neuron is hovered, that neuron's output
// in its tile's colours. Then the points (training points filled, test points, when shown,
// hollow) and, outside the plot on their own canvas, the axes' ticks and labels.
//   createPlane({ model, focus }) -> { draw(), clickAt(ev), ticksFor(extent), size, ticks }
import { CLASS_COLORS, REG_TINT, TINT, hexRgb, rgbCss, valueRgb } from "./colors.js";
import { featureGrid } from "./features.js";
import { $, hiDpi } from "./format.js";

const PICK_RADIUS = 8; // px: a click this close to a point picks it
const AXIS_LEFT = 30, AXIS_BELOW = 16; // px of room for the tick labels (.plane-box's padding)

function axesContext(cv, S) {
  // the axes canvas around an S×S plot, cleared
  const ctx = hiDpi(cv, S + AXIS_LEFT, S + AXIS_BELOW);
  ctx.clearRect(0, 0, S + AXIS_LEFT, S + AXIS_BELOW);
  return ctx;
}

export function createPlane({ model, focus }) {
  let size = 400; // the plane's side in CSS pixels (square, as wide as the panel allows)
  let ticks = null; // the tick labels last drawn, boxes in the plot's pixels (0, 0 its top left):
  // {x: [[text, left, right, top, bottom]], y: [[text, top, bottom, left, right]]}

  const toPixel = (extent, x, y) => {
    const [x0, x1, y0, y1] = extent;
    return [((x - x0) / (x1 - x0)) * size, ((y1 - y) / (y1 - y0)) * size];
  };

  function draw() {
    const cv = $("boundary");
    size = cv.clientWidth || 400; // square, as wide as the Output panel allows (at most 400)
    const W = size, H = size;
    const ctx = hiDpi(cv, W, H);
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, W, H);
    const st = model.state;
    if (!st) return;
    paintPlane(ctx, W, H);
    drawPoints(ctx, st);
    const axes = $("axes");
    Object.assign(axes.style, { width: `${W + AXIS_LEFT}px`, height: `${H + AXIS_BELOW}px` });
    ticks = drawAxes(axesContext(axes, W), st.extent, W);
    cv.dataset.draws = String(Number(cv.dataset.draws || 0) + 1);
  }

  function paintPlane(ctx, W, H) {
    // the plane's background for the current mode; false when there is nothing to draw yet
    const st = model.state, f = model.frame, hover = focus.hover;
    const discrete = Boolean(st.config.discretize);
    if (focus.preview) {
      const G = 50, g = featureGrid(focus.preview, st.extent, G);
      paintGrid(ctx, G, W, H, (i) => valueRgb(g[i]));
      return true;
    }
    if (!f) return false;
    const bytes = hover && f.focus && f.focus.layer === hover.layer &&
      f.focus.index === hover.index ? model.focusBytes : null;
    if (bytes) {
      paintFocus(ctx, W, H, bytes, hover);
      return true;
    }
    const G = f.grid;
    if (!st.classes) {
      const v = model.values;
      if (!v) return false;
      paintGrid(ctx, G, W, H, (i) => {
        const x = v[i] / 127.5 - 1;
        return valueRgb(discrete ? Math.sign(x) : x, REG_TINT);
      });
      ctx.beginPath();
      marchZero(ctx, G, Float32Array.from(v, (b) => b - 127.5), W, H);
      ctx.stroke();
      return true;
    }
    const p = model.probs;
    if (!p || f.classes !== st.classes) return false;
    paintClasses(ctx, W, H, G, f.classes, p, discrete);
    return true;
  }

  function paintFocus(ctx, W, H, bytes, hover) {
    // an output in its tile's colours: a class's probability in the class colour (its byte is
    // p × 255), any other neuron (the regression output too) on the one scale
    const st = model.state;
    const G = Math.round(Math.sqrt(bytes.length));
    const out = hover.layer === st.sizes.length - 1;
    const cls = out && st.classes ? hexRgb(CLASS_COLORS[hover.index]) : null;
    paintGrid(ctx, G, W, H, (i) => (cls ? cls.map((ch) => 255 + (ch - 255) * (bytes[i] / 255))
      : valueRgb(bytes[i] / 127.5 - 1)));
    ctx.beginPath();
    marchZero(ctx, G, Float32Array.from(bytes, (b) => b - 127.5), W, H);
    ctx.stroke();
  }

  function drawAxes(ctx, extent, S) {
    // on the axes canvas, around the S×S plot at (AXIS_LEFT, 0): a tick out of each edge and its
    // label beyond it, every tick in the extent, ends included, each label whole; the labels'
    // boxes are returned in the plot's coordinates, all outside it
    const [x0, x1, y0, y1] = extent;
    const span = x1 - x0;
    const step = span > 6 ? 2 : span > 3 ? 1 : 0.5;
    const along = (a, b) => {
      const out = [];
      for (let k = Math.ceil(a / step - 1e-9); k * step <= b + 1e-9; k++) out.push(k * step);
      return out;
    };
    const X = (v) => AXIS_LEFT + toPixel(extent, v, 0)[0], Y = (v) => toPixel(extent, 0, v)[1];
    ctx.font = "10px system-ui, sans-serif";
    ctx.lineWidth = 1;
    ctx.strokeStyle = ctx.fillStyle = "rgba(40,40,40,0.85)";
    ctx.beginPath();
    for (const v of along(x0, x1)) { ctx.moveTo(X(v), S); ctx.lineTo(X(v), S + 3); }
    for (const v of along(y0, y1)) { ctx.moveTo(AXIS_LEFT - 3, Y(v)); ctx.lineTo(AXIS_LEFT, Y(v)); }
    ctx.stroke();
    const drawn = { x: [], y: [] };
    ctx.textBaseline = "top";
    for (const v of along(x0, x1)) { // below the bottom edge, centred under the tick
      const t = fmtTick(v), w = ctx.measureText(t).width;
      const left = Math.min(Math.max(X(v) - w / 2, 0), AXIS_LEFT + S - w);
      ctx.fillText(t, left, S + 4);
      drawn.x.push([t, left - AXIS_LEFT, left + w - AXIS_LEFT, S + 4, S + 14]);
    }
    ctx.textBaseline = "middle";
    for (const v of along(y0, y1)) { // left of the left edge, right-aligned, inside the plot's height
      const t = fmtTick(v), w = ctx.measureText(t).width;
      const mid = Math.min(Math.max(Y(v), 5), S - 5);
      ctx.fillText(t, AXIS_LEFT - 5 - w, mid);
      drawn.y.push([t, mid - 5, mid + 5, -5 - w, -5]);
    }
    return drawn;
  }

  function drawPoints(ctx, st) {
    const showTest = Boolean(st.config.show_test);
    st.points.forEach((pt, i) => {
      const test = pt[3] === 1;
      if (test && !showTest) return;
      const [px, py] = toPixel(st.extent, pt[0], pt[1]);
      ctx.beginPath();
      ctx.arc(px, py, 4.2, 0, 2 * Math.PI);
      const fill = st.classes ? CLASS_COLORS[pt[2]] : rgbCss(valueRgb(pt[2]));
      if (test) { // hollow: a ring in the point's colour between two dark hairlines
        ctx.lineWidth = 4;
        ctx.strokeStyle = "#1a1a1a";
        ctx.stroke();
        ctx.lineWidth = 2.4;
        ctx.strokeStyle = fill;
        ctx.stroke();
      } else {
        ctx.fillStyle = fill;
        ctx.strokeStyle = "#1a1a1a";
        ctx.lineWidth = 0.9;
        ctx.fill();
        ctx.stroke();
      }
      if (i === st.picked) {
        ctx.lineWidth = 2.2;
        ctx.strokeStyle = "#111";
        ctx.beginPath();
        ctx.arc(px, py, 9, 0, 2 * Math.PI);
        ctx.stroke();
      }
    });
  }

  function clickAt(ev) {
    // a click on the plane: {pick: index} of a visible point within PICK_RADIUS, else {x, y}
    const st = model.state;
    const rect = $("boundary").getBoundingClientRect();
    const px = ((ev.clientX - rect.left) / rect.width) * size;
    const py = ((ev.clientY - rect.top) / rect.height) * size;
    let best = -1, bestD = PICK_RADIUS ** 2;
    st.points.forEach((p, i) => {
      if (p[3] === 1 && !st.config.show_test) return;
      const [qx, qy] = toPixel(st.extent, p[0], p[1]);
      const d = (qx - px) ** 2 + (qy - py) ** 2;
      if (d < bestD) { best = i; bestD = d; }
    });
    if (best >= 0) return { pick: best };
    const [x0, x1, y0, y1] = st.extent;
    return { x: x0 + (px / size) * (x1 - x0), y: y1 - (py / size) * (y1 - y0) };
  }

  function ticksFor(extent) {
    // the tick labels the plane would draw for data with this extent (drawn off-screen)
    return drawAxes(axesContext(document.createElement("canvas"), size), extent, size);
  }

  return { draw, clickAt, ticksFor, get size() { return size; }, get ticks() { return ticks; } };
}

function paintClasses(ctx, W, H, G, K, p, discrete) {
  const cols = CLASS_COLORS.slice(0, K).map(hexRgb);
  paintGrid(ctx, G, W, H, (i) => {
    let r = 0, g = 0, b = 0, tot = 0;
    if (discrete) {
      let best = 0;
      for (let k = 1; k < K; k++) if (p[i * K + k] > p[i * K + best]) best = k;
      [r, g, b] = cols[best];
      tot = 1;
    } else {
      for (let k = 0; k < K; k++) {
        const q = p[i * K + k];
        r += q * cols[k][0]; g += q * cols[k][1]; b += q * cols[k][2]; tot += q;
      }
      tot = tot || 1;
    }
    // the class colours weighted by probability, then mixed with white (as boundary.png)
    return [255 - TINT * (255 - r / tot), 255 - TINT * (255 - g / tot), 255 - TINT * (255 - b / tot)];
  });
  drawContours(ctx, G, K, p, W, H);
}

function paintGrid(ctx, G, W, H, rgbAt) {
  // a G×G image, rgbAt(i) for cell i (row-major, top row first), smoothed onto W×H
  const off = document.createElement("canvas");
  off.width = off.height = G;
  const octx = off.getContext("2d");
  const img = octx.createImageData(G, G);
  for (let i = 0; i < G * G; i++) {
    const c = rgbAt(i);
    img.data[4 * i] = c[0];
    img.data[4 * i + 1] = c[1];
    img.data[4 * i + 2] = c[2];
    img.data[4 * i + 3] = 255;
  }
  octx.putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(off, 0, 0, W, H);
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

function marchZero(ctx, G, m, W, H) {
  // the line where m (G×G, over the grid's cell centres) crosses 0, by marching squares, added
  // to the current path (the caller begins it and strokes it)
  ctx.strokeStyle = "rgba(40,40,40,0.8)";
  ctx.lineWidth = 1.1;
  const px = (c) => ((c + 0.5) / G) * W, py = (r) => ((r + 0.5) / G) * H;
  for (let r = 0; r + 1 < G; r++) {
    for (let c = 0; c + 1 < G; c++) {
      const a = m[r * G + c], b = m[r * G + c + 1], d = m[(r + 1) * G + c], e = m[(r + 1) * G + c + 1];
      const pts = [];
      if ((a > 0) !== (b > 0)) pts.push([r, c + a / (a - b)]);
      if ((b > 0) !== (e > 0)) pts.push([r + b / (b - e), c + 1]);
      if ((d > 0) !== (e > 0)) pts.push([r + 1, c + d / (d - e)]);
      if ((a > 0) !== (d > 0)) pts.push([r + a / (a - d), c]);
      for (let q = 0; q + 1 < pts.length; q += 2) {
        ctx.moveTo(px(pts[q][1]), py(pts[q][0]));
        ctx.lineTo(px(pts[q + 1][1]), py(pts[q + 1][0]));
      }
    }
  }
}

function fmtTick(v) {
  const r = Math.round(v * 10) / 10;
  return r === 0 ? "0" : String(r).replace("-", "\u2212"); // a true minus sign
}
