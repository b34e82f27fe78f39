// micrograd playground: the graph panel: the picked point's computation graph as the server's
// Graphviz SVG (a `graph` message), whose boxes' data and grad each frame rewrites in place, with
// zoom, and the step-through-backprop mode of walkpanel.js on top.
//   createGraph({ model, send, toast }) -> { onGraph(g), onWalk(m), update(vals), showInfo(),
//     shown() (its drawer opened), ... }
import { $, fmtNum } from "./format.js";
import { createWalkPanel } from "./walkpanel.js";
import { say, sayPictures, words } from "./i18n.js";

const PT_TO_PX = 4 / 3; // Graphviz sizes the SVG in points

export function createGraph({ model, send, toast }) {
  const G = {
    id: -1, // the graph shown (the server's count)
    nodes: [], // per value index: its box's data and grad <text> elements
    zoom: 0.8, width: 0, height: 0, userZoom: false,
    info: null, // the latest frame's numbers for this graph {id, data, grad, loss}
  };
  const api = {
    onGraph, update, showInfo, shown,
    onWalk: (m) => walk.onSteps(m),
    get id() { return G.id; },
    get nodes() { return G.nodes; },
    get info() { return G.info; },
  };
  const walk = createWalkPanel({ graph: api, model, send, toast });
  api.walk = walk;
  $("zoom-in").onclick = () => zoomBy(1.25);
  $("zoom-out").onclick = () => zoomBy(0.8);
  $("zoom-fit").onclick = zoomFit;

  function onGraph(g) {
    const view = $("graph-view");
    G.id = g.id;
    G.nodes = [];
    sayLine($("graph-note"), g, "note");
    if (g.svg) {
      view.innerHTML = g.svg;
      sayPictures(view);
      const vb = view.querySelector("svg").viewBox.baseVal;
      G.width = vb.width * PT_TO_PX;
      G.height = vb.height * PT_TO_PX;
      for (const node of view.querySelectorAll("g.node")) {
        const m = /^v(\d+)$/.exec(node.querySelector("title").textContent);
        if (!m) continue;
        const texts = [...node.querySelectorAll("text")];
        G.nodes[Number(m[1])] = {
          data: texts.find((t) => t.textContent.startsWith("data ")),
          grad: texts.find((t) => t.textContent.startsWith("grad ")),
        };
      }
      autoZoom();
      // frames may have brought this graph's numbers before its picture came: show those, not
      // the ones the picture was drawn with
      if (G.info && G.info.id === g.id && !walk.holds(G.info)) writeBoxes(G.info);
      if (view.clientWidth > 0) fitAll(); // shown now (else when the drawer opens)
      showLoss();
    } else {
      const p = document.createElement("p");
      p.className = g.error ? "missing" : "hint";
      sayLine(p, g, g.error ? "error" : "note");
      view.replaceChildren(p);
    }
    view.dataset.renders = String(Number(view.dataset.renders) + 1);
    view.dataset.id = String(g.id);
    showInfo();
    walk.onGraph(g); // a walk in progress moves to the new picture
  }

  function update(vals) {
    // a frame's numbers for the graph: written into the boxes (unless a walk holds them)
    if (!vals) return;
    G.info = vals;
    showInfo();
    if (walk.holds(vals)) return; // walking: the walk writes the boxes
    if (vals.id !== G.id || !G.nodes.length) return;
    writeBoxes(vals);
    const view = $("graph-view");
    view.dataset.updates = String(Number(view.dataset.updates) + 1);
  }

  function writeBoxes(vals) {
    for (let i = 0; i < vals.data.length; i++) {
      const n = G.nodes[i];
      if (!n) continue;
      write(n, n.data, `data ${vals.data[i]}`);
      write(n, n.grad, `grad ${vals.grad[i]}`);
    }
  }

  function write(n, el, text) {
    // a number longer than the one the box was laid out with ("1 \u2212 2.7e-12" where it read
    // "0.9812") is narrowed to the box's width instead of spilling over its border
    if (!el || el.textContent === text) return;
    el.textContent = text;
    fit(n, el);
  }

  function fit(n, el) {
    if (!el || !n.room) return; // not measured yet: the drawer is closed
    if (el.textContent.length * n.charWidth > n.room) {
      el.setAttribute("textLength", n.room);
      el.setAttribute("lengthAdjust", "spacingAndGlyphs");
    } else {
      el.removeAttribute("textLength");
    }
  }

  function fitAll() {
    // measured once per picture, when it shows (a hidden box measures 0); then narrowed
    for (const n of G.nodes) {
      if (!n) continue;
      if (!n.room) measure(n);
      fit(n, n.data);
      fit(n, n.grad);
    }
  }

  function measure(n) {
    // the box's inner width and a character's width
    if (!n.data) return;
    const shape = n.data.closest("g.node").querySelector("path, polygon");
    const w = shape ? shape.getBBox().width : 0;
    const first = n.data.textContent.length ? n.data.getComputedTextLength() : 0;
    if (w > 0 && first > 0) {
      n.room = w - 8;
      n.charWidth = first / n.data.textContent.length;
    }
  }

  function showInfo() {
    const st = model.state;
    const el = $("graph-info");
    if (!st || st.picked === null || st.picked >= st.points.length) { say(el, ""); return; }
    const p = st.points[st.picked];
    const params = { i: st.picked, x: fmtNum(p[0], 3), y: fmtNum(p[1], 3),
      label: st.classes ? words("class {i}", { i: p[2] }) : words("value {v}", { v: fmtNum(p[2], 2) }),
      loss: G.info && G.info.loss !== null ? words(" \u00b7 its loss {v}", { v: fmtNum(G.info.loss) }) : "" };
    say(el, p[3] ? "test point #{i} ({x}, {y}), {label}{loss}" : "train point #{i} ({x}, {y}), {label}{loss}",
      params);
  }

  function sayLine(el, g, key) {
    // the server's line (note or error), in the page's language when it is a sentence
    const w = g[`${key}_words`];
    if (w) say(el, w.text, w.params);
    else say(el, "{text}", { text: g[key] || "" });
  }

  function applyZoom() {
    const svg = $("graph-view").querySelector("svg");
    if (!svg) return;
    svg.setAttribute("width", `${G.width * G.zoom}px`);
    svg.setAttribute("height", `${G.height * G.zoom}px`);
  }

  function showLoss() {
    // scroll so that the loss (the last node) sits at the right, halfway down: where backprop starts
    const view = $("graph-view");
    const last = G.nodes[G.nodes.length - 1];
    const box = last && last.data && last.data.closest("g.node");
    if (!box) return;
    const r = box.getBoundingClientRect(), v = view.getBoundingClientRect();
    view.scrollLeft += r.right - v.right + 40;
    view.scrollTop += r.top - v.top - view.clientHeight / 2;
  }

  function zoomBy(factor) {
    G.userZoom = true;
    G.zoom = Math.max(0.05, Math.min(4, G.zoom * factor));
    applyZoom();
  }

  function autoZoom() {
    // a small graph is shown whole; a big one at 80%, where its boxes read (the caller scrolls
    // to the loss); a zoom the user chose stays
    if (!G.userZoom) {
      const fit = fitZoom();
      G.zoom = fit >= 0.55 ? Math.min(fit, 1) : 0.8;
    }
    applyZoom();
  }

  function shown() {
    // the drawer opened: laid out while hidden, the graph is zoomed and scrolled for its box now
    if (!G.width) return;
    autoZoom();
    showLoss();
    fitAll();
  }

  function fitZoom() {
    const view = $("graph-view");
    return Math.min((view.clientWidth - 4) / G.width, (view.clientHeight - 4) / G.height);
  }

  function zoomFit() {
    if (walk.active) { walk.look("overview"); return; } // the walk's fit: the folded model
    if (!G.width) return;
    G.userZoom = true;
    G.zoom = Math.min(fitZoom(), 1);
    applyZoom();
  }

  return api;
}
