"""The seed's training loop as a function: full-batch mean cross-entropy, backward, step, log.

It prints (through `log`) exactly the seed's lines: `step 0, val loss 0.917090` every `eval_every`
steps before that step's update, and `step 0, train loss 0.9811897737392364` after every step.
"""

from __future__ import annotations

import gc
import importlib.util
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from micrograd.data import Point
from micrograd.engine import Value
from micrograd.losses import cross_entropy
from micrograd.nn import Module
from micrograd.settings import ENGINES as SETTINGS_ENGINES


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
    losses = [cross_entropy(as_logits(model([Value(v) for v in x])), y) for x, y in split]
    return Value.sum(losses) * (1.0 / len(split))


ENGINES = SETTINGS_ENGINES  # the settings' table: --engine's choices and a checkpoint's


class EagerEngine:
    """Builds each sample's graph on every call and backpropagates it: the reference engine.

    One sample's graph at a time keeps memory constant and time linear in the number of points.
    It gives the same bits as `mean_loss(...).backward()` on the whole batch's graph: the losses
    are summed left to right, and the samples are backpropagated last to first, each seeded with
    d mean / d loss_i, which is the order of that graph's reversed topological sort.
    """

    def __init__(self, model: Module):
        self.model = model

    def _sample_loss(self, x: Sequence[float], y: int) -> Value:
        return cross_entropy(as_logits(self.model([Value(v) for v in x])), y)

    def loss(self, X: Sequence[Sequence[float]], Y: Sequence[int]) -> float:
        return _mean([self._sample_loss(x, y).data for x, y in zip(X, Y)])

    def loss_and_backward(self, X: Sequence[Sequence[float]], Y: Sequence[int]) -> float:
        n = len(Y)
        seed = 1.0 * ((1.0 / n) * 1.0)  # d mean/d loss_i through the `* (1/n)` and `sum` nodes
        losses = [0.0] * n
        for i in range(n - 1, -1, -1):
            loss = self._sample_loss(X[i], Y[i])
            losses[i] = loss.data
            loss.backward(seed)
        return _mean(losses)


def _mean(losses: Sequence[float]) -> float:
    """The floats of `Value.sum(losses) * (1.0 / n)`: added left to right, then scaled."""
    total = losses[0]
    for v in losses[1:]:
        total = total + v
    return total * (1.0 / len(losses))


def make_engine(name: str, model: Module, nin: int, optimizer: Any = None,
                device: str = "cpu"):
    """`eager` (a graph per step), `tape` (one recorded graph, replayed), `numpy` (vectorized),
    `torch` (PyTorch float64 on `device`; it also does `optimizer`'s AdamW update)."""
    if name == "eager":
        return EagerEngine(model)
    if name not in ENGINES:
        raise ValueError(f"unknown engine {name!r}; use one of {ENGINES}")
    if name == "torch":
        if optimizer is None:
            raise ValueError("make_engine: the torch engine needs the run's AdamW optimizer")
        from micrograd.torch_engine import TorchEngine

        return TorchEngine(model, nin, optimizer, device)
    from micrograd.tape import BatchTape

    return BatchTape(model, nin, backend="python" if name == "tape" else "numpy")


def evaluate(model: Module, split: Sequence[Point], engine=None) -> SplitMetrics:
    """Mean cross-entropy and accuracy (argmax of the logits, first index on ties).

    With NumPy and an MLP, all points go through the model at once as arrays (2-256-256-3 on
    1,000 points: a fraction of a second instead of some 20 s point by point), with the float
    engine's arithmetic: the same argmax and (without an `engine`) the same loss, bit for bit,
    as point by point. Non-finite logits, another model, or no NumPy: point by point; the
    loss is then the engine's (default eager).
    """
    X, Y = [x for x, _ in split], [y for _, y in split]
    correct, losses = None, None
    if X and importlib.util.find_spec("numpy") is not None:
        from micrograd.arrays import array_metrics

        correct, losses = array_metrics(model, X, Y, losses=engine is None)
    if correct is None:
        correct = 0
        for x, y in split:
            scores = model.predict(x)
            correct += scores.index(max(scores)) == y
    if losses is not None:
        return SplitMetrics(_mean(losses), correct / len(split))
    engine = EagerEngine(model) if engine is None else engine
    return SplitMetrics(engine.loss(X, Y), correct / len(split))


