// micrograd.widgets.Playground's view: the playground page (micrograd.widgets.page) in an
// iframe, its messages relayed to the kernel's Driver and back. The page says { hello } when its
// modules run; the kernel answers that view alone ({ open: id, texts }: the state and a frame),
// then every view gets every frame ({ texts }), so two views of one widget show one session.
function render({ model, el }) {
  // the page is laid out for a window at least DESIGN px wide: a narrower cell shows it whole,
  // scaled down, rather than cut at the right (its own size stays, so it never lays out again)
  const DESIGN = 1240;
  const box = document.createElement("div");
  box.style.cssText = "width:100%;overflow:hidden;border:1px solid #ddd;box-sizing:border-box";
  const frame = document.createElement("iframe");
  frame.title = "micrograd playground";
  // its own opaque origin: the page reaches the notebook only through postMessage
  frame.setAttribute("sandbox", "allow-scripts");
  frame.style.cssText = "border:0;display:block;transform-origin:0 0";
  box.appendChild(frame);
  const id = Math.random().toString(36).slice(2);
  let open = false;
  const post = (m) => frame.contentWindow?.postMessage({ micrograd_playground: m }, "*");
  const fromPage = (ev) => {
    const m = ev.source === frame.contentWindow && ev.data ? ev.data.micrograd_playground : null;
    if (!m) return;
    if (m.hello) { open = false; model.send({ kind: "hello", view: id }); }
    else if (typeof m.text === "string") model.send({ kind: "text", text: m.text });
  };
  const fromKernel = (msg) => {
    if (msg.open !== undefined) {
      if (msg.open !== id) return; // another view's start
      open = true;
      post({ open: true });
    }
    if (open) for (const text of msg.texts || []) post({ text });
  };
  const size = () => { // the page keeps its own size (DESIGN × height); only the view scales
    const height = model.get("height");
    const wide = box.clientWidth || DESIGN;
    const scale = Math.min(1, wide / DESIGN);
    frame.style.width = `${Math.max(DESIGN, wide)}px`;
    frame.style.height = `${height}px`;
    frame.style.transform = scale < 1 ? `scale(${scale})` : "";
    box.style.height = `${Math.ceil(height * scale)}px`;
  };
  const watch = new ResizeObserver(size);
  watch.observe(box);
  window.addEventListener("message", fromPage);
  model.on("msg:custom", fromKernel);
  model.on("change:height", size);
  size();
  frame.srcdoc = model.get("page");
  el.appendChild(box);
  return () => {
    model.send({ kind: "bye", view: id }); // the last view gone: the kernel stops training
    watch.disconnect();
    window.removeEventListener("message", fromPage);
    model.off("msg:custom", fromKernel);
  };
}

export default { render };
