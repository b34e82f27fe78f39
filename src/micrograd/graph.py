"""Pictures of a computation graph: DOT text, a `graphviz.Digraph`, and SVG/PNG files.

`to_dot(root)` needs nothing but the standard library. `draw_dot(root)` wraps the same text in a
`graphviz.Digraph`, which displays inline in Jupyter (the `graphviz` package is imported only
there). `render()` calls Graphviz's `dot` program to write SVG/PNG and raises `DotNotFound` when it
is not installed. Every value node is a box with its `data` and `grad` (`fmt_number`); every op is a
small circle between its operands and its result. Node ids are topological indices (`v0`, `v1`,
...), so the same graph always gives the same text.
"""

from __future__ import annotations

import html
import math
import os
import shutil
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from micrograd.engine import Value
from micrograd.files import write_atomic
from micrograd.words import said

# Latin first (its metrics lay the boxes out), then the common CJK fonts, so a Chinese label or
# name reads where one is installed (Noto on Linux, PingFang on macOS, YaHei on Windows)
FONT = "Helvetica,Arial,Noto Sans CJK SC,PingFang SC,Microsoft YaHei,sans-serif"
# role: (fill, border, legend text). Soft fills, darker borders of the same hue. The pictures'
# words are `said` (micrograd.words): the playground shows them in its reader's language.
ROLES = {
    "param": ("#fde2b8", "#d9822b", said("parameter")),
    "input": ("#d4e6f7", "#3a78b5", said("input")),
    "const": ("#eeeeee", "#8c8c8c", said("constant")),
    "value": ("#ffffff", "#555555", said("intermediate")),
    "loss": ("#f6c4c4", "#c0392b", said("loss / output")),
}
OP_LEGEND = said("op (×, +, tanh, exp, log, ...)")
# the frames around a neuron's ops and the loss's
NEURON_FRAME, OUTPUT_FRAME = "layer {i}, neuron {j}", "output neuron {j}"
SOFTMAX_FRAME = "softmax cross-entropy, label {k}"
SOFTMAX_FORM = ("{loss}: the chapter's form (exp, Σ, ÷, log); training computes the same loss as "
                "log Σ exp − logit")
SQUARED_FRAME = "squared error (out − y)², y the point's target"  # y is in the −y box
# every text a picture says (the playground finds them in the drawn SVG to translate them)
PICTURE_WORDS = (*(text for _, _, text in ROLES.values()), OP_LEGEND, NEURON_FRAME, OUTPUT_FRAME,
                 SOFTMAX_FRAME, SOFTMAX_FORM, SQUARED_FRAME)
OP_STYLE = ("#f2f2f2", "#777777")
GROUP_FILL, GROUP_BORDER = "#f7f9fc", "#c9d3e0"  # a neuron's (or the loss's) ops, boxed together
OP_TEXT = {"*": "×", "+": "+"}  # the rest print as the engine names them (tanh, exp, **-1, ...)


MINUS = "\u2212"  # the minus sign, as typeset (not the hyphen of "e-12")
MAX_PLACES = 6  # decimals a number near a whole one may take before it is written as "1 − ε"


def fmt_number(x: float) -> str:
    """A number as every box shows it: 4 decimals (`-0.3621`), or 3 significant digits in
    e-notation when 4 decimals would hide it (`7.08e-05`) or it is huge (`1.23e+07`).

    A gradient of 7e-5 is not 0: after training most numbers are that small, and rounding them
    to `0.0000` hides exactly what a learner should see. Likewise a probability of 0.99999 is not
    1: a number 4 decimals would round to a whole one gets more places (up to 6), so it reads
    `0.99999`; nearer still, it is written as the whole number and how far it is from it,
    `1 − 2.7e-12` (a trained softmax's probability, whose log is the loss), short enough for the
    box its graph was laid out with. Exact zeros print `0.0000` (never `-0.0000`).
    """
    if x == 0.0:
        return "0.0000"
    if not math.isfinite(x):
        return f"{x:.4f}"
    if not 1e-3 <= abs(x) < 1e6:
        return f"{x:.2e}"
    return fixed(x, 4)


def fixed(x: float, places: int) -> str:
    """`x` to `places` decimals, more (up to MAX_PLACES) when those would round it to a whole
    number it is not, and `whole ± distance` when even those would."""
    text = f"{x:.{places}f}"
    whole = round(x)
    while x != whole and float(text) == whole and places < MAX_PLACES:
        places += 1  # 0.99999 is not 1: as many places as it takes to show it is not
        text = f"{x:.{places}f}"
    if x != whole and float(text) == whole:
        return f"{whole} {'+' if x > whole else MINUS} {abs(x - whole):.1e}"
    return text


