"""The tape: replaying a recorded graph gives the same bits as eager autograd, step after step."""

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from micrograd.data import RNG, gen_data, make_spiral
from micrograd.engine import Value
from micrograd.nn import chapter_mlp
from micrograd.optim import AdamW
from micrograd.tape import BatchTape, Tape
from micrograd.train import EagerEngine, mean_loss, train


def chapter_setup(seed=42, sizes=(16, 3), activation="tanh", data=gen_data, n=100):
    rng = RNG(seed)
    tr, va, _ = data(rng, n)
    model = chapter_mlp([2, *sizes], activation, rng=rng)
    opt = AdamW(model.parameters(), lr=0.1, betas=(0.9, 0.95), eps=1e-8, weight_decay=1e-4)
    return tr, va, model, opt


def bits(values):
    return [float(v).hex() for v in values]


def test_full_graph_tape_replays_eager_bit_for_bit_over_100_steps():
    """Tape(loss) of the chapter's full-batch graph vs eager, with AdamW updating the leaves."""
    tr, _, eager_model, eager_opt = chapter_setup()
    _, _, taped_model, taped_opt = chapter_setup()
    tape = Tape(mean_loss(taped_model, tr))
    for _ in range(100):
        loss = mean_loss(eager_model, tr)
        loss.backward()
        replayed = tape.forward()
        tape.backward()
        assert replayed.hex() == loss.data.hex()
        assert bits(p.grad for p in taped_model.parameters()) == \
            bits(p.grad for p in eager_model.parameters())
        for opt in (eager_opt, taped_opt):
            opt.step()
            opt.zero_grad()
    assert bits(p.data for p in taped_model.parameters()) == \
        bits(p.data for p in eager_model.parameters())


@pytest.mark.parametrize(("activation", "sizes"), [("tanh", (16, 3)), ("relu", (8, 8, 3)),
                                                   ("sigmoid", (4, 1, 3))])
def test_batch_tape_equals_eager_bit_for_bit(activation, sizes):
    """The per-sample tape over a batch gives eager's loss and grads exactly, for 30 steps."""
    tr, _, m_eager, o_eager = chapter_setup(sizes=sizes, activation=activation,
                                          data=make_spiral, n=60)
    _, _, m_tape, o_tape = chapter_setup(sizes=sizes, activation=activation, data=make_spiral, n=60)
    X, Y = [x for x, _ in tr], [y for _, y in tr]
    eager, tape = EagerEngine(m_eager), BatchTape(m_tape, 2)
    for _ in range(30):
        a = eager.loss_and_backward(X, Y)
        b = tape.loss_and_backward(X, Y)
        assert a.hex() == b.hex()
        assert bits(p.grad for p in m_tape.parameters()) == \
            bits(p.grad for p in m_eager.parameters())
        assert eager.loss(X[:7], Y[:7]).hex() == tape.loss(X[:7], Y[:7]).hex()
        for opt in (o_eager, o_tape):
            opt.step()
            opt.zero_grad()


def test_numpy_tape_matches_eager_within_1e12():
    pytest.importorskip("numpy")
    tr, _, m_eager, o_eager = chapter_setup()
    _, _, m_np, o_np = chapter_setup()
    X, Y = [x for x, _ in tr], [y for _, y in tr]
    eager, vec = EagerEngine(m_eager), BatchTape(m_np, 2, backend="numpy")
    for _ in range(50):
        a = eager.loss_and_backward(X, Y)
        b = vec.loss_and_backward(X, Y)
        # numpy sums pairwise and its exp/tanh may differ by an ulp: 1e-12 relative (the log's)
        assert abs(a - b) <= 1e-12 * abs(a)
        for pe, pn in zip(m_eager.parameters(), m_np.parameters()):
            assert abs(pe.grad - pn.grad) <= 1e-10 * abs(pe.grad) + 1e-15
        for opt in (o_eager, o_np):
            opt.step()
            opt.zero_grad()


@pytest.mark.parametrize("engine", ["eager", "tape", "numpy"])
def test_every_engine_reproduces_the_chapter_log(engine, chapter_log_path):
    if engine == "numpy":
        pytest.importorskip("numpy")
    tr, va, model, opt = chapter_setup()
    lines = []
    train(model, opt, tr, va, steps=100, eval_every=10, log=lines.append, engine=engine)
    ref = chapter_log_path.read_text().splitlines()
    assert len(lines) == len(ref)
    for ours, theirs in zip(lines, ref):
        if "val loss" in ours:
            assert ours == theirs
        else:
            a, b = float(ours.split()[-1]), float(theirs.split()[-1])
            assert abs(a - b) <= 1e-12 * abs(b), (ours, theirs)


