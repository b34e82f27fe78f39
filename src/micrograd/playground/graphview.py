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

GRAPH_MAX_VALUES = 600  # above this the graph panel shows the output layer and the loss only


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

    def _check_graph(self) -> None:
        key = self.graph_key()
        if key != self._graph_key:
            self._graph_key = key
            self.graph_id += 1
            self.pending_render = True

    def _inputs(self) -> tuple[list[float], Any]:
        x, label = self.picked_point()
        return expand([x], self.config.features)[0], label

    def trace(self) -> tuple[Any, str]:
        """The picked point's graph on the current weights: (trace, 'full' or 'head')."""
        for s, p in zip(self.shadow.parameters(), self.params):
            s.data = p.data
        x, label = self._inputs()
        layers, regression, mode = self.shadow.layers, self._regression(), self._graph_mode()
        if mode == "full":
            trace = trace_mlp(self.shadow, x, label, regression=regression)
            for v, feature in zip(trace.inputs, self.config.features):
                trace.names[v] = LABELS[feature]  # x₁, x₁², sin x₂ as the page names them
            return trace, mode
        h = list(x)  # head: the last hidden layer's outputs are the inputs
        for layer in layers[:-1]:
            h = layer.predict(h)
        trace = trace_mlp(_Head(layers[-1]), h, label, regression=regression)
        depth = len(layers) - 1
        rename = [(r"^x(\d+)$", rf"h{depth}[\1]"), (r"^w1\[", f"w{depth + 1}["),
                  (r"^b1\[", f"b{depth + 1}[")]
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
        """The DOT text of the picked point's graph and a line saying what it shows."""
        self._check_graph()
        self.pending_render = False
        if self.picked_point() is None:
            return {"id": self.graph_id, "dot": None, "note": "no points: add one to see its graph"}
        trace, mode = self.trace()
        n = len(trace.nodes())
        note = f"{n} values"
        if mode == "head":
            note = (f"the whole graph has {self._mode[2]} values, too many to read (at most "
                    f"{GRAPH_MAX_VALUES} are drawn): showing the output layer and the loss; the "
                    f"last hidden layer's outputs enter as inputs")
        return {"id": self.graph_id, "dot": trace.to_dot(), "note": note, "values": n,
                "mode": mode}

    def graph_values(self) -> dict[str, Any] | None:
        """Every node's data and grad, formatted as the SVG boxes show them, in DOT order."""
        if self.picked_point() is None:
            return None
        try:
            trace, _ = self.trace()
        except (ArithmeticError, ValueError):  # a diverged model: nothing sensible to show
            return None
        nodes = trace.nodes()
        loss = trace.loss.data
        return {"id": self.graph_id, "loss": loss if math.isfinite(loss) else None,
                "data": [fmt_number(v.data) for v in nodes],
                "grad": [fmt_number(v.grad) for v in nodes]}
