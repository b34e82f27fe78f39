"""A playground session on the learner's own model and points (`playground.own`, the notebook
widget's `model=`, `data=`, `val=`).

Oracle: `micrograd train` itself, run as a command. The session is handed the model the command
builds and the points it trains and validates on; its losses, step by step, must be the
command's `metrics.csv` within 1e-12, and the model object handed over must be the one that
changes. Then what a model or points fix is locked, "reset" goes back to the weights handed
over, and every bad model or point is one line naming it.
"""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from micrograd.config import TrainConfig
from micrograd.data import RNG, make_spiral
from micrograd.nn import MLP, chapter_mlp
from micrograd.playground.driver import Driver
from micrograd.playground.own import adopt
from micrograd.playground.session import Config, Session, SessionError
from micrograd.run import load_splits, model_sizes

SRC = Path(__file__).resolve().parents[2] / "src"


def _train_command(tmp_path: Path, *flags: str) -> list[dict[str, str]]:
    """`micrograd train` as a learner runs it; its metrics.csv rows."""
    out = tmp_path / "run"
    subprocess.run([sys.executable, "-m", "micrograd", "train", *flags, "--out", str(out),
                    "--no-plot", "--quiet"], check=True, capture_output=True,
                   env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"})
    with (out / "metrics.csv").open() as f:
        return list(csv.DictReader(f))


def _xy(points):
    return [x for x, _ in points], [y for _, y in points]


def _session(model=None, data=None, val=None, engine=None, **kw) -> Session:
    own, fields = adopt(model, data, val, **kw)
    return Session(Config(**fields), engine, own=own)


def _losses_by_step(s: Session, steps: int) -> dict[int, tuple[float, float | None]]:
    """The session's log of `steps` steps, trained a few at a time as the page's slices do."""
    while s.step < steps:
        s.train_steps(min(7, steps - s.step))
    log = s.log
    return {k: (tr, va) for k, tr, va in zip(log.step, log.train, log.val)}


def _same_as_the_command(rows, losses) -> None:
    assert sorted(losses) == [int(r["step"]) for r in rows]
    for r in rows:
        train, val = losses[int(r["step"])]
        assert train == pytest.approx(float(r["train_loss"]), rel=1e-12, abs=0)
        assert (val is None) == (not r["val_loss"])  # every 10th step, as the command's
        if val is not None:
            assert val == pytest.approx(float(r["val_loss"]), rel=1e-12, abs=0)


@pytest.mark.parametrize("engine", ["numpy", "tape"])
def test_the_chapters_model_and_points_train_as_micrograd_train(tmp_path, engine):
    rows = _train_command(tmp_path, "--engine", engine)  # the chapter's run: 2-16-3, 100 steps
    rng = RNG(42)
    tr, va, _ = load_splits(TrainConfig(), rng)
    model = chapter_mlp([2, 16, 3], rng=rng)
    first = model.layers[0].neurons[0].w[0]
    start = first.data
    s = _session(model, _xy(tr), _xy(va), engine=engine)
    assert s.model is model and (len(s.train), len(s.val)) == (80, 10)
    _same_as_the_command(rows, _losses_by_step(s, 100))
    assert first is model.parameters()[0] and first.data != start  # trained in place


def test_a_csv_of_spiral_points_on_a_deeper_relu_model(tmp_path):
    points = [p for part in make_spiral(RNG(7), 150) for p in part]
    path = tmp_path / "spiral.csv"
    path.write_text("".join(f"{x!r},{y!r},{c}\n" for (x, y), c in points))
    flags = ["--dataset", str(path), "--hidden", "8,8", "--activation", "relu", "--steps", "40",
             "--lr", "0.03"]
    rows = _train_command(tmp_path, *flags)
    cfg = TrainConfig(dataset=str(path), hidden=[8, 8], activation="relu", lr=0.03)
    rng = RNG(cfg.seed)
    tr, va, _ = load_splits(cfg, rng)  # the file's rows shuffled by the seed, as the command does
    model = chapter_mlp(model_sizes((tr, va), [8, 8]), "relu", rng=rng)
    s = _session(model, _xy(tr), _xy(va))
    s.configure({"lr": 0.03})
    _same_as_the_command(rows, _losses_by_step(s, 40))


def test_karpathys_kind_of_model_learns_values_and_reset_restores_it():
    import random

    random.seed(1337)
    model = MLP(2, [16, 16, 1])  # 0.1.0's defaults: ReLU, uniform(-1, 1), the unfused chain
    pts = [p for part in make_spiral(RNG(3), 100, classes=2) for p in part]
    X, y = [x for x, _ in pts], [1 if c else -1 for _, c in pts]  # the SVM's labels
    s = _session(model, (X, y))
    assert (s.regression(), s.classes, s.config.hidden, s.config.activation) == \
        (True, 0, [16, 16], "relu")
    given, before = [p.data for p in model.parameters()], s.frame()["train_loss"]
    s.train_steps(30)
    assert [p.data for p in model.parameters()] != given
    assert s.frame()["train_loss"] < before / 2  # the mean squared error to the ±1 labels
    s.reset()
    assert [p.data for p in model.parameters()] == given and s.step == 0


def test_what_the_model_and_points_fix_is_locked():
    rng = RNG(1)
    model = chapter_mlp([2, 4, 2], rng=rng)
    pts = [p for part in make_spiral(RNG(3), 60, classes=2) for p in part]
    s = _session(model, _xy(pts))
    state = s.state()
    assert set(state["locked"]) == {"hidden", "activation", "features", "problem", "dataset",
                                    "n", "noise"} and state["own_points"] is True
    d = Driver(s)
    for change in ({"hidden": [3]}, {"activation": "relu"}, {"features": ["x1"]},
                   {"dataset": "moons"}, {"n": 200}):
        reply = json.loads(d.receive(json.dumps({"type": "configure", **change}))[0])
        assert reply["type"] == "error" and next(iter(change)) in reply["message"]
        assert "notebook" in reply["message"]
    assert s.model is model and s.config.hidden == [4]
    json.loads(d.receive('{"type": "configure", "train_frac": 0.5}')[0])  # not fixed: re-split
    assert len(s.train) == 30 and s.model is model
    d.receive('{"type": "clear"}')
    d.receive('{"type": "regenerate"}')  # the notebook's points come back
    assert [x for x, _ in s.train + s.val] == [x for x, _ in pts]
    with pytest.raises(SessionError):
        s.configure({"problem": "regression"})


def test_a_dataset_by_name_or_none_fits_the_models_outputs():
    model = chapter_mlp([2, 8, 2], rng=RNG(1))
    s = _session(model, "moons")
    assert (s.config.dataset, s.classes, s.own.locked()) == \
        ("moons", 2, ["hidden", "activation", "features", "problem"])
    assert _session(chapter_mlp([2, 8, 1], rng=RNG(1))).config.dataset == "plane"
    assert _session(data="circles").config.dataset == "circles"
    d = Driver(s)  # the page may switch among the datasets of two classes, and only those
    d.receive('{"type": "configure", "dataset": "xor"}')
    assert s.config.dataset == "xor" and s.model is model
    reply = json.loads(d.receive('{"type": "configure", "dataset": "chapter"}')[0])
    assert reply["type"] == "error" and "chapter does not fit your notebook's model" in \
        reply["message"]
    assert s.config.dataset == "xor" and s.train_steps(2) == 2


BAD = [
    (dict(model=3), "model: give a micrograd.nn.MLP, not int"),
    (dict(model=MLP(3, [4, 2])), "model: it takes 3 inputs; say which with features="),
    (dict(model=MLP(2, [40, 2])), "model: hidden layer size must be in 1..16, got 40"),
    (dict(model=MLP(2, [4, 2]), data="chapter"), "'chapter' has 3 classes; your model has 2"),
    (dict(model=MLP(2, [4, 2])), "'chapter' has 3 classes"),
    (dict(model=MLP(2, [4, 2]), data=([[0, 0], [1, 1]], [0, 2])), "y[1] = 2 is not a class 0..1"),
    (dict(data=([[0, 0], [1, 1]], [-1, 1])), "y[0] = -1 is not a class"),
    (dict(data=([[0, 0], [1, 1]], [0, 0])), "every y is class 0"),
    (dict(data=([[0, 0], [1]], [0, 1])), "row 1 of X has 1 numbers"),
    (dict(data=([[0, 0], [1, float("nan")]], [0, 1])), "row 1 of X, [1.0, nan], is not on"),
    (dict(data=([[0, 0]], [0, 1])), "X has 1 rows but y has 2 labels"),
    (dict(data=5), "data: give (X, y)"),
    (dict(data={"X": [[0, 0]], "y": [1]}), "data: give (X, y)"),
    (dict(data="nope"), 'dataset must be one of chapter'),
    (dict(val=([[0, 0]], [0])), "val= goes with your own points"),
    (dict(features=["x1"]), "features= says what your model's inputs are"),
    (dict(model=MLP(2, [4, 1]), data=([[0, 0], [1, 1]], [0.5, float("inf")])),
     "y[1] = inf is not a finite number"),
    (dict(model=MLP(2, [4, 3]), data=([[0, 0], [1, 1]], [0.5, 1.5])),  # classes, not values
     "y[0] = 0.5 is not a class 0..2"),
    (dict(model=MLP(2, [4, 2]), features=["x2", "x1"]),
     "features: give them in the playground's order, x1, x2"),
]


@pytest.mark.parametrize("kw, words", BAD, ids=[w[:30] for _, w in BAD])
def test_a_bad_model_or_point_is_one_line_naming_it(kw, words):
    with pytest.raises(ValueError) as e:
        adopt(**kw)
    assert words in str(e.value) and "\n" not in str(e.value)


def test_a_model_of_other_inputs_names_them_and_mixed_activations_are_refused():
    s = _session(chapter_mlp([3, 4, 2], rng=RNG(1)), "moons", features=["x1", "x2", "x1_x2"])
    assert s.config.features == ["x1", "x2", "x1_x2"] and s.train_steps(3) == 3
    model = MLP(2, [4, 4, 2])
    model.layers[1].neurons[0].nonlinearity = "tanh"
    with pytest.raises(ValueError, match="mix activations"):
        adopt(model, "moons")
    model = MLP(2, [4, 2])
    model.layers[-1].neurons[0].nonlin = True
    with pytest.raises(ValueError, match="output layer must be linear"):
        adopt(model, "moons")


def test_common_shapes_of_y_are_read_as_a_learner_means_them():
    np = pytest.importorskip("numpy")
    X = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 0.5], [0.5, 2.0]])
    for y in (np.array([True, False, True, False]), np.array([[1], [0], [1], [0]]),
              np.array([1, 0, 1, 0], dtype=np.int64)):
        own, fields = adopt(None, (X, y))
        assert [c for _, c in own.points] == [1, 0, 1, 0] and own.classes == 2
    own, _ = adopt(MLP(2, [3, 1]), (X, np.array([True, False, True, False])))
    assert [v for _, v in own.points] == [1.0, 0.0, 1.0, 0.0]  # one output: values
    own, fields = adopt(None, (X, [0, 1, 0, 1]), val=([[1, 2]], [0.5]))  # decided once, for both
    assert fields["problem"] == "regression" and own.val[0][1] == 0.5 and own.points[1][1] == 1.0


def test_a_model_the_page_cannot_train_is_refused_in_one_line():
    class Mine(MLP):
        pass

    tied = MLP(2, [2, 2])
    tied.layers[0].neurons[1].w[0] = tied.layers[0].neurons[0].w[0]
    torn = MLP(2, [3, 2])
    torn.layers[1].neurons[0].w.pop()
    nan = MLP(2, [2, 2])
    nan.layers[0].neurons[0].b.data = float("nan")
    for model, words in ((Mine(2, [2, 2]), "Mine is a subclass of MLP"),
                         (tied, "a Value is a parameter twice"),
                         (torn, "layer 1's neurons do not all take 3 inputs"),
                         (nan, "parameter 2 is nan")):
        with pytest.raises(ValueError, match=re.escape(words)):
            adopt(model, "moons")
