"""Shared fixtures: the seed's reference log, and a PyTorch float64 twin of `micrograd.nn.MLP`.

torch is imported lazily (inside the twin) so test files that never use it do not pay for it.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent  # the parent of tests/
SEED_LOG_ENV = "MICROGRAD_SEED_LOG"


@pytest.fixture(scope="session")
def seed_log_path() -> Path:
    """Path of the seed's printed log: `../shared/reference/seed_log.txt` from the repo root,
    else the file named by $MICROGRAD_SEED_LOG. Missing is a failure, never a skip: the
    reproduction test is the point of the suite and must not pass silently."""
    beside_repo = REPO_ROOT.parent / "shared" / "reference" / "seed_log.txt"
    if beside_repo.is_file():
        return beside_repo
    env = os.environ.get(SEED_LOG_ENV)
    if env:
        from_env = Path(env).expanduser()
        if from_env.is_file():
            return from_env
        pytest.fail(
            f"seed reference log not found: {beside_repo} does not exist and "
            f"${SEED_LOG_ENV}={env!r} is not a file",
            pytrace=False,
        )
    pytest.fail(
        f"seed reference log not found at {beside_repo}; put it there or set "
        f"${SEED_LOG_ENV} to its path",
        pytrace=False,
    )


class TorchMLP:
    """An independent float64 PyTorch computation of an MLP whose weights are copied from ours.

    Layer l is `act(x @ W_l.T + b_l)` with `act` the hidden activation for every layer but the
    last, which is linear: that is the specification of `micrograd.nn.MLP`, written with torch's
    own matmul, activations and autograd rather than our graph.
    """

    def __init__(self, model, activation: str = "tanh"):
        import torch

        self.torch = torch
        self.activation = activation
        self.weights = []  # [(W, b)] per layer; W is (nout, nin)
        for layer in model.layers:
            w = [[wi.data for wi in n.w] for n in layer.neurons]
            b = [n.b.data for n in layer.neurons]
            self.weights.append(
                (
                    torch.tensor(w, dtype=torch.float64, requires_grad=True),
                    torch.tensor(b, dtype=torch.float64, requires_grad=True),
                )
            )

    def parameters(self) -> list:
        return [t for wb in self.weights for t in wb]

    def _act(self, z):
        torch = self.torch
        return {
            "tanh": torch.tanh,
            "relu": torch.relu,
            "sigmoid": torch.sigmoid,
            "linear": lambda t: t,
        }[self.activation](z)

    def __call__(self, x):
        """x: an (N, nin) float64 tensor; returns the (N, nout) logits."""
        for i, (w, b) in enumerate(self.weights):
            x = x @ w.T + b
            if i != len(self.weights) - 1:
                x = self._act(x)
        return x

    def grads_in_our_order(self) -> list[float]:
        """Parameter grads flattened as `MLP.parameters()` lists them: per neuron, w then b."""
        out = []
        for w, b in self.weights:
            for j in range(w.shape[0]):
                out.extend(w.grad[j].tolist())
                out.append(b.grad[j].item())
        return out


@pytest.fixture(scope="session")
def torch_mlp():
    """The `TorchMLP` class (build it as `torch_mlp(model, activation)`)."""
    return TorchMLP


@contextlib.contextmanager
def running_playground():
    """`micrograd playground --port 0 --no-browser` in a subprocess: yields (http URL, pid)."""
    proc = subprocess.Popen([sys.executable, "-m", "micrograd", "playground", "--port", "0",
                             "--no-browser"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        line = proc.stdout.readline()  # printed once it listens; blocks until then
        match = re.match(r"micrograd playground: (http://127\.0\.0\.1:\d+/) ", line)
        assert match, (line, proc.stderr.read() if proc.poll() is not None else "")
        yield match.group(1), proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
