// micrograd playground: the computation graph's drawer. The graph panel opens over the data and
// network panels (the plane stays in view, so a click on a point shows its graph at once) and
// closes again; the graph button, its × and the "g" key toggle it, and the choice is kept in
// localStorage for the next visit.
//   createDrawer({ onOpen }) -> { open, close, toggle, isOpen }
import { $ } from "./format.js";

const KEY = "micrograd.playground.graph"; // "open" or "closed"

function stored() {
  try { return localStorage.getItem(KEY); } catch { return null; } // storage may be blocked
}

function store(v) {
  try { localStorage.setItem(KEY, v); } catch { /* nowhere to keep it: open for this page only */ }
}

export function createDrawer({ onOpen }) {
  const button = $("graph-toggle");

  function set(open) {
    document.body.classList.toggle("graph-open", open);
    button.setAttribute("aria-expanded", String(open));
    store(open ? "open" : "closed");
    // the views that size themselves to the window redraw
    window.dispatchEvent(new Event("resize"));
    if (open) onOpen(); // laid out while hidden, the graph is sized for its box now
  }

  const isOpen = () => document.body.classList.contains("graph-open");
  button.onclick = () => set(!isOpen());
  $("graph-close").onclick = () => set(false);
  document.addEventListener("keydown", (ev) => {
    const t = ev.target.tagName;
    if (ev.key !== "g" || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (t === "INPUT" || t === "SELECT" || t === "TEXTAREA") return;
    set(!isOpen());
  });
  if (stored() === "open") set(true);
  return { open: () => set(true), close: () => set(false), toggle: () => set(!isOpen()), isOpen };
}
