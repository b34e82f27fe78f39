"""The seed's training loop as a function: full-batch mean cross-entropy, backward, step, log.

It prints (through `log`) exactly the seed's lines: `step 0, val loss 0.917090` every `eval_every`
steps before that step's update, and `step 0, train loss 0.9811897737392364` after every step.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from micrograd.data import Point
from micrograd.engine import Value
from micrograd.losses import cross_entropy
from micrograd.nn import Module


@dataclass
class History:
    """Per-step metrics; `val_loss[i]` is None on steps without an evaluation."""

    step: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float | None] = field(default_factory=list)


@dataclass
class SplitMetrics:
    loss: float
    accuracy: float


@dataclass
class TrainResult:
    history: History
    final: dict[str, SplitMetrics]  # "train", "val", "test" (when non-empty)


def as_logits(out: Value | list[Value]) -> list[Value]:
    """A model with one output returns a bare Value; treat it as a list of one logit."""
    return [out] if isinstance(out, Value) else out


def mean_loss(model: Module, split: Sequence[Point]) -> Value:
    """Mean cross-entropy over `split` as one graph, summed in the seed's order."""
    if not split:
        raise ValueError("mean_loss: the split is empty; give every split at least one point")
    total = None
    for x, y in split:
        loss = cross_entropy(as_logits(model([Value(v) for v in x])), y)
        total = loss if total is None else total + loss
    return total * (1.0 / len(split))


def evaluate(model: Module, split: Sequence[Point]) -> SplitMetrics:
    """Mean cross-entropy and accuracy (argmax of the logits, first index on ties)."""
    total, correct = None, 0
    for x, y in split:
        logits = as_logits(model([Value(v) for v in x]))
        loss = cross_entropy(logits, y)
        total = loss if total is None else total + loss
        scores = [v.data for v in logits]
        correct += scores.index(max(scores)) == y
    return SplitMetrics((total * (1.0 / len(split))).data, correct / len(split))


def train(
    model: Module,
    optimizer,
    train_split: Sequence[Point],
    val_split: Sequence[Point],
    test_split: Sequence[Point] = (),
    steps: int = 100,
    eval_every: int = 10,
    log: Callable[[str], None] = print,
    on_step: Callable[[int, History], None] | None = None,
    start_step: int = 0,
    history: History | None = None,
) -> TrainResult:
    """Train `model` full-batch up to step `steps`; return the history and final split metrics.

    `start_step` and `history` continue an earlier run (resume): steps start_step..steps-1 run
    and append to `history`. `on_step(step, history)` is called after every step's update.
    """
    history = History() if history is None else history
    for step in range(start_step, steps):
        val_loss = None
        if eval_every and step % eval_every == 0:
            val_loss = evaluate(model, val_split).loss
            log(f"step {step}, val loss {val_loss:.6f}")
        loss = mean_loss(model, train_split)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        log(f"step {step}, train loss {loss.data}")
        history.step.append(step)
        history.train_loss.append(loss.data)
        history.val_loss.append(val_loss)
        if on_step is not None:
            on_step(step, history)
    final = {"train": evaluate(model, train_split), "val": evaluate(model, val_split)}
    if test_split:
        final["test"] = evaluate(model, test_split)
    return TrainResult(history, final)
