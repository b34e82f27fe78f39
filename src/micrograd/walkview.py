"""The walk's pictures: a small one per part of the graph, instead of the whole graph at once.

A trace of the default 2-16-3 model has 293 values: drawn whole it is a wall, and the two ends of
an edge are often a screen apart. The walk therefore draws one *part* at a time. A part is a
group of `to_dot`'s `groups` (a neuron, the loss) and every step belongs to the part of the node
it computes or passes gradient from. Each part has two pictures:

- focus: the part's values, their operands and their consumers (`h1[3]` and the products that
  use it): the neuron being computed, with what goes in and what comes out;
- overview: every group folded into one box (`layer 1, neuron 3`, with its output `h1[3]`)
  except the current one when it is small (a hidden neuron of 2 inputs, the loss), so the whole
  model fits a screen; a step inside a folded box lights that box.

Box ids are the whole graph's (`v{i}`, `v{i}op`), so `walk.js` lights a picture's boxes by the
steps' indices whichever picture is shown. `walk_views` returns the pictures as SVG text and, per
step, which part it belongs to. A graph without groups is one part: its pictures are the graph.
"""

from __future__ import annotations

import html
import os
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from micrograd.engine import Value
from micrograd.graph import (
    fmt_number,
    graph_attributes,
    grouped,
    render_svg,
    role_of,
    value_statements,
)

OPEN_MAX = 24  # the overview opens the current group when it has at most this many values
FOLD_FILL, FOLD_BORDER = "#eef2f7", "#9aa8ba"  # a folded group: one box for a whole neuron


def _title(group: str) -> str:
    """A group's label, short enough for a folded box (the loss's frame explains itself)."""
    return group.split(":")[0]


class _Parts:
    """Who is in which part of `root`'s graph, and who uses whom."""

    def __init__(self, root: Value, groups: Mapping[Value, str] | None):
        self.order = root.topo()
        index = {id(v): i for i, v in enumerate(self.order)}
        by_id = {id(v): g for v, g in (groups or {}).items()}
        self.group = [by_id.get(id(v), "") for v in self.order]
        self.operands = [[index[id(p)] for p in v._prev] for v in self.order]
        self.users: list[list[int]] = [[] for _ in self.order]
        for i, ops in enumerate(self.operands):
            for j in ops:
                self.users[j].append(i)
        self.keys = list(dict.fromkeys(self.group))

    def focus(self, key: str) -> set[int]:
        """The part's values, their operands and their consumers."""
        core = {i for i, g in enumerate(self.group) if g == key}
        near = set(core)
        for i in core:
            near.update(self.operands[i])
            near.update(self.users[i])
        return near

    def outputs(self, key: str) -> list[int]:
        """The values of group `key` used outside it (or the root): what a folded box shows."""
        last = len(self.order) - 1
        return [i for i, g in enumerate(self.group) if g == key and
                (i == last or any(self.group[u] != key for u in self.users[i]))]


def _folded_box(k: int, group: str, outs: list[int], parts: _Parts,
                names: Mapping[int, str]) -> str:
    """Box `c{k}`: a whole group, named by its frame's title, showing its outputs' values."""
    rows = [f"<tr><td><b>{html.escape(_title(group))}</b></td></tr>"]
    for i in outs[:2]:
        rows.append(f"<tr><td>{html.escape(names.get(i, ''))} = "
                    f"{fmt_number(parts.order[i].data)}</td></tr>")
    table = '<table border="0" cellborder="0" cellspacing="0" cellpadding="1">' + "".join(rows)
    return (f'c{k} [shape=box style="rounded,filled" fillcolor="{FOLD_FILL}" '
            f'color="{FOLD_BORDER}" fontcolor="#444444" label=<{table}</table>>]')


def _folds(parts: _Parts, shown: set[int], names: Mapping[int, str]
           ) -> tuple[list[str], dict[int, str]]:
    """One box per group with values not `shown`: its statements, and which box holds whom."""
    boxes, box_of = [], {}
    layers: dict[str, list[str]] = {}  # "layer 1, neuron" -> its folded boxes, in order
    for g in parts.keys:
        inside = [i for i, gi in enumerate(parts.group) if gi == g and i not in shown]
        if g and inside:
            k = len(boxes)
            boxes.append(_folded_box(k, g, parts.outputs(g), parts, names))
            box_of.update((i, f"c{k}") for i in inside)
            layers.setdefault(re.sub(r"\s*\d+$", "", _title(g)), []).append(f"c{k}")
    # a layer's boxes in one column, neuron 0 at the top: invisible edges within one rank fix
    # their order, which Graphviz would otherwise choose to shorten other edges
    boxes += [f"{{rank=same; {' -> '.join(row)} [style=invis]}}" for row in layers.values()
              if len(row) > 1]
    return boxes, box_of


