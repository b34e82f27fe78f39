"""The `numpy` engine: the recorded graph compiled to array code, one matrix product per layer.

Losses within 1e-12 of eager's; `micrograd.tape.BatchTape` with `micrograd.arraycode`'s code.
"""

from __future__ import annotations

from typing import Any

from micrograd.backends import Engine, Loss, register
from micrograd.losses import cross_entropy

NEEDS_NUMPY = ("--engine numpy needs NumPy: pip install 'micrograd-lab[fast]', or use "
               "--engine tape")


def build(model: Any, nin: int, optimizer: Any = None, device: str = "cpu",
          loss: Loss = cross_entropy) -> Engine:
    from micrograd.tape import BatchTape  # NumPy is imported when the tape compiles

    return BatchTape(model, nin, backend="numpy", loss=loss)


register("numpy", build, summary="the tape compiled to NumPy array code", needs=("numpy",),
         missing=NEEDS_NUMPY, rank=2, auto=0)
