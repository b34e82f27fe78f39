// micrograd playground: the controls. Each sends what it says (`configure`, play, step...) and
// shows what the server's `state` says: the page never changes a setting on its own, so a control
// always shows the model's setting.
// The number of layers and the lists of activations and problems come from the settings schema.
//   createControls({ model, send, plane, schema }) -> { onState(st) }
import { CLASS_COLORS, rgbCss, valueRgb } from "./colors.js";
import { $ } from "./format.js";

const NEW_LAYER_WIDTH = 4; // the first hidden layer added to a network without one

export function createControls({ model, send, plane, schema }) {
  const maxLayers = schema.settings.hidden.max_length;
  let addClass = 0; // the class a click on the plane adds
  let addValue = 1; // regression: the value a click on the plane adds

  function onState(st) {
    const c = st.config;
    const problem = c.problem || "classification";
    for (const b of document.querySelectorAll("#datasets button")) {
      b.classList.toggle("active", b.dataset.dataset === c.dataset);
      b.classList.toggle("hidden", (b.dataset.problem || "classification") !== problem);
    }
    setSlider("n", c.n, String(c.n));
    setSlider("noise", c.noise, c.noise.toFixed(2));
    setSlider("train_frac", c.train_frac, `${Math.round(c.train_frac * 100)}%`);
    for (const id of ["lr", "activation", "weight_decay", "batch_size", "speed"]) setSelect(id, c[id]);
    setSelect("problem", problem);
    setSelect("regularization", c.regularization || "none");
    setSelect("reg_rate", c.reg_rate || 0);
    $("show_test").checked = Boolean(c.show_test);
    $("discretize").checked = Boolean(c.discretize);
    const regression = !st.classes;
    $("add-hint").textContent = `Click the plane to add a point of ${regression ? "value" : "class"}`;
    $("add-class").classList.toggle("hidden", regression);
    $("add-value-box").classList.toggle("hidden", !regression);
    $("key-class").classList.toggle("hidden", regression);
    $("key-value").classList.toggle("hidden", !regression);
    const layers = c.hidden.length;
    $("layers-count").textContent = layers;
    $("layers-word").textContent = layers === 1 ? "layer" : "layers";
    $("layers-minus").disabled = layers === 0;
    $("layers-plus").disabled = layers >= maxLayers;
    $("param-count").textContent = st.params.toLocaleString("en");
    $("engine").textContent = st.engine;
    $("points-count").textContent = st.points.length;
    $("step-count").textContent = st.step.toLocaleString("en");
    if (addClass >= st.classes) addClass = 0;
    buildClassButtons(st.classes);
  }

  function buildClassButtons(k) {
    const box = $("add-class");
    box.replaceChildren();
    for (let i = 0; i < k; i++) {
      const b = document.createElement("button");
      b.textContent = i;
      b.style.background = CLASS_COLORS[i];
      b.title = `add points of class ${i}`;
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

  function wireSettings() {
    const configure = (fields) => send({ type: "configure", ...fields });
    for (const b of document.querySelectorAll("#datasets button")) {
      b.onclick = () => configure({ dataset: b.dataset.dataset });
    }
    const slider = (id, parse, show) => {
      const el = $(id);
      el.oninput = () => { $(`${id}-out`).textContent = show(parse(el.value)); };
      el.onchange = () => configure({ [id]: parse(el.value) });
    };
    slider("n", (v) => parseInt(v, 10), String);
    slider("noise", parseFloat, (v) => v.toFixed(2));
    slider("train_frac", parseFloat, (v) => `${Math.round(v * 100)}%`);
    const select = (id, parse) => { $(id).onchange = () => configure({ [id]: parse($(id).value) }); };
    for (const id of ["lr", "weight_decay", "reg_rate"]) select(id, parseFloat);
    for (const id of ["batch_size", "speed"]) select(id, (v) => parseInt(v, 10));
    for (const id of ["activation", "regularization"]) select(id, String);
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

  for (const id of ["activation", "problem"]) setOptions(id, schema.settings[id].choices);
  wireRun();
  wireSettings();
  wireValue();
  return { onState };
}

function setSlider(id, value, text) {
  $(id).value = value;
  $(`${id}-out`).textContent = text;
}

function setOptions(id, choices) {
  // a select's options, one per choice of its setting (index.html lists them for the first paint)
  $(id).replaceChildren(...choices.map((c) => {
    const o = document.createElement("option");
    o.textContent = c;
    return o;
  }));
}

function setSelect(id, value) {
  // show `value`, adding it as an option when the list lacks it (a value set by a link)
  const el = $(id);
  const v = String(value);
  if (![...el.options].some((o) => o.value === v)) {
    const o = document.createElement("option");
    o.value = v;
    o.textContent = v;
    el.appendChild(o);
  }
  el.value = v;
}
