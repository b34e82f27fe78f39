// Backprop, step by step, drawn on a Graphviz SVG of micrograd.graph.to_dot (value boxes `v{i}`,
// op circles `v{i}op`, edges `v3->v5op`): what the picture shows after the first k steps of
// micrograd.walk.backprop_steps. One file for both walks, so they light the same boxes and write
// the same grads: micrograd.walk's standalone page inlines this module (in a module script of
// its own), and the playground's walkpanel.js imports it. No DOM is built here; a page brings
// its own buttons.
import { fmtNum } from "./numbers.js";

export const WalkView = {
  CLASSES: ["walk-cur", "walk-recv", "walk-again", "walk-future"],

  fmt: (x) => fmtNum(x), // as micrograd.graph.fmt_number writes the boxes

  // the picture's nodes and edges by their DOT title ("v5", "v5op", "v3->v5op"); a value used
  // twice by one op (a + a) has two edges into it: the second is "v3->v5op#2"
  index(root) {
    const items = {};
    for (const g of root.querySelectorAll("g.node, g.edge")) {
      const t = g.querySelector("title");
      if (!t) continue;
      let key = t.textContent;
      for (let n = 2; key in items; n++) key = `${t.textContent}#${n}`;
      items[key] = g;
    }
    return items;
  },

  setGrad(items, i, x) {
    const g = items[`v${i}`];
    if (!g) return;
    const text = `grad ${WalkView.fmt(x)}`;
    for (const t of g.querySelectorAll("text")) {
      if (t.textContent.startsWith("grad ") && t.textContent !== text) t.textContent = text;
    }
  },

  clear(items) {
    for (const g of Object.values(items)) g.classList.remove(...WalkView.CLASSES);
  },

  // Draw the state after the first k steps; return the k-th step (null at the start). Before
  // the backward pass every grad reads 0 and the values not computed yet are faded; each step
  // lights its node (and op circle); a backward step also lights the operand receiving gradient
  // and the edge it flows along, in another colour when the operand already had a contribution.
  show(steps, k, items) {
    WalkView.clear(items);
    for (const key of Object.keys(items)) if (/^v\d+$/.test(key)) WalkView.setGrad(items, +key.slice(1), 0);
    const done = new Set();
    for (let s = 0; s < k; s++) {
      const st = steps[s];
      if (st.phase === "forward") done.add(st.node);
      else WalkView.setGrad(items, st.phase === "start" ? st.node : st.parent, st.grad);
    }
    const fade = (key) => { if (items[key]) items[key].classList.add("walk-future"); };
    const add = (key, cls) => { const g = items[WalkView.resolve(items, key)]; if (g) g.classList.add(cls); };
    if (k === 0 || (k < steps.length && steps[k].phase === "forward")) {
      for (const st of steps) {
        if (st.phase === "forward" && !done.has(st.node)) {
          fade(`v${st.node}`);
          fade(`v${st.node}op`);
        }
      }
    }
    const last = steps[k - 1];
    if (!last) return null;
    add(`v${last.node}`, "walk-cur");
    add(`v${last.node}op`, "walk-cur");
    if (last.phase === "forward") { // the operands' edges into the op
      const into = new RegExp(`->v${last.node}op(#\\d+)?$`);
      for (const key of Object.keys(items)) if (into.test(key)) add(key, "walk-cur");
      add(`v${last.node}op->v${last.node}`, "walk-cur");
    } else if (last.parent !== null && last.parent !== undefined) {
      const cls = last.contribution > 1 ? "walk-again" : "walk-recv";
      let nth = 1; // which of this op's edges from the parent: a + a passes gradient twice
      for (let s = k - 2; s >= 0 && steps[s].phase === "backward" && steps[s].node === last.node; s--) {
        if (steps[s].parent === last.parent) nth++;
      }
      add(`v${last.parent}`, cls);
      add(`v${last.parent}->v${last.node}op${nth > 1 ? `#${nth}` : ""}`, cls);
    }
    return last;
  },

  // The key of what shows a value's box, op circle or edge ("v3", "v5op", "v3->v5op") in a
  // picture that folds values into one box per group: `items.fold` maps an index to its box.
  resolve(items, key) {
    const fold = items.fold || {};
    return key.replace(/v(\d+)(op)?/g, (m, i) => fold[i] || m);
  },

  // a node's box as a rectangle in client pixels (for scrolling it into view)
  box(items, i) {
    const g = items[`v${i}`];
    return g ? g.getBoundingClientRect() : null;
  },

  // The picture for the state after k steps: micrograd.walkview draws one part of the graph at
  // a time (a neuron, the loss), and each step belongs to one; the start shows the first step's.
  viewAt(viewOfStep, k) {
    return viewOfStep.length ? viewOfStep[Math.max(0, Math.min(k, viewOfStep.length) - 1)] : 0;
  },

  // Put a picture's SVG into `view` (a scrolling box); return its nodes and edges by DOT title.
  // `fold` (index -> folded box's title) lets a step inside a folded box light that box.
  mount(view, svg, fold) {
    view.innerHTML = svg;
    const vb = view.querySelector("svg").viewBox.baseVal;
    view.dataset.naturalWidth = String(vb.width * 4 / 3); // Graphviz sizes in points
    view.dataset.naturalHeight = String(vb.height * 4 / 3);
    const items = WalkView.index(view);
    Object.defineProperty(items, "fold", { value: fold || {}, enumerable: false });
    return items;
  },

  // the lit boxes and edges as one rectangle, relative to the picture's top left corner
  litBox(view) {
    const svg = view.querySelector("svg").getBoundingClientRect();
    let u = null;
    for (const g of view.querySelectorAll(".walk-cur, .walk-recv, .walk-again")) {
      const r = g.getBoundingClientRect();
      const b = { l: r.left - svg.left, t: r.top - svg.top, r: r.right - svg.left, b: r.bottom - svg.top };
      u = u ? { l: Math.min(u.l, b.l), t: Math.min(u.t, b.t), r: Math.max(u.r, b.r), b: Math.max(u.b, b.b) } : b;
    }
    return u;
  },

  // Size and scroll the picture so that everything lit is inside `view`, with a margin: the
  // focus at 1:1 unless the lit part needs it smaller; the overview (`whole`) fitted to the
  // view, but never so small that the lit part would be unreadable when it is bigger.
  follow(view, whole) {
    const svg = view.querySelector("svg");
    if (!svg) return;
    const w = Number(view.dataset.naturalWidth), h = Number(view.dataset.naturalHeight);
    const cw = view.clientWidth, ch = view.clientHeight, m = 24;
    const scale = () => svg.getBoundingClientRect().width / w;
    let u = WalkView.litBox(view);
    const litFit = u ? Math.min((cw - 2 * m) / ((u.r - u.l) / scale()), (ch - 2 * m) / ((u.b - u.t) / scale())) : 1;
    let s = Math.min(1, litFit);
    if (whole) s = Math.min(s, Math.max(Math.min(1, (cw - 4) / w, (ch - 4) / h), Math.min(0.6, litFit)));
    svg.setAttribute("width", `${w * s}px`);
    svg.setAttribute("height", `${h * s}px`);
    view.dataset.scale = s.toFixed(3);
    u = WalkView.litBox(view);
    if (!u) return;
    view.scrollLeft = (u.l + u.r) / 2 - cw / 2;
    view.scrollTop = (u.t + u.b) / 2 - ch / 2;
  },
};
