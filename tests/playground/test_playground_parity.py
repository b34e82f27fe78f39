"""The playground without NumPy (the static export runs the session in Pyodide) and the
TensorFlow-Playground parity fields of the protocol.

Oracles: the NumPy path of `micrograd.playground.plane` (the served playground's) for the
pure-Python one: training on the `tape` engine gives the same bits on both, and the pictures'
bytes agree within one (`math.tanh`/`exp` and NumPy's may round one unit in the last place
apart); a session in a subprocess where `import numpy` fails for the whole API.
"""

from __future__ import annotations

import base64
import copy
import json
import math
import subprocess
import sys

import pytest
from starlette.testclient import TestClient

from micrograd.playground import protocol, server
from micrograd.playground.plane import NumpyPlane, PurePlane, grid_rows, layer_lists
from micrograd.playground.session import GRID, Config, Session, SessionError
from micrograd.settings import DATASETS
from test_playground import send, until

# ---------------------------------------------------------------- without NumPy

NO_NUMPY_RUN = """
import json, sys
sys.modules["numpy"] = None  # `import numpy` now raises ImportError, as in Pyodide
from micrograd.playground.session import Config, Session
s = Session(Config(hidden=[16]))
s.configure({"lr": 0.05})
s.add_point(0.5, 0.5, 1)
s.train_steps(20)
s.pick(3)
frame = s.frame()
dot = s.graph_dot()
state = s.state()
s.reset()
print(json.dumps({"frame": frame, "dot": dot["dot"], "state": state, "engine": s.engine_name,
                  "numpy": s.math.numpy, "blocked": "numpy" in sys.modules and
                  sys.modules["numpy"] is None}))
"""


def _bytes(text: str) -> bytes:
    return base64.b64decode(text)


def _assert_frames_agree(pure: dict, ref: dict) -> None:
    """Same keys, same numbers (losses within float rounding), picture bytes within one."""
    assert pure.keys() == ref.keys()
    for key in ("probs", "tiles", "values"):
        if ref.get(key) is not None:
            a, b = _bytes(pure[key]), _bytes(ref[key])
            assert len(a) == len(b)
            assert max((abs(x - y) for x, y in zip(a, b)), default=0) <= 1, key
            assert sum(x != y for x, y in zip(a, b)) <= len(a) // 100, key
    if ref.get("focus") is not None:
        a, b = _bytes(pure["focus"]["grid"]), _bytes(ref["focus"]["grid"])
        assert len(a) == len(b) == GRID * GRID
        assert max(abs(x - y) for x, y in zip(a, b)) <= 1
    for key in ("train_loss", "val_loss", "penalty"):
        if ref.get(key) is None:
            assert pure.get(key) is None
        else:
            assert pure[key] == pytest.approx(ref[key], rel=1e-12, abs=1e-15), key
    skip = {"probs", "tiles", "values", "focus", "train_loss", "val_loss", "penalty"}
    for key in ref.keys() - skip:
        assert pure[key] == ref[key], key


def test_session_runs_where_numpy_cannot_be_imported():
    proc = subprocess.run([sys.executable, "-c", NO_NUMPY_RUN], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout)
    assert out["blocked"] and out["numpy"] is False
    assert out["engine"] == "tape"  # the pure-Python engine, chosen because NumPy is missing
    # the same run with NumPy, on the same engine: the same training bits, the same pictures
    s = Session(Config(hidden=[16]), engine="tape")
    assert s.math.numpy
    s.configure({"lr": 0.05})
    s.add_point(0.5, 0.5, 1)
    s.train_steps(20)
    s.pick(3)
    frame = json.loads(json.dumps(s.frame()))
    assert out["frame"]["step"] == 20
    _assert_frames_agree(out["frame"], frame)
    assert out["dot"] == s.graph_dot()["dot"]
    assert out["state"]["points"] == s.state()["points"]


@pytest.mark.parametrize("activation,hidden", [("tanh", [16]), ("relu", [8, 8]),
                                               ("sigmoid", [5]), ("linear", [3, 4]),
                                               ("tanh", [])])
def test_pure_python_plane_matches_numpy(activation, hidden):
    frames = []
    for use_numpy in (False, True):
        s = Session(Config(dataset="spiral", hidden=hidden, activation=activation, lr=0.03),
                    engine="tape", use_numpy=use_numpy)
        s.train_steps(15)
        frames.append(json.loads(json.dumps(s.frame())))
    pure, ref = frames
    assert pure["weights"] == ref["weights"]  # bit-identical training on both
    _assert_frames_agree(pure, ref)


