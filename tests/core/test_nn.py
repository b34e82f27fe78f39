"""micrograd.nn: MLP forward/backward vs a PyTorch float64 twin, initialisation, API, errors."""

from __future__ import annotations

import itertools
import math
import random

import numpy as np
import pytest
import torch

from micrograd.data import RNG
from micrograd.engine import Value
from micrograd.nn import MLP, Layer, Module, Neuron, chapter_mlp

ARCHS = [
    (2, [16, 3]),  # the chapter's model
    (2, [8, 8, 2]),
    (2, [16, 1, 1]),  # a one-neuron hidden layer feeding the next layer
    (3, [4, 1]),  # one output: a bare Value
    (2, [5]),  # no hidden layer: a purely linear model
]
ACTIVATIONS = ["tanh", "relu", "sigmoid", "linear"]

# Forward values and parameter grads vs torch: rtol 1e-10 / atol 1e-12. The two sides add the
# terms of w·x + b in different orders (we go b + w0 x0 + w1 x1 ... left to right, torch's matmul
# does its own order) and use different tanh/sigmoid/exp implementations, so they differ by a few
# ulps per op and a few ops compound that over 2-3 layers (measured: < 1e-14 relative). Any
# formula error (a wrong local derivative, a missed accumulation) shows up at 1e-3 or more.
RTOL, ATOL = 1e-10, 1e-12


def _count(sizes: list[int]) -> int:
    return sum((nin + 1) * nout for nin, nout in itertools.pairwise(sizes))


def _as_list(out):
    return [out] if isinstance(out, Value) else out


@pytest.fixture
def restore_random_state():
    """Tests that seed the global `random` module must leave it as they found it."""
    state = random.getstate()
    yield
    random.setstate(state)


# ---- forward and backward vs PyTorch ------------------------------------------------------------


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "unfused"])
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize(("nin", "nouts"), ARCHS, ids=lambda a: str(a))
def test_mlp_forward_and_grads_match_torch(nin, nouts, activation, fused, torch_mlp):
    rng = RNG(2024)
    model = MLP(nin, nouts, activation=activation, rng=rng, fused=fused)
    # nonzero biases, so a bias that is ignored or misplaced in the forward pass is caught
    for p in model.parameters():
        if p.data == 0.0:
            p.data = rng.uniform(-0.5, 0.5)
    twin = torch_mlp(model, activation)

    batch = [[rng.uniform(-2, 2) for _ in range(nin)] for _ in range(5)]
    targets = [[rng.uniform(-1, 1) for _ in range(nouts[-1])] for _ in batch]

    # ours: a scalar loss sum_n sum_k (o_nk - t_nk)^2 over a batch, so grads accumulate across
    # samples; inputs are Values so their grads can be compared as well
    xs = [[Value(v) for v in x] for x in batch]
    outs = [_as_list(model(x)) for x in xs]
    loss = None
    for out, tgt in zip(outs, targets):
        for o, t in zip(out, tgt):
            term = (o - t) ** 2
            loss = term if loss is None else loss + term
    loss.backward()

    x_t = torch.tensor(batch, dtype=torch.float64, requires_grad=True)
    logits_t = twin(x_t)
    loss_t = ((logits_t - torch.tensor(targets, dtype=torch.float64)) ** 2).sum()
    loss_t.backward()

    ours_logits = torch.tensor([[o.data for o in out] for out in outs], dtype=torch.float64)
    torch.testing.assert_close(ours_logits, logits_t.detach(), rtol=RTOL, atol=ATOL)
    torch.testing.assert_close(
        torch.tensor(loss.data, dtype=torch.float64), loss_t.detach(), rtol=RTOL, atol=ATOL
    )
    ours_grads = torch.tensor([p.grad for p in model.parameters()], dtype=torch.float64)
    theirs = torch.tensor(twin.grads_in_our_order(), dtype=torch.float64)
    assert ours_grads.shape == theirs.shape == (_count([nin, *nouts]),)
    torch.testing.assert_close(ours_grads, theirs, rtol=RTOL, atol=ATOL)
    ours_xgrads = torch.tensor([[v.grad for v in x] for x in xs], dtype=torch.float64)
    torch.testing.assert_close(ours_xgrads, x_t.grad, rtol=RTOL, atol=ATOL)


def test_plain_float_inputs_give_the_same_output_as_value_inputs():
    model = MLP(2, [16, 3], rng=RNG(5))
    a = [o.data for o in model([0.25, -1.5])]
    b = [o.data for o in model([Value(0.25), Value(-1.5)])]
    assert a == b  # same ops on the same numbers: bit-identical


