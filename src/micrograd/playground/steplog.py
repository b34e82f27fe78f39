"""Every training step's losses in a playground session, as `micrograd train` logs them.

The page's curve (`Session.history`) holds one point per frame, which falls wherever the clock
put it. A notebook reads this log instead: each step's training loss, the one its update was
taken from (the loss at the weights after `step` updates, `metrics.csv`'s `train_loss`), and
every `EVAL_EVERY` steps the validation loss on the same weights, computed by the same engine
before that step's update, as the command's loop computes it. The same model, points and
settings give the command's numbers, step by step.
"""

from __future__ import annotations

from micrograd.settings import SETTING

EVAL_EVERY = SETTING["eval_every"].default  # `micrograd train`'s: val loss every 10 steps
LOG_MAX = 100_000  # steps kept; beyond, every other one is dropped (a long play stays small)


class StepLog:
    """Parallel lists `step`, `train`, `val` (None between evaluations)."""

    def __init__(self) -> None:
        self.step: list[int] = []
        self.train: list[float] = []
        self.val: list[float | None] = []

    def add(self, step: int, train: float, val: float | None) -> None:
        self.step.append(step)
        self.train.append(train)
        self.val.append(val)
        if len(self.step) > LOG_MAX:
            self.step, self.train, self.val = self.step[::2], self.train[::2], self.val[::2]

    def as_dict(self) -> dict[str, list]:
        """A copy, as `{"step": [...], "train": [...], "val": [...]}`."""
        return {"step": list(self.step), "train": list(self.train), "val": list(self.val)}
