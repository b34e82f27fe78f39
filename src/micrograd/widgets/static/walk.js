// micrograd.widgets.Walk's view: the standalone walk page (micrograd.walk.walk_html) in an
// iframe, its step kept equal to the model's `step` both ways. The page says the step it shows
// ({ micrograd_walk_at: k, first, told }: first when it starts; told when a go moved it) and
// goes where it is told ({ micrograd_walk_go: k }). Only the learner's own moves set the model.
function render({ model, el }) {
  const frame = document.createElement("iframe");
  frame.title = "backpropagation, step by step";
  frame.setAttribute("sandbox", "allow-scripts"); // its own opaque origin: postMessage only
  frame.style.cssText = "width:100%;border:1px solid #ddd;display:block";
  const size = () => { frame.style.height = `${model.get("height")}px`; };
  let ready = false; // the page has said its first step
  let shown = null; // the step the page last said it shows
  const tell = () => {
    if (ready && model.get("step") !== shown) {
      frame.contentWindow.postMessage({ micrograd_walk_go: model.get("step") }, "*");
    }
  };
  const hear = (ev) => {
    if (ev.source !== frame.contentWindow || typeof ev.data?.micrograd_walk_at !== "number") return;
    shown = ev.data.micrograd_walk_at;
    // a page that starts (or starts again: a moved cell reloads its iframe) is told the step
    if (ev.data.first) { ready = true; tell(); return; }
    if (ev.data.told) return; // it did as told: the model holds that step, or a newer one
    if (model.get("step") !== shown) { model.set("step", shown); model.save_changes(); }
  };
  const load = () => { ready = false; shown = null; frame.srcdoc = model.get("page"); };
  window.addEventListener("message", hear);
  model.on("change:step", tell);
  model.on("change:page", load);
  model.on("change:height", size);
  size();
  load();
  el.appendChild(frame);
  return () => window.removeEventListener("message", hear);
}

export default { render };
