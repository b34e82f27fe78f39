// micrograd playground: how the page reaches its model. Three transports with one interface, so
// the page is the same in every mode:
//   openTransport({ onopen(), onclose({ code, reason }), onmessage(text) }) -> { send(text), close() }
// (a reason is text, or a sentence {text, params} that i18n.js says in the page's language)
// - WebSocket: the served playground (`micrograd playground`): the model lives in the server.
// - Worker: the exported page (`micrograd playground --export DIR`), chosen by
//   <meta name="micrograd-transport" content="worker">: the model lives in a Web Worker running
//   this package under Pyodide (static/worker.js). Same JSON messages, both ways.
// - Widget: a notebook cell (below): the model lives in the kernel.
import { say, words } from "./i18n.js";

export function openTransport(events) {
  const meta = document.querySelector('meta[name="micrograd-transport"]');
  const kind = meta ? meta.content : "socket";
  if (kind === "worker") return workerTransport(events);
  return kind === "widget" ? widgetTransport(events) : socketTransport(events);
}

// - Widget: the page in a notebook cell (micrograd.widgets.Playground), in an iframe whose
//   parent relays each text to the kernel and back: { micrograd_playground: { text } } both
//   ways; the parent says { open } once the kernel answered the page's { hello }.
function widgetTransport(events) {
  const hear = (ev) => {
    const m = ev.source === parent && ev.data ? ev.data.micrograd_playground : null;
    if (!m) return;
    if (m.open) events.onopen();
    else if (typeof m.text === "string") events.onmessage(m.text);
    else if (m.closed) events.onclose({ code: 1000, reason: m.closed });
  };
  window.addEventListener("message", hear);
  const post = (m) => parent.postMessage({ micrograd_playground: m }, "*");
  post({ hello: true });
  return { send: (text) => post({ text }), close: () => window.removeEventListener("message", hear) };
}

function socketTransport(events) {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  const ws = new WebSocket(`${proto}//${location.host}/ws`);
  ws.onopen = () => events.onopen();
  ws.onclose = (ev) => events.onclose({ code: ev.code, reason: ev.reason });
  ws.onmessage = (ev) => events.onmessage(ev.data);
  return {
    send: (text) => { if (ws.readyState === WebSocket.OPEN) ws.send(text); },
    close: () => ws.close(),
  };
}

function keepForNextVisit(cache) {
  // sw.js (beside index.html) keeps the runtime in this browser for the next visit; registered
  // once this visit is ready, so its downloads never slow this one (none on a plain http host)
  if ("serviceWorker" in navigator) {
    const url = new URL(`sw.js?cache=${encodeURIComponent(cache)}`, document.baseURI);
    navigator.serviceWorker.register(url).catch(() => {});
  }
}

function workerTransport(events) {
  // messages sent before Python is ready wait in the worker; the graph panel says what loads
  if (location.protocol === "file:") { // browsers start no module worker from a file
    return { send: () => {}, close: () => {} }; // filenote.js says so on the page
  }
  // boot.js's worker, begun before these modules loaded; a reconnect has boot.js start another
  const started = window.micrograd_worker || window.micrograd_start_worker();
  window.micrograd_worker = null;
  const worker = started.worker;
  const note = ({ text, params }) => { // a sentence, said in the page's language
    const hint = document.querySelector("#graph-view > p.hint");
    if (hint) say(hint, text, params);
    const mid = document.getElementById("starting"); // the note mid-page while it starts
    if (mid) say(mid, text, params);
  };
  let closed = false;
  const end = (reason) => {
    if (closed) return;
    closed = true;
    worker.terminate();
    events.onclose({ code: 1011, reason });
  };
  note(words("starting Python in this page\u2026"));
  const onMessage = (ev) => {
    const m = ev.data;
    if (typeof m === "string") events.onmessage(m);
    else if (m.kind === "ready") {
      document.body.dataset.python = m.python; // how Python started (tests, benchmark)
      events.onopen();
      keepForNextVisit(m.cache);
    }
    else if (m.kind === "progress") note(m);
    else if (m.kind === "failed") { note(m.reason); end(m.reason); }
  };
  const onError = (ev) => {
    ev.preventDefault();
    const reason = words("the page's Python worker could not start: {why}",
      { why: ev.message || words("see the console") });
    note(reason);
    end(reason);
  };
  const adopt = () => { // what the worker said before now first, in order, then the rest
    worker.onmessage = onMessage;
    worker.onerror = onError;
    for (const [kind, ev] of started.early.splice(0)) {
      if (!closed) (kind === "message" ? onMessage : onError)(ev);
    }
  };
  setTimeout(adopt, 0); // once the caller holds this transport (onopen may send)
  return {
    send: (text) => { if (!closed) worker.postMessage(text); },
    close: () => { closed = true; worker.terminate(); }, // a reconnect: no offline banner
  };
}
