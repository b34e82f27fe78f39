"""A training run's records: the metrics of every step and of the final evaluation.

Plain dataclasses on the standard library, kept apart from the loop that fills them, so the
modules that only read or store them (checkpoints, the guard, the pictures) depend on these
records and not on the training loop.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["History", "SplitMetrics", "TrainResult"]


@dataclass
class History:
    """Per-step metrics; `val_loss[i]` is None on steps without an evaluation."""

    step: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float | None] = field(default_factory=list)


@dataclass
class SplitMetrics:
    """A split's mean loss and accuracy at the end of training."""

    loss: float
    accuracy: float


@dataclass
class TrainResult:
    """What `train.train` returns: the steps' history and the final metrics of each split."""

    history: History
    final: dict[str, SplitMetrics]  # "train", "val", "test" (when non-empty)
