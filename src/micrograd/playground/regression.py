"""The playground's regression problem: two datasets of real targets in [-1, 1] on the plane and
the per-sample squared error the network trains on (the mean over a batch is PyTorch's
`MSELoss()`; the graph of a picked point ends in the same (out − y)²).

- `plane`: a tilted plane, y = (x1 + x2) / 4 over [-2, 2)²: one linear neuron can fit it.
- `gauss`: four Gaussian bumps at (±1, ±1), positive where x1 and x2 have the same sign and
  negative elsewhere (a smooth xor), width 0.5: it needs hidden neurons.

Positions are uniform in [-2, 2)², drawn with the playground's RNG (standard library only); `noise`
adds Gaussian noise of that standard deviation to each target, which is then clipped to [-1, 1].
"""

from __future__ import annotations

import math
from typing import Any

from micrograd.losses import squared_error  # the loss regression trains (engines take it)
from micrograd.settings import DATASETS

__all__ = ["REGRESSION_DATASETS", "clip", "gauss_value", "plane_value", "squared_error"]

BUMPS = ((1.0, 1.0, 1.0), (-1.0, -1.0, 1.0), (1.0, -1.0, -1.0), (-1.0, 1.0, -1.0))  # x, y, sign
WIDTH = 0.5
Sample = tuple[list[float], float]


def plane_value(x: float, y: float) -> float:
    return (x + y) / 4


def gauss_value(x: float, y: float) -> float:
    total = 0.0
    for cx, cy, sign in BUMPS:
        total += sign * math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * WIDTH * WIDTH))
    return total


def _make(value: Any) -> Any:
    def generate(rng: Any, n: int, noise: float = 0.0) -> list[Sample]:
        out = []
        for _ in range(n):
            x, y = rng.uniform(-2.0, 2.0), rng.uniform(-2.0, 2.0)
            v = value(x, y) + (noise * rng.gauss() if noise > 0 else 0.0)
            out.append(([x, y], clip(v)))
        return out
    return generate


def clip(v: float) -> float:
    return min(max(v, -1.0), 1.0)


_VALUES = {"plane": plane_value, "gauss": gauss_value}
# the settings' table lists the regression datasets; each is generated from its function here
REGRESSION_DATASETS = {d.name: _make(_VALUES[d.name]) for d in DATASETS
                       if d.problem == "regression"}


