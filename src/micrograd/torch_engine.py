"""The trainer's `torch` engine: the same run, trained by PyTorch in float64 (CPU or CUDA).

For users who outgrow scalars but want to keep the CLI, the checkpoints and the pictures. The
model is still built by our seed code (`nn.chapter_mlp`, weights drawn from the run's RNG) and moved
to PyTorch with `MLP.to_torch()`; from there every step runs on tensors:

- forward: one `addmm` per layer (b + h Wᵀ), the model's activation, and the softmax
  cross-entropy in `losses.cross_entropy`'s order (shift by the detached max, log Σ exp, minus
  the label's shifted logit), summed over the batch and scaled by 1/n as the chapter's mean;
- backward: PyTorch's autograd;
- update: `optim.AdamW`'s update written out in tensor operations, the same IEEE operations in
  the same order as our loop (decay, lerp, v, denominator, step), so the same gradients give the
  same bits (on CPU the square root is NumPy's: see `_sqrt`); the hyper-parameters are read
  from our optimizer at every step.

All parameters live in one flat tensor in `model.parameters()` order (each layer a block of
rows `w_0 .. w_(k-1), b`, viewed as W and b), so the update is a handful of operations however
deep the model is. The Values and our AdamW's moments are written back (`sync`) whenever the
loop's callbacks need them (checkpoints, pictures, the guard's checks) and at the end: a
checkpoint of a torch run is an ordinary checkpoint, and any engine resumes it.

Only the matrix products and batch sums are ordered differently from eager autograd (BLAS and
PyTorch's reductions), so losses agree within 1e-12 relative on the chapter's run, not bit for bit.
torch is imported here only, when the engine is built.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from typing import Any

from micrograd.backends import BeforeUpdate, Loss
from micrograd.losses import cross_entropy, squared_error
from micrograd.optim import AdamW

__all__ = ["DEVICES", "NEEDS_TORCH", "TorchEngine", "device_problem", "import_torch"]

# micrograd-lab is installed from a clone (README): the extra is named both ways
NEEDS_TORCH = ("the torch engine needs PyTorch: pip install -e '.[torch]' in the clone "
               "(pip install 'micrograd-lab[torch]' from a wheel)")
DEVICES = ("cpu", "cuda")


def import_torch() -> Any:
    """torch, or ImportError with the one line that says how to install it."""
    try:
        import torch
    except ImportError:
        raise ImportError(NEEDS_TORCH) from None
    return torch


def device_problem(device: str) -> str | None:
    """Why `device` cannot run the torch engine here (None: it can)."""
    if device not in DEVICES:
        return f"--device {device!r} is not one of {', '.join(DEVICES)}"
    if device == "cuda" and not import_torch().cuda.is_available():
        return ("--device cuda: PyTorch sees no CUDA GPU on this machine (or was built without "
                "CUDA); use --device cpu")
    return None


class TorchEngine:
    """Loss, gradients and the AdamW update of `model` on PyTorch float64 tensors.

    `loss(X, Y)` and `loss_and_backward(X, Y)` are the other engines' (the gradient stays in
    the engine, in `self.grad`, not in the Values' `.grad`); `optimizer_step()` applies
    `optimizer`'s AdamW update to the engine's weights, and `sync()` writes weights and moments
    back into the model's Values and the optimizer. `train()` calls `train_step` (all three)
    and `sync`.
    """

    name = "torch"

    def __init__(self, model: Any, nin: int, optimizer: Any, device: str = "cpu",
                 loss: Loss = cross_entropy):
        torch = self.torch = import_torch()
        if loss not in (cross_entropy, squared_error):
            raise ValueError("the torch engine trains cross_entropy or squared_error, not "
                             f"{getattr(loss, '__name__', loss)}")
        self.regression = loss is squared_error  # one output, real targets
        if not isinstance(optimizer, AdamW):
            raise ValueError(f"the torch engine steps AdamW, not {type(optimizer).__name__}; "
                             "use micrograd.optim.AdamW or another engine")
        _check_own_step(optimizer)
        if problem := device_problem(device):
            raise ValueError(problem)
        self.model, self.optimizer, self.params = model, optimizer, model.parameters()
        if len(optimizer.params) != len(self.params) or any(
                a is not b for a, b in zip(optimizer.params, self.params)):
            raise ValueError("the torch engine needs the optimizer of model.parameters(), "
                             "in that order")
        self.device, self.f64 = torch.device(device), torch.float64
        module = model.to_torch()  # our weights, moved by the bridge
        blocks, self.shapes, self.activations = [], [], []
        for child in module.children():
            if isinstance(child, torch.nn.Linear):
                w, b = child.weight.detach(), child.bias.detach()
                blocks.append(torch.cat([w, b[:, None]], 1).reshape(-1))
                self.shapes.append((child.out_features, child.in_features))
            else:
                self.activations.append(child)
        if len(self.activations) < len(self.shapes) - 1:  # a "linear" hidden layer
            self.activations = [torch.nn.Identity()] * (len(self.shapes) - 1)
        self.p = torch.cat(blocks).to(self.device).requires_grad_(True)
        if self.p.numel() != len(self.params):
            raise ValueError("the torch engine trains MLPs only (Linear layers and one "
                             "activation); this model has other parameters")
        state = [optimizer.exp_avg, optimizer.exp_avg_sq]
        self.m, self.v = (torch.tensor(s, dtype=self.f64, device=self.device) for s in state)
        self.dirty = False  # weights or moments changed since the last sync
        self._np = None
        if self.device.type == "cpu" and importlib.util.find_spec("numpy") is not None:
            import numpy

            self._np = numpy

    # ---- the data ----

    def batch(self, X: Any, Y: Any) -> tuple[Any, Any]:
        """X as a float64 tensor, Y as class indices (regression: float64 targets), on the
        engine's device (done once)."""
        torch = self.torch
        if isinstance(X, torch.Tensor):
            return X, Y
        if len(X) and isinstance(X[0], torch.Tensor):  # rows of a batch made earlier
            return torch.stack(list(X)), torch.stack(list(Y))
        X = torch.tensor([list(x) for x in X], dtype=self.f64, device=self.device)
        Y = torch.tensor([float(y) for y in Y], dtype=self.f64, device=self.device) \
            if self.regression else \
            torch.tensor([int(y) for y in Y], dtype=torch.long, device=self.device)
        return X.reshape(len(Y), -1), Y

    def take(self, X: Any, Y: Any, idx: Sequence[int]) -> tuple[Any, Any]:
        """The rows `idx` of a batch, in that order (a mini-batch)."""
        index = self.torch.tensor(idx, dtype=self.torch.long, device=self.device)
        return X[index], Y[index]

    # ---- forward and backward ----

    def _logits(self, X: Any) -> Any:
        """Every row's logits, N×K (autograd on `p`)."""
        h, start, last = X, 0, len(self.shapes) - 1
        for k, (nout, nin) in enumerate(self.shapes):
            block = self.p[start:start + nout * (nin + 1)].view(nout, nin + 1)
            start += nout * (nin + 1)
            h = self.torch.addmm(block[:, nin], h, block[:, :nin].t())  # b + h Wᵀ
            if k < last:
                h = self.activations[k](h)
        return h

    def _total(self, X: Any, Y: Any, h: Any = None) -> Any:
        """The sum of the per-sample losses, as a 0-d tensor (autograd on `p`): cross-entropy,
        or for regression the squared error of the one output."""
        h = self._logits(X) if h is None else h
        if self.regression:
            d = h[:, 0] - Y
            return (d * d).sum()
        neg_max = -h.detach().amax(1, keepdim=True)
        shifted = h + neg_max  # v - max <= 0, as losses.cross_entropy
        picked = shifted.gather(1, Y[:, None])[:, 0]
        return (shifted.exp().sum(1).log() - picked).sum()

    def loss(self, X: Any, Y: Any) -> float:
        """Mean cross-entropy over the rows of X (forward only)."""
        X, Y = self.batch(X, Y)
        with self.torch.no_grad():
            return self._total(X, Y).item() * (1.0 / len(Y))

    def loss_and_backward(self, X: Any, Y: Any) -> float:
        """Mean cross-entropy; its gradient is added into `self.grad` (not the Values')."""
        X, Y = self.batch(X, Y)
        total = self._total(X, Y)
        (total * (1.0 / len(Y))).backward()  # accumulates into p.grad, as into a Value's .grad
        return total.item() * (1.0 / len(Y))

    def evaluate(self, X: Any, Y: Any) -> Any:
        """Mean loss (`loss`'s floats) and accuracy from one forward pass on the tensors; points
        whose two largest logits are close are scored with the model's own floats."""
        from micrograd.backends import Evaluation, correct_count

        X, Y = self.batch(X, Y)
        with self.torch.no_grad():
            h = self._logits(X)
            loss = self._total(X, Y, h).item() * (1.0 / len(Y))

        def rescore(i: int) -> list[float]:
            self.sync()
            return self.model.predict(X[i].tolist())

        if self._np is not None:
            from micrograd.arrays import correct_from_logits

            correct = correct_from_logits(h.numpy(), Y.numpy(), rescore)
        else:
            correct = correct_count(h.cpu().tolist(), Y.cpu().tolist(), rescore)
        return Evaluation(loss, correct / len(Y))

    @property
    def grad(self) -> Any:
        """d loss / d parameters since the last update, in `model.parameters()` order."""
        if self.p.grad is None:
            self.p.grad = self.torch.zeros_like(self.m)
        return self.p.grad

    # ---- the update ----

    def train_step(self, X: Any, Y: Any, optimizer: Any, defer: bool = False,
                   before_update: BeforeUpdate | None = None) -> float:
        """Loss, gradient and `optimizer`'s AdamW update on the tensors (the trainer's step);
        the Values follow at once unless `defer` (then at the next `sync()`). A
        `before_update(loss)` sees the weights and the gradient in the Values, as on the other
        engines; the gradient it leaves there is the one the update uses."""
        if optimizer is not self.optimizer:
            raise ValueError("the torch engine steps the optimizer it was built with")
        _check_own_step(optimizer)
        loss = self.loss_and_backward(X, Y)
        if before_update is not None:
            self._before_update(before_update, loss)
        self.optimizer_step()
        if not defer:
            self.sync()
        return loss

    def _before_update(self, before_update: BeforeUpdate, loss: float) -> None:
        """Run `before_update(loss)` on the Values: weights and gradient written into them, the
        gradient read back (float64 both ways: the same bits). When it raises, the gradient is
        dropped, as `backends.apply_update` zeroes it."""
        self.sync()
        for q, g in zip(self.params, self.grad.cpu().tolist()):
            q.grad = g
        try:
            before_update(loss)
            grad = [q.grad for q in self.params]
        finally:
            self.p.grad = None
            for q in self.params:
                q.grad = 0.0
        self.p.grad = self.torch.tensor(grad, dtype=self.f64, device=self.device)

    def optimizer_step(self) -> None:
        """`AdamW.step()` on tensors (same operations, same order), then zero the gradient."""
        opt = self.optimizer
        opt.t += 1
        beta1, beta2 = opt.betas
        lr, eps, t = opt.lr, opt.eps, opt.t
        step_size = lr / (1 - beta1**t)  # Python floats, as AdamW.step computes them
        bias_correction2_sqrt = (1 - beta2**t) ** 0.5
        p, g, m, v = self.p.detach(), self.grad, self.m, self.v
        with self.torch.no_grad():
            p.mul_(1 - lr * opt.weight_decay)  # p ← p (1 - lr λ)
            weight = 1 - beta1
            if abs(weight) < 0.5:  # _lerp's two forms, as arrays.adamw_step
                m.add_((g - m).mul_(weight))
            else:
                m.copy_(g - (g - m).mul_(1 - weight))
            v.mul_(beta2).add_(g.mul(1 - beta2).mul_(g))  # v ← β2 v + (1-β2) g g
            denom = self._sqrt(v).div_(self._divisor(bias_correction2_sqrt)).add_(eps)
            p.add_(m.mul(-step_size).div_(denom))  # p ← p + (-lr/(1-β1ᵗ)) m / denom
        self.p.grad = None  # zero_grad, as torch.optim's set_to_none
        self.dirty = True

    def _divisor(self, x: float) -> Any:
        """`x` as a divisor: CUDA turns a division by a Python number into a product with its
        reciprocal (not always the quotient's bits), so there it is a 0-d tensor."""
        if self.device.type == "cpu":
            return x
        return self.torch.tensor(x, dtype=self.f64, device=self.device)

    def _sqrt(self, v: Any) -> Any:
        """√v correctly rounded, as math.sqrt. PyTorch's vectorised CPU sqrt (AVX-512 builds)
        is off by one ulp on some elements; NumPy's, on the same memory, is exact. CUDA's is."""
        if self._np is None:
            return v.sqrt()
        return self.torch.from_numpy(self._np.sqrt(v.numpy()))

    def reload(self) -> None:
        """Read the weights from the model's Values and the moments from the optimizer (what
        `train()` does first: code may have set them since this engine last trained)."""
        self.sync()
        torch = self.torch
        with torch.no_grad():
            self.p.copy_(torch.tensor([q.data for q in self.params], dtype=self.f64))
        state = [self.optimizer.exp_avg, self.optimizer.exp_avg_sq]
        self.m, self.v = (torch.tensor(s, dtype=self.f64, device=self.device) for s in state)

    def sync(self) -> None:
        """Write the weights into the model's Values and the moments into the optimizer."""
        if not self.dirty:
            return
        for q, x in zip(self.params, self.p.detach().cpu().tolist()):
            q.data = x
        self.optimizer.exp_avg = self.m.cpu().tolist()
        self.optimizer.exp_avg_sq = self.v.cpu().tolist()
        self.dirty = False


def _check_own_step(optimizer: AdamW) -> None:
    """The engine writes AdamW's update itself: a subclass or a patched `step` would be skipped."""
    if not optimizer.runs_as_written():
        raise ValueError("the torch engine runs AdamW's own step; this optimizer changes it (a "
                         "subclass or a patched step): use another engine")
