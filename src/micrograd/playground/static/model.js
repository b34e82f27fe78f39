// micrograd playground: what the page knows of the model, in one place. The server (or the
// exported page's worker) owns the model; this object keeps its latest `state` and `frame`
// messages, the frame's decoded byte grids and the loss history the curve draws. Only frames.js
// writes it (apply*); every view reads it through the getters it is given.

const HISTORY_MAX = 2000; // points of the loss curve kept; beyond, every other one is dropped

export function createModel() {
  let state = null, frame = null, running = false;
  let probs = null, values = null, focusBytes = null;
  let history = { step: [], train: [], val: [] };

  function applyState(st) {
    state = st;
    history = { step: [...st.history.step], train: [...st.history.train], val: [...st.history.val] };
    running = st.running;
  }

  function applyFrame(f, decode) {
    // false for a frame from before a data change (its classes are not the state's)
    if (!state || f.classes !== state.classes) return false;
    frame = f;
    probs = f.probs ? decode(f.probs) : null;
    values = f.values ? decode(f.values) : null; // regression
    focusBytes = f.focus && f.focus.grid ? decode(f.focus.grid) : null;
    running = f.running;
    record(f);
    return true;
  }

  function record(f) {
    const h = history;
    const last = h.step.length - 1;
    if (last >= 0 && h.step[last] === f.step) {
      h.train[last] = f.train_loss;
      h.val[last] = f.val_loss;
    } else if (last < 0 || h.step[last] < f.step) {
      h.step.push(f.step);
      h.train.push(f.train_loss);
      h.val.push(f.val_loss);
      if (h.step.length > HISTORY_MAX) {
        for (const key of ["step", "train", "val"]) h[key] = h[key].filter((_, i) => i % 2 === 0);
      }
    }
  }

  return {
    applyState,
    applyFrame,
    applyRunning(r) { running = r; },
    get state() { return state; },
    get frame() { return frame; },
    get running() { return running; },
    get probs() { return probs; }, // class probabilities over the plane's grid, bytes p × 255
    get values() { return values; }, // regression: the prediction over the grid, bytes
    get focusBytes() { return focusBytes; }, // the hovered neuron's output over the grid
    get history() { return history; },
    // a setting the model or points a notebook gave fix (the state's `locked`): not to change
    locked(name) { return Boolean(state?.locked?.includes(name)); },
  };
}
