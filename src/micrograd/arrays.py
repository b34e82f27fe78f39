"""NumPy versions of the core's loops over scalar parameters, imported only when NumPy is there.

The core modules (`optim`, `train`, ...) use the standard library only; for wide models they
hand their per-parameter loops to this module. `adamw_step` is `AdamW.step()`'s update on
arrays: the same IEEE operations, in the same order, on every element (each one correctly
rounded, as on Python floats), so the same bits as the loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import attrgetter
from typing import Any

import numpy as np

_DATA, _GRAD = attrgetter("data"), attrgetter("grad")


def adamw_step(opt: Any, decay: float, step_size: float, bias_correction2_sqrt: float) -> None:
    """One `AdamW` update of every parameter of `opt`, reading and writing their `.data`."""
    n = len(opt.params)
    p = read_data(opt.params)
    g = np.fromiter(map(_GRAD, opt.params), np.float64, n)
    p = adamw_arrays(opt, p, g, decay, step_size, bias_correction2_sqrt)
    for q, x in zip(opt.params, p.tolist()):
        q.data = x


def adamw_arrays(opt: Any, p: Any, g: Any, decay: float, step_size: float,
                 bias_correction2_sqrt: float) -> Any:
    """The updated parameter vector for parameters `p` with gradients `g`; the moments stay
    arrays on `opt` between steps (its `exp_avg` lists are made only when read)."""
    if opt._moments is None:
        opt._moments = (np.array(opt.exp_avg, dtype=np.float64),
                        np.array(opt.exp_avg_sq, dtype=np.float64))
    m, v = opt._moments
    beta1, beta2 = opt.betas
    with np.errstate(all="ignore"):  # inf and nan propagate as in the float loop
        p = p * decay
        weight = 1 - beta1
        if abs(weight) < 0.5:  # _lerp's two forms, chosen once for every element
            m = m + weight * (g - m)
        else:
            m = g - (g - m) * (1 - weight)
        v = v * beta2 + (1 - beta2) * g * g
        denom = np.sqrt(v) / bias_correction2_sqrt + opt.eps
        p = p + -step_size * m / denom
    opt._moments = (m, v)
    return p


def read_data(params: Sequence[Any]) -> Any:
    """The parameters' `.data` as one float64 vector."""
    return np.fromiter(map(_DATA, params), np.float64, len(params))


def add_grads(params: Sequence[Any], g: Any) -> None:
    """`.grad += g[j]` for parameter j, as `Value.backward` accumulates."""
    for q, x in zip(params, g.tolist()):
        q.grad = q.grad + x


def fused_adamw_step(loss_and_grads: Any, X: Any, Y: Any, opt: Any, current: Any = None,
                     write: bool = True) -> tuple[float, Any]:
    """The loss, and AdamW's step on its gradient, leaving every `.grad` at 0.0 (zero_grad);
    returns the loss and the new parameter vector (written into every `.data` if `write`).

    The same floats as adding the gradient into `.grad` (`grad + g`, from whatever `.grad`
    held), stepping and zeroing: only the reads and writes of 2·n attributes are saved. With
    `current` (the vector of the previous call, when nothing was set since) the parameters and
    their gradients (all 0.0 then) are not read again.
    """
    params = opt.params
    if current is None:
        p = read_data(params)
        held = np.fromiter(map(_GRAD, params), np.float64, len(params))
    else:
        p, held = current, None
    loss, g = loss_and_grads(X, Y, p)
    p = adamw_arrays(opt, p, g if held is None else held + g, *opt.coefficients())
    if write:
        for q, x in zip(params, p.tolist()):
            q.data = x
    if held is not None and (held.any() or np.signbit(held).any()):  # zero_grad's writes
        for q in params:
            q.grad = 0.0
    return loss, p


KEEP_FREED_BYTES = 256 << 20  # glibc keeps up to this much freed memory for reuse
MMAP_BYTES = 32 << 20  # blocks below this come from the heap (glibc's largest allowed value)
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt's parameter numbers (malloc.h)
_malloc_tuned = False


