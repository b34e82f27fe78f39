// micrograd playground: the input features' formulas, as the page draws them. Their names, labels
// and order come from the settings schema (settings.json); the server computes them for training
// (features.py). The page needs the formulas too, to draw a feature's tile and to preview an unused
// feature on the plane, where the server has no neuron for it. tests/playground/test_playground_features.py
// checks them against features.py on sample points, so the two cannot drift.

// value at (x1, x2), by protocol name
export const FORMULAS = {
  x1: (x, y) => x,
  x2: (x, y) => y,
  x1_sq: (x, y) => x * x,
  x2_sq: (x, y) => y * y,
  x1_x2: (x, y) => x * y,
  sin_x1: (x, y) => Math.sin(x),
  sin_x2: (x, y) => Math.sin(y),
};

export function featureGrid(name, extent, T) {
  // the feature over a T×T grid of the plane (row 0 at the top), scaled into [-1, 1]
  const [x0, x1, y0, y1] = extent;
  const fn = FORMULAS[name];
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