def test_numpy_float64_inputs_work():
    model = MLP(2, [16, 3], rng=RNG(5))
    ref = [o.data for o in model([0.25, -1.5])]
    for x in (np.array([0.25, -1.5]), [np.float64(0.25), np.float64(-1.5)]):
        out = model(x)
        assert [o.data for o in out] == ref
        assert all(type(o.data) is float for o in out)  # numpy scalars do not leak into the graph
        out[0].backward()
        assert any(p.grad != 0.0 for p in model.parameters())
        model.zero_grad()


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_fused_and_unfused_neurons_compute_the_same_floats(activation):
    # the fused w·x+b node adds in the unfused chain's order: the forward is the same float
    fused = MLP(2, [8, 8, 3], activation=activation, rng=RNG(4), fused=True)
    chain = MLP(2, [8, 8, 3], activation=activation, rng=RNG(4))  # 0.1.0's chain: the default
    for x in ([0.3, -1.7], [1.9, 0.05], [-0.4, -0.6]):
        a, b = fused(x), chain(x)
        assert [o.data for o in a] == [o.data for o in b]
        (a[0] + a[1] * a[2]).backward()
        (b[0] + b[1] * b[2]).backward()
    # grads: the same local derivatives (x_i, w_i, 1) and the same topological order of the
    # consumers of each hidden unit, so the accumulated grads are bit-identical too (measured).
    # If a change of graph traversal ever reorders the accumulation, expect ulp-level differences
    # here first (and in the chapter's log's train losses).
    assert [p.grad for p in fused.parameters()] == [p.grad for p in chain.parameters()]


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize(("nin", "nouts"), ARCHS, ids=lambda a: str(a))
def test_predict_equals_the_value_forward_bit_for_bit(nin, nouts, activation):
    model = MLP(nin, nouts, activation=activation, rng=RNG(8))
    rng = RNG(9)
    for _ in range(5):
        x = [rng.uniform(-3, 3) for _ in range(nin)]
        assert model.predict(x) == [o.data for o in _as_list(model(x))]


# ---- initialisation -----------------------------------------------------------------------------


def _weights(model: MLP) -> list[list[list[float]]]:
    return [[[w.data for w in n.w] for n in layer.neurons] for layer in model.layers]


def _replay(draw, sizes: list[int], scaled: bool) -> list[list[list[float]]]:
    """Weights drawn neuron by neuron, weight by weight, layer by layer; bias draws none."""
    return [
        [[draw(-1, 1) * (nin**-0.5 if scaled else 1.0) for _ in range(nin)] for _ in range(nout)]
        for nin, nout in itertools.pairwise(sizes)
    ]


@pytest.mark.parametrize(("nin", "nouts"), ARCHS, ids=lambda a: str(a))
def test_chapter_init_is_scaled_uniform_drawn_in_order(nin, nouts):
    rng = RNG(7)
    model = MLP(nin, nouts, init="scaled", rng=rng)
    replay = RNG(7)
    sizes = [nin, *nouts]
    assert _weights(model) == _replay(replay.uniform, sizes, scaled=True)  # exact: same formula
    assert all(n.b.data == 0.0 for layer in model.layers for n in layer.neurons)
    # exactly one draw per weight: both generators are now at the same point of the stream
    assert rng.random_u32() == replay.random_u32()
    for layer, fan_in in zip(model.layers, sizes):
        assert all(abs(w.data) <= fan_in**-0.5 for n in layer.neurons for w in n.w)


def test_init_uniform_is_karpathy_micrograd_010(restore_random_state):
    # micrograd 0.1.0: Neuron.w = [Value(random.uniform(-1, 1)) for _ in range(nin)], b = 0
    random.seed(1337)
    model = MLP(2, [16, 16, 1], init="uniform")
    expected = _replay(random.Random(1337).uniform, [2, 16, 16, 1], scaled=False)
    assert _weights(model) == expected
    assert max(abs(w) for layer in expected for n in layer for w in n) > 0.5**0.5  # unscaled
    assert all(n.b.data == 0.0 for layer in model.layers for n in layer.neurons)
    with_rng = MLP(2, [16, 16, 1], init="uniform", rng=RNG(3))
    assert _weights(with_rng) == _replay(RNG(3).uniform, [2, 16, 16, 1], scaled=False)