def nodes_of(root: Value) -> list[Value]:
    """The graph below `root`, parents before children: the order that names the DOT nodes."""
    return root.topo()


def role_of(node: Value, root: Value, params: set[int], inputs: set[int]) -> str:
    """A leaf named as a parameter or an input is one. A graph drawn without either (a learner's
    own expression, `draw_dot(L)`) calls its labelled leaves (`a`, `b`) inputs, and only the
    unnamed ones (the 2 of `2 * a`) constants."""
    if node is root:
        return "loss"
    if id(node) in params:
        return "param"
    if id(node) in inputs or (not params and not inputs and not node._prev and node.label):
        return "input"
    return "value" if node._prev else "const"


def dot_lines(
    root: Value,
    rankdir: str = "LR",
    *,
    params: Iterable[Value] = (),
    inputs: Iterable[Value] = (),
    names: Mapping[Value, str] | None = None,
    title: str = "",
    legend: bool = True,
    groups: Mapping[Value, str] | None = None,
    size: str | None = None,
) -> list[str]:
    """The body of the DOT text, one statement per line (shared by `to_dot` and `draw_dot`)."""
    if not isinstance(root, Value):
        raise TypeError(f"to_dot needs a Value as root, got {type(root).__name__}")
    if rankdir not in ("LR", "TB", "RL", "BT"):
        raise ValueError(f"rankdir must be LR, TB, RL or BT, got {rankdir!r}")
    names = {id(v): n for v, n in (names or {}).items()}
    groups = {id(v): g for v, g in (groups or {}).items()}
    param_ids, input_ids = {id(p) for p in params}, {id(x) for x in inputs}
    order = nodes_of(root)
    index = {id(v): i for i, v in enumerate(order)}
    roles = [role_of(v, root, param_ids, input_ids) for v in order]

    lines = graph_attributes(rankdir, size)
    if title or legend:
        lines.append(f"\tlabel=<{_caption(title, sorted(set(roles)) if legend else [])}>")
    node_lines: dict[str, list[str]] = {}  # group label ("" = none) -> its node statements
    edges: list[str] = []
    for i, (v, role) in enumerate(zip(order, roles)):
        stmts = node_lines.setdefault(groups.get(id(v), ""), [])
        name = names.get(id(v)) or str(v.label)  # ours for the picture, else the node's own
        stmts.extend(value_statements(i, v, role, name))
        if v._prev:
            edges.append(f"\tv{i}op -> v{i}")
            for parent in v._prev:  # operand order, so `a - b` reads top to bottom
                edges.append(f"\tv{index[id(parent)]} -> v{i}op")
    lines.extend(grouped(node_lines))
    lines.extend(edges)
    return lines


def graph_attributes(rankdir: str = "LR", size: str | None = None) -> list[str]:
    """The DOT text's first lines: layout, fonts, the edges' look."""
    return [
        f"\tgraph [rankdir={rankdir} nodesep=0.12 ranksep=0.3 pad=0.25 bgcolor=white "
        f'fontname="{FONT}" labelloc=t labeljust=l{_size(size)}]',
        f'\tnode [fontname="{FONT}" fontsize=10 margin="0.04,0.02"]',
        '\tedge [color="#888888" arrowsize=0.5 penwidth=0.8]',
    ]


def value_statements(i: int, v: Value, role: str, name: str) -> list[str]:
    """The DOT statements of value `i`: its box `v{i}` and, if an op made it, the op's circle."""
    fill, border, _ = ROLES[role]
    stmts = [f'v{i} [shape=box style="rounded,filled" fillcolor="{fill}" color="{border}" '
             f"penwidth={1.6 if role == 'loss' else 1.0} label=<{_box(name, v)}>]"]
    if v._prev:
        op = html.escape(OP_TEXT.get(v._op, v._op or "?"))
        stmts.append(f'v{i}op [shape=circle width=0.3 fixedsize={str(len(op) <= 2).lower()} '
                     f'style=filled fillcolor="{OP_STYLE[0]}" color="{OP_STYLE[1]}" fontsize=10 '
                     f"label=<{op}>]")
    return stmts


def _size(size: str | None) -> str:
    """Graphviz's `size` attribute, checked: two positive numbers of inches, `W,H`."""
    if size is None:
        return ""
    try:
        w, h = (float(part) for part in str(size).split(","))
    except ValueError:
        raise ValueError(f"size must be 'W,H' in inches, like '10,6', got {size!r}") from None
    if not (0 < w < 1e4 and 0 < h < 1e4):
        raise ValueError(f"size must be two positive numbers of inches, like '10,6', got {size!r}")
    return f' size="{w:g},{h:g}"'


