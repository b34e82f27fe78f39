// micrograd playground: the keys: under the plane, the class colours (or the value map) and the
// train and test markers with their counts; in the network panel's key, the class colours again.
import { CLASS_COLORS } from "./colors.js";
import { $ } from "./format.js";
import { t } from "./i18n.js";

export function drawLegend(st) {
  const k = st.classes;
  const box = $("legend");
  box.replaceChildren();
  for (let i = 0; i < k; i++) item(box, "", t("class {i}", { i }), CLASS_COLORS[i]);
  if (!k) valueLegend(box);
  const key = $("net-classes"); // the same class colours, in the network panel's key
  key.replaceChildren();
  for (let i = 0; i < k; i++) {
    const sw = document.createElement("i");
    sw.className = "swatch";
    sw.style.background = CLASS_COLORS[i];
    key.append(...(i ? [", "] : []), sw, `${i}`);
  }
  pointsLegend(box, st.points, Boolean(st.config.show_test));
}

function item(box, cls, text, color = null) {
  const span = document.createElement("span");
  const i = document.createElement("i");
  i.className = cls;
  if (color) i.style.background = color;
  span.append(i, text);
  box.appendChild(span);
  return span;
}

function valueLegend(box) {
  // regression: the map from −1 to +1, as a bar with its ends and middle labelled
  const span = document.createElement("span");
  span.className = "value-key";
  const bar = document.createElement("i");
  bar.className = "value-bar";
  span.append("\u22121", bar, t("+1 prediction"));
  box.appendChild(span);
}

function pointsLegend(box, points, shown) {
  const ntest = points.filter((p) => p[3] === 1).length;
  item(box, "circle", t("train ({n})", { n: points.length - ntest }));
  const test = item(box, "circle hollow", t(shown ? "test ({n})" : "test ({n}, hidden)", { n: ntest }));
  test.classList.toggle("off", !shown);
}
