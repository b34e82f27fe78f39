"""Fuzzing the CLI: hypothesis draws argument lists and CSV bytes; every outcome must be clean.

Clean means: exit 0; or exit 2 with exactly one line on stderr, `micrograd: error: ...`; or exit 3
(numerical trouble, e.g. features near 1e308) with exactly one such error line. Never an escaping
exception, never a traceback. Runs in-process through `micrograd.cli.main`, with tiny runs.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from micrograd import cli

FUZZ = settings(max_examples=250, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Files the fuzzer may name: a good CSV, a broken one, a run folder with its checkpoint."""
    base = tmp_path_factory.mktemp("fuzz")
    good = base / "good.csv"
    good.write_text("".join(f"{i % 5 - 2},{i % 3 - 1},{i % 2}\n" for i in range(20)))
    bad = base / "bad.csv"
    bad.write_text("1,2,0\n3\n")
    (base / "points.csv").write_text("x1,x2\n0.5,1\n-1,-1\n")
    run = base / "run"
    outcome = call(["train", "--steps", "2", "--no-plot", "--out", str(run)])
    assert outcome[0] == 0, outcome
    return base, good, bad, run


def call(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli.main(argv)
        except SystemExit as e:  # only --help may exit this way, with status 0
            assert e.code == 0 and ("-h" in argv or "--help" in argv), (argv, e.code)
            code = 0
    return code, out.getvalue(), err.getvalue()


def assert_clean(argv, code, out, err):
    assert code in (0, 2, 3), (argv, code, err)
    assert "Traceback" not in err, (argv, err)
    errors = [ln for ln in err.splitlines() if ln.startswith("micrograd: error: ")]
    if code == 0:
        assert not errors, (argv, err)
    elif code == 2:
        assert err.count("\n") == 1 and len(errors) == 1, (argv, err)
    else:
        assert len(errors) == 1, (argv, err)


@contextlib.contextmanager
def fresh_folder(base: Path):
    """A new empty folder as cwd: whatever a run writes by default lands here."""
    folder = tempfile.mkdtemp(dir=base)
    old = os.getcwd()
    os.chdir(folder)
    try:
        yield Path(folder)
    finally:
        os.chdir(old)


FLAGS = ["--steps", "--lr", "--hidden", "--activation", "--n", "--noise", "--dataset", "--seed",
         "--eval-every", "--weight-decay", "--save-every", "--resume", "--detect-anomaly",
         "--out", "--force", "--no-plot", "--quiet", "--engine", "--batch-size", "--checkpoint",
         "--data", "--bogus", "--", "-h", "--step", "--hid"]
JUNK = ["0", "-1", "nan", "inf", "-inf", "1e3", "abc", "", " ", "2,x", "4,0", "99999999999",
        "-", "=", "--lr=0.3", "--steps=1", "\x00", "é", "1" * 400, "/proc/x", "/nonexistent/x",
        "GOOD", "BAD", "RUN", "CKPT", "BASE"]
TRAIN_FLAGS = {  # each flag with values that work and values that must be refused
    "--steps": ["1", "2", "3", "0", "-1", "x"],
    "--lr": ["0.01", "0.5", "10", "0", "nan", "11"],
    "--hidden": ["4", "4,4", "none", "8", "0", "4,x"],
    "--activation": ["relu", "tanh", "sigmoid", "swish"],
    "--n": ["20", "30", "9", "1000000000"],
    "--noise": ["0", "0.3", "-1", "inf"],
    "--dataset": ["chapter", "seed", "moons", "xor", "spiral", "circles", "yinyang", "GOOD", "BAD",
                  "mnist", "BASE"],
    "--seed": ["1", "7", "0", str(2**64)],
    "--eval-every": ["1", "2", "5", "0"],
    "--weight-decay": ["0", "0.5", "1", "2"],
    "--save-every": ["0", "1", "2", "-3"],
    "--resume": ["RUN", "CKPT", "BASE", "GOOD", "/nonexistent/x"],
    "--engine": ["eager", "tape", "auto", "numpy", "gpu"],
    "--batch-size": ["1", "4", "100", "0"],
    "--detect-anomaly": [], "--force": [], "--no-plot": [], "--quiet": [],
}
EVAL_FLAGS = {
    "--checkpoint": ["RUN", "CKPT", "GOOD", "BASE", "/nonexistent/x"],
    "--data": ["POINTS", "GOOD", "BAD", "CKPT", "BASE"],
    "--out": ["OUT", "GOOD", "BASE", "/proc/p.csv"],
    "--force": [],
}


def options(pool: dict[str, list[str]]):
    """Lists of `[flag]` or `[flag, value]` from `pool`, with a junk token now and then."""
    def one(flag):
        return st.just([flag]) if not pool[flag] else st.sampled_from(pool[flag]).map(
            lambda v: [flag, v])
    pair = st.sampled_from(sorted(pool)).flatmap(one)
    junk = st.sampled_from(FLAGS + JUNK).map(lambda t: [t])
    return st.lists(st.one_of(pair, pair, pair, junk), max_size=6).map(
        lambda groups: [t for g in groups for t in g])


def resolve(token: str, world, here: Path) -> str:
    base, good, bad, run = world
    return {"GOOD": str(good), "BAD": str(bad), "RUN": str(run),
            "CKPT": str(run / "checkpoint.json"), "BASE": str(base),
            "POINTS": str(base / "points.csv"), "OUT": str(here / "p.csv")}.get(token, token)


@FUZZ
@given(command=st.sampled_from(["train", "train", "train", "eval", "eval", "fly", ""]),
       train_tokens=options(TRAIN_FLAGS), eval_tokens=options(EVAL_FLAGS))
def test_random_argument_lists_end_cleanly(world, command, train_tokens, eval_tokens):
    base, _, _, run = world
    before = {p.name: p.read_bytes() for p in run.iterdir()}
    with fresh_folder(base) as here:
        argv = [command] if command else []
        if command == "train":  # small runs; an --out of our own comes last and wins
            argv += ["--steps", "2", *(resolve(t, world, here) for t in train_tokens),
                     "--no-plot", "--out", str(here / "out")]
        elif command == "eval":
            argv += ["--checkpoint", str(run), *(resolve(t, world, here) for t in eval_tokens)]
        else:
            argv += [resolve(t, world, here) for t in train_tokens]
        code, out, err = call(argv)
        assert_clean(argv, code, out, err)
    assert {p.name: p.read_bytes() for p in run.iterdir()} == before  # never touched


JUNK_CELLS = ["nan", "inf", "x", "", " ", "0x10", "1_000", "\ufeff1", "label", "é", "1.5", "-1",
              "1001", "\x00"]
NUMBER = st.one_of(st.integers(-3, 3).map(str), st.floats(-10, 10).map(repr),
                   st.floats(-10, 10).map(repr), st.sampled_from(["1e308", "-1e308", "1e-320"]))


@st.composite
def csv_bytes(draw, features: int | None = None) -> bytes:
    """Random bytes, junk text, or CSV rows with random numbers and a few mutations."""
    kind = draw(st.integers(0, 5))  # 0 bytes, 1 junk text, 4 a mutated CSV, else a clean CSV
    if kind == 0:
        return draw(st.binary(max_size=300))
    if kind == 1:
        cells = st.lists(st.sampled_from([*JUNK_CELLS, "0", "1", "2"]), min_size=1, max_size=4)
        lines = draw(st.lists(cells.map(",".join), max_size=20))
        return ("\n".join(lines) + "\n").encode()
    nfeat = features if features is not None else draw(st.integers(1, 3))
    nfeat += draw(st.sampled_from([0, 0, 0, 0, 1, -1])) if nfeat > 1 else 0
    classes = draw(st.integers(1, 4))
    labelled = features is None or draw(st.booleans())
    rows = []
    for i in range(draw(st.integers(0, 30))):
        cells = [draw(NUMBER) for _ in range(nfeat)] + ([str(i % classes)] if labelled else [])
        rows.append(",".join(cells))
    if kind == 4 and rows:  # a mutation: one cell or one whole row goes bad
        i = draw(st.integers(0, len(rows) - 1))
        cells = rows[i].split(",")
        cells[draw(st.integers(0, len(cells) - 1))] = draw(st.sampled_from(JUNK_CELLS))
        rows[i] = ",".join(cells) if draw(st.booleans()) else draw(st.sampled_from(JUNK_CELLS))
    names = [f"x{i + 1}" for i in range(nfeat)] + (["label"] if labelled else [])
    header = draw(st.sampled_from(["", "", ",".join(names) + "\n", "a\n"]))
    sep = draw(st.sampled_from(["\n", "\r\n"]))
    return (header + sep.join(rows) + sep).encode()


@FUZZ
@given(content=csv_bytes())
def test_random_csv_bytes_for_training_end_cleanly(world, content):
    base = world[0]
    with fresh_folder(base) as here:
        (here / "data.csv").write_bytes(content)
        argv = ["train", "--dataset", str(here / "data.csv"), "--steps", "2", "--hidden", "4",
                "--no-plot", "--quiet", "--out", str(here / "out")]
        code, out, err = call(argv)
        assert_clean(argv, code, out, err)
        if code == 2:
            assert not (here / "out").exists()  # a rejected file creates no run folder


@FUZZ
@given(content=csv_bytes(features=2))
def test_random_csv_bytes_for_prediction_end_cleanly(world, content):
    base, _, _, run = world
    with fresh_folder(base) as here:
        (here / "new.csv").write_bytes(content)
        argv = ["eval", "--checkpoint", str(run), "--data", str(here / "new.csv"), "--out",
                str(here / "p.csv")]
        code, out, err = call(argv)
        assert_clean(argv, code, out, err)
        assert code in (0, 2) and (here / "p.csv").exists() == (code == 0)
