"""Loss functions on lists of `Value`s, with PyTorch's names and argument order."""

from __future__ import annotations

from collections.abc import Sequence

from micrograd.engine import Value


def cross_entropy(logits: Sequence[Value | float], target: int) -> Value:
    """-log softmax(logits)[target], as `torch.nn.functional.cross_entropy` for one sample.

    The largest logit is subtracted first (a constant shift: softmax does not change), so exp
    never overflows. The ops are the seed's, in the seed's order, so its run is reproduced.
    """
    if len(logits) == 0:
        raise ValueError("cross_entropy: logits is empty; pass one logit per class")
    if isinstance(target, bool) or not isinstance(target, int) or not 0 <= target < len(logits):
        raise ValueError(
            f"cross_entropy: target {target!r} is not a class index in 0..{len(logits) - 1}"
        )
    logits = [v if isinstance(v, Value) else Value(v) for v in logits]
    max_val = max(v.data for v in logits)
    ex = [(v - max_val).exp() for v in logits]
    denom = ex[0]
    for e in ex[1:]:
        denom = denom + e
    return -(ex[target] / denom).log()


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