def part_dot(parts: _Parts, shown: set[int], fold: bool, roles: list[str],
             names: Mapping[int, str]) -> tuple[str, dict[int, str]]:
    """DOT text of the `shown` values (in their groups' frames); with `fold`, every other value
    is inside its group's one box (values in no group are always shown), the edges between
    boxes drawn once. Returns the text and which folded box (`c{k}`) holds which value."""
    frames: dict[str, list[str]] = {}
    box_of: dict[int, str] = {}
    if fold:
        shown = shown | {i for i, g in enumerate(parts.group) if not g}
        frames[""], box_of = _folds(parts, shown, names)
    edges: list[str] = []
    for i, v in enumerate(parts.order):
        if i in shown:
            frames.setdefault(parts.group[i], []).extend(
                value_statements(i, v, roles[i], names.get(i, "")))
            if parts.operands[i]:
                edges.append(f"v{i}op -> v{i}")
        head = f"v{i}op" if i in shown else box_of.get(i)
        for j in parts.operands[i]:
            tail = f"v{j}" if j in shown else box_of.get(j)
            if head and tail and tail != head:
                edges.append(f"{tail} -> {head}")
    seen: set[str] = set()
    lines = graph_attributes() + grouped(frames)
    for e in edges:  # an edge between folded boxes once; a + a's two edges both, as to_dot
        if e in seen and "c" in e.replace("op", ""):
            continue
        seen.add(e)
        lines.append("\t" + e)
    return "digraph micrograd {\n" + "".join(line + "\n" for line in lines) + "}\n", box_of


def walk_views(root: Value, steps: Iterable[Any], *, params: Iterable[Value] = (),
               inputs: Iterable[Value] = (), names: Mapping[Value, str] | None = None,
               groups: Mapping[Value, str] | None = None,
               layout: Callable[[str], str] = render_svg) -> dict[str, Any]:
    """The walk's pictures of `root`'s graph (whose boxes show the grads it holds now).

    Returns `{"views": [{"focus": svg, "overview": svg, "folded": {i: "c3", ...}}, ...],
    "view_of_step": [...]}`: one view per part that has a step (`folded`: which of the
    overview's folded boxes holds value `i`), and per step (a `Step` or its dict) its view.
    `layout` turns DOT text into SVG text: Graphviz's `dot` here, viz.js in an exported page.
    """
    parts = _Parts(root, groups)
    param_ids, input_ids = {id(p) for p in params}, {id(x) for x in inputs}
    roles = [role_of(v, root, param_ids, input_ids) for v in parts.order]
    given = {id(v): n for v, n in (names or {}).items()}
    label = {i: given.get(id(v)) or str(v.label) for i, v in enumerate(parts.order)}
    of_step, keys = [], {}
    for s in steps:
        node = s["node"] if isinstance(s, dict) else s.node
        of_step.append(keys.setdefault(parts.group[node], len(keys)))
    dots, folded = [], []
    for key in keys:
        core = {i for i, g in enumerate(parts.group) if g == key}
        overview, box_of = part_dot(parts, core if len(core) <= OPEN_MAX else set(), True,
                                    roles, label)
        dots += [part_dot(parts, parts.focus(key), False, roles, label)[0], overview]
        folded.append(box_of)
    if sys.platform == "emscripten":  # Pyodide has no threads: viz.js draws one at a time
        svgs = [_inline(layout(d)) for d in dots]
    else:
        with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
            svgs = [_inline(svg) for svg in pool.map(layout, dots)]  # each a `dot` process
    views = [{"focus": f, "overview": o, "folded": fold}
             for f, o, fold in zip(svgs[::2], svgs[1::2], folded)]
    return {"views": views, "view_of_step": of_step}


def _inline(svg: str) -> str:
    """Graphviz's SVG without its XML prologue, DOCTYPE and comments: it sits inside HTML."""
    return re.sub(r"<!--.*?-->\n?", "", svg[svg.find("<svg"):], flags=re.S)

