"""The numpy engine's array paths: the fused AdamW step, views of the parameter vector,
evaluation and prediction on arrays, and glibc's memory reuse — each against the scalar path."""

import importlib.util
import os
import subprocess
import sys

import pytest

from micrograd.data import RNG, gen_data
from micrograd.engine import Value
from micrograd.nn import MLP, chapter_mlp
from micrograd.optim import AdamW
from micrograd.tape import BatchTape
from micrograd.train import evaluate, train

np = pytest.importorskip("numpy")


def _setup(sizes=(2, 16, 3), activation="tanh", n=60, seed=42):
    rng = RNG(seed)
    tr, va, te = gen_data(rng, n=n)
    model = chapter_mlp(list(sizes), activation, rng=rng)
    opt = AdamW(model.parameters(), lr=0.1, betas=(0.9, 0.95), eps=1e-8, weight_decay=1e-4)
    return tr, va, te, model, opt


def _bits(values):
    return [float(x).hex() for x in values]


@pytest.mark.parametrize("held", [0.0, -0.0, 0.25])
@pytest.mark.parametrize("sizes", [(2, 16, 3), (2, 5, 4, 3)])
def test_fused_train_step_gives_the_three_calls_bits(sizes, held):
    """train_step (gradient vector straight into AdamW's array update) equals
    loss_and_backward + step + zero_grad bit for bit, from any `.grad` the parameters held;
    deferred steps keep the parameters as an array until a step without `defer` writes them."""
    runs = []
    for fused in (True, False):
        tr, _, _, model, opt = _setup(sizes)
        tape = BatchTape(model, 2, backend="numpy")
        assert tape.compiled
        X, Y = tape.batch([x for x, _ in tr], [y for _, y in tr])
        for p in model.parameters()[::3]:
            p.grad = held
        losses = []
        first = model.parameters()[0].data
        for step in range(4):
            if fused:
                losses.append(tape.train_step(X, Y, opt, defer=step < 3))
            else:
                losses.append(tape.loss_and_backward(X, Y))
                opt.step()
                opt.zero_grad()
            losses.append(tape.loss(X, Y))  # reads the deferred vector, not stale Values
            if fused and step == 1:
                assert model.parameters()[0].data == first  # deferred: not written yet
        params = model.parameters()
        runs.append((_bits(losses), _bits(p.data for p in params), _bits(opt.exp_avg),
                     _bits(opt.exp_avg_sq), _bits(p.grad for p in params), opt.t))
    assert runs[0] == runs[1]
    assert all(type(x) is float for x in opt.exp_avg)  # lists of floats again once read


def test_fused_step_reads_parameters_changed_between_steps():
    """Without `unchanged`, a weight set between steps (a callback's edit) is used."""
    results = []
    for fused in (True, False):
        tr, _, _, model, opt = _setup()
        tape = BatchTape(model, 2, backend="numpy")
        X, Y = tape.batch([x for x, _ in tr], [y for _, y in tr])
        for step in range(3):
            model.parameters()[5].data = 0.5 * step
            if fused:
                tape.train_step(X, Y, opt)
            else:
                tape.loss_and_backward(X, Y)
                opt.step()
                opt.zero_grad()
        results.append(_bits(p.data for p in model.parameters()))
    assert results[0] == results[1]


def test_fused_step_falls_back_for_another_optimizer_or_parameter_list():
    *_, model, _ = _setup()
    tape = BatchTape(model, 2, backend="numpy")
    params = model.parameters()
    assert not tape._fuses(AdamW(params[:-1]))
    assert tape._fuses(AdamW(params))

    class MyAdamW(AdamW):
        pass

    assert not tape._fuses(MyAdamW(params))
    patched = AdamW(params)
    patched.step = lambda: None
    assert not tape._fuses(patched)


def test_a_patched_adamw_step_is_called(monkeypatch):
    """An `AdamW.step` replaced (by a test, a user) is what runs: no fused step then."""
    import micrograd.optim as optim

    calls = []
    real = optim.AdamW.step
    monkeypatch.setattr(optim.AdamW, "step", lambda self: calls.append(1) or real(self))
    tr, va, _, model, opt = _setup()
    train(model, opt, tr, va, steps=3, eval_every=0, log=lambda s: None, engine="numpy")
    assert len(calls) == 3