def test_pure_python_forward_is_the_numpy_forward():
    # the pure path's forward gives the NumPy path's floats (tanh/exp may differ by an ulp)
    s = Session(Config(hidden=[16, 4]))
    layers = layer_lists(s.model)
    rows = grid_rows(s.extent, 7)
    pure = PurePlane().forward(layers, PurePlane().inputs(rows, 2))
    ref = NumpyPlane().forward(layers, NumpyPlane().inputs(rows, 2))
    for cols, arr in zip(pure, ref):
        assert len(cols) == arr.shape[1]
        for j, col in enumerate(cols):
            assert col == pytest.approx(arr[:, j].tolist(), rel=1e-15, abs=1e-15)


def test_pure_python_plane_survives_a_diverged_model():
    # non-finite weights: the NumPy path's conventions (zeros for weights, 1/classes for NaN)
    frames = []
    for use_numpy in (False, True):
        s = Session(use_numpy=use_numpy, engine="tape")
        for p in s.params[:5]:
            p.data = float("nan")
        s.params[40].data = float("inf")
        frames.append(json.loads(json.dumps(s.frame())))
    pure, ref = frames
    assert pure["weights"] == ref["weights"] and not any(any(w) for w in pure["weights"])
    assert pure["train_loss"] is None and ref["train_loss"] is None
    assert _bytes(pure["probs"]) == _bytes(ref["probs"])
    assert _bytes(pure["tiles"]) == _bytes(ref["tiles"])


# ---------------------------------------------------------------- the protocol's new fields


@pytest.mark.parametrize("text,match", [
    ('{"type": "configure", "problem": "ranking"}', "problem must be one of classification, "
                                                    "regression"),
    ('{"type": "configure", "problem": 1}', "problem must be one of"),
    ('{"type": "configure", "dataset": "cubes"}', "dataset must be one of .*plane, gauss"),
    ('{"type": "configure", "features": "x1"}', "features must be a non-empty list"),
    ('{"type": "configure", "features": []}', "features must be a non-empty list"),
    ('{"type": "configure", "features": ["x3"]}', 'unknown feature "x3"; use x1, x2, x1_sq'),
    ('{"type": "configure", "features": [1]}', "unknown feature 1"),
    ('{"type": "configure", "features": ["x1", "x2", "x1"]}', "each feature at most once, got x1"),
    ('{"type": "configure", "regularization": "l3"}', "regularization must be one of none, l1, "
                                                      "l2"),
    ('{"type": "configure", "reg_rate": -0.1}', r"reg_rate must be in \[0, 10\]"),
    ('{"type": "configure", "reg_rate": 11}', r"reg_rate must be in \[0, 10\]"),
    ('{"type": "configure", "reg_rate": "1"}', "reg_rate must be a number"),
    ('{"type": "configure", "discretize": 1}', "discretize must be true or false, got 1"),
    ('{"type": "configure", "show_test": "yes"}', 'show_test must be true or false, got "yes"'),
    ('{"type": "add_point", "x": 0, "y": 0, "value": 1.5}', r"value must be in \[-1, 1\]"),
    ('{"type": "add_point", "x": 0, "y": 0, "value": "0.5"}', "value must be a number"),
    ('{"type": "add_point", "x": 0, "y": 0, "label": 0, "value": 0.5}', "exactly one of"),
    ('{"type": "focus", "layer": 1}', "give both 'layer' and 'index', or neither"),
    ('{"type": "focus", "index": 1}', "give both 'layer' and 'index'"),
    ('{"type": "focus", "layer": -1, "index": 0}', "layer must be in 0..10"),
    ('{"type": "focus", "layer": 1, "index": 0.5}', "index must be an integer"),
    ('{"type": "focus", "layer": 1, "index": 0, "x": 0}', "focus: unknown field"),
])
def test_new_fields_are_checked(text, match):
    with pytest.raises(protocol.ProtocolError, match=match) as err:
        protocol.parse(text)
    assert "\n" not in str(err.value)


def test_new_fields_parse():
    fields = {"problem": "regression", "dataset": "gauss", "features": ["sin_x2", "x1"],
              "regularization": "l1", "reg_rate": 3, "discretize": True, "show_test": False}
    assert protocol.parse(json.dumps({"type": "configure", **fields})) == \
        ("configure", {**fields, "reg_rate": 3.0})
    assert protocol.parse('{"type": "focus"}') == ("focus", {})
    assert protocol.parse('{"type": "focus", "layer": 2, "index": 1}') == \
        ("focus", {"layer": 2, "index": 1})
    assert protocol.parse('{"type": "add_point", "x": 0, "y": 1, "value": -1}') == \
        ("add_point", {"x": 0.0, "y": 1.0, "value": -1.0})


