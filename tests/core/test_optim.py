"""micrograd.optim: AdamW and SGD step for step against torch.optim in float64, plus the API.

Gradient source for the twins: every step our engine computes the gradient of the quadratic
f(p) = sum_i c_i (p_i - t_i)^2 at OUR parameters, and the very same floats are written into the
torch parameter's `.grad`. So the comparison isolates the optimizers' arithmetic.

Exactness: `micrograd.optim` evaluates each update op by op as torch's CPU kernels do. Torch's
kernels for this CPU's vector ISA (AVX2/AVX512, compiled with -mfma) fuse `a + alpha * b` into an
FMA, which plain Python floats cannot do; under ATEN_CPU_CAPABILITY=default (no FMA) the two are
bit-identical at every one of the 100 steps, for every configuration below. The subprocess test
asserts that; the in-process test uses whatever kernel torch picked and then allows rtol 1e-12
(measured worst case with AVX512: 8.4e-14 relative after 100 AdamW steps, 6e-15 for SGD).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from micrograd.engine import Value
from micrograd.optim import SGD, AdamW

C = [0.5, 1.3, 2.0, 0.8, 3.1]  # curvatures
T = [1.0, -2.0, 0.3, 4.0, -0.7]  # minimisers
P0 = [0.1, 0.5, -1.2, 2.2, 3.3]  # start (p_2 crosses zero on its way to t_2)
STEPS = 100

CONFIGS = {
    "adamw-chapter": ("AdamW", {"lr": 0.1, "betas": (0.9, 0.95), "eps": 1e-8,
                                "weight_decay": 1e-4}),
    "adamw-defaults": ("AdamW", {}),
    # beta1 = 0.3: lerp weight 1 - beta1 = 0.7 >= 0.5 takes the other branch of torch's lerp
    "adamw-beta1-0.3": ("AdamW", {"lr": 0.05, "betas": (0.3, 0.9), "eps": 1e-6,
                                  "weight_decay": 0.1}),
    "adamw-no-decay": ("AdamW", {"lr": 0.02, "betas": (0.8, 0.99), "weight_decay": 0.0}),
    "sgd": ("SGD", {"lr": 0.05}),
    "sgd-weight-decay": ("SGD", {"lr": 0.05, "weight_decay": 0.01}),
    "sgd-momentum": ("SGD", {"lr": 0.03, "momentum": 0.5}),
    "sgd-momentum-weight-decay": ("SGD", {"lr": 0.03, "momentum": 0.9, "weight_decay": 0.01}),
}
OURS = {"AdamW": AdamW, "SGD": SGD}
THEIRS = {"AdamW": torch.optim.AdamW, "SGD": torch.optim.SGD}

# When torch runs its FMA kernels: relative tolerance 1e-12 (worst measured 8.4e-14, so > 10x
# margin); atol 1e-14 (a few ulps of O(1) values) because p_2 passes through zero, where a
# relative comparison means nothing.
RTOL, ATOL = 1e-12, 1e-14


def _quadratic_backward(params: list[Value]) -> None:
    loss = None
    for p, c, t in zip(params, C, T):
        term = c * (p - t) ** 2
        loss = term if loss is None else loss + term
    loss.backward()


def _twin_trajectories(name: str) -> tuple[list[list[float]], list[list[float]]]:
    """Parameters after each of STEPS steps: ours, then torch's (one 5-element tensor)."""
    kind, kwargs = CONFIGS[name]
    ps = [Value(p) for p in P0]
    opt = OURS[kind](ps, **kwargs)
    tp = torch.tensor(P0, dtype=torch.float64, requires_grad=True)
    topt = THEIRS[kind]([tp], **kwargs)
    ours, theirs = [], []
    for _ in range(STEPS):
        _quadratic_backward(ps)
        tp.grad = torch.tensor([p.grad for p in ps], dtype=torch.float64)  # the same gradients
        opt.step()
        opt.zero_grad()
        topt.step()
        ours.append([p.data for p in ps])
        theirs.append(tp.detach().tolist())
    return ours, theirs


def _check_all_exact() -> None:
    """Run in a subprocess with ATEN_CPU_CAPABILITY=default (see the module docstring)."""
    cap = torch.backends.cpu.get_cpu_capability()
    assert cap == "DEFAULT", f"torch picked {cap} kernels; set ATEN_CPU_CAPABILITY=default"
    for name in CONFIGS:
        ours, theirs = _twin_trajectories(name)
        for step, (a, b) in enumerate(zip(ours, theirs)):
            assert [x.hex() for x in a] == [x.hex() for x in b], (name, step, a, b)
    print(f"exact: {len(CONFIGS)} configs x {STEPS} steps")


