"""The graph panel's half of a playground session: the computation graph of the picked point.

It is `micrograd.graph.trace_mlp` on a shadow copy of the model (so drawing it never touches the
gradients that training accumulates), starting from the point's feature values, named as the
page names the features (x₁, x₁², sin x₂, ...), and ending in the loss training uses for the
point: softmax cross-entropy with its label, or in regression the squared error (out − y)².
Above GRAPH_MAX_VALUES values the panel shows the output layer and the loss only.
"""

from __future__ import annotations

import math
import re
from typing import Any

from micrograd.graph import fmt_number, trace_mlp
from micrograd.playground.features import LABELS, expand
from micrograd.words import message_of, said

GRAPH_MAX_VALUES = 600  # above this the graph panel shows the output layer and the loss only


class GraphUnavailable(ValueError):
    """The picked point's graph cannot be computed on these weights (the message says which
    value went bad and what to do); the panel shows the message instead of a picture."""


def unavailable_reason(model: Any, x: list[float], label: Any, regression: bool) -> str:
    """Which of the point's values makes its graph uncomputable, in one line.

    The graph writes the chapter's softmax (exp, Σ, ÷, log): once a diverged model's logits are
    more than about 745 apart, the label's probability underflows to 0 and log(0) has no value,
    although training's stable form still returns a (huge) number. Non-finite outputs are named
    as such.
    """
    fix = said("the model has diverged: lower the learning rate and press reset")
    try:
        out = model.predict(x)
    except (ArithmeticError, ValueError):
        return said("this point's graph cannot be computed (its forward pass overflows); {fix}",
                    fix=fix)
    names = ["out"] if regression else [f"logit{j}" for j in range(len(out))]
    bad = [f"{name} = {fmt_number(v)}" for name, v in zip(names, out) if not math.isfinite(v)]
    if bad:
        return said("this point's graph cannot be computed: {bad}; {fix}", bad=", ".join(bad),
                    fix=fix)
    if not regression:
        gap = max(out) - out[label]
        return said("this point's loss is infinite in floating point: logit{k} is {gap} below "
                    "the largest logit, so p{k} = exp(logit{k} − max) / Σ exp underflows to 0 and "
                    "−log p{k} has no value; {fix}", k=label, gap=fmt_number(gap), fix=fix)
    return said("this point's graph cannot be computed; {fix}", fix=fix)


class _Head:
    """The output layer alone, as a model `trace_mlp` can walk (for graphs too big to draw)."""

    def __init__(self, layer: Any):
        self.layers = [layer]

    def parameters(self) -> list:
        return self.layers[0].parameters()

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = 0.0


