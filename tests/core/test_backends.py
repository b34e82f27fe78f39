"""Engines are a registry with one interface: every engine implements all of it, the loop and
the run ask the registry (never a particular engine), a new engine is one `register` call, and
an engine's own evaluation gives the point-by-point loop's accuracy and its own loss."""

from __future__ import annotations

import importlib.util

import pytest

from micrograd import backends
from micrograd.backends import Engine, Evaluation, correct_count
from micrograd.backends.eager import EagerEngine
from micrograd.data import RNG, gen_data
from micrograd.nn import chapter_mlp
from micrograd.optim import AdamW
from micrograd.train import ENGINES, SplitMetrics, evaluate, make_engine, train

HYPER = {"lr": 0.1, "betas": (0.9, 0.95), "eps": 1e-8, "weight_decay": 1e-4}


def _setup(sizes=(2, 16, 3)):
    rng = RNG(42)
    tr, va, te = gen_data(rng, n=100)
    model = chapter_mlp(list(sizes), rng=rng)
    return tr, va, te, model, AdamW(model.parameters(), **HYPER)


def _runnable():
    return [n for n in backends.names() if backends.installed(n)]


@pytest.fixture
def scratch_engine():
    """Register a throwaway engine; the registry is restored afterwards."""
    names = []

    def add(name, build, **info):
        names.append(name)
        return backends.register(name, build, **info)

    yield add
    for name in names:
        backends._REGISTRY.pop(name, None)


def test_the_four_engines_register_themselves_in_the_clis_order():
    assert backends.names()[:4] == ("eager", "tape", "numpy", "torch")
    assert ENGINES == backends.names()
    with pytest.raises(ValueError, match="unknown engine 'gpu'; use one of"):
        backends.lookup("gpu")


@pytest.mark.parametrize("name", ["eager", "tape", "numpy", "torch"])
def test_every_engine_implements_the_whole_interface(name):
    if not backends.installed(name):
        pytest.skip(f"{name} is not installed here")
    *_, model, opt = _setup()
    engine = make_engine(name, model, 2, opt)
    assert isinstance(engine, Engine)
    for method in ("batch", "take", "reload", "loss", "train_step", "evaluate", "sync"):
        assert callable(getattr(type(engine), method, None)), method


def test_a_new_engine_is_one_register_call(scratch_engine):
    built = []

    def build(model, nin, optimizer=None, device="cpu"):
        built.append((nin, optimizer, device))
        return EagerEngine(model)

    scratch_engine("scratch", build, summary="the eager engine under another name")
    assert "scratch" in backends.names() and backends.problem("scratch") is None
    tr, va, te, model, opt = _setup()
    lines = []
    result = train(model, opt, tr, va, te, steps=3, log=lines.append, engine="scratch")
    assert built == [(2, opt, "cpu")] and len(result.history.step) == 3
    tr, va, te, model2, opt2 = _setup()
    reference = []
    train(model2, opt2, tr, va, te, steps=3, log=reference.append, engine="eager")
    assert lines == reference


def test_what_an_engine_needs_is_asked_of_the_registry(scratch_engine):
    scratch_engine("needy", lambda *a, **k: None, needs=("no_such_module_for_micrograd",),
                   missing="the needy engine needs no_such_module_for_micrograd")
    assert not backends.installed("needy")
    assert backends.problem("needy") == "the needy engine needs no_such_module_for_micrograd"
    assert backends.problem("eager", "cuda") == ("--device cuda applies to --engine torch only; "
                                                 "add --engine torch, or drop --device")


def test_close_logits_are_rescored_with_the_models_floats():
    calls = []

    def rescore(i):
        calls.append(i)
        return [2.0, 1.0]  # the model's own floats disagree with the engine's last bits

    logits = [[0.1, 0.9], [1.0, 1.0 + 1e-12], [float("nan"), 1.0], [3.0]]
    assert correct_count(logits, [1, 0, 0, 0], rescore) == 4
    assert calls == [1, 2]


def test_close_logits_on_arrays_are_rescored_alike():
    np = pytest.importorskip("numpy")
    from micrograd.arrays import correct_from_logits

    logits = np.array([[0.1, 0.9], [1.0, 1.0 + 1e-12], [np.nan, 1.0], [5.0, -1.0]])
    calls = []
    got = correct_from_logits(logits, np.array([1.0, 0.0, 0.0, 0.0]),
                              lambda i: calls.append(i) or [2.0, 1.0])
    assert got == 4 and calls == [1, 2]


@pytest.mark.parametrize("name", ["eager", "tape", "numpy", "torch"])
def test_an_engines_evaluation_is_its_loss_and_the_point_by_point_accuracy(name):
    if not backends.installed(name):
        pytest.skip(f"{name} is not installed here")
    tr, va, te, model, opt = _setup()
    engine = make_engine(name, model, 2, opt)
    train(model, opt, tr, va, steps=5, eval_every=0, log=lambda s: None, engine=engine)
    for split in (tr, va, te):
        X, Y = [x for x, _ in split], [y for _, y in split]
        got = engine.evaluate(X, Y)
        assert isinstance(got, Evaluation)
        assert got.loss == engine.loss(X, Y)
        correct = 0
        for x, y in split:
            scores = model.predict(x)
            correct += scores.index(max(scores)) == y
        assert got.accuracy == correct / len(split)
        assert evaluate(model, split, engine) == SplitMetrics(*got)


def test_train_on_the_tape_engine_imports_no_numpy():
    """The pure-Python engines evaluate with the model's floats: no NumPy import in train()."""
    import subprocess
    import sys

    code = ("import sys\nfrom micrograd.data import RNG, gen_data\n"
            "from micrograd.nn import chapter_mlp\nfrom micrograd.optim import AdamW\n"
            "from micrograd.train import train\n"
            "rng = RNG(42); tr, va, te = gen_data(rng, n=100)\n"
            "m = chapter_mlp([2, 16, 3], rng=rng)\n"
            "train(m, AdamW(m.parameters()), tr, va, te, steps=2, log=lambda s: None, "
            "engine='tape')\nprint('numpy' in sys.modules)")
    if importlib.util.find_spec("numpy") is None:
        pytest.skip("NumPy is not installed: nothing to check")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False"]


class LayerlessModel:
    """Three outputs (x1·w, x2·w, x1 + x2) of one weight: a graph with no layer in it."""

    def __init__(self, w):
        self.w = w

    def parameters(self):
        return [self.w]

    def __call__(self, x):
        return [x[0] * self.w, x[1] * self.w, x[0] + x[1]]

    def predict(self, x):
        return [x[0] * self.w.data, x[1] * self.w.data, x[0] + x[1]]


def test_a_tape_without_layers_evaluates_point_by_point():
    """The per-node numpy code (no layer found) scores points with the model's floats."""
    pytest.importorskip("numpy")
    from micrograd.engine import Value
    from micrograd.tape import BatchTape

    X, Y = [[1.0, 2.0], [0.5, -1.0], [-3.0, 1.0]], [2, 0, 0]  # argmax 2, 0, 1
    for backend in ("python", "numpy"):
        tape = BatchTape(LayerlessModel(Value(0.5)), 2, backend=backend)
        got = tape.evaluate(X, Y)
        assert got.loss == tape.loss(X, Y) and got.accuracy == 2 / 3


def test_the_registered_engines_are_the_settings_table_of_engines():
    """--engine's choices come from the settings schema; the registry must offer each of them
    (and nothing the schema cannot name in a checkpoint)."""
    from micrograd import settings

    assert tuple(backends.names()) == tuple(settings.ENGINES)
