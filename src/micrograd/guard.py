"""Keeping a run safe: checkpoints every K steps, a clean stop on Ctrl-C, SIGTERM or SIGHUP
(and when its stdout fails, through `StopSignals.request`), and a clear stop when the numbers go
bad (NaN, infinity, overflow), without ever saving a bad state.

`StopSignals` holds SIGINT, SIGTERM and SIGHUP for the whole of a CLI run. During setup (reading
the data, building the model and the engine, up to the end of the first step) a signal raises
`Interrupted` at once: nothing has been written yet. From the first finished step on, the first
signal only sets a flag, so the step (or the file) in progress finishes; a second raises
KeyboardInterrupt at once.

`RunGuard.on_step` is the training loop's `on_step` callback: after each step's update it checks
the step's losses and the weights, writes a checkpoint when one is due, and raises `RunStopped`
when the run must end early. The caller writes the metrics and plots so far and exits with
`RunStopped.exit_code`: 3 for numerical trouble, 128 + the signal's number for a signal, 141
(a closed pipe) or 4 (a full disk) when stdout failed.
"""

from __future__ import annotations

import math
import os
import signal
import threading
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from micrograd.checkpoint import FILENAME, save_checkpoint
from micrograd.data import Point
from micrograd.errors import EXIT_NUMERIC, EXIT_WRITE, signal_exit_code
from micrograd.history import History
from micrograd.train import first_bad_weight

# Ctrl-C, kill, and a terminal closed under the run (SIGHUP does not exist on Windows)
SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP")
                if hasattr(signal, name))


class RunStopped(Exception):
    """Training ended early. `interrupted`: by a signal (else by numerical trouble)."""

    def __init__(self, message: str, exit_code: int, interrupted: bool, anomaly: str = ""):
        super().__init__(message)
        self.message, self.exit_code = message, exit_code
        self.interrupted, self.anomaly = interrupted, anomaly


# the messages of the engine's domain errors (micrograd.engine.checked_exp, checked_log,
# checked_pow) and of the math module's; any other ValueError is a bug, not numerical trouble
_DOMAIN_MESSAGES = ("exp: ", "log: ", "pow: ", "sqrt: ", "math domain error")


def is_numerical_error(exc: BaseException) -> bool:
    """Did the engine raise `exc` because the numbers left its domain (not because of a bug)?

    Overflow, division by zero and NumPy's FloatingPointError are ArithmeticErrors; a ValueError
    counts only when it is the engine's domain error (`log: input must be > 0, ...`).
    """
    if isinstance(exc, ArithmeticError):
        return True
    return type(exc) is ValueError and str(exc).startswith(_DOMAIN_MESSAGES)


class Interrupted(Exception):
    """A signal during setup: the run stops at once, before any file is written."""

    def __init__(self, signum: int):
        self.signum, self.exit_code = signum, signal_exit_code(signum)
        self.name = signal.Signals(signum).name
        super().__init__(f"interrupted by {self.name}")


class StopSignals:
    """SIGINT, SIGTERM and SIGHUP for the length of a run (a context manager; main thread only).

    Until `defer()` (setup), a signal raises `Interrupted` at once. After it, the first signal
    only sets `signum`, which the run checks at safe points; a second raises KeyboardInterrupt.
    """

    def __init__(self) -> None:
        self.signum: int | None = None
        self.reason: tuple[str, int] | None = None  # a stop asked for by other means (request)
        self.deferred = False
        self.active = False
        self._previous: dict[int, Any] = {}

    def request(self, reason: str, exit_code: int) -> None:
        """Ask the run to stop at its next safe point, as a first signal would, for a reason
        that is not a signal (its stdout failed): the step finishes, the run is saved."""
        if self.reason is None:
            self.reason = (reason, exit_code)

    @property
    def stop(self) -> tuple[str, int] | None:
        """(why, exit code) when the run has been asked to stop, else None."""
        if self.signum is not None:
            name = signal.Signals(self.signum).name
            return f"interrupted by {name}", signal_exit_code(self.signum)
        return self.reason

    def __enter__(self) -> StopSignals:
        self.active = True
        if threading.current_thread() is threading.main_thread():
            for sig in SIGNALS:
                self._previous[sig] = signal.signal(sig, self._on_signal)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()
        self.active = False

    def defer(self) -> None:
        """From now on the first signal only sets `signum`: the work in progress finishes."""
        self.deferred = True

    def _on_signal(self, signum: int, frame: object) -> None:
        if self.signum is not None:
            raise KeyboardInterrupt  # a second Ctrl-C: stop now
        self.signum = signum
        if not self.deferred:
            raise Interrupted(signum)


