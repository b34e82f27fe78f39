"""The playground's array math, twice: on NumPy arrays when NumPy is there, on lists without it.

Every frame runs the model forward over a GRID × GRID grid of the plane (class probabilities,
regression values, hidden-neuron tiles, a hovered neuron's picture) and over the points (losses,
accuracies). The served playground does it with NumPy; a static export runs the same session in
Pyodide, which has no NumPy. Both paths apply the engine's own rules (`w·x+b` added left to
right as `engine.LINEAR` adds it, the activations of `nn.activate`) in the same order, so they
agree to the last bit except where NumPy's and `math`'s `tanh`/`exp` round differently (one unit
in the last place: a byte of a picture may then differ by one).

`plane_math()` picks the path. Both classes have the same methods; inputs come as feature rows
(`list[list[float]]`, computed in plain Python on both paths) and weights as nested lists.
"""

from __future__ import annotations

import base64
import contextlib
import importlib
import math
from typing import Any

from micrograd.engine import LINEAR
from micrograd.nn import activate
from micrograd.ops import FLOAT_MATH, Sym, namespace_for, text_rule
from micrograd.settings import ACTIVATION

Layers = list[tuple[list[list[float]], list[float], str]]  # per layer: weights, biases, activation


def numpy_or_none() -> Any:
    """The numpy module, or None where it is missing (Pyodide) or blocked."""
    try:
        return importlib.import_module("numpy")
    except ImportError:
        return None


def plane_math(use_numpy: bool | None = None) -> PurePlane | NumpyPlane:
    """NumPy's path when NumPy imports (or `use_numpy` says so), else the pure-Python one."""
    if use_numpy is None:
        use_numpy = numpy_or_none() is not None
    return NumpyPlane() if use_numpy else PurePlane()


def layer_lists(model: Any) -> Layers:
    """The MLP's weights and biases as plain floats, layer by layer."""
    return [([[w.data for w in n.w] for n in layer.neurons], [n.b.data for n in layer.neurons],
             layer.neurons[0].activation) for layer in model.layers]


def grid_rows(extent: tuple[float, float, float, float], grid: int) -> list[list[float]]:
    """Cell centres, row-major; row 0 is the top of the plane (largest y), as a canvas draws it."""
    x0, x1, y0, y1 = extent
    xs = [x0 + (i + 0.5) * (x1 - x0) / grid for i in range(grid)]
    ys = [y1 - (i + 0.5) * (y1 - y0) / grid for i in range(grid)]
    return [[x, y] for y in ys for x in xs]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def to_byte(v: float) -> int:
    """A float to 0..255 as NumPy's clip(rint(v)) then uint8 does (NaN is mapped before)."""
    if v >= 255.0:
        return 255
    if v <= 0.0:
        return 0
    return round(v)  # half to even, as rint


def unit_bytes_list(values: list[float]) -> list[int]:
    """Values of [-1, 1] (clipped; NaN counts as 0) as bytes: -1 is 0, +1 is 255."""
    return [round((min(max(v, -1.0), 1.0) + 1) * 127.5) if v == v else 128 for v in values]


ROUND_BELOW = 1e12  # past this a float has no fourth decimal left to round (and v·1e4 may overflow)


def _round4(v: float) -> float:
    if not abs(v) < ROUND_BELOW:
        return v
    return round(v * 10000.0) / 10000.0  # NumPy's round(4): scale, round half to even, unscale


