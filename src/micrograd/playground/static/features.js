// micrograd playground: the network's input features as the page draws them. The server computes
// them for training (features.py); the page needs their formulas too, to draw a feature's tile and
// to preview an unused feature on the plane, where the server has no neuron for it.
// tests/test_playground_features.py checks this table against features.py on sample points.

// [protocol name, label, value at (x1, x2)] in the order the session keeps them
export const FEATURES = [
  ["x1", "x\u2081", (x, y) => x],
  ["x2", "x\u2082", (x, y) => y],
  ["x1_sq", "x\u2081\u00b2", (x, y) => x * x],
  ["x2_sq", "x\u2082\u00b2", (x, y) => y * y],
  ["x1_x2", "x\u2081x\u2082", (x, y) => x * y],
  ["sin_x1", "sin x\u2081", (x, y) => Math.sin(x)],
  ["sin_x2", "sin x\u2082", (x, y) => Math.sin(y)],
];
export const FEATURE_NAMES = FEATURES.map((f) => f[0]);
export const DEFAULT_FEATURES = ["x1", "x2"];

export function activeFeatures(state) {
  // the features a state's model uses (the default before the first state)
  const c = state && state.config;
  return (c && c.features) || DEFAULT_FEATURES;
}

export function featureLabel(name) {
  const f = FEATURES.find((g) => g[0] === name);
  return f ? f[1] : name;
}

export function featureValue(name, x, y) {
  return FEATURES.find((g) => g[0] === name)[2](x, y);
}

export function featureGrid(name, extent, T) {
  // the feature over a T×T grid of the plane (row 0 at the top), scaled into [-1, 1]
  const [x0, x1, y0, y1] = extent;
  const out = new Float32Array(T * T);
  let m = 0;
  for (let r = 0; r < T; r++) {
    for (let c = 0; c < T; c++) {
      const v = featureValue(name, x0 + ((c + 0.5) / T) * (x1 - x0), y1 - ((r + 0.5) / T) * (y1 - y0));
      out[r * T + c] = v;
      m = Math.max(m, Math.abs(v));
    }
  }
  if (m > 0) for (let i = 0; i < out.length; i++) out[i] /= m;
  return out;
}
