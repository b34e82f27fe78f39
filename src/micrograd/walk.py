"""Backpropagation, step by step: the forward pass node by node, then the chain rule edge by edge.

Every tool shows the gradients after `backward()`; this shows backprop happening, in the order
`backward()` itself uses (reverse topological order), so a learner sees *why* the order matters
and why a node used twice receives two contributions (`+=`, not `=`).

- `backprop_steps(root)`: the walk as a list of `Step`s, plain data, computed from the nodes'
  stored local derivatives exactly as `backward()` does (the final grads are the same bits).
- `walk_html(root)`: a standalone page (no network, no server) with step / back / play controls:
  Graphviz pictures of the current neuron (focus) or of the whole model with the other neurons
  folded (overview), sized to the window and following the walk; the current node is lit, the
  parent receiving gradient is marked, and each box's `grad` changes as the walk goes.
  `BackpropWalk(root)` shows the same page inline in Jupyter. `micrograd graph --walk` writes
  `walk.html` for the chapter's model's graph.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from importlib import resources

from micrograd.engine import Value, no_local_rule
from micrograd.graph import fmt_number
from micrograd.walkview import walk_views
from micrograd.words import said, said_in

MAX_WALK_NODES = 1500  # the page replays every step in the browser; beyond this it is a wall


@dataclass
class Step:
    """One step of the walk. `node` and `parent` index `root.topo()` (the DOT ids `v{i}`)."""

    phase: str  # "forward": `node` is computed; "start": d root/d root = 1; "backward": an edge
    node: int
    text: str
    parent: int | None = None  # backward: the operand that receives gradient
    grad: float | None = None  # backward: the parent's grad after this step (seed: the root's)
    contribution: int = 0  # backward: 2 for the parent's second contribution, and so on


def backprop_steps(root: Value, names: Mapping[Value, str] | None = None) -> list[Step]:
    """The forward pass node by node, then `backward()`'s chain rule one edge at a time.

    A node is called by `names[node]` (as the picture's boxes are), else its `label`, else
    `v{i}`, its index in `root.topo()`.
    """
    order = root.topo()
    index = {id(v): i for i, v in enumerate(order)}
    given = {id(v): n for v, n in (names or {}).items()}

    def _name(v: Value, i: int) -> str:
        return given.get(id(v)) or (str(v.label) if v.label else f"v{i}")

    steps: list[Step] = []
    for i, v in enumerate(order):
        if not v._prev:
            continue
        names = [_name(p, index[id(p)]) for p in v._prev]
        values = [fmt_number(p.data) for p in v._prev]
        if v._op in ("+", "*") and len(names) == 2:  # infix, as it was written
            how = f"{names[0]} {v._op} {names[1]} = {values[0]} {v._op} {values[1]}"
        else:
            how = f"{v._op}({', '.join(f'{n}={x}' for n, x in zip(names, values))})"
        steps.append(Step("forward", i, f"{_name(v, i)} = {how} = {fmt_number(v.data)}"))
    grads = {id(v): 0.0 for v in order}
    seen: dict[int, int] = {}
    uses: dict[int, int] = {}  # how many contributions each value will receive in all
    for v in order:
        for p in v._prev:
            uses[index[id(p)]] = uses.get(index[id(p)], 0) + 1
    grads[id(root)] = 1.0
    steps.append(Step("start", index[id(root)], said(
        "{name}.grad = 1: the output's derivative with respect to itself",
        name=_name(root, len(order) - 1)), grad=1.0))
    for node in reversed(order):
        if not node._prev:
            continue
        if node._local is None:
            raise ValueError(no_local_rule("walk", node))
        i, g = index[id(node)], grads[id(node)]
        for parent, local in zip(node._prev, node._local):
            j = index[id(parent)]
            grads[id(parent)] += local * g  # the chain rule, as backward() adds it
            seen[j] = seen.get(j, 0) + 1
            text = _chain_text(_name(parent, j), _name(node, i), local, g, grads[id(parent)],
                               seen[j], uses[j])
            steps.append(Step("backward", i, text, parent=j, grad=grads[id(parent)],
                              contribution=seen[j]))
    return steps


def _p(name: str) -> str:
    """The name, in parentheses when it is more than one word: `(w1[0,1]·x2).grad`."""
    return name if all(c.isalnum() or c in "[],_" for c in name) else f"({name})"


def _chain_text(parent: str, node: str, local: float, g: float, total: float, nth: int,
                uses: int) -> str:
    """One chain-rule step: the product, and for a reused value the running total apart."""
    rule = f"{_p(parent)}.grad += d{_p(node)}/d{_p(parent)} × {_p(node)}.grad"
    product = f"{fmt_number(local)} × {fmt_number(g)} = {fmt_number(local * g)}"
    if uses == 1:
        return f"{rule} = {product}"
    return said("{rule}, contribution {nth} of {uses} ({parent} is used {uses} times): "
                "{product}; {name}.grad is now {total}", rule=rule, nth=nth, uses=uses,
                parent=parent, product=product, name=_p(parent), total=fmt_number(total))


_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>{title}</title>
<style>
@font-face {{ font-family: "CJK"; src: local("Noto Sans CJK SC"), local("PingFang SC"),
  local("Microsoft YaHei"); unicode-range: U+2E80-9FFF, U+F900-FAFF, U+FE30-FE4F, U+FF00-FFEF; }}
html, body {{ height: 100%; }}
body {{ font: 14px Helvetica, Arial, "CJK", sans-serif; margin: 0; color: #222; display: flex;
        flex-direction: column; overflow: hidden; }}
#bar {{ flex: none; background: #fff; padding: 8px 12px; border-bottom: 1px solid #ddd; }}
button {{ font-size: 14px; padding: 3px 10px; margin-right: 4px; }}
button.on {{ background: #e67e22; color: #fff; border: 1px solid #e67e22; }}
#text {{ font-family: Menlo, Consolas, "CJK", monospace; margin-top: 6px; min-height: 2.8em;
         overflow-wrap: anywhere; }}
#count {{ color: #666; margin-left: 8px; }}
#graph {{ flex: 1; min-height: 0; overflow: auto; }}
#graph svg {{ display: block; }}
.walk-future {{ opacity: 0.25; }}
.node.walk-cur path, .node.walk-cur polygon, .node.walk-cur ellipse {{ stroke: #e67e22;
  stroke-width: 4px; }}
.node.walk-recv path, .node.walk-recv polygon {{ stroke: #2e86c1; stroke-width: 4px; }}
.node.walk-again path, .node.walk-again polygon {{ stroke: #8e44ad; stroke-width: 5px; }}
.edge.walk-cur path {{ stroke: #e67e22; stroke-width: 2.5px; }}
.edge.walk-recv path {{ stroke: #2e86c1; stroke-width: 2.5px; }}
.edge.walk-again path {{ stroke: #8e44ad; stroke-width: 3px; }}
</style></head><body>
<div id="bar"><b>{title}</b><br>
<button id="first">{first}</button><button id="back">{back}</button>
<button id="play">{play}</button><button id="next">{next}</button>
<button id="focus" class="on" title="{focus_title}">{focus}
</button><button id="overview" title="{overview_title}">{overview}
</button><span id="count"></span><div id="text">{intro}</div></div>
<div id="graph"></div>
<script id="steps" type="application/json">{steps}</script>
<script id="views" type="application/json">{views}</script>
<script id="words" type="application/json">{words}</script>
<script type="module">
{walk_js}
const $ = (id) => document.getElementById(id);
const steps = JSON.parse($("steps").textContent), V = JSON.parse($("views").textContent);
const W = JSON.parse($("words").textContent); // the words the script writes, in the page's language
let k = 0, timer = null, mode = "focus", shown = null, items = null;
function show() {{
  const want = `${{WalkView.viewAt(V.view_of_step, k)}} ${{mode}}`;
  if (want !== shown) {{
    const v = V.views[parseInt(want)];
    items = WalkView.mount($("graph"), v[mode], mode === "overview" ? v.folded : null);
    shown = want;
  }}
  const last = WalkView.show(steps, k, items);
  if (last) $("text").textContent = last.text;
  $("count").textContent = W.count.replace("{{k}}", k).replace("{{n}}", steps.length);
  WalkView.follow($("graph"), mode === "overview");
  if (parent !== window) {{ // a widget's page: the step it shows, first when it starts, and
    parent.postMessage({{ micrograd_walk_at: k, first, told }}, "*"); // whether it was told to
    first = told = false;
  }}
}}
let first = true, told = false;
function go(to) {{ k = Math.max(0, Math.min(steps.length, to)); show(); }}
window.addEventListener("message", (ev) => {{ // the notebook widget moves the walk (widgets.Walk)
  const to = ev.data?.micrograd_walk_go;
  if (ev.source === parent && typeof to === "number") {{ told = true; go(to); }}
}});
function look(m) {{ mode = m; $("focus").className = m === "focus" ? "on" : "";
  $("overview").className = m === "overview" ? "on" : ""; show(); }}
$("next").onclick = () => go(k + 1);
$("back").onclick = () => go(k - 1);
$("first").onclick = () => go(0);
$("focus").onclick = () => look("focus");
$("overview").onclick = () => look("overview");
$("play").onclick = () => {{
  const b = $("play");
  if (timer) {{ clearInterval(timer); timer = null; b.textContent = W.play; return; }}
  b.textContent = W.pause;
  timer = setInterval(() => {{ if (k >= steps.length) {{ clearInterval(timer); timer = null;
    b.textContent = W.play; }} else go(k + 1); }}, 700);
}};
document.addEventListener("keydown", (ev) => {{
  if (ev.key === "ArrowRight") {{ ev.preventDefault(); go(k + 1); }}
  else if (ev.key === "ArrowLeft") {{ ev.preventDefault(); go(k - 1); }}
}});
window.addEventListener("resize", () => WalkView.follow($("graph"), mode === "overview"));
show();
</script></body></html>
"""


def walk_names(root: Value, names: Mapping[Value, str] | None = None) -> dict[Value, str]:
    """Every value's name, as the steps call it and its box shows it: `names[v]`, else its
    label, else `v{i}` (its index in `root.topo()`)."""
    given = {id(v): n for v, n in (names or {}).items()}
    return {v: given.get(id(v)) or (str(v.label) if v.label else f"v{i}")
            for i, v in enumerate(root.topo())}


def walk_js() -> str:
    """The walk's drawing code, shared with the playground's graph panel (one file, two pages),
    after the number formatting it imports: one inline module script, which imports nothing."""
    static = resources.files("micrograd.playground").joinpath("static")
    numbers = static.joinpath("numbers.js").read_text(encoding="utf-8")
    walk = static.joinpath("walk.js").read_text(encoding="utf-8")
    return numbers + "\n" + re.sub(r'^import [^\n]* from "\./numbers\.js";\n', "", walk,
                                    flags=re.M)


# the page's own words, each a sentence a catalogue translates (`micrograd.words.said_in`)
PAGE_WORDS = {
    "title": said("Backpropagation, step by step"),
    "first": said("\u21e4 start"), "back": said("\u25c0 back"), "play": said("\u25b6 play"),
    "pause": said("\u23f8 pause"), "next": said("step \u25b6"), "focus": said("focus"),
    "overview": said("overview"),
    "focus_title": said("the current neuron: its values, what goes in and out"),
    "overview_title": said("the whole model, the other neurons folded"),
    "intro": said('Press "step" (or \u2192) to walk the forward pass, then backpropagation '
                  "edge by edge."),
    "count": said("step {k} of {n}", k="{k}", n="{n}"),  # the script fills them in
}


def walk_html(root: Value, title: str | None = None,
              catalogue: dict[str, str] | None = None, **style: object) -> str:
    """A standalone page that walks `root`'s graph step by step (needs Graphviz's `dot`).

    `style` is passed to `to_dot` (`params=`, `inputs=`, `names=`, `groups=`). `catalogue`
    (`micrograd.playground.strings.ZH`) says the page's words and the steps' sentences in its
    language; the names and the numbers read alike in any. The page shows
    one part of the graph at a time (`micrograd.walkview`: the current neuron, or the whole
    model with the other neurons folded), sized to the window and following the current node.
    A value without a name or label is called `v{i}` in its box and in the steps alike. The
    pictures are drawn with the grads the walk ends on (so each box is wide enough for its last
    number); the page shows them as 0, as before `backward()`, and fills them in as it walks.
    """
    order = root.topo()
    if len(order) > MAX_WALK_NODES:
        raise ValueError(f"walk: {len(order)} values is too many to walk (at most "
                         f"{MAX_WALK_NODES}); walk one point's loss, or a smaller model")
    names = walk_names(root, style.get("names"))  # type: ignore[arg-type]
    style = {**style, "names": names}
    if catalogue and style.get("groups"):  # a neuron's frame: "layer 1, neuron 0", said anew
        style["groups"] = {v: said_in(g, catalogue) for v, g in style["groups"].items()}
    steps = backprop_steps(root, names)
    final = {s.parent if s.phase == "backward" else s.node: s.grad for s in steps
             if s.phase != "forward"}
    saved = [v.grad for v in order]
    try:
        for i, v in enumerate(order):
            v.grad = final.get(i, 0.0)  # type: ignore[assignment]
        views = walk_views(root, steps, **style)  # type: ignore[arg-type]
    finally:
        for v, g in zip(order, saved):
            v.grad = g
    payload = [{**asdict(s), "text": said_in(s.text, catalogue)} for s in steps]
    words = {k: said_in(v, catalogue) for k, v in PAGE_WORDS.items()}
    shown = {k: html.escape(v) for k, v in words.items()}
    shown["title"] = html.escape(title if title is not None else words["title"])
    return _PAGE.format(**shown, steps=_json(payload), walk_js=walk_js(), views=_json(views),
                        words=_json({k: words[k] for k in ("count", "play", "pause")}))


def _json(value: object) -> str:
    """JSON to sit in a <script> element: no `</` that would end it."""
    return json.dumps(value).replace("</", "<\\/")


class BackpropWalk:
    """`walk_html` inline in Jupyter: `BackpropWalk(loss)` as a cell's last line."""

    def __init__(self, root: Value, height: int = 640, **kwargs: object):
        self.page, self.height = walk_html(root, **kwargs), height

    def _repr_html_(self) -> str:
        srcdoc = html.escape(self.page, quote=True)  # an iframe: its own ids, its own script
        return (f'<iframe srcdoc="{srcdoc}" style="width:100%;height:{self.height}px;'
                f'border:1px solid #ddd"></iframe>')


def step_count(root: Value) -> int:
    """How many steps `backprop_steps(root)` takes: interior nodes + 1 + edges into nodes."""
    interior = [v for v in root.topo() if v._prev]
    return len(interior) + 1 + sum(len(v._prev) for v in interior)