@pytest.mark.parametrize("name", list(CONFIGS))
def test_optimizer_tracks_torch_every_step(name):
    ours, theirs = _twin_trajectories(name)
    exact = torch.backends.cpu.get_cpu_capability() == "DEFAULT"  # no FMA: bit for bit
    for step, (a, b) in enumerate(zip(ours, theirs)):
        if exact:
            assert a == b, (step, a, b)
        else:
            torch.testing.assert_close(
                torch.tensor(a, dtype=torch.float64), torch.tensor(b, dtype=torch.float64),
                rtol=RTOL, atol=ATOL, msg=lambda m, s=step: f"step {s}: {m}",
            )
    # the run actually optimises: every parameter moved from its start toward its target
    assert all(abs(p - t) < abs(p0 - t) for p, p0, t in zip(ours[-1], P0, T))


def test_optimizers_match_torch_bit_for_bit_without_fma_kernels():
    tests_dir = Path(__file__).resolve().parent
    script = (
        f"import sys; sys.path.insert(0, {str(tests_dir)!r}); "
        "import test_optim; test_optim._check_all_exact()"
    )
    env = {**os.environ, "ATEN_CPU_CAPABILITY": "default"}
    proc = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"exact: {len(CONFIGS)} configs x {STEPS} steps" in proc.stdout


# ---- API ----------------------------------------------------------------------------------------


def test_defaults_match_torch():
    ours = AdamW([Value(1.0)])
    theirs = torch.optim.AdamW([torch.zeros(1, dtype=torch.float64)]).defaults
    assert ours.lr == theirs["lr"] == 1e-3
    assert ours.betas == tuple(theirs["betas"]) == (0.9, 0.999)
    assert ours.eps == theirs["eps"] == 1e-8
    assert ours.weight_decay == theirs["weight_decay"] == 1e-2
    sgd = SGD([Value(1.0)])
    theirs = torch.optim.SGD([torch.zeros(1, dtype=torch.float64)]).defaults
    assert (sgd.lr, sgd.momentum, sgd.weight_decay) == (
        theirs["lr"], theirs["momentum"], theirs["weight_decay"]
    )


def _train(params: list[Value], opt, steps: int) -> None:
    for _ in range(steps):
        _quadratic_backward(params)
        opt.step()
        opt.zero_grad()


ROUND_TRIP = [
    (AdamW, {"lr": 0.1, "betas": (0.9, 0.95), "eps": 1e-8, "weight_decay": 1e-4}),
    (SGD, {"lr": 0.03, "momentum": 0.9, "weight_decay": 0.01}),
]


@pytest.mark.parametrize(("cls", "kwargs"), ROUND_TRIP, ids=["AdamW", "SGD"])
def test_state_dict_json_round_trip_continues_bit_identically(cls, kwargs):
    ps = [Value(p) for p in P0]
    opt = cls(ps, **kwargs)
    _train(ps, opt, 10)
    saved = json.loads(json.dumps(opt.state_dict()))
    at_save = [p.data for p in ps]
    copies = [Value(x) for x in at_save]
    fresh = cls(copies)  # default hyper-parameters: load_state_dict must restore them all
    fresh.load_state_dict(saved)
    assert fresh.state_dict() == opt.state_dict()
    _train(ps, opt, 10)
    _train(copies, fresh, 10)
    assert [p.data.hex() for p in copies] == [p.data.hex() for p in ps]
    assert fresh.state_dict() == opt.state_dict()
    # control: without the load (fresh moments, default lr) the same 10 steps end elsewhere
    unloaded = [Value(x) for x in at_save]
    _train(unloaded, cls(unloaded), 10)
    assert [p.data for p in unloaded] != [p.data for p in ps]


def test_sgd_state_before_any_step_round_trips():
    ps = [Value(p) for p in P0]
    opt = SGD(ps, lr=0.1, momentum=0.9)
    saved = json.loads(json.dumps(opt.state_dict()))
    assert saved["momentum_buffer"] == [None] * len(P0)  # no buffer until the first step
    fresh = SGD([Value(p) for p in P0])
    fresh.load_state_dict(saved)
    assert fresh.state_dict() == opt.state_dict()