def test_rng_omitted_uses_the_random_module(restore_random_state):
    random.seed(1337)
    a = MLP(2, [16, 3])
    random.seed(1337)
    b = MLP(2, [16, 3])
    assert _weights(a) == _weights(b)
    assert _weights(a) == _replay(random.Random(1337).uniform, [2, 16, 3], scaled=False)
    random.seed(1338)
    assert _weights(MLP(2, [16, 3])) != _weights(a)


def test_unknown_init_is_rejected():
    with pytest.raises(ValueError, match="init"):
        MLP(2, [3], init="kaiming", rng=RNG(1))


# ---- structure and API --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("nin", "nouts"), [*ARCHS, (1, [1]), (7, [3, 5, 2, 4])], ids=lambda a: str(a)
)
def test_parameter_count_and_order(nin, nouts):
    model = MLP(nin, nouts, rng=RNG(1))
    params = model.parameters()
    assert len(params) == _count([nin, *nouts])
    assert len({id(p) for p in params}) == len(params)  # no parameter listed twice
    expected = [p for layer in model.layers for n in layer.neurons for p in [*n.w, n.b]]
    assert all(p is q for p, q in zip(params, expected))
    assert model.sizes == [nin, *nouts]


def test_chapter_model_has_99_parameters():
    assert len(MLP(2, [16, 3], rng=RNG(42)).parameters()) == 3 * 16 + 17 * 3 == 99


def test_zero_grad_zeroes_every_parameter():
    model = MLP(2, [8, 8, 2], activation="tanh", rng=RNG(9))  # tanh: no unit is dead
    out = model([0.5, -0.3])
    (out[0] * out[1] + out[0]).backward()
    assert sum(p.grad != 0.0 for p in model.parameters()) > len(model.parameters()) // 2
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())
    layer = model.layers[0]
    layer.neurons[0].w[0].grad = 3.0
    layer.zero_grad()
    assert layer.neurons[0].w[0].grad == 0.0
    assert Module().parameters() == []


def test_last_layer_with_one_neuron_returns_bare_value():
    out = MLP(2, [4, 1], rng=RNG(1))([0.1, 0.2])
    assert isinstance(out, Value)
    multi = MLP(2, [4, 2], rng=RNG(1))([0.1, 0.2])
    assert isinstance(multi, list) and len(multi) == 2


def test_one_neuron_hidden_layer_forward_and_backward():
    model = MLP(2, [16, 1, 1], rng=RNG(11))
    out = model([0.7, -1.1])
    assert isinstance(out, Value)
    out.backward()
    # by hand: the last neuron is linear in the single hidden unit h, so d out / d b_last = 1 and
    # d out / d w_last = h
    last = model.layers[-1].neurons[0]
    hidden = model.layers[1](model.layers[0]([0.7, -1.1])).data  # a one-neuron layer: bare
    assert last.b.grad == 1.0
    assert last.w[0].grad == hidden
    assert any(p.grad != 0.0 for p in model.layers[0].parameters())


def test_layer_returns_bare_value_for_one_neuron_and_forward_always_a_list():
    layer = Layer(2, 1, rng=RNG(1))
    assert isinstance(layer([1.0, 2.0]), Value)
    out = layer.forward([Value(1.0), Value(2.0)])  # forward takes a checked list of Values
    assert isinstance(out, list) and len(out) == 1 and out[0].data == layer([1.0, 2.0]).data
    assert len(Layer(2, 3, rng=RNG(1))([1.0, 2.0])) == 3


def test_neuron_computes_act_of_w_dot_x_plus_b():
    n = Neuron(2, activation="tanh", rng=RNG(1))
    n.w[0].data, n.w[1].data, n.b.data = 0.5, -2.0, 0.25
    assert n([1.0, 0.5]).data == math.tanh(-0.25)  # 0.25 + 0.5 - 1.0 is exact, same libm tanh
    lin = Neuron(2, nonlin=False, rng=RNG(1))
    lin.w[0].data, lin.w[1].data = 3.0, 4.0
    assert lin([1.0, 2.0]).data == 11.0  # exact small integers
    one = Neuron(1, activation="relu", rng=RNG(1))
    one.w[0].data = -1.0
    assert one(2.0).data == 0.0  # a single input may be passed bare


def test_repr_strings():
    model = MLP(2, [16, 3], activation="tanh", rng=RNG(1))
    hidden = "Layer of [" + ", ".join(["TanhNeuron(2)"] * 16) + "]"
    out = "Layer of [" + ", ".join(["LinearNeuron(16)"] * 3) + "]"
    assert repr(model) == f"MLP of [{hidden}, {out}]"
    assert repr(MLP(3, [2, 1], rng=RNG(1))) == (  # 0.1.0's default: ReLU
        "MLP of [Layer of [ReLUNeuron(3), ReLUNeuron(3)], Layer of [LinearNeuron(2)]]"
    )
    assert repr(Neuron(4, activation="sigmoid", rng=RNG(1))) == "SigmoidNeuron(4)"


