// micrograd playground: the page. No build step, no libraries: one connection to the model
// (transport.js: the server's WebSocket, or the exported page's Python worker), which owns the
// model; the page only sends what the controls say and draws what comes back.
//   out: configure, add_point, pick, clear, regenerate, play, pause, step, reset, focus, walk, ping
// This module builds the views, hands each the model and the `send` it needs, and connects.
// Nothing is global but `window.playground`, a read-only handle for tests and the console.
import { createControls } from "./controls.js";
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
import { openTransport } from "./transport.js";

let transport = null; // the open connection; a reconnect replaces it
const send = (msg) => { if (transport) transport.send(JSON.stringify(msg)); };

const model = createModel();
const status = createStatus();
const toast = status.toast;
const focus = createFocus({ model, send, toast, redraw: () => plane.draw() });
const plane = createPlane({ model, focus });
const network = createNetwork({ model, focus, send });
const graph = createGraph({ model, send, toast });
const controls = createControls({ model, send, plane });
const link = createLink({ model, send, toast });
const handlers = createFrames({ model, status, controls, focus, network, plane, graph, link });

function connect() {
  if (transport) transport.close();
  const t = openTransport({
    onopen: () => {
      if (transport !== t) return;
      link.onOnline(); // a new session: the link's settings are sent to it
      status.showOnline(true);
    },
    onclose: (ev) => {
      if (transport !== t) return;
      model.applyRunning(false);
      status.showClosed(ev.code, ev.reason);
    },
    onmessage: (data) => {
      if (transport !== t) return;
      const msg = JSON.parse(data);
      const handler = handlers[msg.type];
      if (handler) handler(msg);
    },
  });
  transport = t;
}

$("reconnect").onclick = connect;
window.addEventListener("resize", () => {
  if (!model.state) return;
  network.build();
  drawCurve(model.history);
  plane.draw();
});

// The read-only handle: what the page shows, for tests and the browser's console.
window.playground = Object.freeze({
  get state() { return model.state; },
  get frame() { return model.frame; },
  get running() { return model.running; },
  get values() { return model.values; },
  get history() { return model.history; },
  get preview() { return focus.preview; },
  get layout() { return network.layout; },
  get linkWidths() { return network.linkWidths; },
  get plane() { return plane.size; },
  get ticks() { return plane.ticks; },
  get graph() { return { id: graph.id, nodes: graph.nodes, info: graph.info }; },
  get walk() { return graph.walk.walk; },
  ticksFor: (extent) => plane.ticksFor(extent),
  keepToast: () => status.keepToast(),
  send,
  fmtNum,
  LINK_MAX,
});

connect();
