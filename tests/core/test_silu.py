"""SiLU (x·σ(x), PyTorch's nn.SiLU) is one op in engine.py and one row of the settings' table of
activations; these tests hold every consumer to it: the op's value and derivative agree with
PyTorch float64 and with central finite differences on floats, NumPy arrays and Values (a second
derivative too); an MLP with SiLU hidden layers gets PyTorch's gradients and, after three AdamW
steps, PyTorch's weights on every engine (eager, tape, numpy, torch); the CLI, the bridge and the
page's list offer it."""

from __future__ import annotations

import json
import math

import pytest

from micrograd import backends, cli
from micrograd.data import RNG, make_gaussian
from micrograd.engine import SILU, Value, grad
from micrograd.nn import MLP, chapter_mlp
from micrograd.ops import FLOAT_MATH, numpy_math
from micrograd.optim import AdamW
from micrograd.settings import ACTIVATION, HIDDEN_ACTIVATIONS, settings_json
from micrograd.train import make_engine, train

torch = pytest.importorskip("torch")
F = torch.nn.functional

ENGINES = ["eager", "tape", "numpy", "torch"]
HYPER = {"lr": 0.1, "betas": (0.9, 0.95), "eps": 1e-8, "weight_decay": 1e-4}
XS = [-40.0, -8.0, -2.5, -1.2784645, -0.5, -1e-9, 0.0, 1e-9, 0.3, 1.0, 4.0, 40.0]


def torch_silu(x: float, order: int = 1) -> tuple[float, float]:
    """(silu(x), its `order`-th derivative) from PyTorch float64 autograd."""
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    y = F.silu(t)
    d = y
    for _ in range(order):
        (d,) = torch.autograd.grad(d, t, create_graph=True)
    return y.item(), d.item()


def central(f, x: float, h: float = 1e-6) -> float:
    return (f(x + h) - f(x - h)) / (2 * h)


@pytest.mark.parametrize("x", XS)
def test_the_op_is_pytorchs_silu_on_floats(x):
    v = Value(x)
    y = v.silu()
    y.backward()
    want, slope = torch_silu(x)
    assert y.data == pytest.approx(want, rel=1e-15, abs=1e-300)
    assert v.grad == pytest.approx(slope, rel=1e-14, abs=1e-300)
    assert v.grad == pytest.approx(central(lambda t: SILU.forward(FLOAT_MATH, t), x),
                                   rel=1e-6, abs=1e-8)


@pytest.mark.parametrize("x", XS)
def test_its_derivative_as_a_graph_gives_pytorchs_second_derivative(x):
    v = Value(x)
    (g,) = grad(v.silu(), v, create_graph=True)
    (g2,) = grad(g, v)
    assert g2 == pytest.approx(torch_silu(x, order=2)[1], rel=1e-12, abs=1e-15)


def test_the_same_rule_runs_on_numpy_arrays():
    np = pytest.importorskip("numpy")
    m = numpy_math()
    x = np.array(XS)
    out = SILU.forward(m, x)
    (local,) = SILU.local(m, out, x)
    for i, xi in enumerate(XS):
        want = SILU.forward(FLOAT_MATH, xi)
        assert out[i] == pytest.approx(want, rel=1e-15, abs=1e-300)
        assert local[i] == pytest.approx(SILU.local(FLOAT_MATH, want, xi)[0], rel=1e-15,
                                         abs=1e-300)


def silu_model_and_data(seed: int = 7):
    rng = RNG(seed)
    train_split, val_split, _ = make_gaussian(rng, 40, noise=0.4)
    model = chapter_mlp([2, 6, 5, 2], "silu", rng=rng)
    return model, train_split, val_split


def torch_flat(module) -> list:
    """A torch Sequential's parameters in our order: per layer, each neuron's weights then bias."""
    out = []
    for layer in module:
        if isinstance(layer, torch.nn.Linear):
            out += torch.cat([layer.weight, layer.bias[:, None]], 1).reshape(-1).tolist()
    return out


def torch_grads(model, X, Y) -> list[float]:
    module = model.to_torch()
    loss = F.cross_entropy(module(torch.tensor(X, dtype=torch.float64)), torch.tensor(Y))
    loss.backward()
    out = []
    for layer in module:
        if isinstance(layer, torch.nn.Linear):
            out += torch.cat([layer.weight.grad, layer.bias.grad[:, None]], 1).reshape(-1).tolist()
    return out


def engine_grads(engine, name: str, model) -> list[float]:
    return engine.p.grad.tolist() if name == "torch" else [p.grad for p in model.parameters()]


@pytest.mark.parametrize("name", ENGINES)
def test_an_mlp_with_silu_gets_pytorchs_gradients_and_finite_differences(name):
    if not backends.installed(name):
        pytest.skip(f"{name} is not installed here")
    model, tr, _ = silu_model_and_data()
    assert model.to_torch()[1].__class__ is torch.nn.SiLU  # the table's torch name
    X, Y = [x for x, _ in tr], [y for _, y in tr]
    engine = make_engine(name, model, 2, AdamW(model.parameters(), **HYPER))
    engine.loss_and_backward(X, Y)
    ours = engine_grads(engine, name, model)
    assert ours == pytest.approx(torch_grads(model, X, Y), rel=1e-10, abs=1e-13)
    params = model.parameters()
    for k in range(0, len(params), 7):  # central differences of the engine's own loss
        p, h, keep = params[k], 1e-6, params[k].data
        losses = []
        for x in (keep + h, keep - h):
            p.data = x
            engine.reload()
            losses.append(engine.loss(X, Y))
        p.data = keep
        engine.reload()
        assert ours[k] == pytest.approx((losses[0] - losses[1]) / (2 * h), rel=1e-5, abs=1e-8)


@pytest.mark.parametrize("name", ENGINES)
def test_an_mlp_with_silu_trained_three_steps_has_pytorchs_weights(name):
    if not backends.installed(name):
        pytest.skip(f"{name} is not installed here")
    model, tr, va = silu_model_and_data()
    module = model.to_torch()
    opt = torch.optim.AdamW(module.parameters(), **HYPER)
    X = torch.tensor([x for x, _ in tr], dtype=torch.float64)
    Y = torch.tensor([y for _, y in tr])
    for _ in range(3):
        opt.zero_grad()
        F.cross_entropy(module(X), Y).backward()
        opt.step()
    train(model, AdamW(model.parameters(), **HYPER), tr, va, steps=3, engine=name,
          log=lambda line: None)
    assert [p.data for p in model.parameters()] == pytest.approx(torch_flat(module), rel=1e-10,
                                                                 abs=1e-13)


def test_the_bridge_reads_torchs_silu_back():
    module = chapter_mlp([2, 4, 3], "silu", rng=RNG(3)).to_torch()
    back = MLP.from_torch(module)
    assert back.activation == "silu" and str(back.layers[0].neurons[0]).startswith("SiLU")


def test_the_cli_and_the_page_offer_silu(tmp_path, capsys):
    assert ACTIVATION["silu"].torch == "SiLU" and "silu" in HIDDEN_ACTIVATIONS
    page = json.loads(settings_json())["settings"]["activation"]
    assert "silu" in page["choices"] and page["labels"]["silu"] == "SiLU"
    code = cli.main(["train", "--activation", "silu", "--steps", "3", "--no-plot", "--quiet",
                     "--out", str(tmp_path / "run")])
    assert code == 0
    saved = json.loads((tmp_path / "run" / "checkpoint.json").read_text())
    assert saved["model"]["activation"] == "silu"
    assert all(math.isfinite(w) for w in saved["model"]["weights"])
