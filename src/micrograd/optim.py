"""Optimizers that update `Value` parameters in place, computing what `torch.optim` computes.

The arithmetic follows PyTorch's CPU kernels operation by operation (lerp, addcmul, addcdiv), so a
PyTorch float64 twin of a run agrees to the last few bits, not just approximately. AdamW with at
least `VECTOR_MIN_PARAMS` parameters steps on NumPy arrays when NumPy is installed
(`micrograd.arrays`, imported only then): every element gets the same IEEE operations in the same
order, so the same bits as the loop over floats (tested), at a fraction of the time on wide
models.
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Iterable
from typing import Any, Protocol

from micrograd.engine import Value


class Optimizer:
    """Holds the parameter list; subclasses implement `step()`."""

    def __init__(self, params: Iterable[Value], lr: float):
        self.params = list(params)
        if not self.params:
            raise ValueError("optimizer got an empty parameter list; pass model.parameters()")
        if not all(isinstance(p, Value) for p in self.params):
            raise TypeError("optimizer params must be Values; pass model.parameters()")
        _check_finite("lr", lr, minimum=0.0)
        self.lr = float(lr)

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = 0.0

    def _check_state(self, state: dict[str, Any], kind: str, keys: tuple[str, ...]) -> None:
        if state.get("type") != kind:
            raise ValueError(f"state_dict is for {state.get('type')!r}, not {kind}")
        for key in keys:
            if len(state[key]) != len(self.params):
                raise ValueError(
                    f"state_dict has {len(state[key])} {key} entries for {len(self.params)} params"
                )


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum and (coupled) weight decay."""

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 1e-3,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
    ):
        super().__init__(params, lr)
        _check_finite("momentum", momentum, minimum=0.0)
        _check_finite("weight_decay", weight_decay, minimum=0.0)
        self.momentum = float(momentum)
        self.weight_decay = float(weight_decay)
        self.buf: list[float | None] = [None] * len(self.params)

    def step(self) -> None:
        for i, p in enumerate(self.params):
            g = p.grad
            if self.weight_decay:
                g = g + self.weight_decay * p.data  # L2 penalty folded into the gradient
            if self.momentum:
                b = self.buf[i]
                b = g if b is None else b * self.momentum + g  # buf = μ·buf + g
                self.buf[i] = b
                g = b
            p.data = p.data + -self.lr * g

    def state_dict(self) -> dict[str, Any]:
        return {"type": "SGD", "lr": self.lr, "momentum": self.momentum,
                "weight_decay": self.weight_decay, "momentum_buffer": list(self.buf)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._check_state(state, "SGD", ("momentum_buffer",))
        self.lr, self.momentum = float(state["lr"]), float(state["momentum"])
        self.weight_decay = float(state["weight_decay"])
        self.buf = [None if b is None else float(b) for b in state["momentum_buffer"]]


class AdamW(Optimizer):
    """Adam with decoupled weight decay (Loshchilov & Hutter), as `torch.optim.AdamW`."""

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
    ):
        super().__init__(params, lr)
        beta1, beta2 = betas
        for name, beta in (("betas[0]", beta1), ("betas[1]", beta2)):
            _check_finite(name, beta, minimum=0.0)
            if beta >= 1.0:
                raise ValueError(f"AdamW {name} must be in [0, 1), got {beta!r}")
        _check_finite("eps", eps, minimum=0.0)
        _check_finite("weight_decay", weight_decay, minimum=0.0)
        self.betas = (float(beta1), float(beta2))
        self.eps = float(eps)
        self.weight_decay = float(weight_decay)
        self.t = 0
        self._moments: Any = None  # (exp_avg, exp_avg_sq) as arrays while NumPy steps them
        self.exp_avg = [0.0] * len(self.params)
        self.exp_avg_sq = [0.0] * len(self.params)

    # The moments are lists of floats to everyone; the NumPy step keeps them as arrays between
    # steps (`_moments`) and they become lists again only when read (a checkpoint).
    @property
    def exp_avg(self) -> list[float]:
        self._as_lists()
        return self._exp_avg

    @exp_avg.setter
    def exp_avg(self, value: list[float]) -> None:
        self._as_lists()
        self._exp_avg = value

    @property
    def exp_avg_sq(self) -> list[float]:
        self._as_lists()
        return self._exp_avg_sq

    @exp_avg_sq.setter
    def exp_avg_sq(self, value: list[float]) -> None:
        self._as_lists()
        self._exp_avg_sq = value

    def _as_lists(self) -> None:
        if self._moments is not None:
            m, v = self._moments
            self._moments = None
            self._exp_avg, self._exp_avg_sq = m.tolist(), v.tolist()

    def coefficients(self) -> tuple[float, float, float]:
        """Advance the step count; (decay, step size, sqrt of the second bias correction)."""
        self.t += 1
        beta1, beta2 = self.betas
        decay = 1 - self.lr * self.weight_decay
        step_size = self.lr / (1 - beta1**self.t)  # bias correction of the first moment
        return decay, step_size, (1 - beta2**self.t) ** 0.5

    def step(self) -> None:
        beta1, beta2 = self.betas
        eps = self.eps
        decay, step_size, bias_correction2_sqrt = self.coefficients()
        if len(self.params) >= VECTOR_MIN_PARAMS and _has_numpy():
            from micrograd.arrays import adamw_step  # NumPy, imported only here

            adamw_step(self, decay, step_size, bias_correction2_sqrt)
            return
        m, v = self.exp_avg, self.exp_avg_sq
        for i, p in enumerate(self.params):
            g = p.grad
            p.data *= decay  # decoupled weight decay: p ← p (1 - lr λ)
            m[i] = _lerp(m[i], g, 1 - beta1)  # m ← β1 m + (1-β1) g
            v[i] = v[i] * beta2 + (1 - beta2) * g * g  # v ← β2 v + (1-β2) g²
            denom = math.sqrt(v[i]) / bias_correction2_sqrt + eps
            p.data = p.data + -step_size * m[i] / denom  # p ← p - lr m̂ / (√v̂ + ε)

    def runs_as_written(self) -> bool:
        """True if `step()` and `zero_grad()` are AdamW's own (no subclass, no patch): an engine
        may then run the same update itself, on arrays (`micrograd.arrays.fused_adamw_step`)."""
        return (type(self) is AdamW and AdamW.step is _ADAMW_STEP
                and AdamW.zero_grad is _ZERO_GRAD and "step" not in vars(self)
                and "zero_grad" not in vars(self))

    def state_dict(self) -> dict[str, Any]:
        return {"type": "AdamW", "lr": self.lr, "betas": list(self.betas), "eps": self.eps,
                "weight_decay": self.weight_decay, "step": self.t,
                "exp_avg": list(self.exp_avg), "exp_avg_sq": list(self.exp_avg_sq)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._check_state(state, "AdamW", ("exp_avg", "exp_avg_sq"))
        self.lr, self.eps = float(state["lr"]), float(state["eps"])
        self.betas = (float(state["betas"][0]), float(state["betas"][1]))
        self.weight_decay, self.t = float(state["weight_decay"]), int(state["step"])
        self.exp_avg = [float(x) for x in state["exp_avg"]]
        self.exp_avg_sq = [float(x) for x in state["exp_avg_sq"]]


class AdamWSettings(Protocol):
    """The hyper-parameters `adamw` reads: a run's `TrainConfig`, or anything shaped like it."""

    lr: float
    betas: tuple[float, float]
    eps: float
    weight_decay: float


def adamw(model: Any, cfg: AdamWSettings) -> AdamW:
    """The run's optimizer: AdamW over `model.parameters()` with the config's hyper-parameters.

    It lives beside `AdamW` so that every caller (a run, a resume's dry restore, `micrograd
    graph`) builds the optimizer the same way, and none needs the config module to do it.
    """
    return AdamW(model.parameters(), lr=cfg.lr, betas=cfg.betas, eps=cfg.eps,
                 weight_decay=cfg.weight_decay)


_ADAMW_STEP, _ZERO_GRAD = AdamW.step, Optimizer.zero_grad  # as written, to tell a patch
VECTOR_MIN_PARAMS = 1024  # from here on AdamW steps on NumPy arrays when NumPy is installed


def _has_numpy() -> bool:
    return importlib.util.find_spec("numpy") is not None


def _lerp(start: float, end: float, weight: float) -> float:
    """start + weight (end - start), evaluated the way PyTorch's lerp kernel does."""
    if abs(weight) < 0.5:
        return start + weight * (end - start)
    return end - (end - start) * (1 - weight)


def _check_finite(name: str, x: object, minimum: float) -> None:
    is_number = isinstance(x, (int, float)) and not isinstance(x, bool)
    if not is_number or not math.isfinite(x) or x < minimum:
        raise ValueError(f"{name} must be a finite number >= {minimum}, got {x!r}")
