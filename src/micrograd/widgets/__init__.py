"""Widgets for Jupyter notebooks, built on anywidget (tested in JupyterLab).

`Playground()`: the playground in the cell's output, its session trained in the kernel (a third
transport beside the server and the exported page); `play()`, `pause()`, `step(n)` from Python.
`Walk(loss)`: backpropagation of any `Value`, step by step, live in the cell's output; the step
shown is the widget's `step`, which the page's buttons and Python both move.

They need anywidget: `pip install -e '.[notebooks]'` in the clone brings it with JupyterLab, the
`notebook` extra alone; everything the page shows is in the package, so no network is needed.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Playground", "Walk"]


def __getattr__(name: str) -> Any:
    """The widgets load anywidget on first use, so `import micrograd.widgets` alone needs none."""
    if name == "Walk":
        from micrograd.widgets.walk import Walk

        return Walk
    if name == "Playground":
        from micrograd.widgets.playground import Playground

        return Playground
    raise AttributeError(f"module 'micrograd.widgets' has no attribute {name!r}")
