"""Loss functions on lists of `Value`s, with PyTorch's names and argument order."""

from __future__ import annotations

from collections.abc import Sequence

from micrograd.engine import Value


def cross_entropy(logits: Sequence[Value | float], target: int | Value) -> Value:
    """-log softmax(logits)[target], as `torch.nn.functional.cross_entropy` for one sample.

    Computed as log Σ exp(v - max) - (v_target - max), PyTorch's log-softmax: nothing overflows
    (every exponent is <= 0) and nothing underflows into log(0), even for a target logit 1000
    below the largest (the chapter's -log(e^t / Σ e^v) fails there). The label enters the graph as
    a leaf (`target` may be a Value holding the class index) chosen by a `pick` node, so the
    graph's shape does not depend on the label and one recorded tape serves every sample.
    """
    if len(logits) == 0:
        raise ValueError("cross_entropy: logits is empty; pass one logit per class")
    if not isinstance(target, Value) and (
        isinstance(target, bool) or not isinstance(target, int) or not 0 <= target < len(logits)
    ):
        raise ValueError(
            f"cross_entropy: target {target!r} is not a class index in 0..{len(logits) - 1}"
        )
    logits = [v if isinstance(v, Value) else Value(v) for v in logits]
    neg_max = -Value.detached_max(logits)
    shifted = [v + neg_max for v in logits]  # v - max <= 0: exp cannot overflow
    label = target if isinstance(target, Value) else Value(target)
    # -log softmax[target] = log Σ e^(v - max) - (v_target - max): no exp(target) to underflow
    return Value.sum([s.exp() for s in shifted]).log() - Value.pick(shifted, label)


def squared_error(out: Sequence[Value], target: Value | float) -> Value:
    """(out[0] − target)² of a one-output model: the per-sample loss of regression. Its mean over
    a batch is `torch.nn.MSELoss()`; every engine built with `loss=squared_error` trains it."""
    d = out[0] - target
    return d * d


def mse(pred: Sequence[Value | float] | Value, target: Sequence[float] | float) -> Value:
    """Mean squared error, as `torch.nn.functional.mse_loss` with reduction='mean'."""
    preds = [pred] if isinstance(pred, (Value, int, float)) else list(pred)
    targets = [target] if isinstance(target, (Value, int, float)) else list(target)
    if len(preds) != len(targets) or not preds:
        raise ValueError(
            f"mse: pred has {len(preds)} values and target {len(targets)}; pass equal, non-empty"
        )
    total = None
    for p, t in zip(preds, targets):
        d = p - t
        total = d * d if total is None else total + d * d
    if not isinstance(total, Value):
        total = Value(total)
    return total * (1.0 / len(preds))
