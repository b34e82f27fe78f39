// micrograd playground: the server's messages, applied. Each message updates the model (model.js,
// the page's one record of what the server said) and then redraws the views that show it, in
// the order the page is read: controls, keys, network, curve, plane, graph, link.
//   in: state (data, network, settings), frame (losses, class probabilities over the plane,
//       neuron tiles, weights, the graph's numbers), graph (its SVG), walk, status, pong, error
//   createFrames(views) -> { type: handler(msg) }
import { $, b64bytes, fmtAcc, fmtNum } from "./format.js";
import { drawCurve } from "./curve.js";
import { drawLegend } from "./legend.js";
import { sayTitle } from "./i18n.js";

// The server's "there are no training points" error: gone as soon as the page has some.
const NO_POINTS = /no training points/;
const hasTrainingPoints = (st) => st.points.some((p) => p[3] === 0);

export function createFrames({ model, status, controls, focus, network, plane, graph, link }) {
  function onState(st) {
    model.applyState(st);
    status.onState(st);
    controls.onState(st);
    status.showRunning(st.running);
    drawLegend(st);
    network.build();
    document.body.dataset.drawn = "1"; // a state is shown (maybe first.js's, before the model's)
    drawCurve(model.history);
    plane.draw();
    graph.showInfo();
    focus.showPlaneNote();
    link.onState(st);
  }

  function onFrame(f) {
    if (!model.applyFrame(f, b64bytes)) return; // a frame from before a data change
    status.showRunning(f.running);
    $("step-count").textContent = f.step.toLocaleString("en");
    $("train-loss").textContent = fmtNum(f.train_loss);
    sayTitle($("train-loss"), f.penalty ? "data loss; the regularization penalty adds {n}" : "",
      { n: fmtNum(f.penalty) });
    $("val-loss").textContent = fmtNum(f.val_loss);
    $("train-acc").textContent = fmtAcc(f.train_acc);
    $("val-acc").textContent = fmtAcc(f.val_acc);
    drawCurve(model.history);
    plane.draw();
    network.paint(f);
    graph.update(f.graph);
  }

  function onStatus(m) {
    model.applyRunning(m.running);
    status.showRunning(m.running);
    $("step-count").textContent = m.step.toLocaleString("en");
  }

  return {
    state: onState,
    frame: onFrame,
    graph: (g) => graph.onGraph(g),
    walk: (m) => graph.onWalk(m), // backprop step by step (walkpanel.js)
    status: onStatus,
    pong: () => {},
    error: (m) => {
      // a refused change (or a message the server could not read): the controls show the
      // model's settings again
      if (m.request === "configure" || m.request == null) controls.onError();
      // its sentence (`words`, micrograd.words) in the page's language, else its English
      status.toast(m.words || m.message, NO_POINTS.test(m.message) ? hasTrainingPoints : null);
    },
  };
}
