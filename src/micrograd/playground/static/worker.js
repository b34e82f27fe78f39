// micrograd playground, exported page: the model's thread (a module Web Worker).
// It loads Pyodide (CPython in WebAssembly) and viz.js (Graphviz in WebAssembly) from the exported
// folder, unpacks this package's wheel into Pyodide's site-packages (no micropip, no network) and
// runs micrograd.playground.browser: the server's own Driver, answering the page with the server's
// own JSON messages. Training runs here in slices of at most 40 ms; between slices the messages
// the page sent meanwhile (pause, step, configure...) are handled, so neither side freezes.
//   from the page: protocol messages (JSON text)
//   to the page:   protocol messages (JSON text), and {kind: "ready" | "progress" | "failed"};
//                  "ready" says how Python started (`python`: "export", "saved" or "fresh")
// While it loads, "progress" says how much of the runtime has come (export.json's `download`:
// the bytes this worker fetches), then that micrograd is being imported. Python starts from a
// memory snapshot when there is one (loadPython).
import { loadPyodide } from "../pyodide/pyodide.mjs";

const BROWSER = "micrograd.playground.browser";
const CACHE_PREFIX = "micrograd-playground-"; // sw.js's caches: an export's name after it
const LAYOUT_WHEN_QUIET = 250; // ms without a message before an idle worker lays the graph out
const LAYOUT_AT_MOST = 1000; // ms an idle worker's new graph picture waits for a quiet moment
const FRAME_INTERVAL = 50; // ms from one slice's start to the next (as the server: 20 frames/s)
const ROOT = new URL("../", import.meta.url);
const inbox = [];
let wake = null; // nextMessage's resolver while the worker waits

self.onmessage = (ev) => {
  inbox.push(ev.data); // kept until Python is ready: nothing the page sends is lost
  if (wake) wake();
};

function nextMessage(ms) {
  // true when a message came within `ms` (Infinity: wait for one), false when the time ran out
  return new Promise((resolve) => {
    const timer = Number.isFinite(ms) ? setTimeout(() => { wake = null; resolve(false); }, ms) : null;
    wake = () => { clearTimeout(timer); wake = null; resolve(true); };
  });
}

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
    if (total && got >= total) progress("starting Python ({n} MB downloaded)\u2026", { n: MB(total) });
    else if (total) progress("loading Python: {got} of {total} MB downloaded\u2026", { got: MB(got), total: MB(total) });
    else progress("loading Python: {got} MB downloaded\u2026", { got: MB(got) });
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

const SAVED = "python-memory"; // a name in sw.js's cache, never a file of the export
let forgetMemory = async () => {}; // the saved memory this page started from (start's failure)

async function loadPython(manifest, wheel) { // wheel: a promise of its bytes; -> [pyodide, how]
  // Python's memory right after importing micrograd (Pyodide's memory snapshot: seconds of
  // interpreter start-up skipped): the export's own (memory.py), else one this browser saved
  // on an earlier visit; else a plain start, which saves one for the next visit. The wheel is
  // unpacked either way: a snapshot holds the modules imported, not the files a later import reads.
  const indexURL = new URL("pyodide/", ROOT).href;
  const saved = await savedMemory(manifest);
  let pyodide = null;
  if (saved) {
    try {
      pyodide = await loadPyodide({ indexURL, _loadSnapshot: saved.bytes });
    } catch (e) { // another build of Pyodide, a damaged entry: forget it, start plainly
      console.warn("Python's saved memory could not be used:", e);
      await saved.forget();
    }
  }
  if (pyodide) {
    unpack(pyodide, await wheel);
    saved.keep();
    forgetMemory = saved.forget;
    return [pyodide, saved.from];
  }
  const cache = await openCache(manifest);
  pyodide = await loadPyodide({ indexURL, _makeSnapshot: Boolean(cache) });
  unpack(pyodide, await wheel);
  progress("importing micrograd\u2026");
  const browser = pyodide.pyimport(BROWSER);
  browser.prepare(manifest.engine); // the session and its first answer, kept in the snapshot
  browser.destroy();
  if (cache) saveMemory(pyodide, cache);
  return [pyodide, "fresh"];
}

function saveMemory(pyodide, cache) {
  // now: before the page's callbacks reach Python, which a snapshot cannot hold
  const failed = (e) => console.warn("Python's memory could not be saved for the next visit:", e);
  try {
    cache.put(new URL(SAVED, ROOT), new Response(pyodide.makeMemorySnapshot())).catch(failed);
  } catch (e) {
    failed(e);
  }
}