def grouped(node_lines: dict[str, list[str]]) -> list[str]:
    """Node statements, each group's inside a cluster (a boxed, labelled layer of the MLP)."""
    lines = []
    for k, (group, stmts) in enumerate(node_lines.items()):
        if not group:
            lines.extend("\t" + s for s in stmts)
            continue
        lines.append(f"\tsubgraph cluster_{k} {{")
        lines.append(f"\t\tlabel=<{html.escape(group)}> labeljust=l fontsize=11 "
                     f'fontcolor="#555555" style="rounded,filled" fillcolor="{GROUP_FILL}" '
                     f'color="{GROUP_BORDER}"')
        lines.extend("\t\t" + s for s in stmts)
        lines.append("\t}")
    return lines


def to_dot(
    root: Value,
    rankdir: str = "LR",
    *,
    params: Iterable[Value] = (),
    inputs: Iterable[Value] = (),
    names: Mapping[Value, str] | None = None,
    title: str = "",
    legend: bool = True,
    groups: Mapping[Value, str] | None = None,
    size: str | None = None,
) -> str:
    """DOT text of the graph below `root`: one box per value (data, grad) and one circle per op.

    `params` and `inputs` pick the colours of those leaves (other leaves are constants, `root` is
    the loss); `names` labels boxes (e.g. `{w: "w1"}`), else a node's own `label` (as
    `Value(2.0, label="a")` in the lecture) is shown; `groups` puts nodes in labelled frames
    (e.g. one per neuron); `size="10,6"` scales a bigger drawing down to fit 10×6 inches
    (Graphviz's `size`: a wide graph then fits a notebook's cell, and stays sharp when zoomed).
    Needs no dependency; the same graph always gives the same text.
    """
    body = dot_lines(root, rankdir, params=params, inputs=inputs, names=names, title=title,
                     legend=legend, groups=groups, size=size)
    return "digraph micrograd {\n" + "".join(line + "\n" for line in body) + "}\n"


def draw_dot(root: Value, rankdir: str = "LR", *, format: str = "svg", **style: Any) -> Any:
    """The graph as a `graphviz.Digraph` (shows inline in Jupyter; `.render()` writes files).

    Same keywords as `to_dot`; `g.source == to_dot(root, ...)`.
    """
    import graphviz  # the Python package; drawing still needs Graphviz's `dot` program

    body = dot_lines(root, rankdir, **style)
    return graphviz.Digraph("micrograd", format=format, body=[line + "\n" for line in body])


class DotNotFound(RuntimeError):
    """Graphviz's `dot` program is not installed (or not on PATH)."""


class DotFailed(RuntimeError):
    """Graphviz's `dot` program ran but could not draw the graph."""


INSTALL_HINT = ("install Graphviz (Debian/Ubuntu: apt-get install graphviz; macOS: brew install "
                "graphviz; conda: conda install graphviz)")


def render(
    dot_text: str, stem: str | os.PathLike[str], formats: Sequence[str] = ("svg", "png"),
    dpi: int = 96,
) -> list[str]:
    """Write `stem.dot` and, with `dot`, `stem.svg`/`stem.png`; return the paths written.

    The `.dot` file is always written first, so a missing `dot` still leaves the graph on disk
    (and `DotNotFound` says so).
    """
    stem = os.fspath(stem)
    dot_path = stem + ".dot"
    write_atomic(dot_path, dot_text.encode("utf-8"))
    exe = shutil.which("dot")
    if exe is None:
        raise DotNotFound(f"Graphviz's `dot` program was not found; wrote {dot_path} only. "
                          f"To draw it, {INSTALL_HINT}")
    written = [dot_path]
    for fmt in formats:  # dot draws to its stdout; the file goes through the one write path
        extra = [f"-Gdpi={dpi}"] if fmt == "png" else []
        proc = subprocess.run([exe, f"-T{fmt}", *extra], input=dot_text.encode("utf-8"),
                              capture_output=True)
        if proc.returncode != 0:
            lines = proc.stderr.decode("utf-8", "replace").strip().splitlines()
            why = (lines or [f"exit code {proc.returncode}"])[0]
            raise DotFailed(f"dot could not draw {dot_path} as {fmt}: {why}")
        write_atomic(f"{stem}.{fmt}", proc.stdout)
        written.append(f"{stem}.{fmt}")
    return written


