"""The `torch` engine: the same run trained by PyTorch in float64, on the CPU or a CUDA GPU.

It also does the optimizer's AdamW update, so it is built with the run's optimizer and device;
the machinery is `micrograd.torch_engine.TorchEngine` (torch is imported when it is built).
"""

from __future__ import annotations

from typing import Any

from micrograd.backends import Engine, Loss, register
from micrograd.losses import cross_entropy
from micrograd.torch_engine import DEVICES, NEEDS_TORCH


def build(model: Any, nin: int, optimizer: Any = None, device: str = "cpu",
          loss: Loss = cross_entropy) -> Engine:
    from micrograd.torch_engine import TorchEngine

    if optimizer is None:
        raise ValueError("the torch engine needs the run's AdamW optimizer")
    return TorchEngine(model, nin, optimizer, device, loss)


def device_problem(device: str) -> str | None:
    from micrograd.torch_engine import device_problem

    return device_problem(device)


register("torch", build, summary="PyTorch float64 tensors (CPU or CUDA), AdamW included",
         needs=("torch",), missing=NEEDS_TORCH, devices=DEVICES, device_problem=device_problem,
         rank=3)
