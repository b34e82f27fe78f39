"""micrograd-lab: a scalar autograd engine and a small neural-network library on top of it.

Importing the package runs nothing and imports no plotting library; the pieces live in
`micrograd.engine`, `micrograd.nn`, `micrograd.losses`, `micrograd.optim`, `micrograd.data`,
`micrograd.train`, a whole training run in `micrograd.run`, and the console script in
`micrograd.cli`. At the top level: `Value`, `grad` (gradients, also of gradients), `Op` (define
your own op), `gradcheck` and `compile` (a training loop's models replayed as programs).
"""

from micrograd.check import gradcheck
from micrograd.compiled import compile
from micrograd.engine import Value, grad
from micrograd.ops import Op

__all__ = ["Op", "Value", "compile", "grad", "gradcheck"]
__version__ = "0.2.0"  # the one place: pyproject.toml reads it (setuptools dynamic)
