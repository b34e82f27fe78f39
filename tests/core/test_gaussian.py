"""The "gaussian" dataset (TensorFlow Playground's two Gaussian blobs) is one generator in data.py
and one row of the settings' table; these tests hold every consumer to it: the same seed gives the
same bits, both classes sit in every split around their centres, noise widens the blobs, the CLI
trains on it and the playground's session generates it. The existing datasets' numbers are
pinned, so adding a row changes none of them."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import statistics

import pytest

from micrograd import cli
from micrograd.data import DATASETS, RNG, make_gaussian
from micrograd.playground.regression import REGRESSION_DATASETS
from micrograd.playground.session import Config, Session
from micrograd.settings import DATASET, settings_json

# sha256 of every point of each dataset for RNG(11), n = 120 (regression: noise 0.1)
PINNED = {"chapter": "ec90989212073053", "yinyang": "384d58a9e0ad88e6", "moons": "dd1b58ec486b4ff5",
          "circles": "f18939f5cded4212", "spiral": "0da8c97975d09ad0", "xor": "50e9603bee287619",
          "plane": "bfcf9791d693f3fb", "gauss": "025b3cc25933c851"}


def fingerprint(points) -> str:
    return hashlib.sha256(repr(points).encode()).hexdigest()[:16]


def test_the_existing_datasets_numbers_are_unchanged():
    for name, want in PINNED.items():
        if name in REGRESSION_DATASETS:
            points = REGRESSION_DATASETS[name](RNG(11), 120, noise=0.1)
        else:
            points = [p for part in DATASETS[name](RNG(11), 120) for p in part]
        assert fingerprint(points) == want, name


def test_a_chapter_gives_the_same_bits_and_another_chapter_other_points():
    a, b = make_gaussian(RNG(42), 100), make_gaussian(RNG(42), 100)
    bits = [[(x.hex(), y.hex(), label) for (x, y), label in part] for part in a]
    assert bits == [[(x.hex(), y.hex(), label) for (x, y), label in part] for part in b]
    assert make_gaussian(42, 100) == a  # an int seed is RNG(seed)
    assert make_gaussian(RNG(43), 100) != a


def test_both_classes_are_in_every_split_around_their_centres():
    train, val, test = make_gaussian(RNG(5), 400)
    assert (len(train), len(val), len(test)) == (320, 40, 40)
    for part in (train, val, test):
        assert {label for _, label in part} == {0, 1}
    points = train + val + test
    for label, centre in ((1, 1.0), (0, -1.0)):
        xs = [x for (x, _), y in points if y == label]
        ys = [y_ for (_, y_), y in points if y == label]
        assert statistics.fmean(xs) == pytest.approx(centre, abs=0.06)
        assert statistics.fmean(ys) == pytest.approx(centre, abs=0.06)
        assert statistics.stdev(xs) == pytest.approx(0.25 + DATASET["gaussian"].noise, rel=0.15)


def test_noise_widens_the_blobs_and_is_checked():
    quiet = [x for part in make_gaussian(RNG(5), 400, noise=0.0) for (x, _), _ in part]
    loud = [x for part in make_gaussian(RNG(5), 400, noise=1.0) for (x, _), _ in part]
    assert statistics.pstdev(loud) > statistics.pstdev(quiet)
    with pytest.raises(ValueError, match="noise must be in"):
        make_gaussian(RNG(5), 100, noise=-0.1)


def test_micrograd_train_takes_it(tmp_path):
    out = tmp_path / "run"
    with contextlib.redirect_stdout(io.StringIO()):
        code = cli.main(["train", "--dataset", "gaussian", "--steps", "3", "--no-plot", "--quiet",
                         "--out", str(out)])
    assert code == 0
    saved = json.loads((out / "checkpoint.json").read_text())
    assert saved["config"]["dataset"] == "gaussian" and saved["model"]["sizes"][-1] == 2


def test_the_playground_generates_it():
    s = Session(Config())
    s.configure({"dataset": "gaussian"})
    assert s.config.noise == DATASET["gaussian"].noise and s.classes == 2
    assert {y for _, y in s.train} == {0, 1} and len(s.train) + len(s.val) == s.config.n
    again = Session(Config(dataset="gaussian", noise=DATASET["gaussian"].noise))
    assert again.train == s.train  # seeded: the same points
    s.train_steps(3)
    assert s.step == 3
    page = json.loads(settings_json())
    assert {"name": "gaussian", "label": "gaussian", "problem": "classification", "classes": 2,
            "noise": DATASET["gaussian"].noise} in page["datasets"]
