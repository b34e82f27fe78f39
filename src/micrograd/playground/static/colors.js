// micrograd playground: the page's one visual language. Classes in Seaborn's "deep" palette (as
// micrograd.plot draws the boundary picture); neurons and weights purple above 0 and grey below
// (micrograd.plot's neuron colours), so that no tile or line looks like a class; regression
// values on BrBG's ends, brown −1, white 0, teal +1, far from both.

export const CLASS_COLORS = ["#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860",
  "#da8bc3", "#8c8c8c", "#ccb974", "#64b5cd"];
export const TINT = 0.55; // how much of the class colour shows over white
export const POS = [118, 42, 131]; // #762a83
export const NEG = [77, 77, 77]; // #4d4d4d
export const LOW = [140, 81, 10]; // #8c510a, −1
export const HIGH = [1, 102, 94]; // #01665e, +1
export const REG_TINT = 0.8;

export function valueRgb(v, tint = 1) {
  // v in [-1, 1] → white blended toward LOW or HIGH by |v|
  const base = v >= 0 ? HIGH : LOW;
  const a = Math.min(1, Math.abs(v)) * tint;
  return base.map((ch) => Math.round(255 + (ch - 255) * a));
}

export function neuronRgb(v) {
  // v in [-1, 1] → white blended toward POS or NEG by |v|
  const base = v >= 0 ? POS : NEG, a = Math.min(1, Math.abs(v));
  return base.map((ch) => 255 + (ch - 255) * a);
}

export const rgbCss = (c) => `rgb(${c[0]},${c[1]},${c[2]})`;

export function hexRgb(hex) {
  const v = parseInt(hex.slice(1), 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}
