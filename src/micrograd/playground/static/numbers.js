// micrograd playground: numbers as micrograd.graph.fmt_number writes the graph's boxes, for the
// page (format.js) and the walk (walk.js, which micrograd.walk's standalone page inlines with
// this file: so it imports nothing).

export function fmtNum(x, decimals = 4) {
  // as micrograd.graph.fmt_number writes the graph's boxes: `decimals` places (see fixed), or
  // 3 significant digits in e-notation
  // ("7.08e-05") when those places would hide the number or it is huge
  if (x === null || x === undefined) return "\u2013";
  if (x === 0) return (0).toFixed(decimals);
  const a = Math.abs(x);
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  if (a >= 10 ** (1 - decimals) && a < 1e6) return fixed(x, decimals);
  const [m, e] = x.toExponential(2).split("e");
  return `${m}e${e[0]}${e.slice(1).padStart(2, "0")}`;
}

// x to `places` decimals, more (up to 6) when those would round it to a whole number it is not
// (0.99999 is not 1), and "whole ± distance" when even those would ("1 \u2212 2.7e-12"): as
// micrograd.graph.fixed
export function fixed(x, places) {
  let text = x.toFixed(places);
  const whole = Math.round(x);
  for (let p = places + 1; x !== whole && Number(text) === whole && p <= 6; p++) text = x.toFixed(p);
  if (x === whole || Number(text) !== whole) return text;
  const [m, e] = Math.abs(x - whole).toExponential(1).split("e");
  return `${whole} ${x > whole ? "+" : "\u2212"} ${m}e${e[0]}${e.slice(1).padStart(2, "0")}`;
}
