"""micrograd.losses: cross_entropy and mse against torch.nn.functional in float64."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import example, given, settings
from hypothesis import strategies as st

from micrograd.engine import Value
from micrograd.losses import cross_entropy, mse

# rtol 1e-10 / atol 1e-12 everywhere. Both sides compute the same maths by different routes (ours:
# log-sum-exp of shifted logits minus the shifted target; torch: its own kernels), so they differ
# by a few ulps, amplified at most by the condition number of exp/log at |x| <= 1000 (~1e3 ulps =
# 1e-13 relative). The atol is for the near-zero values: a loss of ~1e-12 for a confident
# prediction is computed as log(1 + tiny) on both sides, whose absolute error is ~1e-16 but whose
# relative error is not small, and softmax entries of ~1e-300 carry no relative precision.
RTOL, ATOL = 1e-10, 1e-12

# Any target: cross_entropy is log-sum-exp minus the shifted target logit, so a target logit far
# below the max neither underflows nor overflows (see the regression test below).
SAFE_GAP = math.inf

finite = st.floats(-1000.0, 1000.0, allow_nan=False, allow_infinity=False)


@st.composite
def logits_and_target(draw):
    k = draw(st.integers(2, 10))
    logits = draw(st.lists(finite, min_size=k, max_size=k))
    top = max(logits)
    target = draw(st.sampled_from([i for i, v in enumerate(logits) if top - v <= SAFE_GAP]))
    return logits, target


def _torch_ce(logits: list[float], target: int):
    x = torch.tensor([logits], dtype=torch.float64, requires_grad=True)
    loss = F.cross_entropy(x, torch.tensor([target]))
    loss.backward()
    return loss.item(), x.grad[0].tolist()


def _ours_ce(logits: list[float], target: int):
    xs = [Value(v) for v in logits]
    loss = cross_entropy(xs, target)
    loss.backward()
    return loss.data, [v.grad for v in xs]


def _assert_close(ours, theirs):
    torch.testing.assert_close(
        torch.tensor(ours, dtype=torch.float64),
        torch.tensor(theirs, dtype=torch.float64),
        rtol=RTOL,
        atol=ATOL,
    )


# ---- cross_entropy ------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(logits_and_target())
@example(([1000.0, 1000.0, 1000.0], 2))  # all huge and equal: log 3, no overflow
@example(([1000.0, -1000.0, 999.0], 2))
@example(([-1000.0, -1000.0], 0))  # all hugely negative: log 2, no underflow to 0/0
@example(([0.0, 700.0], 0))  # the target 700 below the max
@example(([3.0, 1e-12], 0))  # a confident, correct prediction: loss ~ 0.05
@example(([40.0, 0.0], 0))  # loss ~ 4e-18: only the atol can judge it
def test_cross_entropy_value_and_grads_match_torch(case):
    logits, target = case
    loss, grads = _ours_ce(logits, target)
    t_loss, t_grads = _torch_ce(logits, target)
    assert math.isfinite(loss) and all(math.isfinite(g) for g in grads)
    _assert_close(loss, t_loss)
    _assert_close(grads, t_grads)


def test_cross_entropy_known_values():
    # -log softmax: equal logits give log K; the value does not depend on a common shift
    assert cross_entropy([Value(0.0)] * 4, 1).data == pytest.approx(math.log(4), rel=1e-15)
    assert cross_entropy([Value(1000.0)] * 4, 3).data == pytest.approx(math.log(4), rel=1e-15)
    shifted = cross_entropy([Value(v + 500.0) for v in (1.0, 2.0, 3.0)], 0).data
    assert shifted == pytest.approx(cross_entropy([1.0, 2.0, 3.0], 0).data, rel=1e-13)


def test_cross_entropy_accepts_bare_float_logits():
    logits = [0.5, -1.25, 2.0]
    loss = cross_entropy(logits, 2)
    assert isinstance(loss, Value)
    _assert_close(loss.data, _torch_ce(logits, 2)[0])
    mixed = [Value(0.5), -1.25, 2]  # Values, floats and ints together
    assert cross_entropy(mixed, 2).data == loss.data
    a = Value(0.5)
    cross_entropy([a, -1.25, 2.0], 2).backward()  # grads still reach the Value logits
    _assert_close(a.grad, _torch_ce(logits, 2)[1][0])


@pytest.mark.parametrize("target", [-1, 3, 1.5, True, False, None, "0"])
def test_cross_entropy_rejects_bad_target(target):
    with pytest.raises(ValueError, match="target"):
        cross_entropy([Value(1.0), Value(2.0), Value(3.0)], target)


def test_cross_entropy_rejects_empty_logits():
    with pytest.raises(ValueError, match="empty"):
        cross_entropy([], 0)


# Regression: the chapter's -log(e_t / sum e_i) underflows once the target's logit is ~745 below the
# max (log of 0) and gives inf/nan grads from ~709.78. We compute log-sum-exp minus the shifted
# target logit instead, as torch does, so these are finite and equal to torch's.
@pytest.mark.parametrize(
    ("logits", "target"),
    [([0.0, -746.0], 1), ([1000.0, -1000.0], 1), ([1000.0, 0.0, -5.0], 2),
     ([0.0, -720.0], 1), ([0.0, -740.0], 1)],
)
def test_cross_entropy_target_far_below_max_is_finite_and_matches_torch(logits, target):
    loss, grads = _ours_ce(logits, target)
    t_loss, t_grads = _torch_ce(logits, target)
    assert math.isfinite(loss) and all(math.isfinite(g) for g in grads), grads
    _assert_close(loss, t_loss)
    _assert_close(grads, t_grads)


# ---- mse ----------------------------------------------------------------------------------------

moderate = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 10).flatmap(lambda n: st.tuples(
    st.lists(moderate, min_size=n, max_size=n), st.lists(moderate, min_size=n, max_size=n)
)))
def test_mse_value_and_grads_match_torch(case):
    pred, target = case
    ps, ts = [Value(v) for v in pred], [Value(v) for v in target]
    loss = mse(ps, ts)
    loss.backward()
    p_t = torch.tensor(pred, dtype=torch.float64, requires_grad=True)
    t_t = torch.tensor(target, dtype=torch.float64, requires_grad=True)
    ref = F.mse_loss(p_t, t_t)  # reduction="mean"
    ref.backward()
    _assert_close(loss.data, ref.item())
    _assert_close([p.grad for p in ps], p_t.grad.tolist())
    _assert_close([t.grad for t in ts], t_t.grad.tolist())
    # plain float targets give the same loss (they just receive no grad)
    assert mse([Value(v) for v in pred], target).data == loss.data


def test_mse_scalar_forms():
    p = Value(2.0)
    loss = mse(p, 3.5)
    loss.backward()
    assert loss.data == 2.25 and p.grad == -3.0  # (2 - 3.5)^2 and 2 (2 - 3.5), exact
    p_t = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    ref = F.mse_loss(p_t, torch.tensor(3.5, dtype=torch.float64))
    ref.backward()
    assert (loss.data, p.grad) == (ref.item(), p_t.grad.item())
    assert mse(p, [3.5]).data == 2.25  # a bare pred against a one-element list
    plain = mse(2.0, 3.5)  # two plain numbers still give a Value
    assert isinstance(plain, Value) and plain.data == 2.25
    assert mse([1.0, 2.0], [0.0, 0.0]).data == 2.5


@pytest.mark.parametrize(
    ("pred", "target"),
    [
        ([Value(1.0), Value(2.0)], [1.0]),
        ([Value(1.0)], [1.0, 2.0]),
        (Value(1.0), [1.0, 2.0]),
        ([], []),
    ],
    ids=["2-vs-1", "1-vs-2", "scalar-vs-2", "empty"],
)
def test_mse_rejects_mismatched_or_empty(pred, target):
    with pytest.raises(ValueError, match="mse"):
        mse(pred, target)


def test_one_logit_is_a_loss_of_zero():
    """A single class: softmax is 1, the loss 0 and its gradient 0 (PyTorch's answer too)."""
    x = Value(0.7)
    loss = cross_entropy([x], 0)
    loss.backward()
    assert (loss.data, x.grad) == (0.0, 0.0)
