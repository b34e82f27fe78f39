// micrograd playground: "step through backprop", a mode of the graph panel. It walks the picked
// point's graph as micrograd.walk does: the forward pass node by node, then backward()'s chain
// rule one edge at a time in reversed topological order, each step's `parent.grad += local ×
// node.grad` written out with its numbers. The drawing is walk.js's (shared with the standalone
// walk.html), and so are the pictures: the walk message brings its own, one part of the graph
// at a time (micrograd.walkview: the current neuron in focus, or the model with the other
// neurons folded, "overview"), shown in #walk-view in place of the whole graph and following the
// current step. This file adds the controls and the talk with the server:
//   out: {"type": "walk"} (and "pause": training stops while the walk is on)
//   in:  walk {id, steps, data, grad, views, view_of_step} or {id, steps: null, error}
// graph.js calls onSteps (a walk message), onGraph (a new SVG) and holds (a frame's graph
// numbers: while walking the boxes are the walk's, and a change of weights restarts it).
//   createWalkPanel({ graph, model, send, toast }): graph gives id, nodes, info and update(info)
import { $ } from "./format.js";
import { WalkView } from "./walk.js";
import { say, sayPictures, sayTitle, words } from "./i18n.js";

export function createWalkPanel({ graph, model, send, toast }) {
  const W = {
    active: false, // the mode is on
    walk: null, // the server's walk message being shown
    pending: false, // a walk was asked for and has not come yet
    k: 0, // steps taken
    items: null, // the shown picture's nodes and edges by DOT title
    shown: "", // which picture #walk-view holds: "view mode"
    mode: "focus", // or "overview"
    timer: null,
  };
  const PLAY_MS = 450;
  const el = {};

  function build() {
    const head = document.querySelector("#graph-panel .graph-head");
    el.toggle = button("walk-toggle", "step through backprop",
      "Walk this graph's forward pass, then backprop edge by edge (training pauses)");
    el.toggle.onclick = () => (W.active ? leave() : enter());
    el.toggle.disabled = true; // until a graph is drawn
    head.insertBefore(el.toggle, head.querySelector(".zoom"));
    el.bar = document.createElement("div");
    el.bar.id = "walk-bar";
    el.first = button("walk-first", "\u21e4", "back to the start");
    el.back = button("walk-back", "\u25c0 back", "one step back (\u2190)");
    el.play = button("walk-play", "\u25b6 play", "play the walk");
    el.next = button("walk-next", "step \u25b6", "one step (\u2192)");
    el.jump = button("walk-jump", "backward \u21e5", "skip to the start of the backward pass");
    el.focus = button("walk-focus", "focus", "the current neuron: its values, what goes in and out");
    el.overview = button("walk-overview", "overview", "the whole model, the other neurons folded");
    el.count = span("walk-count");
    el.phase = span("walk-phase");
    const controls = document.createElement("div");
    controls.className = "walk-controls";
    controls.append(el.first, el.back, el.play, el.next, el.jump, el.focus, el.overview, el.count,
      el.phase);
    el.text = document.createElement("div");
    el.text.id = "walk-text";
    el.note = document.createElement("p");
    el.note.id = "walk-note";
    el.note.className = "hint small";
    say(el.note, "Training is paused while you walk: the walk uses the weights of now. "
      + "Play leaves the walk; one training step restarts it on the new weights. Keys: \u2190 \u2192. "
      + "Focus shows the neuron being computed; overview the whole model, other neurons folded.");
    el.bar.append(controls, el.text, el.note);
    $("graph-note").after(el.bar);
    el.view = document.createElement("div");
    el.view.id = "walk-view";
    $("graph-view").after(el.view);
    el.focus.onclick = () => look("focus");
    el.overview.onclick = () => look("overview");
    el.first.onclick = () => go(0);
    el.back.onclick = () => go(W.k - 1);
    el.next.onclick = () => go(W.k + 1);
    el.play.onclick = togglePlay;
    el.jump.onclick = () => go(W.walk ? W.walk.steps.findIndex((s) => s.phase === "start") + 1 : 0);
    document.addEventListener("keydown", onKey);
  }

  function button(id, text, title) {
    const b = document.createElement("button");
    b.id = id;
    say(b, text);
    sayTitle(b, title);
    return b;
  }

  function span(id) {
    const s = document.createElement("span");
    s.id = id;
    return s;
  }

  function onKey(ev) {
    if (!W.active || ev.altKey || ev.ctrlKey || ev.metaKey) return;
    const tag = ev.target.tagName;
    if (tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA") return;
    if (ev.key === "ArrowRight") { ev.preventDefault(); go(W.k + 1); }
    else if (ev.key === "ArrowLeft") { ev.preventDefault(); go(W.k - 1); }
  }

  // ---- entering and leaving ----

  function enter() {
    if (model.running) send({ type: "pause" }); // handled before the walk: it sees the paused weights
    W.active = true;
    el.view.style.height = `${$("graph-view").offsetHeight || 500}px`; // where the graph was
    document.body.classList.add("walking");
    say(el.toggle, "leave the walk");
    el.toggle.classList.add("active");
    request();
  }

  function leave() {
    stopPlay();
    el.view.replaceChildren();
    Object.assign(W, { active: false, walk: null, pending: false, k: 0, items: null, shown: "" });
    document.body.classList.remove("walking");
    say(el.toggle, "step through backprop");
    el.toggle.classList.remove("active");
    say(el.text, "");
    if (graph.info) graph.update(graph.info); // the boxes show the live numbers again
  }

  function request() {
    stopPlay();
    W.pending = true;
    delete el.bar.dataset.k; // no step shown until the new walk is drawn
    say(el.count, "");
    say(el.phase, "");
    say(el.text, "computing the walk\u2026");
    send({ type: "walk" });
  }

  // ---- messages ----

  function onSteps(m) {
    if (!W.active) return;
    W.pending = false;
    if (!m.steps) {
      toast(m.words || m.error || words("no walk"));
      leave();
      return;
    }
    if (!m.views) {
      toast(words("walk: the pictures cannot be drawn without Graphviz"));
      leave();
      return;
    }
    Object.assign(W, { walk: m, k: 0, items: null, shown: "" });
    delete el.bar.dataset.k;
    go(0);
  }

  function onGraph(g) {
    el.toggle.disabled = !g.svg; // nothing drawn (no point, no Graphviz): nothing to walk
    if (!W.active) return;
    if (!g.svg) { leave(); return; }
    if ((!W.walk || W.walk.id !== g.id) && !W.pending) request();
  }

  function look(mode) {
    W.mode = mode;
    el.focus.classList.toggle("active", mode === "focus");
    el.overview.classList.toggle("active", mode === "overview");
    go(W.k);
  }

  // the picture for the state after k steps in #walk-view (mounted when it changes)
  function mount(k) {
    const want = `${WalkView.viewAt(W.walk.view_of_step, k)} ${W.mode}`;
    if (want === W.shown) return;
    const v = W.walk.views[parseInt(want, 10)];
    W.items = WalkView.mount(el.view, v[W.mode], W.mode === "overview" ? v.folded : null);
    sayPictures(el.view);
    W.shown = want;
    el.view.dataset.view = want;
  }

  // A frame's graph numbers: true while the walk owns the boxes (the frame leaves them alone).
  function holds(vals) {
    if (!W.active) return false;
    // frames sent before our pause still say "running": until the walk (sent after the pause)
    // comes, they only wait; after it, a running frame means play was pressed
    if (W.pending) return true;
    if (model.running) { leave(); return false; } // training owns the boxes again
    const w = W.walk;
    if (w && !W.pending && (vals.id !== w.id || vals.data.some((d, i) => d !== w.data[i]))) {
      request(); // other weights or another point: walk that
    }
    return true;
  }

  // ---- stepping ----

  function go(k) {
    if (!W.walk) return;
    const steps = W.walk.steps;
    W.k = Math.max(0, Math.min(steps.length, k));
    mount(W.k);
    const last = WalkView.show(steps, W.k, W.items);
    const nf = steps.filter((s) => s.phase === "forward").length;
    say(el.count, "step {k} of {n}", { k: W.k, n: steps.length });
    el.text.classList.toggle("again", !!last && last.contribution > 1);
    el.text.dataset.phase = last ? last.phase : "";
    if (!last) {
      say(el.phase, "{nf} forward steps, then {nb} of backprop", { nf, nb: steps.length - nf });
      say(el.text, "Press step (\u2192) to compute the graph's values one node at a time.");
    } else {
      if (last.phase === "forward") say(el.phase, "forward pass: node {k} of {n}", { k: W.k, n: nf });
      else if (last.phase === "start") say(el.phase, "backward pass: the output starts with grad 1");
      else if (last.contribution > 1) {
        say(el.phase, "backward pass: contribution {k} to a reused value", { k: last.contribution });
      } else say(el.phase, "backward pass: the chain rule");
      // the step's sentence (micrograd.words) in the page's language; its formulas as they are
      if (last.words) say(el.text, last.words.text, last.words.params);
      else say(el.text, "{text}", { text: last.text });
    }
    if (W.k === steps.length) say(el.phase, "done: every grad is now backward()'s");
    el.first.disabled = el.back.disabled = W.k === 0;
    el.next.disabled = W.k === steps.length;
    if (W.k === steps.length) stopPlay();
    WalkView.follow(el.view, W.mode === "overview");
    el.bar.dataset.k = String(W.k);
  }

  function togglePlay() {
    if (W.timer) { stopPlay(); return; }
    if (!W.walk) return;
    if (W.k >= W.walk.steps.length) go(0);
    say(el.play, "\u23f8 pause");
    W.timer = setInterval(() => go(W.k + 1), PLAY_MS);
  }

  function stopPlay() {
    clearInterval(W.timer);
    W.timer = null;
    if (el.play) say(el.play, "\u25b6 play");
  }

  build();
  look("focus");
  return {
    onSteps, onGraph, holds, enter, leave, look,
    get active() { return W.active; },
    get k() { return W.k; },
    get walk() { return W.walk; },
  };
}
