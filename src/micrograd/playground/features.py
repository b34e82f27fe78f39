"""The network's inputs: which functions of the point (x1, x2) it sees, as TensorFlow Playground
offers them (x1, x2, x1², x2², x1·x2, sin x1, sin x2).

A feature is computed from the point in plain Python (`expand`), once per point and once per grid
cell, on both of the plane's paths (NumPy or not): the network and the graph see the same floats
whichever path draws the plane. The graph of the picked point starts at these values, named by
their `LABELS`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from micrograd.settings import FEATURES as TABLE
from micrograd.settings import SETTING

FUNCTIONS: dict[str, Callable[[float, float], float]] = {
    "x1": lambda a, b: a,
    "x2": lambda a, b: b,
    "x1_sq": lambda a, b: a * a,
    "x2_sq": lambda a, b: b * b,
    "x1_x2": lambda a, b: a * b,
    "sin_x1": lambda a, b: math.sin(a),
    "sin_x2": lambda a, b: math.sin(b),
}
# the settings' table names the features, their labels and their order (the model's input order)
FEATURES = {name: FUNCTIONS[name] for name, _ in TABLE}
LABELS = dict(TABLE)
DEFAULT = tuple(SETTING["features"].default)


def canonical(names: Sequence[str]) -> list[str]:
    """The chosen features in FEATURES' order (the model's input order), whatever order came."""
    chosen = set(names)
    return [name for name in FEATURES if name in chosen]


def expand(rows: Sequence[Sequence[float]], names: Sequence[str]) -> list[list[float]]:
    """Each point (x1, x2) as the model's input row: one value per feature of `names`."""
    if list(names) == ["x1", "x2"]:
        return [[r[0], r[1]] for r in rows]  # the default: no call per value
    fns = [FEATURES[name] for name in names]
    return [[f(r[0], r[1]) for f in fns] for r in rows]