def render_svg(dot_text: str, timeout: float = 120.0) -> str:
    """The SVG text `dot` draws for `dot_text` (no file written); DotNotFound without `dot`."""
    exe = shutil.which("dot")
    if exe is None:
        raise DotNotFound(f"Graphviz's `dot` program was not found; to draw the graph, "
                          f"{INSTALL_HINT}")
    proc = subprocess.run([exe, "-Tsvg"], input=dot_text, capture_output=True, text=True,
                          timeout=timeout)
    if proc.returncode != 0:
        why = (proc.stderr.strip().splitlines() or [f"exit code {proc.returncode}"])[0]
        raise DotFailed(f"dot could not draw the graph: {why}")
    return proc.stdout


# ---- one datapoint through an MLP, with every fine-grained op ----


@dataclass
class Trace:
    """One forward/backward of a model on one point: the loss and who is who in its graph."""

    loss: Value
    logits: list[Value]
    inputs: list[Value]
    params: list[Value]
    names: dict[Value, str] = field(default_factory=dict)
    groups: dict[Value, str] = field(default_factory=dict)

    def style(self) -> dict[str, Any]:
        """The keywords that colour, name and frame this trace's nodes in `to_dot`/`draw_dot`."""
        return {"params": self.params, "inputs": self.inputs, "names": self.names,
                "groups": self.groups}

    def to_dot(self, rankdir: str = "LR", title: str = "") -> str:
        return to_dot(self.loss, rankdir, title=title, **self.style())

    def draw_dot(self, rankdir: str = "LR", title: str = "", size: str | None = None) -> Any:
        return draw_dot(self.loss, rankdir, title=title, size=size, **self.style())

    def nodes(self) -> list[Value]:
        return nodes_of(self.loss)


def trace_mlp(model: Any, x: Sequence[float], label: int | float,
              regression: bool = False, input_names: Sequence[str] | None = None) -> Trace:
    """Forward `x` through `model`'s neurons op by op, take cross-entropy with `label`, backward.
    With `regression`, `label` is the target and the loss the squared error (out - target)².

    The forward is written out here (`b + w0·x0 + w1·x1 + ...`, then the activation; then the
    chapter's softmax cross-entropy) so that the picture always shows each `*`, `+`, `tanh`, `exp`
    and `log`, whatever shortcut (a fused node) the model's own `__call__` may take; tests check
    that it computes what the model and `cross_entropy` compute. The model's parameter grads are
    zeroed first, so afterwards they hold exactly this one backward. Every value has a name
    (`input_names` name the inputs, else x1, x2, ...): a product is `w1[0,1]·x2` after its two
    factors, a neuron's running sum `sum1[0,1]` (its bias plus terms 0..1), its last sum `z1[0]`.
    """
    if len(x) != len(model.layers[0].neurons[0].w):
        raise ValueError(f"the model takes {len(model.layers[0].neurons[0].w)} inputs, "
                         f"got a point with {len(x)}")
    model.zero_grad()
    # the inputs are x1, x2 as the data's columns, the plots and the playground name them
    xs = [Value(float(v)) for v in x]
    given = list(input_names or [])
    names: dict[Value, str] = {v: given[i] if i < len(given) else f"x{i + 1}"
                               for i, v in enumerate(xs)}
    groups: dict[Value, str] = {}
    h: list[Value] = xs
    last = len(model.layers)
    for li, layer in enumerate(model.layers, start=1):
        out = []
        for j, n in enumerate(layer.neurons):
            frame = (said(OUTPUT_FRAME, j=j) if li == last
                     else said(NEURON_FRAME, i=li, j=j))
            names[n.b] = f"b{li}[{j}]"
            act = n.b
            members = [act]
            for i, (wi, hi) in enumerate(zip(n.w, h)):
                names[wi] = f"w{li}[{j},{i}]"
                prod = wi * hi
                act = act + prod
                names[prod] = f"{names[wi]}·{names[hi]}"
                names[act] = f"sum{li}[{j},{i}]"
                members += (wi, prod, act)
            if n.activation != "linear":
                names[act] = f"z{li}[{j}]"
                act = getattr(act, n.activation)()
                members.append(act)
            names[act] = (("out" if regression else f"logit{j}") if li == last else
                          f"h{li}[{j}]")
            groups.update((m, frame) for m in members)
            out.append(act)
        h = out
    if regression:
        loss = _squared_error(h, float(label), names, groups)
    else:
        loss = _chapter_cross_entropy(h, label, names, groups)
    loss.backward()
    return Trace(loss, h, xs, model.parameters(), names, groups)


