"""The `eager` engine: builds each sample's graph on every call and backpropagates it.

The reference the other engines are measured against, standard library only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from micrograd.backends import BeforeUpdate, Evaluation, Loss, apply_update, register
from micrograd.engine import Value
from micrograd.losses import cross_entropy


def as_logits(out: Value | list[Value]) -> list[Value]:
    """A model with one output returns a bare Value; treat it as a list of one logit."""
    return [out] if isinstance(out, Value) else out


def mean_of(losses: Sequence[float]) -> float:
    """The floats of `Value.sum(losses) * (1.0 / n)`: added left to right, then scaled."""
    total = losses[0]
    for v in losses[1:]:
        total = total + v
    return total * (1.0 / len(losses))


def count_correct(model: Any, X: Sequence[Sequence[float]], Y: Sequence[Any]) -> int:
    """Points whose largest logit (`model.predict`, first index on ties) is their label."""
    correct = 0
    for x, y in zip(X, Y):
        scores = model.predict(x)
        correct += scores.index(max(scores)) == y
    return correct


class EagerEngine:
    """Builds each sample's graph on every call and backpropagates it: the reference engine.

    One sample's graph at a time keeps memory constant and time linear in the number of points.
    It gives the same bits as `mean_loss(...).backward()` on the whole batch's graph: the losses
    are summed left to right, and the samples are backpropagated last to first, each seeded with
    d mean / d loss_i, which is the order of that graph's reversed topological sort.
    """

    name = "eager"

    def __init__(self, model: Any, loss: Loss = cross_entropy):
        self.model, self.sample_loss = model, loss

    def _sample_loss(self, x: Sequence[float], y: Any) -> Value:
        return self.sample_loss(as_logits(self.model([Value(v) for v in x])), y)

    def batch(self, X: Any, Y: Any) -> tuple[Any, Any]:
        return X, Y  # rows of floats are what the model reads

    def take(self, X: Any, Y: Any, idx: Sequence[int]) -> tuple[Any, Any]:
        return [X[i] for i in idx], [Y[i] for i in idx]

    def reload(self) -> None:
        """Nothing to read: every call reads the Values themselves."""

    def sync(self) -> None:
        """Nothing to write: every step updates the Values themselves."""

    def loss(self, X: Sequence[Sequence[float]], Y: Sequence[int]) -> float:
        return mean_of([self._sample_loss(x, y).data for x, y in zip(X, Y)])

    def loss_and_backward(self, X: Sequence[Sequence[float]], Y: Sequence[int]) -> float:
        n = len(Y)
        seed = 1.0 * ((1.0 / n) * 1.0)  # d mean/d loss_i through the `* (1/n)` and `sum` nodes
        losses = [0.0] * n
        for i in range(n - 1, -1, -1):
            loss = self._sample_loss(X[i], Y[i])
            losses[i] = loss.data
            loss.backward(seed)
        return mean_of(losses)

    def train_step(self, X: Any, Y: Any, optimizer: Any, defer: bool = False,
                   before_update: BeforeUpdate | None = None) -> float:
        loss = self.loss_and_backward(X, Y)
        apply_update(optimizer, loss, before_update)
        return loss

    def evaluate(self, X: Any, Y: Any) -> Evaluation:
        return Evaluation(self.loss(X, Y), count_correct(self.model, X, Y) / len(Y))


def build(model: Any, nin: int, optimizer: Any = None, device: str = "cpu",
          loss: Loss = cross_entropy) -> EagerEngine:
    return EagerEngine(model, loss)


register("eager", build,
         summary="a graph per sample and step, backpropagated: the reference", rank=0)