def reuse_freed_memory() -> bool:
    """Let glibc reuse freed array memory instead of handing it back to the OS (once a process).

    Every line of the compiled code makes a new N×K array and frees an old one. By default glibc
    maps blocks above its (adaptive) threshold fresh from the OS and unmaps them on free, or
    trims the heap top, so at 10,000 points and more each step paid for tens of thousands of page
    faults: about half of the numpy engine's time (measured with benchmarks/run.py). With
    blocks under 32 MiB from the heap and up to 256 MiB of freed memory kept, the pages of one
    step's arrays are reused by the next. The process may keep up to 256 MiB it no longer uses.
    Only on glibc, and only if the user has not tuned malloc through the environment; returns
    whether the setting was made.
    """
    global _malloc_tuned
    import os

    tuned = "malloc" in os.environ.get("GLIBC_TUNABLES", "") or any(
        k in os.environ for k in ("MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_"))
    try:
        glibc = (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith("glibc")
    except (ValueError, OSError, AttributeError):  # not glibc (macOS, Windows, musl)
        glibc = False
    if _malloc_tuned or tuned or not glibc:
        return _malloc_tuned
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    _malloc_tuned = bool(mallopt(_M_MMAP_THRESHOLD, MMAP_BYTES)) and bool(
        mallopt(_M_TRIM_THRESHOLD, KEEP_FREED_BYTES))
    return _malloc_tuned


_float_math: Any = None
ELEMENTWISE_FLOAT = ("exp", "log", "log1p", "sqrt", "tanh", "sigmoid", "sin", "cos", "pow")


def float_math_on_arrays() -> Any:
    """`numpy_math()` with the functions NumPy may round differently from the C library (exp,
    log, tanh, ...) replaced by the float engine's own, run element by element: results (and
    errors, e.g. log of 0) are eager's bit for bit, at a few tens of ns per element."""
    global _float_math
    if _float_math is None:
        from types import SimpleNamespace

        from micrograd.ops import FLOAT_MATH, numpy_math

        def each(f: Any) -> Any:
            def run(*args: Any) -> Any:
                arrays = np.broadcast_arrays(*(np.asarray(a, dtype=np.float64) for a in args))
                flat = [a.ravel().tolist() for a in arrays]
                out = np.fromiter(map(f, *flat), np.float64, arrays[0].size)
                return out.reshape(arrays[0].shape)
            return run

        ns = vars(numpy_math()) | {k: each(getattr(FLOAT_MATH, k)) for k in ELEMENTWISE_FLOAT}
        _float_math = SimpleNamespace(**ns)
    return _float_math


def mlp_logits(model: Any, X: Any, rows: int = 128, math: Any = None) -> Any:
    """Every point's logits as an N×K array, for a model made of layers of neurons (an `MLP`);
    None for any other model. The engine's own rules run on arrays (`w·x+b`, then the
    activation): each neuron adds `b + w0·x0 + w1·x1 + ...` in the order `predict` does. With
    the default `math`, `float_math_on_arrays()`, these are `model.predict`'s floats, bit for
    bit; pictures pass NumPy's own (`ops.numpy_math()`: faster, the last bit or two may
    differ). `rows` points at a time, so that a wide layer's n products and sums stay in the
    CPU's cache."""
    from micrograd.engine import LINEAR
    from micrograd.nn import activate

    layers = _layer_weights(model)
    if layers is None or layers[0][0].shape[1] != len(X[0]):
        return None
    m = float_math_on_arrays() if math is None else math
    X = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
    out = []
    with np.errstate(all="ignore"):
        for start in range(0, len(X), rows):
            h = X[start:start + rows]
            for w, b, act in layers:
                cols = [h[:, i:i + 1] for i in range(h.shape[1])]
                h = activate(act, LINEAR.forward(m, b, *w.T, *cols), m)
            out.append(h)
    return np.concatenate(out)


def _layer_weights(model: Any) -> list | None:
    """(weights K×n, biases, activation) per layer of neurons, or None if `model` is not so."""
    try:
        layers, nin = [], None
        for layer in model.layers:
            neurons = layer.neurons
            acts = {n.activation for n in neurons}
            w = np.array([[wi.data for wi in n.w] for n in neurons], dtype=np.float64)
            if len(acts) != 1 or w.ndim != 2 or (nin is not None and w.shape[1] != nin):
                return None
            b = np.array([n.b.data for n in neurons], dtype=np.float64)
            layers.append((w, b, acts.pop()))
            nin = w.shape[0]
        return layers or None
    except (AttributeError, TypeError, ValueError):
        return None


def cross_entropies(logits: Any, Y: Any) -> Any:
    """Every point's cross-entropy, from the recorded graph of `losses.cross_entropy` for one
    point, each node's forward rule run on arrays (one element per point): eager's floats."""
    from micrograd.engine import Value
    from micrograd.losses import cross_entropy

    m = float_math_on_arrays()
    leaves = [Value(0.0) for _ in range(logits.shape[1])]
    label = Value(0.0)
    root = cross_entropy(leaves, label)
    values: dict[Any, Any] = {leaf: logits[:, k] for k, leaf in enumerate(leaves)}
    values[label] = np.asarray(Y, dtype=np.float64)
    with np.errstate(all="ignore"):
        for node in root.topo():
            if node._prev:
                values[node] = node._op.forward(m, *(values.get(p, p.data) for p in node._prev))
    return values[root]


def array_metrics(model: Any, X: list, Y: list,
                  losses: bool = True) -> tuple[int | None, list[float] | None]:
    """(points whose largest logit, first on ties, is their label; every point's loss) for
    `train.evaluate`, from arrays, the floats of the point-by-point loop; None for non-finite
    logits (Python's max and NumPy's argmax treat nan differently) or a model that is not an
    MLP: the caller goes point by point."""
    logits = mlp_logits(model, X)
    if logits is None or not np.isfinite(logits).all():
        return None, None
    correct = int((logits.argmax(axis=1) == np.asarray(Y)).sum())
    if not losses:
        return correct, None
    return correct, cross_entropies(logits, Y).tolist()


def correct_from_logits(logits: Any, Y: Any, rescore: Any) -> int:
    """`backends.correct_count` on an N×K array: the sure rows counted at once, the rows whose
    two largest logits are close (or not finite) scored by `rescore(i)`, the model's floats."""
    from micrograd.backends import NEAR_TIE, correct_count

    logits = np.asarray(logits, dtype=np.float64).reshape(len(Y), -1)
    Y = np.asarray(Y)
    if logits.shape[1] < 2:
        return int((Y == 0).sum())
    ordered = np.sort(logits, axis=1)
    top, rest = ordered[:, -1], ordered[:, -2]
    with np.errstate(all="ignore"):
        unsure = ~np.isfinite(logits).all(axis=1) | (top - rest <= NEAR_TIE * (1.0 + abs(top)))
    sure = ~unsure
    correct = int((logits[sure].argmax(axis=1) == Y[sure]).sum())
    rows = np.flatnonzero(unsure).tolist()
    if rows:
        correct += correct_count([logits[i].tolist() for i in rows], Y[rows].tolist(),
                                 lambda k: rescore(rows[k]))
    return correct
