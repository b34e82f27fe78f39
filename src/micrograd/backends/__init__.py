"""The trainer's engines: a registry of names and one typed interface the training loop calls.

An engine computes the mean loss of a batch, takes a training step and evaluates a split; how it
does so (a graph per step, a replayed tape, arrays, PyTorch tensors) is its own business. Each
engine is one module of this package that calls `register(...)` when imported; the package
imports every module it holds, so adding an engine is adding a file. The loop (`train.py`), the
run (`run.py`) and the settings (`config.py`) ask this registry, never a particular engine: which
names exist (`names()`), whether one can run here (`problem(name, device)`), and `build(...)`.

Registering imports nothing heavy: an engine's module imports NumPy or torch inside its
factory, when a run actually builds it.
"""

from __future__ import annotations

import importlib
import importlib.util
import math
import pkgutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol, runtime_checkable


class Evaluation(NamedTuple):
    """A split's mean loss and accuracy (argmax of the logits, first index on ties)."""

    loss: float
    accuracy: float


@runtime_checkable
class Engine(Protocol):
    """What the training loop calls, and nothing else: every engine implements all of it.

    Batches are whatever `batch` returns (lists, NumPy arrays, tensors): the loop converts the
    splits it uses at every step once and hands them back unchanged. `loss`, `train_step` and
    `evaluate` also accept plain lists. `defer=True` promises that nobody reads or sets the
    parameters' `.data` or `.grad` before the next `train_step` or `sync()`, so an engine may
    keep them as its own arrays in between.
    """

    def batch(self, X: Any, Y: Any) -> tuple[Any, Any]:
        """X and Y as this engine reads them (made once for a batch used at every step)."""

    def take(self, X: Any, Y: Any, idx: Sequence[int]) -> tuple[Any, Any]:
        """The rows `idx` of a batch made by `batch`, in that order (a mini-batch)."""

    def reload(self) -> None:
        """Read the parameters (and optimizer state an engine keeps) from the model again."""

    def loss(self, X: Any, Y: Any) -> float:
        """Mean loss over the rows of X with labels Y (forward only)."""

    def train_step(self, X: Any, Y: Any, optimizer: Any, defer: bool = False,
                   before_update: BeforeUpdate | None = None) -> float:
        """Loss and gradient, `optimizer`'s update, zeroed gradients; returns the loss.

        `before_update(loss)` runs once the gradient is in the parameters' `.grad` (and their
        `.data` is current), before the update: it may add to the gradient (a penalty) or raise,
        which skips the update and leaves the gradients zeroed (`apply_update`).
        """

    def evaluate(self, X: Any, Y: Any) -> Evaluation:
        """Mean loss and accuracy of the current parameters on one split."""

    def sync(self) -> None:
        """Write parameters the engine kept as its own arrays into the model's Values."""


Factory = Callable[..., Engine]
# what a step may do between backward and the optimizer's update (Engine.train_step)
BeforeUpdate = Callable[[float], None]
# a per-sample loss on the model's outputs and the target: losses.cross_entropy (the default of
# every engine) or losses.squared_error (regression)
Loss = Callable[[list, Any], Any]


def apply_update(optimizer: Any, loss: float, before_update: BeforeUpdate | None) -> None:
    """The update of an engine whose gradient is in the Values' `.grad`: `before_update(loss)`,
    then `optimizer.step()` and `zero_grad()`. When `before_update` raises, the gradient is
    zeroed and nothing is updated, so a refused step leaves no trace in the next one."""
    if before_update is not None:
        try:
            before_update(loss)
        except BaseException:
            optimizer.zero_grad()
            raise
    optimizer.step()
    optimizer.zero_grad()


@dataclass(frozen=True)
class Backend:
    """A registered engine: how to build it and what it needs to run.

    `build(model, nin, optimizer=None, device="cpu")` is the one signature every factory
    accepts; an engine that does the optimizer's update itself (torch) uses `optimizer`. A
    factory that also accepts `loss=` trains other per-sample losses than cross-entropy (the
    playground's regression); `build` passes it only when one is asked for.
    `needs` are modules that must be importable, `missing` the one line that says how to get
    them; `devices` where it runs, `device_problem(device)` why a device cannot be used here.
    """

    name: str
    build: Factory
    summary: str = ""
    needs: tuple[str, ...] = ()
    missing: str = ""
    devices: tuple[str, ...] = ("cpu",)
    device_problem: Callable[[str], str | None] | None = None
    rank: int = 100  # place in names(): the CLI lists engines in this order
    auto: int | None = None  # place in `auto`'s preference (None: never chosen by `auto`)