class PurePlane:
    """Lists of floats: an activation is one list per neuron (a column), one float per row."""

    numpy = False

    def errstate(self) -> contextlib.AbstractContextManager:
        return contextlib.nullcontext()

    def inputs(self, rows: list[list[float]], nin: int) -> list[list[float]]:
        return [[r[k] for r in rows] for k in range(nin)]

    def targets(self, values: list[float]) -> list[float]:
        return values

    def forward(self, layers: Layers, cols: list[list[float]]) -> list[list[list[float]]]:
        """Every layer's output columns for the input columns (the last is the output layer)."""
        out, h = [], cols
        for w, b, act in layers:
            neuron = neuron_code(len(h), act)
            h = [neuron(bn, *wn, *h) for wn, bn in zip(w, b)]
            out.append(h)
        return out

    def column(self, cols: list[list[float]], j: int) -> list[float]:
        return cols[j]

    def softmax(self, logits: list[list[float]]) -> list[list[float]]:
        """Class probabilities, one column per class (shifted by each row's max, as NumPy's)."""
        if not all(math.isfinite(sum(col)) for col in logits):  # diverged: row by row, slowly
            return [list(col) for col in zip(*(_softmax(z) for z in zip(*logits)))]
        exp, tops = math.exp, list(map(max, *logits)) if len(logits) > 1 else logits[0]
        e = [[exp(v - t) for v, t in zip(col, tops)] for col in logits]
        total = e[0]
        for col in e[1:]:
            total = [s + v for s, v in zip(total, col)]  # left to right, as _sum
        return [[v / s for v, s in zip(col, total)] for col in e]

    def prob_bytes(self, probs: list[list[float]], classes: int) -> bytes:
        """Probabilities row by row, class by class, as bytes (× 255; NaN as 1/classes)."""
        return bytes(to_byte((1.0 / classes if p != p else p) * 255)
                     for row in zip(*probs) for p in row)

    def column_bytes(self, col: list[float], act: str) -> bytes:
        """One neuron over the grid as bytes, scaled by `scale_rule` (as its tile)."""
        return bytes(unit_bytes_list(scale_rule(act, col)))

    def tile_bytes(self, cols: list[list[float]], act: str, grid: int, stride: int) -> bytes:
        """Each neuron's column sampled every `stride` rows and columns of the grid, scaled to
        [-1, 1] by `scale_rule`, as one T×T byte image per neuron."""
        out = bytearray()
        keep = range(0, grid, stride)
        for col in cols:
            tile = [col[r * grid + c] for r in keep for c in keep]
            out.extend(unit_bytes_list(scale_rule(act, tile)))
        return bytes(out)

    def loss_acc(self, layers: Layers, X: Any, Y: list[float],
                 regression: bool = False) -> tuple[float | None, float | None]:
        """Mean cross-entropy and accuracy (argmax, first on ties), or for regression the mean
        squared error and None; (None, None) for an empty split."""
        if not Y:
            return None, None
        out = self.forward(layers, X)[-1]
        if regression:
            return _finite(_mean([(o - y) * (o - y) for o, y in zip(out[0], Y)])), None
        losses, correct = [], 0
        for z, y in zip(zip(*out), Y):
            top = _nanmax(z)
            s = [v - top for v in z]
            lse = math.log(_sum(math.exp(v) for v in s))
            losses.append(-(s[int(y)] - lse))
            correct += _argmax(s) == int(y)
        return _finite(_mean(losses)), correct / len(Y)

    def weights(self, layers: Layers) -> list[list[float]]:
        """Per layer [w.., b] of every neuron, 4 decimals; all zeros if any is not finite."""
        flat = [[v for wn, bn in zip(w, b) for v in (*wn, bn)] for w, b, _ in layers]
        if not all(math.isfinite(v) for layer in flat for v in layer):
            return [[0.0] * len(layer) for layer in flat]
        return [[_round4(v) for v in layer] for layer in flat]


class NumpyPlane:
    """NumPy arrays: an activation is an (N, neurons) array."""

    numpy = True

    def __init__(self) -> None:
        import numpy as np

        self.np = np

    def errstate(self) -> contextlib.AbstractContextManager:
        return self.np.errstate(all="ignore")  # a diverging run shows up as non-finite numbers

    def inputs(self, rows: list[list[float]], nin: int) -> Any:
        return self.np.array(rows, dtype=self.np.float64).reshape(-1, nin)

    def targets(self, values: list[float]) -> Any:
        return self.np.array(values, dtype=self.np.float64)

    def forward(self, layers: Layers, X: Any) -> list:
        from micrograd.ops import numpy_math
        from micrograd.plot import np_linear

        np, out, h = self.np, [], X
        for w, b, act in layers:
            z = np_linear(np.array(w, dtype=np.float64).reshape(len(b), -1), np.array(b), h)
            h = activate(act, z, numpy_math())  # the engine's rules, on arrays
            out.append(h)
        return out

    def column(self, a: Any, j: int) -> Any:
        return a[:, j]

    def softmax(self, z: Any) -> Any:
        np = self.np
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def prob_bytes(self, probs: Any, classes: int) -> bytes:
        return self._bytes(self.np.nan_to_num(probs, nan=1.0 / classes) * 255)

    def column_bytes(self, col: Any, act: str) -> bytes:
        return self._unit_bytes(self._scaled(col[None, :], act))

    def tile_bytes(self, a: Any, act: str, grid: int, stride: int) -> bytes:
        np = self.np
        a = np.moveaxis(a.reshape(grid, grid, -1)[::stride, ::stride], -1, 0)
        return self._unit_bytes(self._scaled(a.reshape(len(a), -1), act))

    def _scaled(self, a: Any, act: str) -> Any:
        """`scale_rule` on each row of (neurons, values)."""
        np = self.np
        lo, hi = _bounds(act)
        if lo is None or hi is None:
            scale = np.abs(a).max(axis=1) if a.size else np.zeros(len(a))
            return a / np.where(scale > 0, scale, 1.0)[:, None]
        return a if (lo, hi) == (-1.0, 1.0) else 2 * (a - lo) / (hi - lo) - 1

    def _unit_bytes(self, a: Any) -> bytes:
        np = self.np
        return self._bytes((np.nan_to_num(np.clip(a, -1, 1), nan=0.0) + 1) * 127.5)

    def loss_acc(self, layers: Layers, X: Any, Y: Any,
                 regression: bool = False) -> tuple[float | None, float | None]:
        np = self.np
        if len(Y) == 0:
            return None, None
        z = self.forward(layers, X)[-1]
        if regression:
            d = z[:, 0] - Y
            return _finite(float((d * d).mean())), None
        labels = Y.astype(np.intp)
        z = z - z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        loss = float(-logp[np.arange(len(labels)), labels].mean())
        return _finite(loss), float((z.argmax(axis=1) == labels).mean())

    def weights(self, layers: Layers) -> list[list[float]]:
        np = self.np
        mats = [np.column_stack([np.array(w).reshape(len(b), -1), b]) for w, b, _ in layers]
        if not all(np.isfinite(m).all() for m in mats):
            return [[0.0] * m.size for m in mats]
        out = []
        for m in mats:
            flat = m.ravel()
            with np.errstate(over="ignore", invalid="ignore"):
                out.append(np.where(np.abs(flat) < ROUND_BELOW, flat.round(4), flat).tolist())
        return out

    def _bytes(self, a: Any) -> bytes:
        np = self.np
        return np.clip(np.rint(a), 0, 255).astype(np.uint8).tobytes()


