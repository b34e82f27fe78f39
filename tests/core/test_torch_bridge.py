"""MLP.to_torch() / MLP.from_torch(): the same network in PyTorch, and back."""

import pytest
import torch

from micrograd.data import RNG
from micrograd.engine import Value
from micrograd.nn import MLP, chapter_mlp

# Linear layers sum w·x in another order (addmm) than our left-to-right neuron: equal to a few
# ulps, so 1e-13 relative / 1e-15 absolute on outputs of size ~1.
RTOL, ATOL = 1e-13, 1e-15


@pytest.mark.parametrize(("sizes", "activation"), [([16, 3], "tanh"), ([8, 8, 2], "relu"),
                                                   ([4, 1, 1], "sigmoid"), ([3], "tanh")])
def test_to_torch_gives_the_same_outputs_and_grads(sizes, activation):
    model = chapter_mlp([2, *sizes], activation, rng=RNG(5))
    net = model.to_torch()
    assert all(p.dtype == torch.float64 for p in net.parameters())
    rng = RNG(11)
    for _ in range(20):
        x = [rng.uniform(-2, 2), rng.uniform(-2, 2)]
        ours = model.predict(x)
        theirs = net(torch.tensor([x], dtype=torch.float64))[0].tolist()
        for a, b in zip(ours, theirs):
            assert abs(a - b) <= ATOL + RTOL * abs(b)
    # gradients of the summed outputs agree too
    x = [0.3, -0.7]
    out = model([Value(v) for v in x])
    total = Value.sum(out if isinstance(out, list) else [out])
    total.backward()
    net(torch.tensor([x], dtype=torch.float64)).sum().backward()
    ours = [p.grad for p in model.parameters()]
    theirs = []
    linears = [m for m in net if isinstance(m, torch.nn.Linear)]
    for lin in linears:
        for row, b in zip(lin.weight.grad.tolist(), lin.bias.grad.tolist()):
            theirs += [*row, b]
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert abs(a - b) <= 1e-12 + 1e-12 * abs(b)


def test_round_trip_is_exact():
    model = chapter_mlp([3, 5, 4], "relu", rng=RNG(2))
    back = MLP.from_torch(model.to_torch())
    assert back.sizes == model.sizes and back.activation == "relu"
    assert [p.data.hex() for p in back.parameters()] == [p.data.hex() for p in model.parameters()]


def test_from_torch_reads_a_module_trained_in_torch():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(2, 6), torch.nn.Tanh(), torch.nn.Linear(6, 3))
    model = MLP.from_torch(net)  # float32 weights are widened exactly to float64
    x = [0.25, -1.5]
    expected = net.double()(torch.tensor([x], dtype=torch.float64))[0].tolist()
    for a, b in zip(model.predict(x), expected):
        assert abs(a - b) <= ATOL + RTOL * abs(b)


@pytest.mark.parametrize("module", [
    torch.nn.Sequential(torch.nn.Conv1d(1, 1, 1)),
    torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Tanh(), torch.nn.Linear(3, 3),
                        torch.nn.ReLU(), torch.nn.Linear(3, 1)),
    torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Tanh()),
    torch.nn.Sequential(),
])
def test_from_torch_rejects_what_an_mlp_cannot_hold(module):
    with pytest.raises(ValueError, match="from_torch"):
        MLP.from_torch(module)