_REGISTRY: dict[str, Backend] = {}


def register(name: str, build: Factory, **info: Any) -> Backend:
    """Make engine `name` available to `micrograd train --engine` and `train(engine=name)`."""
    backend = _REGISTRY[name] = Backend(name, build, **info)
    return backend


def names() -> tuple[str, ...]:
    """Every registered engine's name, in the CLI's order."""
    return tuple(sorted(_REGISTRY, key=lambda n: (_REGISTRY[n].rank, n)))


def lookup(name: str) -> Backend:
    """The registered engine `name`; ValueError naming the choices otherwise."""
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown engine {name!r}; use one of {names()}") from None


def auto_order() -> list[str]:
    """The engines `--engine auto` may pick, most preferred first."""
    return sorted((n for n in names() if lookup(n).auto is not None),
                  key=lambda n: lookup(n).auto)


def auto() -> str:
    """What `--engine auto` means here: the most preferred engine that is installed."""
    for name in auto_order():
        if installed(name):
            return name
    raise ValueError("no engine for --engine auto is installed")


def installed(name: str) -> bool:
    """Whether every module engine `name` needs can be imported here."""
    return all(importlib.util.find_spec(m) is not None for m in lookup(name).needs)


def problem(name: str, device: str = "cpu") -> str | None:
    """Why engine `name` cannot run on `device` here, as one line (None: it can)."""
    backend = lookup(name)
    if not installed(name):
        return backend.missing or f"the {name} engine needs {', '.join(backend.needs)}"
    if device not in backend.devices:
        if backend.devices == ("cpu",):
            others = [n for n in names() if lookup(n).devices != ("cpu",)]
            return (f"--device {device} applies to --engine {' or '.join(others)} only; add "
                    f"--engine {others[0]}, or drop --device" if others else
                    f"--device {device}: no engine runs there")
        return f"--device {device!r} is not one of {', '.join(backend.devices)}"
    if backend.device_problem is not None:
        return backend.device_problem(device)
    return None


def build(name: str, model: Any, nin: int, optimizer: Any = None, device: str = "cpu",
          loss: Loss | None = None) -> Engine:
    """Engine `name` for `model` with `nin` inputs (the one build signature of every engine).

    `loss`: the per-sample loss the engine trains (None: cross-entropy, which every engine
    computes); an engine whose factory takes no `loss` refuses any other in one line.
    """
    backend = lookup(name)
    if loss is None:
        return backend.build(model, nin, optimizer=optimizer, device=device)
    try:
        return backend.build(model, nin, optimizer=optimizer, device=device, loss=loss)
    except TypeError as e:
        if "loss" not in str(e):
            raise
        raise ValueError(f"the {name} engine trains cross-entropy only, not "
                         f"{getattr(loss, '__name__', loss)}") from None


NEAR_TIE = 1e-7  # relative gap between the two largest logits below which a point is rescored


def correct_count(logits: Sequence[Sequence[float]], Y: Sequence[Any],
                  rescore: Callable[[int], Sequence[float]]) -> int:
    """Points whose largest logit (first index on ties) is their label, from an engine's logits.

    An engine's logits may differ from `model.predict`'s in the last bits (BLAS sums in another
    order, within 1e-12 relative). Where that could change the argmax (the two largest closer
    than NEAR_TIE relative, a tie, a non-finite logit) the point is scored with
    `rescore(i)`, the model's own floats, so the count is the point-by-point loop's.
    """
    correct = 0
    for i, (row, y) in enumerate(zip(logits, Y)):
        if len(row) < 2:
            correct += y == 0  # one logit is always the largest
            continue
        ordered = sorted(row)
        top, rest = ordered[-1], ordered[-2]
        if not all(map(math.isfinite, row)) or top - rest <= NEAR_TIE * (1.0 + abs(top)):
            row = list(rescore(i))
        correct += row.index(max(row)) == y
    return correct


def _register_all() -> None:
    """Import every module of this package: each registers its engine."""
    for info in pkgutil.iter_modules(__path__):
        if not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}")


_register_all()