# ---------------------------------------------------------------- the session's new settings


def test_a_dataset_of_the_other_problem_is_refused():
    s = Session()
    with pytest.raises(SessionError, match=r"^dataset 'chapter' is for classification; for "
                                           r"regression use plane or gauss$"):
        s.configure({"problem": "regression"})
    *first, last = (d.name for d in DATASETS if d.problem == "classification")
    with pytest.raises(SessionError, match=r"dataset 'plane' is for regression; for "
                                           rf"classification use {', '.join(first)} or {last}$"):
        s.configure({"dataset": "plane"})
    assert s.config.problem == "classification" and s.config.dataset == "chapter"  # unchanged
    assert s.configure({"problem": "regression", "dataset": "plane"}) == "data"
    state = s.state()
    assert state["classes"] == 0 and state["sizes"] == [2, 16, 1]
    assert state["config"]["problem"] == "regression"
    assert all(isinstance(p[2], float) and -1 <= p[2] <= 1 for p in state["points"])
    assert len({p[2] for p in state["points"]}) > 50  # real targets, not class labels


def test_display_switches_and_penalty_settings_are_stored_and_echoed():
    s = Session()
    assert s.configure({"discretize": True, "show_test": True, "regularization": "l2",
                        "reg_rate": 0.5}) == "hyper"
    config = s.state()["config"]
    assert config["discretize"] is True and config["show_test"] is True
    assert config["regularization"] == "l2" and config["reg_rate"] == 0.5
    assert s.step == 0 and s.config.features == ["x1", "x2"]


def test_features_set_the_input_size_and_the_graph_inputs():
    s = Session()
    assert s.configure({"features": ["sin_x2", "x1_sq", "x1"]}) == "network"
    assert s.config.features == ["x1", "x1_sq", "sin_x2"]  # canonical order
    assert s.state()["sizes"] == [3, 16, 3] and s.frame()["sizes"] == [3, 16, 3]
    assert s.param_count() == 3 * 16 + 16 + 16 * 3 + 3
    s.train_steps(5)
    (x1, x2), label = s.picked_point()
    trace, _ = s.trace()
    named = {trace.names[v]: v.data for v in trace.inputs}
    assert named == {"x₁": x1, "x₁²": x1 * x1, "sin x₂": math.sin(x2)}
    dot = s.graph_dot()["dot"]
    assert "sin x₂" in dot and "x₁²" in dot
    # the loss the graph shows is the model's own on those features
    logits = s.model.predict([x1, x1 * x1, math.sin(x2)])
    z = [v - max(logits) for v in logits]
    assert trace.loss.data == pytest.approx(math.log(sum(map(math.exp, z))) - z[label],
                                            rel=1e-12)


def test_features_are_what_the_network_trains_on():
    # x1·x2 alone separates xor: a model that sees only it learns xor; x1 alone cannot
    def acc(features):
        s = Session(Config(dataset="xor", features=features, hidden=[4], lr=0.05))
        s.train_steps(150)
        return s.frame()["train_acc"]
    assert acc(["x1_x2"]) > 0.9
    assert acc(["x1"]) < 0.75


def _weights_after(regularization: str, rate: float, steps: int = 300) -> list[float]:
    s = Session(Config(regularization=regularization, reg_rate=rate, lr=0.01, weight_decay=0.0))
    s.train_steps(steps)
    return [w.data for w in s.weights]


def test_l2_shrinks_the_weights():
    plain = _weights_after("none", 0.0)
    l2 = _weights_after("l2", 0.5)
    assert sum(w * w for w in l2) < 0.2 * sum(w * w for w in plain)


def test_l1_drives_weights_to_zero():
    near0 = [sum(abs(w) < 0.02 for w in _weights_after(kind, 0.05)) for kind in ("none", "l1")]
    assert near0[0] <= 2 and near0[1] >= 20


def test_penalty_gradient_is_on_weights_only_and_frames_report_its_value():
    for kind, rate in (("l1", 0.3), ("l2", 0.7)):
        s = Session(Config(regularization=kind, reg_rate=rate))
        s.optimizer.zero_grad()
        s._penalize()
        biases = {id(n.b) for layer in s.model.layers for n in layer.neurons}
        for p in s.params:
            if id(p) in biases:
                assert p.grad == 0.0
            elif kind == "l1":
                assert p.grad == rate * math.copysign(1.0, p.data)
            else:
                assert p.grad == rate * p.data
        ws = [w.data for w in s.weights]
        expected = rate * sum(map(abs, ws)) if kind == "l1" else rate * sum(w * w for w in ws) / 2
        assert s.frame()["penalty"] == pytest.approx(expected, rel=1e-12)
        assert len(ws) == 2 * 16 + 16 * 3
    frame = Session().frame()
    assert frame["penalty"] == 0.0 and frame["focus"] is None


