// micrograd playground: the page. No build step, no libraries: one connection to the model
// (transport.js: the server's WebSocket, or the exported page's Python worker), which owns the
// model; the page only sends what the controls say and draws what comes back.
//   out: configure, add_point, pick, clear, regenerate, play, pause, step, reset, focus, walk,
//        set_weight, ping
// This module builds the views, hands each the model and the `send` it needs, and connects.
// Nothing is global but `window.playground`, a read-only handle for tests and the console.
import { createControls } from "./controls.js";
import { holdUntil, loadFirst } from "./first.js";
import { createDrawer } from "./drawer.js";
import { createFocus } from "./focus.js";
import { $, fmtNum } from "./format.js";
import { createFrames } from "./frames.js";
import { createGraph } from "./graph.js";
import { createLink } from "./link.js";
import { createModel } from "./model.js";
import { LINK_MAX, createNetwork } from "./network.js";
import { createPlane } from "./plane.js";
import { drawCurve } from "./curve.js";
import { createStatus } from "./status.js";
import { createWeightTips } from "./weights.js";
import { chosenLanguage, loadStrings, onLanguage, useLanguage } from "./i18n.js";
import { loadSettings } from "./settings.js";
import { openTransport } from "./transport.js";

let transport = null; // the open connection; a reconnect replaces it
const send = (msg) => { if (transport) transport.send(JSON.stringify(msg)); };

const model = createModel();
const status = createStatus();
const toast = status.toast;
let views = null; // the views, made once the schema has come
let gate = null; // a link's settings on their way to a new session: its defaults are held back

// The read-only handle, there from the start: what the page shows, for tests and the console.
window.playground = Object.freeze({
  get state() { return model.state; },
  get frame() { return model.frame; },
  get running() { return model.running; },
  get ready() { return document.body.dataset.connected === "1"; }, // the model itself answered
  get values() { return model.values; },
  get history() { return model.history; },
  get preview() { return views?.focus.preview; },
  get layout() { return views?.network.layout; },
  get linkWidths() { return views?.network.linkWidths; },
  get plane() { return views?.plane.size; },
  get ticks() { return views?.plane.ticks; },
  get linkColours() { return views?.network.linkColours; },
  get graph() { return views && { id: views.graph.id, nodes: views.graph.nodes, info: views.graph.info }; },
  get walk() { return views?.graph.walk.walk; },
  ticksFor: (extent) => views.plane.ticksFor(extent),
  keepToast: () => status.keepToast(),
  send,
  fmtNum,
  LINK_MAX,
});

function makeViews(schema) {
  // each view gets the model, `send` and the schema it needs; frames.js feeds them messages
  const focus = createFocus({ model, send, toast, redraw: () => plane.draw(), schema });
  const plane = createPlane({ model, focus });
  const network = createNetwork({ model, focus, send, schema });
  createWeightTips({ model, send, network }); // a weight's value, a neuron's bias, on hover
  const graph = createGraph({ model, send, toast });
  createDrawer({ onOpen: () => graph.shown() }); // the graph panel's drawer, remembered
  const controls = createControls({ model, send, plane, schema });
  const link = createLink({ model, send, toast, schema });
  const handlers = createFrames({ model, status, controls, focus, network, plane, graph, link });
  return { focus, plane, network, graph, controls, link, handlers };
}

function apply(msg) {
  const handler = views.handlers[msg.type];
  if (handler) handler(msg);
}

function connect() {
  // the model starts loading at once; what it says waits (in order) for the first picture
  if (transport) transport.close();
  const t = openTransport({
    onopen: async () => {
      await drawn;
      if (transport !== t) return;
      const fields = views.link.onOnline(); // a new session: the link's settings are sent to it
      gate = fields && holdUntil(fields);
      views.controls.onOnline(); // changes sent to the old one will never be answered
      document.body.classList.remove("loading");
      status.showOnline(true);
    },
    onclose: async (ev) => {
      await drawn;
      if (transport !== t) return;
      model.applyRunning(false);
      status.showClosed(ev.code, ev.reason);
    },
    onmessage: async (data) => {
      await drawn;
      if (transport !== t) return;
      const msg = JSON.parse(data);
      for (const m of gate ? gate.pass(msg) : [msg]) {
        apply(m);
        if (m.type === "state") document.body.dataset.connected = "1"; // the model's own
      }
    },
  });
  transport = t;
}

$("reconnect").onclick = connect;
window.addEventListener("resize", () => {
  if (!model.state) return;
  views.network.build();
  drawCurve(model.history);
  views.plane.draw();
});

// every setting's range and choices (settings.json), and a new session's first state and frame
// (first.json), drawn at once unless a link sets something; the model's own messages follow
const drawn = Promise.all([loadSettings(), loadFirst(), loadStrings()]).then(([schema, first, words]) => {
  views = makeViews(schema);
  languageSwitch(words);
  if (first && !views.link.fields()) first.forEach(apply);
});

function languageSwitch(words) {
  // the page in the link's, the last chosen or the browser's language; the header's select
  // changes it (and the link, which keeps it)
  const select = $("lang");
  select.replaceChildren(...Object.entries(words.languages).map(([code, name]) => {
    const o = new Option(name, code); // each language by its own name
    o.dataset.noI18n = "";
    return o;
  }));
  onLanguage(() => drawCurve(model.history)); // the canvas's words
  const use = (code) => {
    useLanguage(words, code);
    select.value = code;
    if (model.state) views.link.onState(model.state);
  };
  use(chosenLanguage(words));
  select.onchange = () => use(select.value);
  window.addEventListener("hashchange", () => use(chosenLanguage(words)));
}
connect();
