// micrograd playground, exported page: starts the model's Web Worker (static/worker.js) while
// the page's own modules still load, so Python's seconds of start-up begin at once. The export
// adds this classic script to <head>; transport.js adopts the worker and the messages it sent
// before the page was ready for them (window.micrograd_worker), and starts the next one the same
// way on a reconnect (window.micrograd_start_worker). From a file (file://) browsers start no
// module worker: filenote.js says so, and nothing starts here.
"use strict";

function microgradStartWorker() {
  // the worker, and the messages it sends until transport.js takes them over
  // (a second visit's runtime comes from sw.js's cache: nothing to count, and WebAssembly's own
  // compiled-code cache works only on the cached reply itself: worker.js's name says which)
  const name = navigator.serviceWorker && navigator.serviceWorker.controller ? "cached" : "network";
  const worker = new Worker(new URL("static/worker.js", document.baseURI), { type: "module", name });
  const early = [];
  worker.onmessage = (ev) => early.push(["message", ev]);
  worker.onerror = (ev) => { ev.preventDefault(); early.push(["error", ev]); };
  return { worker, early };
}

window.micrograd_start_worker = microgradStartWorker; // a reconnect's new worker (transport.js)
if (location.protocol !== "file:") window.micrograd_worker = microgradStartWorker();