def test_compiled_code_reads_layers_as_views_of_the_parameter_vector():
    from micrograd.arraycode import strided

    _, _, _, model, _ = _setup()
    tape = BatchTape(model, 2, backend="numpy")
    assert "w1, b1 = _view(p, _W1), _view(p, _B1)" in tape.source
    assert "gw1 += G1.T @ X" in tape.source and "_pick_columns(y, a4)" in tape.source
    assert "_columns(len" not in tape.source  # the sum's gradient is a broadcast, not K copies
    assert strided([[0, 1], [3, 4], [6, 7]]) == (0, (3, 2), (3, 1))
    assert strided([2, 5, 8]) == (2, (3,), (3,))
    assert strided([[0, 1], [1, 2]]) is None  # overlapping rows
    assert strided([[0, 2], [3, 5]]) is None  # not consecutive within a row
    assert strided([[0, 1], [3, 4], [5, 6]]) is None  # irregular row starts


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
def test_evaluate_on_arrays_is_the_point_by_point_loop_bit_for_bit(monkeypatch, activation):
    tr, va, te, model, opt = _setup((2, 8, 8, 3), activation, n=80)
    train(model, opt, tr, va, steps=5, eval_every=0, log=lambda s: None)
    fast = [evaluate(model, split) for split in (tr, va, te)]
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "numpy" else find_spec(name, *a))
    slow = [evaluate(model, split) for split in (tr, va, te)]
    assert [(m.loss.hex(), m.accuracy) for m in fast] == [(m.loss.hex(), m.accuracy) for m in slow]


def test_array_logits_are_predicts_floats_and_other_models_are_refused():
    from micrograd.arrays import mlp_logits
    from micrograd.predict import all_logits

    rng = RNG(3)
    model = MLP(3, [7, 4], activation="tanh", rng=rng)  # unfused 0.1.0-style neurons
    xs = [[rng.uniform(-3, 3) for _ in range(3)] for _ in range(300)]  # more than a chunk
    assert all_logits(model, xs) == [model.predict(x) for x in xs]
    assert mlp_logits(object(), xs) is None
    assert mlp_logits(model, [[1.0, 2.0]]) is None  # the wrong number of features


def test_evaluate_keeps_eager_errors_and_nan_semantics():
    """Non-finite logits go point by point (Python's max and NumPy's argmax differ on nan)."""
    tr, _, _, model, _ = _setup()
    model.parameters()[0].data = float("nan")
    m = evaluate(model, tr[:10])
    assert m.loss != m.loss  # nan, as eager computes it


def test_reuse_freed_memory_leaves_a_users_malloc_settings_alone():
    code = "from micrograd.arrays import reuse_freed_memory as r; print(r(), r())"
    env = {**os.environ, "GLIBC_TUNABLES": "glibc.malloc.trim_threshold=1000000"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.split() == ["False", "False"]
    env.pop("GLIBC_TUNABLES")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    glibc = (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith("glibc") \
        if hasattr(os, "confstr") else False
    assert out.stdout.split() == [str(glibc)] * 2


def test_value_is_still_the_only_thing_a_tape_needs():
    """A graph without layers keeps the per-node numpy code and the unfused step."""
    from test_backends import LayerlessModel

    w = Value(0.5)
    tape = BatchTape(LayerlessModel(w), 2, backend="numpy")
    assert not tape.compiled
    opt = AdamW([w], lr=0.1)
    X, Y = tape.batch([[1.0, 2.0], [0.5, -1.0]], [0, 2])
    before = w.data
    tape.train_step(X, Y, opt)
    assert w.data != before and w.grad == 0.0


def test_train_writes_deferred_parameters_back_even_when_interrupted():
    tr, va, _, model, opt = _setup()
    tape = BatchTape(model, 2, backend="numpy")
    lines = []

    def log(line):
        lines.append(line)
        if len(lines) == 5:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(model, opt, tr, va, steps=10, eval_every=0, log=log, engine=tape)
    assert tape._pending is None
    tr2, va2, _, model2, opt2 = _setup()
    train(model2, opt2, tr2, va2, steps=5, eval_every=0, log=lambda s: None, engine="eager")
    assert _bits(p.data for p in model.parameters()) != []
    for a, b in zip(model.parameters(), model2.parameters()):
        assert abs(a.data - b.data) <= 1e-9 * abs(b.data) + 1e-15


def test_fused_step_falls_back_when_the_base_zero_grad_is_patched(monkeypatch):
    """A `zero_grad` patched on `Optimizer` itself (say, to accumulate gradients over steps)
    is AdamW's too: the fused step, which zeroes `.grad` on its own, must not skip it."""
    from micrograd.optim import Optimizer

    *_, model, _ = _setup()
    tape = BatchTape(model, 2, backend="numpy")
    assert tape._fuses(AdamW(model.parameters()))
    monkeypatch.setattr(Optimizer, "zero_grad", lambda self: None)  # keep the gradients
    assert not tape._fuses(AdamW(model.parameters()))
