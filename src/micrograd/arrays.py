"""NumPy versions of the core's loops over scalar parameters, imported only when NumPy is there.

The core modules (`optim`, `train`, ...) use the standard library only; for wide models they
hand their per-parameter loops to this module. `adamw_step` is `AdamW.step()`'s update on
arrays: the same IEEE operations, in the same order, on every element (each one correctly
rounded, as on Python floats), so the same bits as the loop.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def adamw_step(opt: Any, decay: float, step_size: float, bias_correction2_sqrt: float) -> None:
    """One `AdamW` update of every parameter of `opt`, its moments kept as lists of floats."""
    beta1, beta2 = opt.betas
    n = len(opt.params)
    p = np.fromiter([q.data for q in opt.params], np.float64, n)
    g = np.fromiter([q.grad for q in opt.params], np.float64, n)
    m, v = np.array(opt.exp_avg, dtype=np.float64), np.array(opt.exp_avg_sq, dtype=np.float64)
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
    opt.exp_avg, opt.exp_avg_sq = m.tolist(), v.tolist()
    for q, x in zip(opt.params, p.tolist()):
        q.data = x


KEEP_FREED_BYTES = 256 << 20  # glibc keeps up to this much freed memory for reuse
MMAP_BYTES = 32 << 20  # blocks below this come from the heap (glibc's largest allowed value)
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt's parameter numbers (malloc.h)
_malloc_tuned = False


def reuse_freed_memory() -> bool:
    """Let glibc reuse freed array memory instead of handing it back to the OS (once a process).

    Every line of the compiled code makes a new N×K array and frees an old one. By default glibc
    maps blocks above its (adaptive) threshold fresh from the OS and unmaps them on free, or
    trims the heap top, so at 10,000 points and more each step paid for tens of thousands of page
    faults: a third to a half of the numpy engine's time (measured with benchmarks/run.py). With
    blocks under 32 MiB from the heap and up to 256 MiB of freed memory kept, the pages of one
    step's arrays are reused by the next. The process may keep up to 256 MiB it no longer uses.
    Only on glibc, and only if the user has not tuned malloc through the environment; returns
    whether the setting was made.
    """
    global _malloc_tuned
    import os
    import platform

    tuned = os.environ.get("GLIBC_TUNABLES", "").find("malloc") >= 0 or any(
        k in os.environ for k in ("MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_"))
    if _malloc_tuned or tuned or platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
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
