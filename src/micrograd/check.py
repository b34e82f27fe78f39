"""`gradcheck`: is my derivative right? Central differences against `backward()`, op by op.

A learner who writes an op (see `micrograd.ops.Op`) runs `gradcheck(f, [x, y])` on a function
that uses it. Two checks, both with central differences (f(x+h) - f(x-h)) / 2h:

- the whole function: each input's gradient from `grad()` against the difference quotient of `f`;
- every op in its graph: each local derivative its rule gave against the difference quotient of
  that op's own forward rule at the same operands. This names the culprit: the worst op, where
  it was evaluated, and both numbers.

The report prints as a few readable lines and is truthy when everything agrees.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from micrograd.engine import Value, grad
from micrograd.ops import FLOAT_MATH, Op


@dataclass
class Mismatch:
    """One derivative checked: where, what backpropagation gave, what differences say."""

    where: str
    analytic: float
    numeric: float

    @property
    def error(self) -> float:
        """|analytic - numeric| / max(1, |numeric|): relative for large values, absolute near 0."""
        if math.isnan(self.analytic) != math.isnan(self.numeric):
            return math.inf
        if math.isnan(self.analytic) or self.analytic == self.numeric:
            return 0.0
        return abs(self.analytic - self.numeric) / max(1.0, abs(self.numeric))

    def __str__(self) -> str:
        return (f"{self.where}: backward gives {self.analytic:.10g}, central differences "
                f"{self.numeric:.10g} (error {self.error:.2e})")


@dataclass
class GradcheckReport:
    """What `gradcheck` found; `bool(report)` is True when every error is within `tolerance`."""

    tolerance: float
    inputs: list[Mismatch] = field(default_factory=list)
    ops: list[Mismatch] = field(default_factory=list)

    @property
    def worst_input(self) -> Mismatch | None:
        return max(self.inputs, key=lambda m: m.error, default=None)

    @property
    def worst_op(self) -> Mismatch | None:
        return max(self.ops, key=lambda m: m.error, default=None)

    def __bool__(self) -> bool:
        return all(m.error <= self.tolerance for m in (*self.inputs, *self.ops))

    def __str__(self) -> str:
        status = "ok" if self else "FAILED"
        lines = [f"gradcheck {status}: {len(self.inputs)} inputs, {len(self.ops)} op "
                 f"derivatives, tolerance {self.tolerance:g}"]
        for label, worst in (("worst input", self.worst_input), ("worst op", self.worst_op)):
            if worst is not None:
                lines.append(f"  {label}: {worst}")
        return "\n".join(lines)


def gradcheck(
    f: Callable[..., Value], inputs: Sequence[float], eps: float = 1e-6, tolerance: float = 1e-5,
) -> GradcheckReport:
    """Compare `grad()` of `f(*Values)` with central differences, for `f` and for each op in it.

    `f` takes one `Value` per entry of `inputs` and returns a `Value`. Errors are relative for
    derivatives larger than 1 and absolute below (step `eps`, so expect ~1e-8 for smooth ops).
    """
    xs = [Value(float(v)) for v in inputs]
    out = f(*xs)
    if not isinstance(out, Value):
        raise TypeError(f"gradcheck: f must return a Value, got {type(out).__name__}")
    report = GradcheckReport(tolerance)
    for i, analytic in enumerate(grad(out, xs)):
        numeric = _central(lambda h, i=i: f(*map(Value, _shifted(inputs, i, h))).data, eps)
        report.inputs.append(Mismatch(f"input {i} (= {inputs[i]!r})", analytic, numeric))
    for node in out.topo(leaves=False):
        if isinstance(node._op, Op) and node._local is not None:
            report.ops.extend(_check_op(node, eps))
    return report


def _check_op(node: Value, eps: float) -> list[Mismatch]:
    """Each local derivative of `node` against differences of its own forward rule."""
    data = [p.data for p in node._prev]
    checks = []
    for k, local in enumerate(node._local):
        if node._op == "pick" and k == len(data) - 1:
            continue  # the label of a pick is an index, not a number to perturb

        def forward(h: float, k: int = k) -> float:
            return node._op.forward(FLOAT_MATH, *_shifted(data, k, h))

        try:
            numeric = _central(forward, eps)
        except (ArithmeticError, ValueError):
            continue  # the op is not defined on both sides (log near 0, sqrt at 0, ...)
        args = ", ".join(f"{d:.6g}" for d in data[:4]) + (", ..." if len(data) > 4 else "")
        checks.append(Mismatch(f"op {node._op!r}({args}) operand {k}", float(local), numeric))
    return checks


def _shifted(values: Sequence[float], i: int, h: float) -> list:
    return [float(v) + h if j == i else v for j, v in enumerate(values)]


def _central(fn: Callable[[float], float], eps: float) -> float:
    return (fn(eps) - fn(-eps)) / (2 * eps)
