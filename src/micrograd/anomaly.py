"""`--detect-anomaly`: find the first operation that produced a NaN or an infinity, and its inputs.

Like `torch.autograd.detect_anomaly`, but after the fact: when a step goes bad, the step's forward
pass is rebuilt from the weights it started with, point by point, and its graph is walked in
topological order (parents before children). The culprit is the first node whose value is not
finite while every one of its inputs is: the place where the numbers left the floats.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from micrograd.backends.eager import as_logits
from micrograd.data import Point
from micrograd.engine import Value
from micrograd.losses import cross_entropy
from micrograd.nn import MLP

MAX_SHOWN = 8  # inputs listed for one op; a fused neuron has 2 n + 1


def first_nonfinite(*roots: Value) -> Value | None:
    """The first node of the roots' graphs, in topological order, that is non-finite while its
    parents are finite (a leaf that is non-finite counts: it was never computed here)."""
    seen: set[int] = set()
    for root in roots:
        for node in root.topo():
            if id(node) in seen:
                continue
            seen.add(id(node))
            if not math.isfinite(node.data) and all(math.isfinite(p.data) for p in node._prev):
                return node
    return None


def parameter_names(model: MLP) -> dict[int, str]:
    """id(parameter) -> 'layer 0 neuron 3 w[1]' / 'layer 1 neuron 0 b', for messages."""
    names = {}
    for li, layer in enumerate(model.layers):
        for ni, neuron in enumerate(layer.neurons):
            for wi, w in enumerate(neuron.w):
                names[id(w)] = f"layer {li} neuron {ni} w[{wi}]"
            names[id(neuron.b)] = f"layer {li} neuron {ni} b"
    return names


def describe(node: Value, names: dict[int, str]) -> str:
    """`op '+' of (1e308, 1e308) gave inf`, naming inputs that are parameters."""
    if not node._prev:
        return f"{names.get(id(node), 'an input')} is {node.data!r}"
    args = [f"{names[id(p)]}={p.data!r}" if id(p) in names else repr(p.data) for p in node._prev]
    if len(args) > MAX_SHOWN:
        args = [*args[:MAX_SHOWN], f"... {len(args) - MAX_SHOWN} more"]
    return f"op '{node._op}' of ({', '.join(args)}) gave {node.data!r}"


def find_anomaly(model: MLP, split: Sequence[Point], name: str = "train") -> tuple[bool, str]:
    """Explain, in one line, where `model`'s mean loss over `split` stops being finite.

    Walks the points in order; the first point whose logits or loss are non-finite (or raise) is
    named with the first non-finite op of its graph: the model's first, then the loss's. If every
    point is finite, the backward pass is checked. Returns (found, explanation); found is False
    when forward and backward are all finite.
    """
    names = parameter_names(model)
    losses = []
    for i, (x, y) in enumerate(split):
        where = f"{name} point {i} (x={_short(x)}, label {y})"
        try:
            logits = as_logits(model([Value(v) for v in x]))
        except (ArithmeticError, ValueError) as e:
            return True, f"{where}: the model's forward pass raises: {e}"
        node = first_nonfinite(*logits)
        if node is not None:
            return True, f"{where}: the first non-finite value: {describe(node, names)}"
        try:
            loss = cross_entropy(logits, y)
        except (ArithmeticError, ValueError) as e:
            why = (" (the true class's probability underflowed to 0: the logits "
                   f"{_short([v.data for v in logits])} are too far apart)"
                   if str(e).startswith("log:") else "")
            return True, f"{where}: the loss raises: {e}{why}"
        node = first_nonfinite(loss)
        if node is not None:
            return True, f"{where}: the first non-finite value: {describe(node, names)}"
        losses.append(loss)
    worst = max((loss.data for loss in losses), default=0.0)
    total = None
    for loss in losses:
        total = loss if total is None else total + loss
    total = None if total is None else total * (1.0 / len(losses))
    if total is None or not math.isfinite(total.data):
        return True, (f"every {name} point's loss is finite (the largest is {worst:.3g}), but "
                      f"their mean is {_d(total)}: the sum overflows")
    for p in model.parameters():
        p.grad = 0.0
    total.backward()
    topo = total.topo()
    for node in reversed(topo):  # children before parents: the order the gradient flows
        if not math.isfinite(node.grad):
            what = names.get(id(node)) or f"the output of {describe(node, names)}"
            return True, (f"the {name} loss {total.data!r} is finite, but its gradient first "
                          f"becomes {node.grad!r} at {what}")
    return False, (f"the {name} loss {total.data!r} and every gradient are finite: the optimizer "
                   "update itself made the weights non-finite (steps too large for the gradients)")


def _d(v: Value | None) -> str:
    return "undefined" if v is None else repr(v.data)


def _short(x: Sequence[float]) -> str:
    text = "[" + ", ".join(repr(v) for v in x[:4]) + (", ...]" if len(x) > 4 else "]")
    return text
