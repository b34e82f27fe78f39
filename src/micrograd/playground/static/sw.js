// micrograd playground, exported page: the service worker that makes a second visit start from
// this browser's cache, on any static host (whatever cache headers it sends). The export writes
// it at the folder's top (so it serves the whole folder); transport.js registers it as
// `sw.js?cache=NAME`, NAME a digest of the export's files (export.json's `cache`), so a new
// export is a new worker with a new cache.
// - Pyodide, viz.js, the wheel and Python's start-up memory (RUNTIME: export.json's files in
//   pyodide/, viz/, wheels/, python/): from
//   the cache; fetched once, after the first visit is ready to train (transport.js registers this
//   worker then), so they never compete with it.
// - The page itself (index.html, its modules, export.json): from the network, the cache only when
//   the host cannot be reached, so a teacher's new export shows on the next visit.
const PREFIX = "micrograd-playground-";
const CACHE = PREFIX + new URL(self.location.href).searchParams.get("cache");
const RUNTIME_FOLDERS = ["pyodide/", "viz/", "wheels/", "python/"];
const isRuntime = (name) => RUNTIME_FOLDERS.some((f) => name.startsWith(f));

async function keepRuntime() {
  const reply = await fetch(new URL("export.json", self.registration.scope), { cache: "no-cache" });
  const names = (await reply.json()).files.filter(isRuntime);
  await (await caches.open(CACHE)).addAll(names.map((n) => new URL(n, self.registration.scope)));
}

self.addEventListener("install", (ev) => {
  ev.waitUntil(keepRuntime().then(() => self.skipWaiting()));
});

self.addEventListener("activate", (ev) => {
  ev.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k.startsWith(PREFIX) && k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

self.addEventListener("fetch", (ev) => {
  const req = ev.request;
  if (req.method !== "GET" || !req.url.startsWith(self.registration.scope)) return;
  const name = req.url.slice(self.registration.scope.length).split(/[?#]/)[0];
  ev.respondWith(isRuntime(name) ? fromCache(req) : fromNetwork(req));
});

async function fromCache(req) {
  const hit = await caches.match(req, { cacheName: CACHE, ignoreSearch: true });
  return hit || fetch(req);
}

async function fromNetwork(req) {
  try {
    const reply = await fetch(req);
    if (reply.ok) (await caches.open(CACHE)).put(req, reply.clone());
    return reply;
  } catch (e) {
    const hit = await caches.match(req, { cacheName: CACHE, ignoreSearch: true });
    if (hit) return hit;
    throw e;
  }
}