def test_eager_and_tape_runs_print_identical_logs():
    logs = []
    for engine in ("eager", "tape"):
        tr, va, model, opt = chapter_setup()
        lines = []
        train(model, opt, tr, va, steps=30, log=lines.append, engine=engine)
        logs.append(lines)
    assert logs[0] == logs[1]


@pytest.mark.parametrize("engine", ["eager", "tape", "numpy"])
def test_mini_batches_work_with_every_engine_and_are_deterministic(engine):
    if engine == "numpy":
        pytest.importorskip("numpy")
    runs = []
    for _ in range(2):
        rng = RNG(7)
        tr, va, _ = gen_data(rng, 200)
        model = chapter_mlp([2, 8, 3], rng=rng)
        opt = AdamW(model.parameters(), lr=0.05)
        lines = []
        result = train(model, opt, tr, va, steps=40, eval_every=10, log=lines.append,
                       engine=engine, batch_size=16, rng=rng)
        runs.append(lines)
    assert runs[0] == runs[1]
    assert result.history.train_loss[-1] < result.history.train_loss[0]


def test_mini_batch_tape_equals_mini_batch_eager():
    logs = []
    for engine in ("eager", "tape"):
        rng = RNG(9)
        tr, va, _ = gen_data(rng, 100)
        model = chapter_mlp([2, 8, 3], rng=rng)
        lines = []
        train(model, AdamW(model.parameters(), lr=0.05), tr, va, steps=20, log=lines.append,
              engine=engine, batch_size=10, rng=rng)
        logs.append(lines)
    assert logs[0] == logs[1]


def test_tape_recomputes_the_data_dependent_max():
    """The max subtracted in cross_entropy is a node: a replay with new logits must move it."""
    x = [Value(1.0), Value(3.0), Value(-2.0)]
    from micrograd.losses import cross_entropy

    tape = Tape(cross_entropy(x, 2))
    for values in ([5.0, -1.0, 2.0], [0.0, 0.0, 800.0], [-700.0, 10.0, -600.0]):
        for v, d in zip(x, values):
            v.data = d
            v.grad = 0.0
        replayed = tape.forward()
        tape.backward()
        fresh_x = [Value(d) for d in values]
        fresh = cross_entropy(fresh_x, 2)
        fresh.backward()
        assert replayed == fresh.data and math.isfinite(replayed)
        assert [v.grad for v in x] == [v.grad for v in fresh_x]


OPS = ["+", "*", "-", "/", "tanh", "exp", "relu", "sigmoid", "sq", "log1p2"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(OPS), st.integers(0, 100), st.integers(0, 100)),
                min_size=1, max_size=12),
       st.lists(st.floats(-3, 3), min_size=3, max_size=3))
def test_tape_equals_eager_on_random_graphs(program, leaves_data):
    """Any graph of the engine's ops replays to the same bits, also after the leaves change."""
    def build(leaves):
        nodes = list(leaves)
        for op, i, j in program:
            a, b = nodes[i % len(nodes)], nodes[j % len(nodes)]
            if op == "+":
                out = a + b
            elif op == "*":
                out = a * b
            elif op == "-":
                out = a - b
            elif op == "/":
                out = a / (b * b + 1.0)
            elif op == "sq":
                out = a**2
            elif op == "log1p2":
                out = (a * a + 1.0).log()
            elif op == "exp":
                out = a.tanh().exp()
            else:
                out = getattr(a, op)()
            nodes.append(out)
        return nodes[-1]

    leaves = [Value(v) for v in leaves_data]
    root = build(leaves)
    if not root._prev:
        return
    tape = Tape(root)
    shifted = [v + 0.25 for v in leaves_data]
    for leaf, v in zip(leaves, shifted):
        leaf.data = v
    replayed = tape.forward()
    tape.backward()
    fresh = [Value(v) for v in shifted]
    eager = build(fresh)
    eager.backward()
    assert replayed.hex() == eager.data.hex()
    assert bits(v.grad for v in leaves) == bits(v.grad for v in fresh)


