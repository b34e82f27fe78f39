"""The playground without NumPy (the static export runs the session in Pyodide) and the
TensorFlow-Playground parity fields of the protocol.

Oracles: the NumPy path of `micrograd.playground.plane` (the served playground's) for the
pure-Python one: training on the `tape` engine gives the same bits on both, and the pictures'
bytes agree within one (`math.tanh`/`exp` and NumPy's may round one unit in the last place
apart); a session in a subprocess where `import numpy` fails for the whole API.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys

import pytest

from micrograd.playground.plane import NumpyPlane, PurePlane, grid_rows, layer_lists
from micrograd.playground.session import GRID, Config, Session

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
