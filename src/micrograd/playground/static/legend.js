// micrograd playground: the keys: under the plane, the class colours (or the value map) and the
// train and test markers with their counts; in the network panel's key, the class colours again.
import { CLASS_COLORS } from "./colors.js";
import { $ } from "./format.js";
import { say, words } from "./i18n.js";

export function drawLegend(st) {
  const k = st.classes;
  const box = $("legend");
  box.replaceChildren();
  for (let i = 0; i < k; i++) item(box, "", words("class {i}", { i }), CLASS_COLORS[i]);
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

function item(box, cls, sentence, color = null) {
  // a swatch and its words, said in the page's language (again when it changes)
  const span = document.createElement("span");
  const i = document.createElement("i");
  i.className = cls;
  if (color) i.style.background = color;
  span.append(i, said(sentence));
  box.appendChild(span);
  return span;
}

function valueLegend(box) {
  // regression: the map from −1 to +1, as a bar with its ends and middle labelled
  const span = document.createElement("span");
  span.className = "value-key";
  const bar = document.createElement("i");
  bar.className = "value-bar";
  span.append("\u22121", bar, said(words("+1 prediction")));
  box.appendChild(span);
}

function pointsLegend(box, points, shown) {
  const ntest = points.filter((p) => p[3] === 1).length;
  item(box, "circle", words("train ({n})", { n: points.length - ntest }));
  const test = item(box, "circle hollow", words(shown ? "test ({n})" : "test ({n}, hidden)", { n: ntest }));
  test.classList.toggle("off", !shown);
}

function said(sentence) {
  const el = document.createElement("span");
  say(el, sentence.text, sentence.params);
  return el;
}