# ---- micrograd 0.1.0's defaults ----------------------------------------------------------------


def test_defaults_are_micrograd_010s(restore_random_state):
    """ReLU, unscaled uniform(-1, 1), bias 0, and the chain of `*` and `+` nodes."""
    random.seed(1337)
    n = Neuron(2)
    expected = random.Random(1337)
    assert [w.data for w in n.w] == [expected.uniform(-1, 1), expected.uniform(-1, 1)]
    assert (n.b.data, n.nonlin, n.activation, n.fused) == (0.0, True, "relu", False)
    out = n([Value(1.0), Value(-2.0)])
    ops = sorted(v._op for v in out.topo() if v._prev)
    assert ops == ["*", "*", "+", "+", "ReLU"]  # 10 values and 5 ops, as 0.1.0 draws it
    assert len(out.topo()) == 10
    # b + w0 x0 + w1 x1, added left to right: the float 0.1.0's sum(..., self.b) computes
    act = (n.b.data + n.w[0].data * 1.0) + n.w[1].data * -2.0
    assert out.data == max(act, 0.0)
    assert repr(MLP(2, [16, 16, 1])).startswith("MLP of [Layer of [ReLUNeuron(2), ")


def test_nonlin_is_read_at_every_call():
    """The lecture flips `neuron.nonlin`; the next call must honour it, and the repr follows."""
    n = Neuron(2, rng=RNG(1))
    n.w[0].data, n.w[1].data = -1.0, -1.0
    assert n([1.0, 1.0]).data == 0.0 and repr(n) == "ReLUNeuron(2)"
    n.nonlin = False
    assert n([1.0, 1.0]).data == -2.0 and repr(n) == "LinearNeuron(2)"
    assert n.predict([1.0, 1.0]) == -2.0 and n.activation == "linear"
    n.nonlin = True
    assert n([1.0, 1.0]).data == 0.0


def test_activation_can_be_set_by_name():
    n = Neuron(2, rng=RNG(1))
    n.activation = "tanh"
    assert (repr(n), n.nonlin) == ("TanhNeuron(2)", True)
    n.activation = "linear"
    assert (repr(n), n.nonlin) == ("LinearNeuron(2)", False)
    n.nonlin = True
    assert repr(n) == "TanhNeuron(2)"  # the non-linearity was kept
    with pytest.raises(ValueError, match="unknown activation"):
        n.activation = "gelu"


def test_chapter_mlp_is_the_chapters_model():
    a = chapter_mlp([2, 16, 3], rng=RNG(42))
    b = MLP(2, [16, 3], activation="tanh", init="scaled", fused=True, rng=RNG(42))
    assert _weights(a) == _weights(b)
    assert repr(a).startswith("MLP of [Layer of [TanhNeuron(2), ")
    assert a([0.5, -0.5])[0]._op == "w·x+b"
    with pytest.raises(ValueError, match="sizes"):
        chapter_mlp([2])


# ---- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("x", "got"), [([1.0, 2.0, 3.0], 3), ([1.0], 1), ([], 0)])
def test_wrong_input_length_names_expected_and_got(x, got):
    model = MLP(2, [16, 3], rng=RNG(1))
    with pytest.raises(ValueError, match=rf"expects 2 inputs, got {got}\b"):
        model(x)


@pytest.mark.parametrize(
    "make",
    [
        lambda: MLP(2, []),
        lambda: MLP(2, ()),
        lambda: MLP(2, 3),
        lambda: MLP(2, [16, 0]),
        lambda: MLP(0, [3]),
        lambda: MLP(2, [3], activation="gelu"),
        lambda: Neuron(0),
        lambda: Neuron(-1),
        lambda: Neuron(2.0),
        lambda: Neuron(True),
        lambda: Neuron(2, activation="softmax"),
        lambda: Layer(2, 0),
    ],
    ids=[
        "mlp-empty-list", "mlp-empty-tuple", "mlp-int-nouts", "mlp-zero-layer", "mlp-nin-0",
        "mlp-unknown-act", "neuron-0", "neuron-neg", "neuron-float", "neuron-bool",
        "neuron-unknown-act", "layer-nout-0",
    ],
)
def test_bad_construction_raises_value_error(make):
    with pytest.raises(ValueError):
        make()
