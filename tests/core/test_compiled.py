"""`micrograd.compile`: a loss function whose model calls are replayed gives the graph's numbers.

Each test trains or differentiates the same thing twice from the same start, once as written and
once through `micrograd.compile`, and compares everything a user can read.
"""

from __future__ import annotations

import copy
import pickle
import random
import threading

import pytest

import micrograd
from micrograd import Value
from micrograd.compiled import Output
from micrograd.losses import cross_entropy
from micrograd.nn import MLP, Layer, Neuron, chapter_mlp
from micrograd.optim import AdamW


def _points(n, seed=5, classes=(-1, 1)):
    rng = random.Random(seed)
    return [((rng.uniform(-2, 2), rng.uniform(-2, 2)), rng.choice(classes)) for _ in range(n)]


def _svm_run(compiled, steps=4, fused=False, activation="relu", change=None, sizes=None):
    """The demo notebook's loop (SVM loss, L2, accuracy read from `.data`): what it prints and
    every parameter's gradient, at each step."""
    random.seed(1337)
    model = MLP(2, [16, 16, 1], fused=fused, activation=activation)
    pts = _points(40)

    def loss(batch):
        inputs = [list(map(Value, x)) for x, _ in batch]
        scores = list(map(model, inputs))
        losses = [(1 + -y * s).relu() for (_, y), s in zip(batch, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        reg_loss = 1e-4 * sum(p * p for p in model.parameters())
        accuracy = [(y > 0) == (s.data > 0) for (_, y), s in zip(batch, scores)]
        return data_loss + reg_loss, sum(accuracy) / len(accuracy)

    if compiled:
        loss = micrograd.compile(loss)
    seen = []
    for k in range(steps):
        if change is not None:
            change(k, model)
        batch = pts if sizes is None else pts[: sizes[k]]
        total, acc = loss(batch)
        model.zero_grad()
        total.backward()
        for p in model.parameters():
            p.data -= (1.0 - 0.9 * k / 100) * p.grad
        seen.append((total.data, acc, [p.grad for p in model.parameters()]))
    return seen, loss


@pytest.mark.parametrize("fused, activation", [(False, "relu"), (True, "relu"),
                                               (False, "tanh"), (True, "sigmoid")])
def test_the_demo_loop_compiled_prints_the_same_bits(fused, activation):
    plain, _ = _svm_run(False, fused=fused, activation=activation)
    compiled, loss = _svm_run(True, fused=fused, activation=activation)
    assert compiled == plain
    assert loss.recorded == 1  # one program, recorded at the model's first call


def test_a_batch_of_another_size_replays_the_same_program():
    sizes = [40, 7, 23, 1]
    plain, _ = _svm_run(False, sizes=sizes)
    compiled, loss = _svm_run(True, sizes=sizes)
    assert compiled == plain and loss.recorded == 1


def _switch_and_swap(k, model):
    """After two steps a neuron turns linear; after three a weight is a new Value."""
    if k == 2:
        model.layers[1].neurons[3].nonlin = False
    if k == 3:
        neuron = model.layers[0].neurons[0]
        neuron.w[1] = Value(neuron.w[1].data * 0.5)


def test_the_guard_records_again_when_the_model_changes():
    plain, _ = _svm_run(False, steps=5, change=_switch_and_swap)
    compiled, loss = _svm_run(True, steps=5, change=_switch_and_swap)
    assert compiled == plain
    assert loss.recorded == 3


def _classifier_run(compiled, steps=3):
    """The chapter's kind of model: three logits, cross-entropy, AdamW."""
    model = chapter_mlp([2, 8, 3], rng=random.Random(3))
    opt = AdamW(model.parameters(), lr=0.05, weight_decay=1e-4)
    pts = _points(30, seed=9, classes=(0, 1, 2))

    def loss():
        logits = [model(list(x)) for x, _ in pts]
        return sum(cross_entropy(out, y) for out, (_, y) in zip(logits, pts)) * (1 / len(pts))

    if compiled:
        loss = micrograd.compile(loss)
    seen = []
    for _ in range(steps):
        total = loss()
        opt.zero_grad()
        total.backward()
        opt.step()
        seen.append((total.data, [p.grad for p in model.parameters()]))
    return seen


def test_a_model_of_several_outputs_agrees_within_1e_12():
    for (loss, grads), (loss0, grads0) in zip(_classifier_run(True), _classifier_run(False)):
        assert loss == pytest.approx(loss0, rel=1e-12, abs=0)
        assert grads == pytest.approx(grads0, rel=1e-10, abs=1e-15)


def _two_runs(fn):
    """fn(model) run plainly and compiled, from equal models: both results and models."""
    out = []
    for wrap in (lambda f: f, micrograd.compile):
        random.seed(11)
        model = MLP(3, [4, 3])
        out.append((wrap(fn)(model), model))
    return out


def test_backward_from_one_output_of_several_reaches_the_parameters():
    def second_logit(model):
        model([0.1, 0.2, 0.3])  # recorded
        logits = model([0.5, -1.0, 2.0])  # replayed
        logits[1].backward()
        return [p.grad for p in model.parameters()]

    (plain, _), (compiled, _) = _two_runs(second_logit)
    assert compiled == plain and any(compiled)


def test_each_backward_uses_only_its_own_pass_gradients():
    def twice(model):
        model([0.1, 0.2, 0.3])
        logits = model([0.5, -1.0, 2.0])
        (logits[0] + logits[2]).backward()
        model.zero_grad()
        logits[1].backward()  # must not reuse the first pass's seeds for outputs 0 and 2
        return [p.grad for p in model.parameters()]

    (plain, _), (compiled, _) = _two_runs(twice)
    assert compiled == plain


def test_inputs_and_chained_models_get_their_gradients():
    def chained(model):
        first = Layer(3, 3, rng=random.Random(2))
        outs = []
        for x in ([0.5, -1.0, 2.0], [1.5, 0.25, -0.75]):
            xs = [Value(v) for v in x]
            y = model(first(xs))
            total = sum(y)
            total.backward()
            outs.append((total.data, [v.grad for v in xs]))
        return outs, [p.grad for p in first.parameters()]

    (plain, pm), (compiled, cm) = _two_runs(chained)
    assert compiled[0][0][0] == plain[0][0][0]
    flat = lambda r: [r[0][0][0], *r[0][0][1], r[0][1][0], *r[0][1][1], *r[1]]  # noqa: E731
    assert flat(compiled) == pytest.approx(flat(plain), rel=1e-12, abs=1e-15)
    assert [p.grad for p in cm.parameters()] == pytest.approx(
        [p.grad for p in pm.parameters()], rel=1e-12, abs=1e-15)


def test_a_compiled_call_is_one_node_per_output():
    random.seed(4)
    model = MLP(2, [3, 2])
    xs = [Value(1.0), Value(-0.5)]
    calls = micrograd.compile(lambda: (model(xs), model(xs)))
    recorded, replayed = calls()
    assert not isinstance(recorded[0], Output)
    first, second = replayed
    assert isinstance(first, Output) and first._op == "MLP"
    assert [first.data, second.data] == [recorded[0].data, recorded[1].data]
    assert first._prev[:2] == tuple(xs) and second._prev == (first,)
    assert sorted(map(id, first._prev[2:])) == sorted(map(id, model.parameters()))
    assert first._local is None
    assert model(xs)[0].__class__ is Value  # outside the compiled function: the graph


def test_a_neuron_and_a_layer_compile_too():
    random.seed(6)
    neuron, layer = Neuron(2), Layer(2, 1)
    both = micrograd.compile(lambda x: (neuron(x), layer(x)))
    both([1.0, 2.0])
    n, single = both([0.5, -0.25])
    assert isinstance(n, Output) and isinstance(single, Output)  # a one-neuron layer: bare
    assert n.data == neuron([0.5, -0.25]).data and single.data == layer([0.5, -0.25]).data


def test_create_graph_copies_and_pickles_say_what_to_do():
    random.seed(4)
    model = MLP(2, [3, 1])
    call = micrograd.compile(lambda: model([1.0, 2.0]))
    call()
    out = call()
    with pytest.raises(TypeError, match=r"micrograd\.compile"):
        micrograd.grad(out, model.parameters()[0], create_graph=True)
    with pytest.raises(TypeError, match=r"micrograd\.compile"):
        micrograd.grad(out, model.parameters()[0])
    for copier in (copy.copy, copy.deepcopy, pickle.dumps):
        with pytest.raises(TypeError, match=r"outside micrograd\.compile"):
            copier(out)


def test_the_scope_belongs_to_its_thread_and_ends_with_the_call():
    random.seed(4)
    model = MLP(2, [3, 1])
    inside, done = threading.Event(), threading.Event()

    def slow():
        model([1.0, 2.0])
        inside.set()
        done.wait(10)
        return model([1.0, 2.0])

    results = []
    worker = threading.Thread(target=lambda: results.append(micrograd.compile(slow)()))
    worker.start()
    inside.wait(10)
    here = model([1.0, 2.0])  # another thread: not compiled
    done.set()
    worker.join(10)
    assert here.__class__ is Value and isinstance(results[0], Output)

    def fails():
        model([1.0, 2.0])
        raise ValueError("boom")

    with pytest.raises(ValueError):
        micrograd.compile(fails)()
    assert model([1.0, 2.0]).__class__ is Value


def test_compile_needs_a_function():
    with pytest.raises(TypeError, match="needs a function"):
        micrograd.compile(3)


def _plain_and_compiled(fn, seed=21):
    """fn() twice from the same random start, as written and compiled, results compared whole."""
    out = []
    for wrap in (lambda f: f, micrograd.compile):
        random.seed(seed)
        out.append(wrap(fn)())
    return out


def test_an_input_twice_or_a_parameter_as_input_is_not_recorded_wrongly():
    def twice():
        model = MLP(2, [3, 2])
        x, y, z = Value(0.3), Value(-1.2), Value(0.7)
        model([x, x])  # the first call: it must not make a program where both inputs are one
        outs = model([y, z])
        sum(outs).backward()
        w = model.parameters()[0]
        own = model([w, y])  # a weight as an input
        own[0].backward()
        return [o.data for o in outs + own], [y.grad, z.grad, w.grad]

    plain, compiled = _plain_and_compiled(twice)
    assert compiled == plain


def test_a_subclass_runs_as_written():
    class Tempered(MLP):  # its own state, read by its own code
        temperature = 1.0

        def __call__(self, x):
            return [o * (1 / self.temperature) for o in super().__call__(x)]

    def tempered():
        model = Tempered(2, [3, 2])
        seen = []
        for t in (1.0, 2.0, 0.5):
            model.temperature = t
            seen.append([o.data for o in model([0.5, -0.5])])
        return seen

    plain, compiled = _plain_and_compiled(tempered)
    assert compiled == plain


def test_a_subclass_with_its_own_forward_still_calls_as_before():
    class Batched(MLP):
        def forward(self, batch):  # PyTorch's habit: the whole batch
            return [self(x) for x in batch]

    random.seed(2)
    model = Batched(2, [3, 1])
    assert [s.data for s in model.forward([[1.0, 2.0], [0.5, 0.5]])] == [
        model([1.0, 2.0]).data, model([0.5, 0.5]).data]


def test_a_change_between_two_calls_of_one_compiled_call_is_seen():
    def changing():
        model = MLP(2, [4, 1])
        neuron = model.layers[0].neurons[1]
        seen = [model([0.5, 1.5]).data]
        neuron.nonlin = False
        seen.append(model([0.5, 1.5]).data)
        neuron.activation = "tanh"
        seen.append(model([0.5, 1.5]).data)
        neuron.w[0] = Value(5.0)
        out = model([0.5, 1.5])
        out.backward()
        return [*seen, out.data, neuron.w[0].grad]

    plain, compiled = _plain_and_compiled(changing)
    assert compiled == plain


def test_the_sums_are_the_graphs_for_shared_inputs_tied_weights_and_skips():
    def shared():
        model = MLP(2, [6, 6, 1], activation="tanh")
        model.layers[1].neurons[1].w = model.layers[1].neurons[0].w  # weights tied
        scale, xs = Value(0.7), [Value(0.3), Value(-1.2)]
        pts = [(random.uniform(-2, 2), random.uniform(-2, 2)) for _ in range(8)]
        total = model(xs) * model(xs)  # the same inputs in two calls
        for x1, x2 in pts:
            h1, h2 = scale * x1, scale * x2
            total = total + (model([h1, h2]) + h1 * 0.5) ** 2  # h1 also read outside the call
        total.backward()
        return [total.data, scale.grad, *(x.grad for x in xs),
                *(p.grad for p in model.parameters())]

    plain, compiled = _plain_and_compiled(shared)
    assert compiled == plain


def test_a_loss_holding_compiled_calls_refuses_a_deep_copy():
    random.seed(4)
    model = MLP(2, [3, 1])
    loss = micrograd.compile(lambda: (model([1.0, 2.0]) - 1.0) ** 2)
    loss()
    with pytest.raises(TypeError, match=r"outside micrograd\.compile"):
        copy.deepcopy(loss())


def test_a_compiled_function_keeps_no_model_alive():
    import gc
    import weakref

    step = micrograd.compile(lambda model: model([1.0, 2.0]))
    refs = []
    for _ in range(3):
        model = MLP(2, [3, 1])
        step(model)
        step(model)
        refs.append(weakref.ref(model))
    del model
    gc.collect()
    assert [r() for r in refs] == [None, None, None] and len(step.programs) == 0


def test_compile_decorates_a_method():
    class Trainer:
        def __init__(self):
            random.seed(8)
            self.model = MLP(2, [3, 1])

        @micrograd.compile
        def loss(self, x):
            return self.model(x) ** 2

    trainer = Trainer()
    first, second = trainer.loss([0.5, 0.25]), trainer.loss([0.5, 0.25])
    assert isinstance(second._prev[0], Output) and first.data == second.data