class GraphPanel:
    """Mixed into `Session`: needs its `model`, `shadow`, `params`, `config`, `picked_point()`.

    A graph's shape is fixed by `graph_key()`; a new shape gets a new `graph_id` and asks the
    server for a new layout (`pending_render`); frames then update its numbers in place.
    """

    graph_id: int
    pending_render: bool
    _graph_key: tuple | None
    _mode: tuple[tuple | None, str, int]  # key, mode, values

    def _regression(self) -> bool:
        return self.config.problem == "regression"

    def graph_key(self) -> tuple | None:
        """What fixes the graph's shape: sizes, activation, features, the picked label (a
        regression target is a number in a box, not a shape). None: no point."""
        point = self.picked_point()
        if point is None:
            return None
        label = None if self._regression() else point[1]
        return (tuple(self.model.sizes), self.config.activation, tuple(self.config.features),
                self.config.problem, label)

    def _check_graph(self, broken: bool = False) -> None:
        """A new graph id (and layout) when the shape changes, or when the graph becomes
        uncomputable or computable again (the panel's message gives way to a picture)."""
        key = self.graph_key()
        if broken:
            key = (key, "uncomputable")
        if key != self._graph_key:
            self._graph_key = key
            self.graph_id += 1
            self.pending_render = True

    def _inputs(self) -> tuple[list[float], Any]:
        x, label = self.picked_point()
        return expand([x], self.config.features)[0], label

    def trace(self) -> tuple[Any, str]:
        """The picked point's graph on the current weights: (trace, 'full' or 'head').

        Raises `GraphUnavailable` (one line naming the bad value) when the weights make the
        graph's numbers uncomputable, whatever step of the tracing meets it.
        """
        for s, p in zip(self.shadow.parameters(), self.params):
            s.data = p.data
        try:
            return self._trace()
        except (ArithmeticError, ValueError):
            x, label = self._inputs()
            raise GraphUnavailable(unavailable_reason(
                self.shadow, x, label, self._regression())) from None

    def _trace(self) -> tuple[Any, str]:
        x, label = self._inputs()
        layers, regression, mode = self.shadow.layers, self._regression(), self._graph_mode()
        if mode == "full":
            # the inputs x₁, x₁², sin x₂ as the page names them
            return trace_mlp(self.shadow, x, label, regression=regression,
                             input_names=[LABELS[f] for f in self.config.features]), mode
        h = list(x)  # head: the last hidden layer's outputs are the inputs
        for layer in layers[:-1]:
            h = layer.predict(h)
        depth = len(layers) - 1  # the traced inputs are the last hidden layer's outputs
        trace = trace_mlp(_Head(layers[-1]), h, label, regression=regression,
                          input_names=[f"h{depth}[{i}]" for i in range(len(h))])
        rename = [(r"^w1\[", f"w{depth + 1}["), (r"^b1\[", f"b{depth + 1}["),
                  (r"^sum1\[", f"sum{depth + 1}[")]
        for v, name in trace.names.items():
            for pattern, repl in rename:
                name = re.sub(pattern, repl, name)
            trace.names[v] = name
        return trace, mode

    def _graph_mode(self) -> str:
        """'full' when the whole graph has at most GRAPH_MAX_VALUES values, else 'head'."""
        key = self.graph_key()
        if self._mode[0] != key:
            x, label = self._inputs()
            full = len(trace_mlp(self.shadow, x, label, regression=self._regression()).nodes())
            self._mode = (key, "full" if full <= GRAPH_MAX_VALUES else "head", full)
        return self._mode[1]

    def graph_dot(self) -> dict[str, Any]:
        """The DOT text of the picked point's graph and a line saying what it shows (or, with
        no DOT text, why there is no graph)."""
        if self.picked_point() is None:
            self._check_graph()
            self.pending_render = False
            return {"id": self.graph_id, "dot": None,
                    "note": said("no points: add one to see its graph")}
        try:
            trace, mode = self.trace()
        except GraphUnavailable as e:
            self._check_graph(broken=True)
            self.pending_render = False
            return {"id": self.graph_id, "dot": None, "note": message_of(e)}
        self._check_graph()
        self.pending_render = False
        n = len(trace.nodes())
        note = said("{n} values", n=n)
        if mode == "head":
            note = said("the whole graph has {n} values, too many to read (at most {most} are "
                        "drawn): showing the output layer and the loss; the last hidden layer's "
                        "outputs enter as inputs", n=self._mode[2], most=GRAPH_MAX_VALUES)
        return {"id": self.graph_id, "dot": trace.to_dot(), "note": note, "values": n,
                "mode": mode}

    def graph_values(self) -> dict[str, Any] | None:
        """Every node's data and grad, formatted as the SVG boxes show them, in DOT order (none
        when the graph cannot be computed: the panel shows why, from `graph_dot`)."""
        if self.picked_point() is None:
            self._check_graph()
            return None
        try:
            trace, _ = self.trace()
        except GraphUnavailable:
            self._check_graph(broken=True)
            return {"id": self.graph_id, "loss": None, "data": [], "grad": []}
        self._check_graph()
        nodes = trace.nodes()
        loss = trace.loss.data
        return {"id": self.graph_id, "loss": loss if math.isfinite(loss) else None,
                "data": [fmt_number(v.data) for v in nodes],
                "grad": [fmt_number(v.grad) for v in nodes]}