def test_load_state_dict_rejects_wrong_type_and_length():
    ps = [Value(p) for p in P0]
    adam, sgd = AdamW(ps), SGD(ps, momentum=0.9)
    with pytest.raises(ValueError, match="SGD"):
        adam.load_state_dict(sgd.state_dict())
    with pytest.raises(ValueError, match="AdamW"):
        sgd.load_state_dict(adam.state_dict())
    state = adam.state_dict()
    del state["type"]
    with pytest.raises(ValueError):
        adam.load_state_dict(state)
    short = AdamW(ps[:4]).state_dict()
    with pytest.raises(ValueError, match="4 exp_avg entries for 5 params"):
        adam.load_state_dict(short)
    longer = AdamW([*ps, Value(0.0)]).state_dict()
    with pytest.raises(ValueError, match="6"):
        adam.load_state_dict(longer)
    with pytest.raises(ValueError, match="momentum_buffer"):
        sgd.load_state_dict(SGD(ps[:2]).state_dict())
    # a rejected load leaves the optimizer as it was
    assert adam.state_dict() == AdamW(ps).state_dict()


NAN, INF = math.nan, math.inf


@pytest.mark.parametrize(
    ("cls", "kwargs"),
    [
        (AdamW, {"lr": NAN}),
        (AdamW, {"lr": -1e-3}),
        (AdamW, {"lr": INF}),
        (AdamW, {"lr": "0.1"}),
        (AdamW, {"lr": True}),
        (AdamW, {"betas": (1.0, 0.999)}),
        (AdamW, {"betas": (0.9, 1.0)}),
        (AdamW, {"betas": (0.9, 1.5)}),
        (AdamW, {"betas": (-0.1, 0.999)}),
        (AdamW, {"betas": (NAN, 0.999)}),
        (AdamW, {"eps": -1e-8}),
        (AdamW, {"weight_decay": -0.01}),
        (AdamW, {"weight_decay": NAN}),
        (SGD, {"lr": NAN}),
        (SGD, {"lr": -0.1}),
        (SGD, {"momentum": -0.9}),
        (SGD, {"momentum": INF}),
        (SGD, {"weight_decay": -1.0}),
    ],
    ids=lambda v: v.__name__ if isinstance(v, type) else repr(v),
)
def test_bad_hyper_parameters_raise(cls, kwargs):
    with pytest.raises(ValueError):
        cls([Value(1.0)], **kwargs)


@pytest.mark.parametrize("cls", [AdamW, SGD])
@pytest.mark.parametrize("empty", [[], (), iter([])], ids=["list", "tuple", "iterator"])
def test_empty_params_raise(cls, empty):
    with pytest.raises(ValueError, match="empty"):
        cls(empty)


@pytest.mark.parametrize("cls", [AdamW, SGD])
def test_zero_grad_zeroes_only_its_params(cls):
    ps = [Value(p) for p in P0]
    other = Value(1.0)
    _quadratic_backward(ps)
    other.grad = 5.0
    assert all(p.grad != 0.0 for p in ps)
    opt = cls(iter(ps))  # any iterable of Values
    opt.zero_grad()
    assert all(p.grad == 0.0 for p in ps)
    assert other.grad == 5.0


@pytest.mark.parametrize("cls", [AdamW, SGD])
def test_step_updates_the_values_in_place(cls):
    ps = [Value(p) for p in P0]
    ids = [id(p) for p in ps]
    opt = cls(ps, lr=0.1)
    _quadratic_backward(ps)
    opt.step()
    assert [id(p) for p in opt.params] == ids
    assert all(p.data != p0 for p, p0 in zip(ps, P0))


@pytest.mark.parametrize("betas", [(0.9, 0.95), (0.3, 0.999), (0.7, 0.5)])
def test_adamw_on_arrays_gives_the_float_loops_bits(monkeypatch, betas):
    """Wide models step AdamW on NumPy arrays: bit for bit the loop over floats, incl. inf/nan."""
    pytest.importorskip("numpy")
    import random

    import micrograd.optim as optim

    rng = random.Random(4)
    n = optim.VECTOR_MIN_PARAMS + 7
    start = [rng.uniform(-3, 3) for _ in range(n)]
    start[:4] = [0.0, -0.0, 1e-300, -5e300]
    runs = []
    for min_params in (optim.VECTOR_MIN_PARAMS, 10**9):  # arrays, then the float loop
        monkeypatch.setattr(optim, "VECTOR_MIN_PARAMS", min_params)
        params = [Value(x) for x in start]
        opt = optim.AdamW(params, lr=0.05, betas=betas, eps=1e-8, weight_decay=1e-2)
        grads = random.Random(9)
        for step in range(5):
            for p in params:
                p.grad = grads.uniform(-2, 2) * 10.0 ** grads.randint(-200, 200)
            params[5].grad = [0.0, math.inf, -math.inf, math.nan, 1e-320][step]
            opt.step()
        runs.append([x.hex() for x in [*(p.data for p in params), *opt.exp_avg,
                                       *opt.exp_avg_sq]])
        assert all(type(x) is float for x in opt.exp_avg)
    assert runs[0] == runs[1]