def sample_batch(rng, n: int, size: int) -> list[int]:
    """`size` distinct indices of range(n), drawn with the run's RNG (partial Fisher-Yates)."""
    idx = list(range(n))
    for i in range(size):
        j = i + rng.random_u32() % (n - i) if hasattr(rng, "random_u32") else \
            i + int(rng.random() * (n - i))
        idx[i], idx[j] = idx[j], idx[i]
    return idx[:size]


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
    engine: Any = "eager",
    batch_size: int | None = None,
    rng=None,
) -> TrainResult:
    """Train `model` up to step `steps`; return the history and final split metrics.

    Full-batch by default (the seed's loop); with `batch_size`, each step draws a mini-batch with
    `rng`. `engine` picks how loss and gradients are computed (all give the seed's log within
    1e-12; eager and tape bit for bit): a name of ENGINES, or an engine `make_engine` built.
    `start_step` and `history` continue an earlier run (resume): steps start_step..steps-1 run
    and append to `history`. `on_step(step, history)` is called after every step's update.
    Without `on_step`, the numpy engine may keep the parameters as one array from step to step
    and write them into the model's `Value`s when training ends (also on an exception).
    """
    if batch_size is not None and rng is None:
        raise ValueError("train: a batch_size needs the run's rng to draw mini-batches")
    history = History() if history is None else history
    nin = len(train_split[0][0])
    runner = make_engine(engine, model, nin, optimizer) if isinstance(engine, str) else engine
    X, Y = [x for x, _ in train_split], [y for _, y in train_split]
    Xv, Yv = [x for x, _ in val_split], [y for _, y in val_split]
    if hasattr(runner, "batch"):  # the numpy tape's arrays, made once instead of every step
        X, Y = runner.batch(X, Y)
        Xv, Yv = runner.batch(Xv, Yv)
    getattr(runner, "reload", lambda: None)()  # an engine's own arrays: from the Values of now
    try:
        _loop(runner, optimizer, (X, Y, Xv, Yv), range(start_step, steps), eval_every, log,
              on_step, history, batch_size, rng)
    finally:
        getattr(runner, "sync", lambda: None)()  # parameters an engine kept as its own arrays
    final = {"train": evaluate(model, train_split, runner),
             "val": evaluate(model, val_split, runner)}
    if test_split:
        final["test"] = evaluate(model, test_split, runner)
    return TrainResult(history, final)


def _loop(runner: Any, optimizer: Any, data: tuple, steps: range, eval_every: int,
          log: Callable[[str], None], on_step: Callable[[int, History], None] | None,
          history: History, batch_size: int | None, rng: Any) -> None:
    """The steps of `train`: evaluate, step, log, call back."""
    X, Y, Xv, Yv = data
    # without on_step no code outside this loop sees the model until train() returns: an engine
    # may keep the parameters as its own arrays until then (numpy's fused step, torch's tensors;
    # `log` gets strings only)
    defer = on_step is None
    with gc_paused():
        for step in steps:
            val_loss = None
            if eval_every and step % eval_every == 0:
                val_loss = runner.loss(Xv, Yv)
                log(f"step {step}, val loss {val_loss:.6f}")
            if batch_size is None or batch_size >= len(Y):
                loss = train_step(runner, optimizer, X, Y, defer)
            else:
                idx = sample_batch(rng, len(Y), batch_size)
                loss = train_step(runner, optimizer, *rows(runner, X, Y, idx), defer)
            log(f"step {step}, train loss {loss}")
            history.step.append(step)
            history.train_loss.append(loss)
            history.val_loss.append(val_loss)
            if on_step is not None:
                on_step(step, history)
            gc.collect(0)


def train_step(runner: Any, optimizer: Any, X: Any, Y: Any, defer: bool = False) -> float:
    """Loss and gradient, the optimizer's step, zeroed gradients; an engine with its own
    `train_step` (the numpy tape, torch: AdamW on their own arrays) does all three at once.
    `defer`: nobody looks at the parameters before the next step or the engine's `sync()`."""
    fused = getattr(runner, "train_step", None)
    if fused is not None:
        return fused(X, Y, optimizer, defer)
    loss = runner.loss_and_backward(X, Y)
    optimizer.step()
    optimizer.zero_grad()
    return loss


def rows(runner: Any, X: Any, Y: Any, idx: list[int]) -> tuple[Any, Any]:
    """The mini-batch `idx` of X and Y, taken the way the engine holds its batches."""
    if hasattr(runner, "take"):
        return runner.take(X, Y, idx)
    return [X[i] for i in idx], [Y[i] for i in idx]


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector, restoring its previous state on exit.

    Our graphs hold no reference cycles, so reference counting frees each step's graph at once;
    the cyclic collector would only rescan live nodes (about 15% of the seed run's time). A
    young-generation pass after each step still collects cycles made by user callbacks.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
