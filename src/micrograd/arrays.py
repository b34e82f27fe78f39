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
