// micrograd playground, exported page: the model's thread (a module Web Worker).
// It loads Pyodide (CPython in WebAssembly) and viz.js (Graphviz in WebAssembly) from the exported
// folder, unpacks this package's wheel into Pyodide's site-packages (no micropip, no network) and
// runs micrograd.playground.browser: the server's own Driver, answering the page with the server's
// own JSON messages. Training runs here in slices of at most 40 ms; between slices the messages
// the page sent meanwhile (pause, step, configure...) are handled, so neither side freezes.
//   from the page: protocol messages (JSON text)
//   to the page:   protocol messages (JSON text), and {kind: "ready" | "progress" | "failed"}
// While it loads, "progress" says how much of the runtime has come (export.json's `download`:
// the bytes this worker fetches), then that micrograd is being imported.
import { loadPyodide } from "../pyodide/pyodide.mjs";

const FRAME_INTERVAL = 50; // ms from one slice's start to the next (as the server: 20 frames/s)
const ROOT = new URL("../", import.meta.url);
const inbox = [];
let wake = null;

self.onmessage = (ev) => {
  inbox.push(ev.data); // kept until Python is ready: nothing the page sends is lost
  if (wake) wake();
};

function post(list) {
  const texts = list.toJs();
  list.destroy();
  for (const text of texts) postMessage(text);
}

const MB = (n) => (n / 1e6).toFixed(1);

function countDownloads(total) {
  // every fetch of this worker (Pyodide's own included) counts its bytes into one progress note
  const plain = self.fetch.bind(self);
  let got = 0, shown = 0;
  const note = (force) => {
    if (!force && performance.now() - shown < 100) return;
    shown = performance.now();
    const text = total && got >= total ? `starting Python (${MB(total)} MB downloaded)\u2026`
      : `loading Python: ${MB(got)}${total ? ` of ${MB(total)}` : ""} MB downloaded\u2026`;
    postMessage({ kind: "progress", text });
  };
  self.fetch = async (...args) => {
    const reply = await plain(...args);
    if (!reply.ok || !reply.body) return reply;
    const reader = reply.body.getReader();
    const body = new ReadableStream({
      async pull(out) {
        const { done, value } = await reader.read();
        if (done) { out.close(); note(true); return; }
        got += value.byteLength;
        note(false);
        out.enqueue(value);
      },
    });
    // the same reply (status, type: WebAssembly compiles from it as it streams), counted
    return new Response(body, { status: reply.status, statusText: reply.statusText, headers: reply.headers });
  };
  note(true);
}

async function start() {
  const listing = await fetch(new URL("export.json", ROOT));
  if (!listing.ok) throw new Error(`export.json: HTTP ${listing.status}`);  // not "bad JSON"
  const manifest = await listing.json();
  if (self.name === "cached") postMessage({ kind: "progress", text: "starting Python\u2026" });
  else countDownloads(manifest.download); // the first visit: the runtime comes over the network
  const [pyodide, viz, wheel] = await Promise.all([
    loadPyodide({ indexURL: new URL("pyodide/", ROOT).href }),
    import("../viz/viz.js").then((m) => m.instance()), // imported meanwhile, not before
    fetch(new URL(manifest.wheel, ROOT)).then((r) => {
      if (!r.ok) throw new Error(`${manifest.wheel}: HTTP ${r.status}`);
      return r.arrayBuffer();
    }),
  ]);
  const site = pyodide.runPython("import site; site.getsitepackages()[0]");
  pyodide.unpackArchive(wheel, "wheel", { extractDir: site });
  postMessage({ kind: "progress", text: "importing micrograd\u2026" });
  const browser = pyodide.pyimport("micrograd.playground.browser");
  const page = browser.start(manifest.engine, (dot) => viz.renderString(dot, { format: "svg" }));
  postMessage({ kind: "ready", cache: manifest.cache });
  post(page.hello());
  for (;;) {
    while (inbox.length) post(page.receive(inbox.shift()));
    if (!page.busy) {
      await new Promise((resolve) => { wake = resolve; });
      wake = null;
      continue;
    }
    const t0 = performance.now();
    post(page.train_slice(t0 / 1000));
    const rest = Math.max(0, FRAME_INTERVAL - (performance.now() - t0));
    await new Promise((resolve) => setTimeout(resolve, rest)); // the page's messages come in here
  }
}

start().catch((e) => {
  console.error(e);
  postMessage({ kind: "failed", reason: `Python could not start in this page: ${String(e.message || e).split("\n")[0]}` });
});
