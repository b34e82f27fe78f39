// micrograd playground: the input column of the network diagram and neuron hover.
// Every input feature the server knows is a tile; the ones in use are connected to the first
// layer, the others are drawn faded. A click switches a feature on or off (`configure features`);
// hovering any neuron tile asks the server for that neuron's output over the plane (`focus`), and
// the Output panel's plane shows it until the mouse leaves; hovering an unused feature previews
// it there from its formula. The features, their labels and order are the settings schema's.
//   createFocus({ model, send, toast, redraw, schema }): redraw() redraws the plane after a change
import { $ } from "./format.js";
import { say, sayTitle, words } from "./i18n.js";

export function createFocus({ model, send, toast, redraw, schema }) {
  const names = schema.features.map((f) => f.name); // in the model's input order
  const labels = Object.fromEntries(schema.features.map((f) => [f.name, f.label]));
  const featureLabel = (name) => labels[name] ?? name;
  const activeFeatures = (st) => (st && st.config.features) || schema.settings.features.default;
  let hover = null; // {layer, index} of the hovered neuron tile
  let preview = null; // the name of the hovered unused feature
  let featuresWant = null; // clicks quicker than the server's answer build on each other

  function toggleFeature(name) {
    if (model.locked("features")) {
      toast(words("your notebook's model fixes its inputs"));
      return;
    }
    const on = new Set(featuresWant || activeFeatures(model.state));
    if (on.has(name)) on.delete(name);
    else on.add(name);
    if (!on.size) { toast(words("keep at least one input feature: switch another on first")); return; }
    featuresWant = names.filter((n) => on.has(n));
    // the clicked tile is rebuilt under the mouse and never gets its mouseleave: end its preview
    // or focus now (else the plane keeps showing the feature; the next hover shows it again)
    if (preview) showLocalFeature(null);
    if (hover) setFocus(null);
    send({ type: "configure", features: featuresWant });
  }

  function buildInputColumn(net, x, rows, s) {
    // all features as tiles at the heights `rows`; returns the canvases of those in use, in order
    const active = activeFeatures(model.state);
    featuresWant = null;
    const used = [];
    names.forEach((name, k) => {
      const label = featureLabel(name);
      const on = active.includes(name);
      const cv = document.createElement("canvas");
      cv.className = on ? "tile feature" : "feature off";
      cv.dataset.feature = name;
      cv.width = cv.height = Math.round(s * (window.devicePixelRatio || 1));
      Object.assign(cv.style, { width: `${s}px`, height: `${s}px`, left: `${x - s / 2}px`,
        top: `${rows[k] - s / 2}px` });
      sayTitle(cv, on ? "{name}: in use, click to remove" : "{name}: click to use it", { name: label });
      cv.onclick = () => toggleFeature(name);
      if (on) hoverable(cv, 0, active.indexOf(name));
      else {
        cv.onmouseenter = () => showLocalFeature(name);
        cv.onmouseleave = () => showLocalFeature(null);
      }
      net.appendChild(cv);
      const lab = document.createElement("span");
      lab.className = on ? "tile-label in" : "tile-label in off";
      lab.textContent = label;
      lab.style.top = `${rows[k]}px`;
      lab.style.left = `${x - s / 2 - 5}px`;
      net.appendChild(lab);
      if (on) used[active.indexOf(name)] = cv;
    });
    return used;
  }

  function hoverable(cv, layer, index) {
    cv.dataset.layer = String(layer);
    cv.dataset.index = String(index);
    cv.onmouseenter = () => setFocus(layer, index);
    cv.onmouseleave = () => setFocus(null);
    if (hover && hover.layer === layer && hover.index === index) cv.classList.add("focused");
  }

  function setFocus(layer, index) {
    for (const el of document.querySelectorAll("#net .focused")) el.classList.remove("focused");
    if (layer === null) {
      if (hover) send({ type: "focus" });
      hover = null;
    } else {
      hover = { layer, index };
      send({ type: "focus", layer, index });
      const cv = document.querySelector(`#net canvas[data-layer="${layer}"][data-index="${index}"]`);
      if (cv) cv.classList.add("focused");
    }
    showPlaneNote();
    redraw();
  }

  function keepFocus(sizes) {
    // after the diagram is rebuilt: a focus on a neuron that no longer exists is cleared
    const h = hover;
    if (h && (h.layer >= sizes.length || h.index >= sizes[h.layer])) setFocus(null);
  }

  function showLocalFeature(name) {
    // an unused feature: drawn from its formula, the server has no neuron for it
    preview = name;
    showPlaneNote();
    redraw();
  }

  function focusName(h) {
    const st = model.state;
    if (h.layer === 0) return words("input {name}", { name: featureLabel(activeFeatures(st)[h.index]) });
    if (h.layer === st.sizes.length - 1) {
      return st.classes ? words("output: class {i} probability", { i: h.index })
        : words("output: the predicted value");
    }
    return words("layer {i}, neuron {j}", { i: h.layer, j: h.index });
  }

  function showPlaneNote() {
    const el = $("plane-note");
    if (!el) return;
    if (preview) say(el, "showing {name} (not in use)", { name: featureLabel(preview) });
    else if (hover && model.state) say(el, "showing {what}", { what: focusName(hover) });
    else say(el, "");
  }

  return {
    buildInputColumn, hoverable, keepFocus, showPlaneNote,
    featureNames: names,
    activeFeatures: () => activeFeatures(model.state),
    get hover() { return hover; },
    get preview() { return preview; },
  };
}