async function openCache(manifest) {
  // this export's Cache Storage, or null where the browser has none (plain http off localhost)
  try {
    return self.caches ? await self.caches.open(CACHE_PREFIX + manifest.cache) : null;
  } catch {
    return null;
  }
}

async function savedMemory(manifest) {
  // { bytes: a promise, from: "saved" | "export", keep(), forget() } or null: this browser's copy
  // first (the export's, decompressed and kept once it worked), then the export's own. The bytes
  // are still coming when loadPyodide starts: it fetches and compiles meanwhile.
  const cache = await openCache(manifest);
  const key = new URL(SAVED, ROOT);
  const hit = cache && await cache.match(key);
  if (hit) {
    return { bytes: hit.arrayBuffer().then((b) => new Uint8Array(b)), from: "saved",
      keep: () => {}, forget: () => cache.delete(key) };
  }
  if (!manifest.memory || typeof DecompressionStream === "undefined") return null;
  const reply = await fetch(new URL(manifest.memory, ROOT)).catch(() => null);
  if (!reply || !reply.ok) return null;
  const bytes = reply.arrayBuffer().then((b) => gunzip(new Uint8Array(b)));
  const keep = () => { // Pyodide copied the bytes: they are ours to store
    if (cache) bytes.then((b) => cache.put(key, new Response(b))).catch(() => {});
  };
  return { bytes, from: "export", keep, forget: async () => { if (cache) await cache.delete(key); } };
}

async function gunzip(bytes) {
  if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes; // the host sent it decoded already
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

function unpack(pyodide, wheel) {
  const site = pyodide.runPython("import site; site.getsitepackages()[0]");
  pyodide.unpackArchive(wheel, "wheel", { extractDir: site });
}

async function start() {
  const listing = await fetch(new URL("export.json", ROOT));
  if (!listing.ok) throw new Error(`export.json: HTTP ${listing.status}`);  // not "bad JSON"
  const manifest = await listing.json();
  if (self.name === "cached") progress("starting Python\u2026");
  else countDownloads(manifest.download); // the first visit: the runtime comes over the network
  const wheel = fetch(new URL(manifest.wheel, ROOT)).then((r) => {
    if (!r.ok) throw new Error(`${manifest.wheel}: HTTP ${r.status}`);
    return r.arrayBuffer();
  });
  const loading = import("../viz/viz.js").then((m) => m.instance()); // meanwhile, not before
  const [pyodide, python] = await loadPython(manifest, wheel);
  let viz = null;
  const browser = pyodide.pyimport(BROWSER);
  const page = browser.start(manifest.engine, (dot) => viz.renderString(dot, { format: "svg" }));
  postMessage({ kind: "ready", cache: manifest.cache, python });
  post(page.hello()); // drawn at once; the answers wait for viz.js (a walk lays its views out)
  viz = await loading;
  await serve(page);
}

async function serve(page) {
  // the page's messages, training slices and the graph's pictures, for as long as the page lives.
  // A new picture (viz.js takes a while, 0.3 s for the default model) waits for the answers and
  // frames, and for a quiet moment, so a click just after the page is ready is not held back by
  // it; a stream of messages (the pointer over the plane) holds it back a second at most
  let since = performance.now(); // idle since
  for (;;) {
    while (inbox.length) post(page.receive(inbox.shift()));
    if (!page.busy) {
      const overdue = performance.now() - since > LAYOUT_AT_MOST;
      if (!overdue && await nextMessage(LAYOUT_WHEN_QUIET)) continue;
      post(page.layout());
      if (!inbox.length) await nextMessage(Infinity);
      since = performance.now();
      continue;
    }
    const t0 = performance.now();
    post(page.train_slice(t0 / 1000));
    post(page.layout());
    since = performance.now();
    const rest = Math.max(0, FRAME_INTERVAL - (performance.now() - t0));
    await new Promise((resolve) => setTimeout(resolve, rest)); // the page's messages come in here
  }
}

start().catch(async (e) => {
  console.error(e);
  await forgetMemory().catch(() => {}); // a memory that restored but does not work: not again
  const why = String(e.message || e).split("\n")[0];
  postMessage({ kind: "failed", reason: words("Python could not start in this page: {why}", { why }) });
});

function progress(text, params = {}) {
  // a note for the page, which says it in its language (i18n.js)
  postMessage({ kind: "progress", ...words(text, params) });
}

function words(text, params = {}) {
  // a sentence as i18n.js's `words` makes it: the English text and its values (no DOM here)
  return { text, params };
}