def test_regression_reaches_a_low_mean_squared_error():
    s = Session(Config(problem="regression", dataset="plane", hidden=[4], lr=0.03))
    first = s.frame()["train_loss"]
    s.train_steps(200)
    frame = s.frame()
    assert frame["train_loss"] < 1e-3 < first and frame["val_loss"] < 1e-3
    assert frame["train_acc"] is None and frame["val_acc"] is None and frame["classes"] == 0
    assert "probs" not in frame and len(_bytes(frame["values"])) == GRID * GRID
    # the loss is mean((out - y)²) of the model's own outputs
    sq = [(s.model.predict(x)[0] - y) ** 2 for x, y in s.train]
    assert frame["train_loss"] == pytest.approx(sum(sq) / len(sq), rel=1e-9)
    # the plane's values: the output clipped to [-1, 1], row 0 at the top
    x0, x1, y0, y1 = s.extent
    top_left = s.model.predict([x0 + 0.5 * (x1 - x0) / GRID, y1 - 0.5 * (y1 - y0) / GRID])[0]
    assert _bytes(frame["values"])[0] == round((min(max(top_left, -1), 1) + 1) * 127.5)


def test_gauss_needs_hidden_neurons():
    losses = []
    for hidden in ([], [8, 8]):
        s = Session(Config(problem="regression", dataset="gauss", hidden=hidden, lr=0.03))
        s.train_steps(300)
        losses.append(s.frame()["train_loss"])
    assert losses[1] < 0.01 < losses[0]


def test_the_graph_of_a_regression_point_ends_in_its_squared_error():
    s = Session(Config(problem="regression", dataset="gauss", hidden=[3]))
    s.train_steps(10)
    x, y = s.picked_point()
    values = s.frame()["graph"]
    trace, _ = s.trace()
    out = s.model.predict(x)[0]
    assert trace.loss.data == (out - y) * (out - y)
    assert values["loss"] == trace.loss.data
    assert trace.names[trace.loss] == "loss" and trace.loss._op == "*"
    diff = trace.loss._prev[0]
    assert trace.loss._prev == (diff, diff) and trace.names[diff] == "out − y"
    assert "squared error (out − y)²" in s.graph_dot()["dot"]


def test_regression_points_take_values_not_labels():
    s = Session(Config(problem="regression", dataset="plane"))
    n = len(s.train)
    s.add_point(0.5, -0.5, value=0.25)
    assert len(s.train) == n + 1 and s.points()[n] == [0.5, -0.5, 0.25, 0]
    with pytest.raises(SessionError, match="regression point needs a value"):
        s.add_point(0.5, -0.5, label=1)
    with pytest.raises(SessionError, match="classification point needs a label"):
        Session().add_point(0.5, -0.5, value=0.5)


# ---------------------------------------------------------------- the hovered neuron


def test_focus_grids_of_inputs_hidden_neurons_and_outputs():
    s = Session(Config(features=["x1", "x2", "sin_x1"], hidden=[5, 4]))
    s.train_steps(10)
    assert s.frame()["focus"] is None
    grids = {}
    for layer, index in ((0, 2), (1, 3), (2, 0), (3, 1)):
        s.set_focus(layer, index)
        frame = s.frame()
        assert frame["focus"]["layer"] == layer and frame["focus"]["index"] == index
        grids[layer] = _bytes(frame["focus"]["grid"])
        assert len(grids[layer]) == GRID * GRID
    # an input: sin x1 over the grid divided by its largest magnitude; constant down a column
    rows = grid_rows(s.extent, GRID)
    values = [math.sin(r[0]) for r in rows]
    top = max(map(abs, values))
    assert list(grids[0]) == [round((v / top + 1) * 127.5) for v in values]
    # a hidden neuron: its tile at the grid points the tile shows
    tiles = _bytes(frame["tiles"])
    tile = tiles[3 * 25 * 25: 4 * 25 * 25]
    assert bytes(grids[1][r * GRID + c] for r in range(0, GRID, 2)
                 for c in range(0, GRID, 2)) == tile
    # an output: class 1's probability, the probs' own bytes
    assert grids[3] == _bytes(frame["probs"])[1::3]
    s.set_focus()
    assert s.frame()["focus"] is None


