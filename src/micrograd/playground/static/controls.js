// micrograd playground: the controls. Each sends what it says (`configure`, play, step...) and
// shows what the server's `state` says: the page never changes a setting on its own, so once the
// server has answered, a control shows the model's setting.
// A setting the user changed is shown as sent until a state carries it: a state that answers an
// earlier message (it still holds the old value) must not put the old value back into the control,
// or the control's next change event would send that old value again. An error answer (the
// server refused something) drops those values, so the controls show the model's settings.
// Every control is built from the settings schema (settings.json): the dataset buttons and their
// labels, each select's presets or choices, each slider's range and step, the number of layers.
// A setting the state lists as `locked` (fixed by the model or points a notebook gave) is shown
// disabled.
//   createControls({ model, send, plane, schema }) -> { onState(st), onError(), onOnline() }
import { CLASS_COLORS, rgbCss, valueRgb } from "./colors.js";
import { $ } from "./format.js";
import { say, sayTitle } from "./i18n.js";
import { buildDatasets, buildSelects, buildSliders, option, parserOf, showSlider } from "./widgets.js";

const NEW_LAYER_WIDTH = 4; // the first hidden layer added to a network without one

export function createControls({ model, send, plane, schema }) {
  const maxLayers = schema.settings.hidden.max_length;
  const outputsOf = Object.fromEntries(schema.datasets.map((d) => [d.name, d.classes || 1]));
  const sent = new Map(); // setting -> JSON of the value sent, until a state carries it
  let addClass = 0; // the class a click on the plane adds
  let addValue = 1; // regression: the value a click on the plane adds

  function shownConfig(config) {
    // the state's settings, with the user's changes it does not carry yet
    const c = { ...config };
    for (const [k, v] of sent) {
      if (JSON.stringify(config[k]) === v) sent.delete(k);
      else c[k] = JSON.parse(v);
    }
    return c;
  }

  function onError() {
    // a refused change: show the model's settings again
    sent.clear();
    if (model.state) onState(model.state);
  }

  function onOnline() {
    // a new connection: what was sent on the old one will never be answered
    sent.clear();
  }

  function onState(st) {
    const c = shownConfig(st.config);
    const problem = c.problem || "classification";
    const locked = model.locked;
    // a notebook's model takes the datasets of its outputs only (its classes, or one value)
    const nout = st.sizes[st.sizes.length - 1];
    const fits = (name) => !locked("hidden") || outputsOf[name] === nout;
    for (const b of document.querySelectorAll("#datasets button")) {
      b.classList.toggle("active", b.dataset.dataset === c.dataset && !st.own_points);
      b.classList.toggle("hidden", b.dataset.problem !== problem);
      b.disabled = locked("dataset") || !fits(b.dataset.dataset);
    }
    for (const el of sliders) showSlider(el, schema.settings[el.id], c[el.id]);
    for (const el of selects) setSelect(el, schema.settings[el.id], c[el.id]);
    for (const el of [...sliders, ...selects]) el.disabled = locked(el.id);
    showOwn(st);
    $("show_test").checked = Boolean(c.show_test);
    $("discretize").checked = Boolean(c.discretize);
    const regression = !st.classes;
    say($("add-hint"), regression ? "Click the plane to add a point of value"
      : "Click the plane to add a point of class");
    $("add-class").classList.toggle("hidden", regression);
    $("add-value-box").classList.toggle("hidden", !regression);
    $("key-class").classList.toggle("hidden", regression);
    $("key-value").classList.toggle("hidden", !regression);
    const layers = c.hidden.length;
    $("layers-count").textContent = layers;
    say($("layers-word"), layers === 1 ? "layer" : "layers");
    $("layers-minus").disabled = layers === 0 || locked("hidden");
    $("layers-plus").disabled = layers >= maxLayers || locked("hidden");
    $("param-count").textContent = st.params.toLocaleString("en");
    $("engine").textContent = st.engine;
    $("points-count").textContent = st.points.length;
    $("step-count").textContent = st.step.toLocaleString("en");
    if (addClass >= st.classes) addClass = 0;
    buildClassButtons(st.classes);
  }

  function showOwn(st) {
    // a notebook's model or points: say so where the dataset buttons were; Regenerate brings
    // the notebook's points back (after a Clear)
    const note = $("own-note"), mine = model.locked("hidden"), regen = $("regenerate");
    if (st.own_points && mine) say(note, "Your notebook's model and points");
    else if (st.own_points) say(note, "Your notebook's points");
    else if (mine) say(note, "Your notebook's model");
    note.classList.toggle("hidden", !(st.own_points || mine));
    // the notebook's points: no dataset to choose, nothing to generate
    for (const el of [$("which-dataset"), $("datasets"), $("n").closest("label"),
      $("noise").closest("label")]) el.classList.toggle("hidden", Boolean(st.own_points));
    if (st.own_points) {
      say(regen, "Your points");
      sayTitle(regen, "Your notebook's points again");
    } else {
      say(regen, "Regenerate");
      sayTitle(regen, "New points (next seed)");
    }
  }

  function buildClassButtons(k) {
    const box = $("add-class");
    box.replaceChildren();
    for (let i = 0; i < k; i++) {
      const b = document.createElement("button");
      b.textContent = i;
      b.style.background = CLASS_COLORS[i];
      sayTitle(b, "add points of class {i}", { i });
      b.classList.toggle("active", i === addClass);
      b.onclick = () => { addClass = i; buildClassButtons(k); };
      box.appendChild(b);
    }
  }

  function planeClick(ev) {
    // a click near a point picks it (its graph is drawn); elsewhere it adds a point there
    const st = model.state;
    if (!st) return;
    const at = plane.clickAt(ev);
    if ("pick" in at) { send({ type: "pick", index: at.pick }); return; }
    const what = st.classes ? { label: addClass } : { value: addValue };
    send({ type: "add_point", x: Math.round(at.x * 1000) / 1000, y: Math.round(at.y * 1000) / 1000, ...what });
  }

  const playOrPause = () => send({ type: model.running ? "pause" : "play" });

  function wireRun() {
    $("play").onclick = playOrPause;
    $("step").onclick = () => send({ type: "step" });
    $("reset").onclick = () => send({ type: "reset" });
    $("regenerate").onclick = () => send({ type: "regenerate" });
    $("clear").onclick = () => send({ type: "clear" });
    $("boundary").onclick = planeClick;
    document.addEventListener("keydown", (ev) => {
      const tag = ev.target.tagName;
      if (ev.code === "Space" && tag !== "INPUT" && tag !== "SELECT" && tag !== "BUTTON") {
        ev.preventDefault();
        playOrPause();
      }
    });
  }

  function configure(fields) {
    for (const [k, v] of Object.entries(fields)) sent.set(k, JSON.stringify(v));
    send({ type: "configure", ...fields });
  }

  function wireSettings() {
    for (const b of document.querySelectorAll("#datasets button")) {
      b.onclick = () => configure({ dataset: b.dataset.dataset });
    }
    for (const el of sliders) {
      const s = schema.settings[el.id], parse = parserOf(s);
      el.oninput = () => showSlider(el, s, parse(el.value));
      el.onchange = () => configure({ [el.id]: parse(el.value) });
    }
    for (const el of selects) {
      const parse = parserOf(schema.settings[el.id]);
      el.onchange = () => configure({ [el.id]: parse(el.value) });
    }
    $("problem").onchange = () => {
      const problem = $("problem").value;
      configure({ problem, dataset: schema.problem_default[problem] });
    };
    for (const id of ["show_test", "discretize"]) $(id).onchange = () => configure({ [id]: $(id).checked });
    $("layers-plus").onclick = () => {
      const h = model.state.config.hidden;
      if (h.length < maxLayers) configure({ hidden: [...h, h.length ? h[h.length - 1] : NEW_LAYER_WIDTH] });
    };
    $("layers-minus").onclick = () => {
      const h = model.state.config.hidden;
      if (h.length) configure({ hidden: h.slice(0, -1) });
    };
  }

  function wireValue() {
    // regression: the value of the points a click adds, shown in its colour
    const value = $("add-value"), out = $("add-value-out");
    const show = () => {
      addValue = parseFloat(value.value);
      out.textContent = `${addValue > 0 ? "+" : addValue < 0 ? "\u2212" : ""}${Math.abs(addValue).toFixed(1)}`;
      out.style.color = rgbCss(valueRgb(addValue));
    };
    value.oninput = show;
    show();
  }

  buildDatasets($("datasets"), schema);
  const selects = buildSelects(schema), sliders = buildSliders(schema);
  wireRun();
  wireSettings();
  wireValue();
  return { onState, onError, onOnline };
}

function setSelect(el, setting, value) {
  // show `value`, adding it as an option when the list lacks it (a value set by a link)
  const v = String(value);
  if (![...el.options].some((o) => o.value === v)) el.appendChild(option(setting, value));
  el.value = v;
}
