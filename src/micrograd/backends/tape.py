"""The `tape` engine: one sample's graph recorded once, replayed as straight-line Python.

The same bits as `eager`, standard library only; the machinery is `micrograd.tape.BatchTape`.
"""

from __future__ import annotations

from typing import Any

from micrograd.backends import Engine, Loss, register
from micrograd.losses import cross_entropy


def build(model: Any, nin: int, optimizer: Any = None, device: str = "cpu",
          loss: Loss = cross_entropy) -> Engine:
    from micrograd.tape import BatchTape  # imported with the engine: it imports this package

    return BatchTape(model, nin, backend="python", loss=loss)


register("tape", build, summary="one recorded graph, replayed in Python: eager's bits", rank=1,
         auto=1)
