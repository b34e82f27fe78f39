"""The chapter's training loop as a function: full-batch mean cross-entropy, backward, step, log.

It prints (through `log`) exactly the chapter's lines: `step 0, val loss 0.917090` every
`eval_every` steps before that step's update, and `step 0, train loss 0.9811897737392364` after
every step.
"""

from __future__ import annotations

import gc
import importlib.util
import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from micrograd import backends
from micrograd.backends import BeforeUpdate, Engine, Loss
from micrograd.backends.eager import EagerEngine, as_logits, mean_of
from micrograd.data import Point
from micrograd.engine import Value
from micrograd.history import History, SplitMetrics, TrainResult  # re-exported: the loop's types
from micrograd.losses import cross_entropy
from micrograd.nn import Module


def mean_loss(model: Module, split: Sequence[Point]) -> Value:
    """Mean cross-entropy over `split` as one graph, summed in the chapter's order."""
    if not split:
        raise ValueError("mean_loss: the split is empty; give every split at least one point")
    losses = [cross_entropy(as_logits(model([Value(v) for v in x])), y) for x, y in split]
    return Value.sum(losses) * (1.0 / len(split))


ENGINES = backends.names()  # the registered engines' names, as the CLI lists them


def make_engine(name: str, model: Module, nin: int, optimizer: Any = None,
                device: str = "cpu", loss: Loss | None = None) -> Engine:
    """The registered engine `name` (`backends.build`): `eager` (a graph per step), `tape` (one
    recorded graph, replayed), `numpy` (vectorized), `torch` (PyTorch float64 on `device`; it
    also does `optimizer`'s AdamW update). `loss`: the per-sample loss it trains (None:
    cross-entropy; the playground's regression passes `losses.squared_error`)."""
    return backends.build(name, model, nin, optimizer, device, loss)


def evaluate(model: Module, split: Sequence[Point], engine: Engine | None = None) -> SplitMetrics:
    """Mean cross-entropy and accuracy (argmax of the logits, first index on ties).

    With an `engine`, its own `evaluate`: the loss is the engine's (as its `loss`), computed
    from the parameters it holds, and the accuracy is the point-by-point loop's. Without one,
    the float engine's numbers: with NumPy and an MLP, all points go through the model at once
    as arrays (2-256-256-3 on 1,000 points: a fraction of a second instead of some 20 s point
    by point), with the float engine's arithmetic, the same bits as point by point. Non-finite
    logits, another model, or no NumPy: point by point, the eager engine.
    """
    X, Y = [x for x, _ in split], [y for _, y in split]
    if engine is not None:
        return SplitMetrics(*engine.evaluate(X, Y))
    losses = None
    if X and importlib.util.find_spec("numpy") is not None:
        from micrograd.arrays import array_metrics

        correct, losses = array_metrics(model, X, Y)
    if losses is not None:
        return SplitMetrics(mean_of(losses), correct / len(split))
    return SplitMetrics(*EagerEngine(model).evaluate(X, Y))


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
    engine: str | Engine = "eager",
    batch_size: int | None = None,
    rng=None,
) -> TrainResult:
    """Train `model` up to step `steps`; return the history and final split metrics.

    Full-batch by default (the chapter's loop); with `batch_size`, each step draws a mini-batch with
    `rng`. `engine` picks how loss and gradients are computed (all give the chapter's log within
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
    X, Y = runner.batch([x for x, _ in train_split], [y for _, y in train_split])
    Xv, Yv = runner.batch([x for x, _ in val_split], [y for _, y in val_split])
    runner.reload()  # an engine's own arrays: from the Values of now
    try:
        _loop(runner, optimizer, (X, Y, Xv, Yv), range(start_step, steps), eval_every, log,
              on_step, history, batch_size, rng)
        # on the engine's own parameters, before they are written into the Values
        final = {"train": SplitMetrics(*runner.evaluate(X, Y)),
                 "val": SplitMetrics(*runner.evaluate(Xv, Yv))}
        if test_split:
            final["test"] = evaluate(model, test_split, runner)
    finally:
        runner.sync()  # parameters an engine kept as its own arrays
    return TrainResult(history, final)


def _loop(runner: Engine, optimizer: Any, data: tuple, steps: range, eval_every: int,
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
            loss = train_step(runner, optimizer, X, Y, batch_size, rng, defer)
            log(f"step {step}, train loss {loss}")
            history.step.append(step)
            history.train_loss.append(loss)
            history.val_loss.append(val_loss)
            if on_step is not None:
                on_step(step, history)
            gc.collect(0)


def train_step(runner: Engine, optimizer: Any, X: Any, Y: Any, batch_size: int | None = None,
               rng: Any = None, defer: bool = False,
               before_update: BeforeUpdate | None = None) -> float:
    """One training step, the same for `micrograd train` and the playground: a mini-batch of
    `batch_size` rows drawn with `rng` (None, 0 or at least the batch: all of X, Y), its loss and
    gradient, `before_update(loss)` (the playground's penalty and checks), the optimizer's update
    and zeroed gradients (`Engine.train_step`). Returns the loss before the update.

    One function, so that a session of the playground and a CLI run with the same seed and
    settings draw the same mini-batches and take the same steps on every engine.
    """
    if batch_size and batch_size < len(Y):
        X, Y = runner.take(X, Y, sample_batch(rng, len(Y), batch_size))
    if before_update is None:  # the CLI's steps: the four arguments every engine takes
        return runner.train_step(X, Y, optimizer, defer)
    return runner.train_step(X, Y, optimizer, defer, before_update)


def first_bad_weight(params: Sequence[Value]) -> int | None:
    """The index of the first parameter that is NaN or infinite, or None: after an update, how
    both the CLI's guard and the playground tell that training diverged though the loss (computed
    before the update) was finite."""
    return next((i for i, p in enumerate(params) if not math.isfinite(p.data)), None)


def rows(runner: Engine, X: Any, Y: Any, idx: list[int]) -> tuple[Any, Any]:
    """The mini-batch `idx` of X and Y, taken the way the engine holds its batches."""
    return runner.take(X, Y, idx)


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector, restoring its previous state on exit.

    Our graphs hold no reference cycles, so reference counting frees each step's graph at once;
    the cyclic collector would only rescan live nodes (about 15% of the chapter's run's time). A
    young-generation pass after each step still collects cycles made by user callbacks.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