def scale_rule(act: str, values: list[float]) -> list[float]:
    """Neuron outputs brought to [-1, 1] for a picture, by the activation's bounds in the
    settings' table: tanh's already are; a bounded range such as sigmoid's (0, 1) is stretched
    to it; an unbounded one (relu, silu, linear) is divided by the largest magnitude in the
    picture; "clip" (a regression output) is only clipped, as every value is before it becomes a
    byte."""
    lo, hi = _bounds(act)
    if lo is None or hi is None:
        scale = _nanmax([abs(v) for v in values]) if values else 0.0
        scale = scale if scale > 0 else 1.0  # NaN is not > 0 either
        return [v / scale for v in values]
    if (lo, hi) == (-1.0, 1.0):
        return values
    return [2 * (v - lo) / (hi - lo) - 1 for v in values]


def _bounds(act: str) -> tuple[float | None, float | None]:
    """The range of activation `act`; "clip" (a regression output) is [-1, 1] already."""
    return ACTIVATION[act].bounds if act in ACTIVATION else (-1.0, 1.0)


_NEURON_CODE: dict[tuple[int, str], Any] = {}


def neuron_code(nin: int, act: str) -> Any:
    """A function (b, w0.., column0..) -> the neuron's output column, its body generated from
    the engine's `w·x+b` rule and the activation's rule (as the tape generates its lines), so
    each row costs a few float operations and no calls: `[_tanh(b + (w0 * x0) + ...) ...]`."""
    fn = _NEURON_CODE.get((nin, act))
    if fn is None:
        w, x = [f"w{i}" for i in range(nin)], [f"x{i}" for i in range(nin)]
        z = text_rule(LINEAR.forward, Sym("b"), *map(Sym, w), *map(Sym, x))
        body = text_rule(lambda m, v: activate(act, v, m), Sym(z, chain=True))
        cols = [f"c{i}" for i in range(nin)]
        source = (f"def neuron(b, {', '.join(w + cols)}):\n"
                  f"    return [{body} for {', '.join(x)}, in zip({', '.join(cols)})]\n")
        namespace = namespace_for(FLOAT_MATH)
        exec(compile(source, f"<playground neuron {nin} {act}>", "exec"), namespace)
        fn = _NEURON_CODE[(nin, act)] = namespace["neuron"]
    return fn


def _softmax(z: Any) -> list[float]:
    top = _nanmax(z)
    e = [math.exp(v - top) for v in z]
    s = _sum(e)
    return [v / s for v in e]


def _nanmax(z: Any) -> float:
    """max that returns NaN if any value is NaN (NumPy's max), whatever the order."""
    out = -math.inf
    for v in z:
        if v != v:
            return v
        if v > out:
            out = v
    return out


def _argmax(z: list[float]) -> int:
    """The first index of the largest value; the first NaN if there is one (NumPy's argmax)."""
    best = 0
    for i, v in enumerate(z):
        if v != v:
            return i
        if v > z[best]:
            best = i
    return best


def _sum(values: Any) -> float:
    total = 0.0
    for v in values:
        total += v  # left to right, as NumPy adds a handful of classes
    return total


def _mean(values: list[float]) -> float:
    return math.fsum(values) / len(values) if all(map(math.isfinite, values)) else \
        _sum(values) / len(values)


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


def extent_of(points: list) -> tuple[float, float, float, float]:
    """A square around the points with a margin, its centre and half-width in tenths."""
    if not points:
        return (-2.0, 2.0, -2.0, 2.0)
    xs = [p[0][0] for p in points]
    ys = [p[0][1] for p in points]
    cx, cy = round((min(xs) + max(xs)) / 2, 1), round((min(ys) + max(ys)) / 2, 1)
    half = max(max(xs) - min(xs), max(ys) - min(ys), 1.0) / 2 * 1.08 + 0.05
    half = math.ceil(half * 10) / 10
    return (round(cx - half, 2), round(cx + half, 2), round(cy - half, 2), round(cy + half, 2))