def test_focus_out_of_range_is_refused_and_a_smaller_network_clears_it():
    s = Session()
    for (layer, index), match in (((3, 0), "layer 3 does not exist; use 0 .inputs. to 2"),
                                  ((1, 16), "layer 1 has 16 neurons; use index 0..15"),
                                  ((0, 2), "layer 0 has 2 neurons")):
        with pytest.raises(SessionError, match=match):
            s.set_focus(layer, index)
    s.set_focus(1, 10)
    s.configure({"hidden": [4]})
    assert s.focus is None and s.frame()["focus"] is None
    s.set_focus(2, 2)
    s.configure({"hidden": [8]})
    assert s.frame()["focus"]["index"] == 2  # still there: kept


def test_regression_output_focus_is_the_values_plane():
    s = Session(Config(problem="regression", dataset="gauss", hidden=[6]))
    s.train_steps(30)
    s.set_focus(2, 0)
    frame = s.frame()
    assert frame["focus"]["grid"] == frame["values"]


# ---------------------------------------------------------------- the new settings without NumPy


@pytest.mark.parametrize("config,focus", [
    (Config(problem="regression", dataset="gauss", hidden=[6, 5], features=["x1", "x2",
            "x1_x2"], regularization="l2", reg_rate=0.1, lr=0.03), (1, 2)),
    (Config(dataset="moons", features=["x1_sq", "sin_x2", "x2"], activation="relu",
            regularization="l1", reg_rate=0.01, batch_size=20), (0, 1)),
    (Config(dataset="spiral", hidden=[7], activation="sigmoid"), (2, 2)),
])
def test_new_settings_give_the_same_frames_without_numpy(config, focus):
    frames = []
    for use_numpy in (False, True):
        s = Session(copy.deepcopy(config), engine="tape", use_numpy=use_numpy)
        s.train_steps(25)
        s.set_focus(*focus)
        frames.append(json.loads(json.dumps(s.frame())))
    pure, ref = frames
    assert pure["weights"] == ref["weights"]
    _assert_frames_agree(pure, ref)


NO_NUMPY_PARITY = """
import json, sys
sys.modules["numpy"] = None
from micrograd.playground.session import Config, Session
s = Session(Config(problem="regression", dataset="plane", features=["x1", "sin_x2"],
                   regularization="l1", reg_rate=0.02, hidden=[3]))
s.add_point(0.1, 0.2, value=0.5)
s.train_steps(20)
s.set_focus(1, 1)
print(json.dumps({"frame": s.frame(), "dot": s.graph_dot()["dot"], "engine": s.engine_name}))
"""


def test_new_settings_run_where_numpy_cannot_be_imported():
    proc = subprocess.run([sys.executable, "-c", NO_NUMPY_PARITY], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout)
    assert out["engine"] == "tape"
    s = Session(Config(problem="regression", dataset="plane", features=["x1", "sin_x2"],
                       regularization="l1", reg_rate=0.02, hidden=[3]), engine="tape")
    s.add_point(0.1, 0.2, value=0.5)
    s.train_steps(20)
    s.set_focus(1, 1)
    _assert_frames_agree(out["frame"], json.loads(json.dumps(s.frame())))
    assert out["dot"] == s.graph_dot()["dot"]


# ---------------------------------------------------------------- through the server


def test_focus_and_regression_points_through_the_server():
    with TestClient(server.create_app()) as client, client.websocket_connect("/ws") as ws:
        until(ws, "frame")
        send(ws, type="focus", layer=1, index=4)
        frame = until(ws, "frame", lambda m: m.get("focus") is not None)
        assert frame["focus"]["layer"] == 1 and len(_bytes(frame["focus"]["grid"])) == GRID ** 2
        send(ws, type="focus", layer=5, index=0)
        assert until(ws, "error")["message"].startswith("focus: layer 5 does not exist")
        send(ws, type="focus")
        until(ws, "frame", lambda m: m["focus"] is None)
        send(ws, type="configure", problem="regression", dataset="plane")
        state = until(ws, "state", lambda m: m["config"]["problem"] == "regression")
        assert state["classes"] == 0 and state["sizes"][-1] == 1
        n = len(state["points"])
        send(ws, type="add_point", x=0.0, y=0.0, value=0.75)
        state = until(ws, "state", lambda m: len(m["points"]) == n + 1)
        assert [0.0, 0.0, 0.75, 0] in state["points"]
        frame = until(ws, "frame")
        assert "values" in frame and "probs" not in frame and frame["train_acc"] is None
        send(ws, type="add_point", x=0.0, y=0.0, label=1)
        assert "needs a value" in until(ws, "error")["message"]
