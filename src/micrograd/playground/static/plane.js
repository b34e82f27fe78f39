// micrograd playground: what the Output panel's plane shows. Classification: the class colours
// weighted by probability (or, discretized, the most probable class); regression: the predicted
// value on a diverging map, brown −1, white 0, teal +1 (or, discretized, its sign); while a neuron
// is hovered, that neuron's output in the tiles' colours. Then the points: training points filled,
// test points (when shown) hollow. Loaded before app.js (shared globals).
"use strict";

// regression values: BrBG's ends, far from the class colours and from the tiles' purple and grey
const LOW = [140, 81, 10]; // #8c510a, −1
const HIGH = [1, 102, 94]; // #01665e, +1
const REG_TINT = 0.8;

function valueRgb(v, tint = 1) {
  // v in [-1, 1] → white blended toward LOW or HIGH by |v|
  const base = v >= 0 ? HIGH : LOW;
  const a = Math.min(1, Math.abs(v)) * tint;
  return base.map((ch) => Math.round(255 + (ch - 255) * a));
}

const rgbCss = (c) => `rgb(${c[0]},${c[1]},${c[2]})`;

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

function neuronRgb(v) {
  const base = v >= 0 ? POS : NEG, a = Math.min(1, Math.abs(v));
  return base.map((ch) => 255 + (ch - 255) * a);
}

function paintPlane(ctx, W, H) {
  // the plane's background for the current mode; false when there is nothing to draw yet
  const st = S.state, f = S.frame;
  const discrete = Boolean(st.config.discretize);
  if (S.preview) {
    const G = 50, g = featureGrid(S.preview, G);
    paintGrid(ctx, G, W, H, (i) => neuronRgb(g[i]));
    return true;
  }
  if (!f) return false;
  const focus = S.hover && f.focus && f.focus.layer === S.hover.layer &&
    f.focus.index === S.hover.index ? S.focusBytes : null;
  if (focus) {
    const G = Math.round(Math.sqrt(focus.length));
    // an output in its tile's colours: a class's probability in the class colour (its byte is
    // p × 255), the regression output on the value map; any other neuron purple and grey
    const out = S.hover.layer === st.sizes.length - 1;
    const cls = out && st.classes ? hexRgb(CLASS_COLORS[S.hover.index]) : null;
    paintGrid(ctx, G, W, H, (i) => (cls ? cls.map((ch) => 255 + (ch - 255) * (focus[i] / 255))
      : out ? valueRgb(focus[i] / 127.5 - 1, REG_TINT) : neuronRgb(focus[i] / 127.5 - 1)));
    ctx.beginPath();
    marchZero(ctx, G, Float32Array.from(focus, (b) => b - 127.5), W, H);
    ctx.stroke();
    return true;
  }
  const G = f.grid;
  if (!st.classes) {
    if (!S.values) return false;
    const v = S.values;
    paintGrid(ctx, G, W, H, (i) => {
      const x = v[i] / 127.5 - 1;
      return valueRgb(discrete ? Math.sign(x) : x, REG_TINT);
    });
    ctx.beginPath();
    marchZero(ctx, G, Float32Array.from(v, (b) => b - 127.5), W, H);
    ctx.stroke();
    return true;
  }
  if (!S.probs || f.classes !== st.classes) return false;
  const K = f.classes, p = S.probs;
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
  return true;
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

function pointFill(pt) {
  // a class's colour, or (regression) the target value's colour on the plane's map
  return S.state.classes ? CLASS_COLORS[pt[2]] : rgbCss(valueRgb(pt[2]));
}

function drawPoints(ctx) {
  const st = S.state, showTest = Boolean(st.config.show_test);
  st.points.forEach((pt, i) => {
    const test = pt[3] === 1;
    if (test && !showTest) return;
    const [px, py] = toPixel(pt[0], pt[1]);
    ctx.beginPath();
    ctx.arc(px, py, 4.2, 0, 2 * Math.PI);
    if (test) { // hollow: a ring in the point's colour between two dark hairlines
      ctx.lineWidth = 4;
      ctx.strokeStyle = "#1a1a1a";
      ctx.stroke();
      ctx.lineWidth = 2.4;
      ctx.strokeStyle = pointFill(pt);
      ctx.stroke();
    } else {
      ctx.fillStyle = pointFill(pt);
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

function pointVisible(pt) {
  return pt[3] !== 1 || Boolean(S.state.config.show_test);
}

function valueLegend(box) {
  // regression: the map from −1 to +1, as a bar with its ends and middle labelled
  const span = document.createElement("span");
  span.className = "value-key";
  const bar = document.createElement("i");
  bar.className = "value-bar";
  span.append("\u22121", bar, "+1 prediction");
  box.appendChild(span);
}

function pointsLegend(box, points) {
  const ntest = points.filter((p) => p[3] === 1).length;
  const item = (cls, text) => {
    const span = document.createElement("span");
    const i = document.createElement("i");
    i.className = cls;
    span.append(i, text);
    box.appendChild(span);
    return span;
  };
  item("circle", `train (${points.length - ntest})`);
  const shown = Boolean(S.state.config.show_test);
  const t = item("circle hollow", `test (${ntest}${shown ? "" : ", hidden"})`);
  t.classList.toggle("off", !shown);
}