@dataclass
class GuardedRun:
    """What a `RunGuard` keeps safe, in one object: the run's folder (`out`), model, optimizer
    and RNG (what a checkpoint holds), its `config` and data fingerprint (written with it), the
    splits (to name the likely cause of bad numbers), the steps to train and `save_every`, the
    step it starts at and the step of the checkpoint already on disk, whether to look for the
    anomaly, the history so far, a callback after each step and the run's StopSignals."""

    out: str
    model: Any
    optimizer: Any
    rng: Any
    config: dict[str, Any]
    data_sha256: str
    train_split: Sequence[Point]
    val_split: Sequence[Point]
    steps: int
    save_every: int = 0  # also a checkpoint every K steps (0: only at the end and on a stop)
    start_step: int = 0
    saved_step: int | None = None  # the step of the checkpoint on disk, if any
    detect_anomaly: bool = False
    history: History | None = None
    after: Callable[[int, History], None] | None = None
    signals: StopSignals | None = None  # None: the guard holds its own


class RunGuard:
    """The `on_step` of a CLI run; a context manager for the training loop.

    Built from a `GuardedRun`. Its `signals` are the run's StopSignals (entered by the guard
    itself when it is not active yet).
    Until the first step is done a signal stops the run at once (`Interrupted`); from then on the
    first signal only sets a flag, so the current step finishes; then a checkpoint is written and
    `RunStopped` is raised. A second signal raises KeyboardInterrupt at once (a forced stop, which
    never corrupts the checkpoint: it is replaced atomically).
    """

    def __init__(self, run: GuardedRun):
        self.context = run  # what it was built from
        self.out, self.model, self.optimizer, self.rng = run.out, run.model, run.optimizer, run.rng
        self.params = run.model.parameters()
        self.config, self.data_sha256 = run.config, run.data_sha256
        self.train_split, self.val_split = run.train_split, run.val_split
        self.steps, self.save_every = run.steps, run.save_every
        self.done = run.start_step  # steps completed: the step in progress is `done`
        self.saved_step = run.saved_step  # the step of the checkpoint on disk, if any
        self.detect_anomaly = run.detect_anomaly
        self.history = History() if run.history is None else run.history
        self.after = run.after
        self.signals = StopSignals() if run.signals is None else run.signals
        self._own_signals = False
        self._before: list[float] | None = None  # weights at the start of the step in progress
        self._snapshot()

    @property
    def path(self) -> str:
        return os.path.join(self.out, FILENAME)

    # ---- signals ----

    @property
    def signum(self) -> int | None:
        return self.signals.signum

    def __enter__(self) -> RunGuard:
        self._own_signals = not self.signals.active
        if self._own_signals:
            self.signals.__enter__()
        self._warnings = warnings.catch_warnings()
        self._warnings.__enter__()
        # NumPy's "overflow encountered" warnings: the guard reports bad numbers in one line
        warnings.simplefilter("ignore", RuntimeWarning)
        return self

    def __exit__(self, *exc: object) -> None:
        self._warnings.__exit__(*exc)
        if self._own_signals:
            self.signals.__exit__(*exc)

    # ---- the training loop's callback ----

    def on_step(self, step: int, history: History) -> None:
        """After step `step`'s update: check, checkpoint if due, stop if asked to."""
        self.signals.defer()  # a step is done: from now on a signal lets the step finish
        self.done = step + 1
        if self.after is not None:
            self.after(step, history)
        self._check(step, history)
        self._snapshot()
        stop = self.signals.stop
        if stop is not None:
            self.save()
            raise RunStopped(f"{stop[0]} after step {step}", stop[1], True)
        if self.save_every and self.done % self.save_every == 0 and self.done < self.steps:
            self.save()  # the last step's checkpoint is written after the final files

    def save(self) -> int:
        """Write checkpoint.json for the steps done so far; return its size in bytes."""
        try:
            size = save_checkpoint(self.path, self.model, self.optimizer, self.rng, self.done,
                                   self.history, self.config, self.data_sha256)
        except ValueError as e:  # non-finite optimizer state: never saved
            raise self._numeric(self.done - 1, str(e)) from None
        except OSError as e:  # a full disk, a read-only file system: the old checkpoint stays
            kept = (f"the checkpoint of step {self.saved_step} is kept in {self.path}"
                    if self.saved_step is not None else "no checkpoint of this run exists")
            raise RunStopped(f"cannot write {self.path} at step {self.done}: "
                             f"{e.strerror or e}; {kept}; free some space and resume",
                             EXIT_WRITE, False) from None
        self.saved_step = self.done
        return size

    def numerical_error(self, exc: BaseException) -> RunStopped:
        """The RunStopped for an exception the engine raised in the step in progress."""
        return self._numeric(self.done, str(exc), split="either")

    # ---- checks ----

    def _check(self, step: int, history: History) -> None:
        self.history = history
        train_loss, val_loss = history.train_loss[-1], history.val_loss[-1]
        if not math.isfinite(train_loss):
            raise self._numeric(step, f"train loss is {train_loss}")
        if val_loss is not None and not math.isfinite(val_loss):
            raise self._numeric(step, f"val loss is {val_loss}", split="val")
        i = first_bad_weight(self.params)
        if i is not None:
            raise self._numeric(step, f"the update made weight #{i} {self.params[i].data}")

    def _numeric(self, step: int, what: str, split: str = "train") -> RunStopped:
        if step == 0:  # no update has happened yet: the data (or init) is the cause
            scale = max((abs(v) for x, _ in self.train_split for v in x), default=0.0)
            cause = (f"the data, not the learning rate, is the likely cause: the largest feature "
                     f"is {scale:.3g}; scale the features to about -10..10")
        else:
            lr, wd = self.config.get("lr"), self.config.get("weight_decay")
            if not isinstance(lr, (int, float)):
                cause = "the learning rate is probably too high"
            elif isinstance(wd, (int, float)) and lr * wd >= 1:  # AdamW: p ← p (1 - lr λ) - ...
                cause = (f"--lr {lr:g} times --weight-decay {wd:g} is {lr * wd:g} >= 1, so every "
                         f"step multiplies the weights by {1 - lr * wd:g}; keep it well below 1")
            else:
                cause = f"the learning rate is probably too high: try --lr {lr / 10:g}"
        if self.saved_step is not None:
            kept = f"the last good checkpoint (step {self.saved_step}) is kept in {self.path}"
        else:
            kept = "no checkpoint was saved (use --save-every K to keep one)"
        anomaly = ""
        if self.detect_anomaly and self._before is not None:
            from micrograd.anomaly import find_anomaly

            for p, w in zip(self.params, self._before):  # back to the step's start
                p.data = w
            splits = {"train": self.train_split, "val": self.val_split}
            names = ["val", "train"] if split in ("val", "either") else ["train"]
            for name in names:  # an exception may come from the val evaluation or the step
                found, text = find_anomaly(self.model, splits[name], name)
                if found or name == names[-1]:
                    anomaly = f"step {step}, {text}"
                    break
        hint = "" if self.detect_anomaly else "; --detect-anomaly names the operation"
        return RunStopped(f"step {step}: {what}; {cause}; {kept}{hint}", EXIT_NUMERIC, False,
                          anomaly)

    def _snapshot(self) -> None:
        if self.detect_anomaly:
            self._before = [p.data for p in self.params]

