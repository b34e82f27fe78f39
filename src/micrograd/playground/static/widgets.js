// micrograd playground: the settings' controls, made from the settings schema (settings.json).
// index.html places each control and names it by its setting (`<select id="lr">`, `<input
// type="range" id="noise">`); what the control offers comes from the schema alone: a select's
// options are its setting's presets or choices, read by its labels; a slider's range is the
// setting's min..max in its step; the dataset buttons are the table of datasets with their labels.
// So a new dataset, activation or preset is one row in micrograd/settings.py, never an edit here.
// The labels are English; i18n.js says them in the page's language (strings.py has each).
//   buildDatasets(box, schema), buildSelects(schema) -> [select], buildSliders(schema) -> [input],
//   option(setting, value), parserOf(setting), showSlider(input, setting, value)
import { say } from "./i18n.js";

export function buildDatasets(box, schema) {
  // one button per dataset; controls.js shows those of the current problem
  box.replaceChildren(...schema.datasets.map((d) => {
    const b = document.createElement("button");
    b.dataset.dataset = d.name;
    b.dataset.problem = d.problem;
    say(b, d.label);
    return b;
  }));
}

export function buildSelects(schema) {
  // every select named by a setting, filled with the setting's presets (or choices)
  const selects = [...document.querySelectorAll("select[id]")].filter((el) => schema.settings[el.id]);
  for (const el of selects) {
    const s = schema.settings[el.id];
    el.replaceChildren(...(s.presets || s.choices).map((v) => option(s, v)));
  }
  return selects;
}

export function buildSliders(schema) {
  // every slider named by a setting, spanning the setting's range in its step
  const sliders = [...document.querySelectorAll("input[type=range][id]")]
    .filter((el) => schema.settings[el.id]);
  for (const el of sliders) {
    const s = schema.settings[el.id];
    el.min = String(s.min);
    el.max = String(s.max);
    el.step = String(s.step ?? (s.type === "int" ? 1 : "any"));
  }
  return sliders;
}

export function option(setting, value) {
  const o = document.createElement("option");
  o.value = String(value);
  say(o, (setting.labels && setting.labels[String(value)]) ?? String(value));
  return o;
}

export function parserOf(setting) {
  // a control's text as the setting's value
  if (setting.type === "int") return (t) => parseInt(t, 10);
  if (setting.type === "float") return parseFloat;
  return String;
}

export function showSlider(el, setting, value) {
  // the slider at `value`, and its readout: a share as a percentage, else as precise as the step
  el.value = String(value);
  const out = document.getElementById(`${el.id}-out`);
  if (setting.percent) out.textContent = `${Math.round(value * 100)}%`;
  else if (setting.type === "int") out.textContent = String(value);
  else out.textContent = value.toFixed(decimals(setting.step));
}

function decimals(step) {
  // the digits after the point of a step (0.05: 2)
  const t = String(step ?? 0.01);
  return t.includes(".") ? t.length - t.indexOf(".") - 1 : 0;
}