def test_tape_source_is_readable_python():
    a, b = Value(2.0), Value(-3.0)
    tape = Tape((a * b).tanh())
    assert "def forward(d):" in tape.source and "_tanh(" in tape.source
    assert "g[0] +=" in tape.source  # a chain-rule line per edge
    tape.sync()


def test_batch_tape_handles_10000_points_in_constant_memory():
    rng = RNG(1)
    model = chapter_mlp([2, 4, 3], rng=rng)
    tape = BatchTape(model, 2)
    X = [[random.Random(i).uniform(-2, 2), 0.5] for i in range(10_000)]
    Y = [i % 3 for i in range(10_000)]
    loss = tape.loss_and_backward(X, Y)
    assert math.isfinite(loss) and any(p.grad != 0.0 for p in model.parameters())


def test_tape_rejects_unknown_ops_and_backends():
    odd = Value(1.0)
    node = Value(2.0, (odd,), "mystery")
    with pytest.raises(ValueError, match="cannot replay op 'mystery'"):
        Tape(node)
    named_like_ours = Value(odd.data * 2, (odd,), "exp")  # a user's node with a known name...
    named_like_ours._backward = lambda: None
    with pytest.raises(ValueError, match="cannot replay op 'exp'"):
        Tape(named_like_ours)  # ...is not replayed with our exp: its closure is what it means
    overridden = odd * 2.0
    overridden._backward = lambda: None  # a closure set on an op's node wins there too
    with pytest.raises(ValueError, match=r"cannot replay op '\*'"):
        Tape(overridden)
    with pytest.raises(ValueError, match="backend"):
        BatchTape(chapter_mlp([2, 3], rng=RNG(1)), 2, backend="gpu")


def test_eager_engine_equals_backward_of_the_whole_batch_graph():
    """Per-sample graphs, backpropagated last to first, give the whole graph's bits."""
    tr, _, m_full, _ = chapter_setup()
    _, _, m_eager, _ = chapter_setup()
    full = mean_loss(m_full, tr)
    full.backward()
    eager = EagerEngine(m_eager).loss_and_backward([x for x, _ in tr], [y for _, y in tr])
    assert eager.hex() == full.data.hex()
    assert bits(p.grad for p in m_eager.parameters()) == bits(p.grad for p in m_full.parameters())


def test_backward_gradient_scales_the_seed():
    a = Value(3.0)
    b = a * a
    b.backward(0.5)
    assert b.grad == 0.5 and a.grad == 3.0  # 0.5 · d(a²)/da = 0.5 · 6


def test_numpy_tape_handles_many_classes():
    """The numpy pick once used np.choose, which takes at most 64 choices."""
    pytest.importorskip("numpy")
    rng = RNG(3)
    model_np, model_eager = (chapter_mlp([2, 4, 70], rng=RNG(3)) for _ in range(2))
    X = [[rng.uniform(-1, 1), rng.uniform(-1, 1)] for _ in range(140)]
    Y = [i % 70 for i in range(140)]
    a = EagerEngine(model_eager).loss_and_backward(X, Y)
    b = BatchTape(model_np, 2, backend="numpy").loss_and_backward(X, Y)
    assert abs(a - b) <= 1e-12 * abs(a)
    for pe, pn in zip(model_eager.parameters(), model_np.parameters()):
        assert abs(pe.grad - pn.grad) <= 1e-10 * abs(pe.grad) + 1e-15



# ---- the numpy backend's compiler (micrograd.arraycode): layers as matrix products ----


def _compare_numpy_with_eager(make_model, nin, data, steps=3):
    """Losses within 1e-12 relative and grads within 1e-10 of eager, step after step."""
    pytest.importorskip("numpy")
    m_eager, m_np = make_model(), make_model()
    X, Y = [x for x, _ in data], [y for _, y in data]
    eager, vec = EagerEngine(m_eager), BatchTape(m_np, nin, backend="numpy")
    opts = [AdamW(m.parameters(), lr=0.05) for m in (m_eager, m_np)]
    for _ in range(steps):
        a, b = eager.loss_and_backward(X, Y), vec.loss_and_backward(X, Y)
        assert abs(a - b) <= 1e-12 * abs(a), (a, b)
        assert abs(eager.loss(X, Y) - vec.loss(X, Y)) <= 1e-12 * abs(a)
        for pe, pn in zip(m_eager.parameters(), m_np.parameters()):
            assert abs(pe.grad - pn.grad) <= 1e-10 * abs(pe.grad) + 1e-15
        for opt in opts:
            opt.step()
            opt.zero_grad()
    return vec


