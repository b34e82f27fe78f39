// micrograd playground: the page's one visual language. Every number (an input feature, a
// neuron's output, a weight, a bias, a predicted or target value) on one diverging scale: dark
// grey −1, white 0, purple +1 (ColorBrewer's RdGy with purple for red), hues no class uses. The
// classes in Seaborn's "deep" palette (as micrograd.plot.class_colors), the same three on the
// plane, the output tiles and every key.

export const CLASS_COLORS = ["#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860",
  "#da8bc3", "#8c8c8c", "#ccb974", "#64b5cd"];
export const TINT = 0.55; // how much of the class colour shows over white on the plane
export const POS = [118, 42, 131]; // #762a83, +1
export const NEG = [77, 77, 77]; // #4d4d4d, −1
export const REG_TINT = 0.8; // the plane's regression background: the scale, a little lighter

export function valueRgb(v, tint = 1) {
  // v in [-1, 1] (beyond: clipped) → white blended toward NEG or POS by |v|
  const base = v >= 0 ? POS : NEG;
  const a = Math.min(1, Math.abs(v)) * tint;
  return base.map((ch) => Math.round(255 + (ch - 255) * a));
}

export const rgbCss = (c) => `rgb(${c[0]},${c[1]},${c[2]})`;

export function hexRgb(hex) {
  const v = parseInt(hex.slice(1), 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}