def trace_size(sizes: Sequence[int]) -> int:
    """How many values `trace_mlp` makes for an MLP of `sizes` (e.g. [2, 16, 3] -> 293).

    Per neuron: its bias, then a weight, a product and a sum per input, then the activation
    (hidden layers only); the softmax cross-entropy over K logits adds 4K + 4.
    """
    total, last = sizes[0], len(sizes) - 2
    for i, (nin, nout) in enumerate(pairwise(sizes)):
        total += nout * (1 + 3 * nin + (i < last))
    return total + 4 * sizes[-1] + 4


def _chapter_cross_entropy(
    logits: list[Value], label: int, names: dict[Value, str], groups: dict[Value, str]
) -> Value:
    """-log softmax(logits)[label] in the chapter's ops: minus the max, exp, a chain of +, log."""
    if isinstance(label, bool) or not isinstance(label, int) or not 0 <= label < len(logits):
        raise ValueError(f"label {label!r} is not a class index in 0..{len(logits) - 1}")
    max_val = max(v.data for v in logits)  # a float: a constant shift, no gradient flows into it
    shifted = [v - max_val for v in logits]  # v + (-max): the constant is a new leaf
    ex = [d.exp() for d in shifted]
    denom = ex[0]
    sums = []
    for e in ex[1:]:
        denom = denom + e
        sums.append(denom)
    prob = ex[label] / denom  # ex * denom**-1
    loss = -prob.log()  # log(p) * -1
    for d in shifted:
        names[d._prev[1]] = "−max"
    for k, (d, e) in enumerate(zip(shifted, ex)):
        names[d], names[e] = f"logit{k} − max", f"exp{k}"
    for k, partial in enumerate(sums[:-1], start=1):
        names[partial] = f"Σ exp0..{k}"
    names[denom], names[prob], names[loss] = "Σ exp", f"p{label}", "loss"
    names[prob._prev[1]], names[loss._prev[0]] = "1 / Σ exp", f"log p{label}"
    names[loss._prev[1]] = "−1"  # -x is x * -1
    members = [*shifted, *(d._prev[1] for d in shifted), *ex, *sums, prob._prev[1], prob,
               loss._prev[0], loss._prev[1], loss]
    frame = said(SOFTMAX_FORM, loss=said(SOFTMAX_FRAME, k=label))
    groups.update((m, frame) for m in members)
    return loss


def _squared_error(out: list[Value], target: float, names: dict[Value, str],
                   groups: dict[Value, str]) -> Value:
    """(out - target)² as training computes it: out + (-target), times itself."""
    if len(out) != 1:
        raise ValueError(f"a squared error needs one output, the model has {len(out)}")
    d = out[0] - target
    loss = d * d
    names[d._prev[1]], names[d], names[loss] = "−y", "out − y", "loss"
    frame = said(SQUARED_FRAME)
    groups.update((m, frame) for m in (d._prev[1], d, loss))
    return loss


def _box(name: str, v: Value) -> str:
    """HTML label of a value box: its name (if any), data and grad."""
    rows = []
    if name:
        rows.append(f"<tr><td><b>{html.escape(name)}</b></td></tr>")
    rows.append(f"<tr><td>data {fmt_number(v.data)}</td></tr>")
    rows.append(f'<tr><td><font color="#b03a2e">grad {fmt_number(v.grad)}</font></td></tr>')
    return '<table border="0" cellborder="0" cellspacing="0" cellpadding="1">' + "".join(rows) \
        + "</table>"


def _caption(title: str, roles: list[str]) -> str:
    """The graph's label: a title line and a legend of colour swatches, one row."""
    cells = []
    for role in ("param", "input", "const", "value", "loss"):
        if role in roles:
            fill, border, text = ROLES[role]
            cells.append(f'<td bgcolor="{fill}" color="{border}" border="1" style="rounded">'
                         f"{text}</td>")
    if roles:
        cells.append(f'<td bgcolor="{OP_STYLE[0]}" color="{OP_STYLE[1]}" border="1" '
                     f'style="rounded">{OP_LEGEND}</td>')
    head = f'<tr><td colspan="{max(len(cells), 1)}" align="left"><font point-size="16"><b>' \
        f"{html.escape(title)}</b></font></td></tr>" if title else ""
    legend = f"<tr>{''.join(cells)}</tr>" if cells else ""
    return f'<table border="0" cellspacing="6" cellpadding="4">{head}{legend}</table>'