@pytest.mark.parametrize("sizes", [[16, 3], [1, 3], [5, 1, 4], [8, 8, 8, 3], [7, 2], [1, 1, 2]])
@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid", "linear"])
def test_compiled_numpy_tape_matches_eager_on_random_mlps(sizes, activation):
    rng = RNG(len(sizes) * 100 + sizes[0])
    nin = 3
    data = [([rng.uniform(-2, 2) for _ in range(nin)], int(rng.random() * sizes[-1]))
            for _ in range(37)]
    seed = int(rng.random() * 1000)
    vec = _compare_numpy_with_eager(
        lambda: chapter_mlp([nin, *sizes], activation, rng=RNG(seed)), nin, data)
    assert vec.compiled
    # one matrix product per layer in loss() and in loss_and_backward(), no per-neuron line
    assert vec.source.count("w·x+b of") == 2 * len(sizes) and " + p[0] * " not in vec.source


def test_compiled_numpy_tape_reproduces_the_chapter_run_within_1e12():
    tr, _, model, _ = chapter_setup()
    assert BatchTape(model, 2, backend="numpy").compiled
    _compare_numpy_with_eager(lambda: chapter_setup()[2], 2, tr, steps=20)


class _OddNet:
    """A layer, a shared weight, a user op on some neurons only and a skip connection: the
    compiler groups what it can and leaves the rest as per-node lines."""

    def __init__(self, rng):
        from micrograd.nn import Layer

        self.l1 = Layer(2, 4, activation="tanh", rng=rng, fused=True)
        self.l2 = Layer(4, 3, nonlin=False, rng=rng, fused=True)
        self.shared = Value(rng.uniform(-1, 1))

    def parameters(self):
        return [*self.l1.parameters(), *self.l2.parameters(), self.shared]

    def __call__(self, x):
        from micrograd.engine import Op

        square_plus = Op("square_plus", lambda m, a: a * a + 1.0, lambda m, out, a: (2.0 * a,))
        h = self.l1.forward(x)
        h = [square_plus(h[0]), h[1] * self.shared, h[2], h[3] + x[0]]
        out = self.l2.forward(h)
        return [out[0], out[1] * self.shared, out[2]]


def test_compiled_numpy_tape_falls_back_per_node_on_odd_graphs():
    rng = RNG(3)
    data = [([rng.uniform(-2, 2), rng.uniform(-2, 2)], int(rng.random() * 3)) for _ in range(20)]
    vec = _compare_numpy_with_eager(lambda: _OddNet(RNG(5)), 2, data)
    assert vec.compiled and "_square_plus" not in vec.source
    assert "_columns(len(Y)," in vec.source  # layer 2's inputs gathered from per-node lines


def test_unfused_mlp_keeps_the_per_node_numpy_lines():
    from micrograd.nn import MLP

    rng = RNG(9)
    data = [([rng.uniform(-2, 2), rng.uniform(-2, 2)], int(rng.random() * 3)) for _ in range(20)]
    vec = _compare_numpy_with_eager(lambda: MLP(2, [4, 3], rng=RNG(1)), 2, data)
    assert not vec.compiled and "@" not in vec.source


def test_compiled_build_on_a_wide_mlp():
    """2-256-256-3 (67,331 parameters) compiles to matrix code of a few lines, not a line per
    node (how long the build takes is measured by `python benchmarks/timings.py`)."""
    pytest.importorskip("numpy")
    model = chapter_mlp([2, 256, 256, 3], rng=RNG(1))
    vec = BatchTape(model, 2, backend="numpy")
    assert vec.compiled and len(vec.source.splitlines()) < 80


class _ScaledNet:
    """Logits scaled by a constant made anew for every neuron (`o * 0.5` wraps 0.5 each time)."""

    def __init__(self, rng):
        self.mlp = chapter_mlp([2, 6, 3], "relu", rng=rng)

    def parameters(self):
        return self.mlp.parameters()

    def __call__(self, x):
        return [o * 0.5 for o in self.mlp(x)]


def test_compiled_numpy_tape_groups_ops_with_equal_constants():
    rng = RNG(11)
    data = [([rng.uniform(-2, 2), rng.uniform(-2, 2)], int(rng.random() * 3)) for _ in range(25)]
    vec = _compare_numpy_with_eager(lambda: _ScaledNet(RNG(2)), 2, data)
    assert "* 0.5)  # * of 3 columns" in vec.source
