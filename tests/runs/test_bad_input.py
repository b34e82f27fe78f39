"""Hostile input, table-driven: every case exits 2 with exactly one `micrograd: error:` line on
stderr, no traceback, and leaves every file the user had exactly as it was (hashed before/after).

Unreadable files are simulated without chmod (CI runs as root, and root reads mode-000 files): a
FIFO, a path through a regular file, /proc (read-only even for root), or a patched `open`.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

import pytest

from micrograd import cli, data
from micrograd import files as micrograd_files


@pytest.fixture(scope="module")
def good_run(tmp_path_factory):
    """A real 3-step run with its checkpoint, copied into each case's folder."""
    out = tmp_path_factory.mktemp("good") / "run"
    quietly(["train", "--steps", "3", "--no-plot", "--out", str(out)])
    return out


def quietly(argv):
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        assert cli.main(argv) == 0


@dataclass
class Ctx:
    tmp: Path
    run: Path
    monkeypatch: pytest.MonkeyPatch

    def file(self, name: str, content: str | bytes) -> str:
        path = self.tmp / name
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        return str(path)

    def csv(self, content: str | bytes) -> str:
        return self.file("data.csv", content)

    def fifo(self, name: str = "pipe.csv") -> str:
        os.mkfifo(self.tmp / name)
        return str(self.tmp / name)

    def edit(self, change) -> str:
        """The run's checkpoint, edited by `change(doc)`."""
        path = self.run / "checkpoint.json"
        doc = json.loads(path.read_text())
        change(doc)
        path.write_text(json.dumps(doc))
        return str(path)


def rows(n=20, k=3, features=2):
    return "".join(",".join([*(str(i * 0.1 + j) for j in range(features)), str(i % k)]) + "\n"
                   for i in range(n))


def train(*args):
    return ["train", *args, "--steps", "2", "--no-plot"]


def _set(key, sub, value):
    def change(doc):
        doc[key][sub] = value
    return change


# (id, setup(ctx) -> argv, a phrase the error must contain)
CASES = [
    # ---- flags ----
    ("unknown-flag", lambda c: train("--bogus"), "unrecognized arguments: --bogus"),
    ("extra-positional", lambda c: train("again"), "unrecognized arguments: again"),
    ("unknown-command", lambda c: ["fly"], "invalid choice: 'fly'"),
    ("no-command", lambda c: [], "missing command"),
    ("steps-negative", lambda c: ["train", "--steps", "-1"], "must be in 1..1000000, got -1"),
    ("steps-float", lambda c: ["train", "--steps", "1e3"], "'1e3' is not an integer"),
    ("steps-huge", lambda c: ["train", "--steps", "99999999999"], "must be in 1..1000000"),
    ("lr-nan", lambda c: train("--lr", "nan"), "must be a finite number, got nan"),
    ("lr-negative", lambda c: train("--lr", "-0.1"), "--lr"),
    ("lr-empty", lambda c: train("--lr", ""), "'' is not a number"),
    ("weight-decay-inf", lambda c: train("--weight-decay", "inf"), "--weight-decay"),
    ("hidden-zero", lambda c: train("--hidden", "0"), "layer size must be in 1..1024, got 0"),
    ("hidden-huge", lambda c: train("--hidden", "2048"), "layer size must be in 1..1024, got 2048"),
    ("hidden-deep", lambda c: train("--hidden", ",".join(["4"] * 9)), "at most 8"),
    ("n-huge", lambda c: train("--n", "10000000"), "--n"),
    ("seed-too-big", lambda c: train("--seed", str(2**64)), "--seed"),
    ("noise-inf", lambda c: train("--dataset", "moons", "--noise", "inf"), "--noise"),
    ("save-every-negative", lambda c: train("--save-every", "-5"), "--save-every"),
    ("save-every-text", lambda c: train("--save-every", "often"), "'often' is not an integer"),
    ("flag-with-value", lambda c: train("--detect-anomaly=yes"), "ignored explicit argument"),
    ("resume-without-path", lambda c: ["train", "--resume"], "expected one argument"),
    ("eval-without-run", lambda c: ["eval"], "name the run to evaluate"),
    ("eval-unknown-flag", lambda c: ["eval", "--checkpoint", str(c.run), "--bogus"],
     "unrecognized arguments"),
    ("eval-out-without-data", lambda c: ["eval", "--checkpoint", str(c.run), "--out", "p.csv"],
     "pass --data"),
    # ---- CSV files for training ----
    ("csv-empty", lambda c: train("--dataset", c.csv("")), "has no data rows"),
    ("csv-header-only", lambda c: train("--dataset", c.csv("x,y,label\n")), "has no data rows"),
    ("csv-ragged", lambda c: train("--dataset", c.csv(rows() + "1,2\n")),
     "line 21: expected 3 columns, got 2"),
    ("csv-non-numeric", lambda c: train("--dataset", c.csv(rows() + "1,abc,0\n")),
     "column 2 is 'abc', not a number"),
    ("csv-binary", lambda c: train("--dataset", c.csv(b"\x89PNG\r\n\x1a\n\0\0\0")),
     "is a binary file"),
    ("csv-not-utf8", lambda c: train("--dataset", c.csv(rows().encode() + b"\xff,1,0\n")),
     "is not UTF-8 text"),
    ("csv-huge", lambda c: (c.monkeypatch.setattr(data, "MAX_CSV_BYTES", 100),
                            train("--dataset", c.csv(rows())))[1], "over the 100 byte limit"),
    ("csv-label-negative", lambda c: train("--dataset", c.csv(rows() + "1,2,-1\n")),
     "label '-1' is not a class index"),
    ("csv-label-fraction", lambda c: train("--dataset", c.csv(rows() + "1,2,1.5\n")),
     "label '1.5' is not a class index"),
    ("csv-label-word", lambda c: train("--dataset", c.csv(rows() + "1,2,cat\n")),
     "label 'cat' is not a class index"),
    ("csv-label-huge", lambda c: train("--dataset", c.csv(rows() + "1,2,5000\n")),
     "label '5000' is not a class index"),
    ("csv-missing-class", lambda c: train("--dataset", c.csv(rows(k=3).replace(",1\n", ",2\n"))),
     "missing [1]"),
    ("csv-one-class", lambda c: train("--dataset", c.csv(rows(k=1))), "at least 2 classes"),
    ("csv-too-few-rows", lambda c: train("--dataset", c.csv(rows(n=6))), "need at least 10"),
    ("csv-nan-feature", lambda c: train("--dataset", c.csv(rows() + "nan,1,0\n")),
     "use finite numbers"),
    ("csv-inf-feature", lambda c: train("--dataset", c.csv(rows() + "1,-inf,0\n")),
     "use finite numbers"),
    ("csv-too-many-features", lambda c: train("--dataset", c.csv(rows(features=65))),
     "65 features is over the limit of 64"),
    ("csv-one-column", lambda c: train("--dataset", c.csv("1\n2\n")),
     "need at least one feature column"),
    ("csv-is-a-directory", lambda c: train("--dataset", str(c.run)), "is a directory"),
    ("csv-dir-named-csv", lambda c: (os.mkdir(c.tmp / "d.csv"),
                                     train("--dataset", str(c.tmp / "d.csv")))[1],
     "is a directory"),
    ("csv-is-a-fifo", lambda c: train("--dataset", c.fifo()), "is not a regular file"),
    ("csv-through-a-file", lambda c: train("--dataset", c.file("f", "x") + "/x.csv"),
     "cannot be read"),
    ("csv-missing", lambda c: train("--dataset", str(c.tmp / "nope.csv")), "does not exist"),
    ("csv-with-n", lambda c: train("--dataset", c.csv(rows()), "--n", "50"),
     "--n does not apply"),
    # ---- checkpoints: resume and eval ----
    ("resume-truncated", lambda c: (c.file("run/checkpoint.json", (
        c.run / "checkpoint.json").read_bytes()[:500]), ["train", "--resume", str(c.run)])[1],
     "is truncated"),
    ("resume-weights-strings", lambda c: ["train", "--resume", c.edit(
        _set("model", "weights", ["0.5"] * 99))], "model.weights must hold finite numbers"),
    ("resume-other-version", lambda c: ["train", "--resume", c.edit(
        lambda d: d.update(version=2))], "format version 2 is not supported"),
    ("resume-other-architecture", lambda c: ["train", "--resume", str(c.run), "--hidden", "8"],
     "another architecture than the checkpoint's MLP 2-16-3 (tanh)"),
    ("resume-other-activation", lambda c: ["train", "--resume", str(c.run), "--activation",
                                           "relu"], "another architecture"),
    ("resume-other-lr", lambda c: ["train", "--resume", str(c.run), "--lr", "0.5"],
     "--lr 0.5 differs from the run's 0.1"),
    ("resume-fewer-steps", lambda c: ["train", "--resume", str(c.run), "--steps", "2"],
     "past --steps 2"),
    ("resume-folder-without-checkpoint", lambda c: (
        os.mkdir(c.tmp / "empty"), ["train", "--resume", str(c.tmp / "empty")])[1],
     "no checkpoint.json in"),
    ("resume-checkpoint-is-a-directory", lambda c: (
        os.makedirs(c.tmp / "x" / "checkpoint.json" / "inner"),
        ["train", "--resume", str(c.tmp / "x" / "checkpoint.json")])[1], "no checkpoint.json"),
    ("resume-fifo", lambda c: ["train", "--resume", c.fifo("ck.json")], "not a regular file"),
    ("resume-through-a-file", lambda c: ["train", "--resume", c.file("f", "x") + "/ck.json"],
     "Not a directory"),
    ("resume-unreadable", lambda c: (
        c.monkeypatch.setattr(micrograd_files, "open", _permission_denied, raising=False),
        ["train", "--resume", str(c.run)])[1], "Permission denied"),
    ("resume-missing", lambda c: ["train", "--resume", str(c.tmp / "nope.json")],
     "does not exist"),
    ("resume-into-a-full-folder", lambda c: (
        c.file("other/keep.txt", "mine") if os.mkdir(c.tmp / "other") is None else None,
        ["train", "--resume", str(c.run), "--out", str(c.tmp / "other")])[1],
     "already exists and is not empty"),
    ("resume-config-wrong-type", lambda c: ["train", "--resume", c.edit(
        _set("config", "lr", "fast"))], "config lr is \"fast\", of the wrong type"),
    ("resume-config-unknown-key", lambda c: ["train", "--resume", c.edit(
        _set("config", "momentum", 0.9))], "has unknown key 'momentum'"),
    ("resume-config-out-of-range", lambda c: ["train", "--resume", c.edit(
        _set("config", "eval_every", 0))], "eval_every must be in 1..1000000, got 0"),
    ("resume-config-disagrees", lambda c: ["train", "--resume", c.edit(
        _set("config", "hidden", [8]))], "disagrees with the model's sizes"),
    ("resume-optimizer-edited", lambda c: ["train", "--resume", c.edit(
        _set("optimizer", "lr", 0.5))], "optimizer lr is 0.5 but its config says 0.1"),
    ("resume-other-data", lambda c: _changed_csv_run(c), "are not the data"),
    ("resume-config-beta-one", lambda c: ["train", "--resume", c.edit(
        _set("config", "betas", [0.9, 1.0]))], "config betas[1] must be in [0, 1), got 1.0"),
    ("resume-config-eps-negative", lambda c: ["train", "--resume", c.edit(
        _set("config", "eps", -1))], "config eps must be in (0, 1], got -1"),
    ("resume-config-batch-fraction", lambda c: ["train", "--resume", c.edit(
        _set("config", "batch_size", 2.5))], "config batch_size must be an integer, got 2.5"),
    ("resume-a-copy-in-place", lambda c: (
        shutil.copy(c.run / "checkpoint.json", c.run / "ck3.json"),
        ["train", "--resume", str(c.run / "ck3.json"), "--steps", "5"])[1],
     "pass --out NEW_FOLDER"),
    ("resume-over-a-later-checkpoint", lambda c: _older_copy_over_newer(c),
     "is at step 5, further on than"),
    ("eval-truncated", lambda c: (c.file("run/checkpoint.json", b'{"format": "micrograd-lab'),
                                  ["eval", "--checkpoint", str(c.run)])[1], "is truncated"),
    ("eval-not-json", lambda c: ["eval", "--checkpoint", c.file("c.json", "hello")],
     "is not valid JSON"),
    ("eval-other-version", lambda c: ["eval", "--checkpoint", c.edit(
        lambda d: d.update(version=0))], "format version 0"),
    ("eval-directory", lambda c: ["eval", "--checkpoint", str(c.tmp)], "no checkpoint.json"),
    ("eval-config-beta-one", lambda c: ["eval", "--checkpoint", c.edit(
        _set("config", "betas", [0.9, 1.0]))], "config betas[1] must be in [0, 1), got 1.0"),
    ("eval-config-eps-negative", lambda c: ["eval", "--checkpoint", c.edit(
        _set("config", "eps", -1)), "--data", c.csv("1,2\n")], "config eps must be in (0, 1]"),
    # ---- data for eval ----
    ("eval-data-wrong-columns", lambda c: ["eval", "--checkpoint", str(c.run), "--data",
                                           c.csv("1,2,3,4\n")], "this model takes 2 features"),
    ("eval-data-bad-label", lambda c: ["eval", "--checkpoint", str(c.run), "--data",
                                       c.csv("1,2,7\n")], "label '7' is not a class index 0..2"),
    ("eval-data-binary", lambda c: ["eval", "--checkpoint", str(c.run), "--data",
                                    c.csv(b"\0\1\2")], "is a binary file"),
    ("eval-data-empty", lambda c: ["eval", "--checkpoint", str(c.run), "--data", c.csv("a,b\n")],
     "has no data rows"),
    ("eval-data-ragged", lambda c: ["eval", "--checkpoint", str(c.run), "--data",
                                    c.csv("1,2\n3\n")], "expected 2 columns, got 1"),
    ("eval-data-missing", lambda c: ["eval", "--checkpoint", str(c.run), "--data",
                                     str(c.tmp / "nope.csv")], "does not exist"),
    ("eval-data-fifo", lambda c: ["eval", "--checkpoint", str(c.run), "--data", c.fifo()],
     "is not a regular file"),
    ("eval-data-semicolons", lambda c: ["eval", "--checkpoint", str(c.run), "--data",
                                        c.csv("x;y\n1;2\n3;4\n")],
     "this looks like a ;-separated file; use commas"),
    ("csv-semicolons", lambda c: train("--dataset", c.csv(rows().replace(",", ";"))),
     "this looks like a ;-separated file; use commas"),
    ("csv-tabs", lambda c: train("--dataset", c.csv("x\ty\tlabel\n" + rows().replace(",", "\t"))),
     "this looks like a tab-separated file; use commas"),
    # ---- graph ----
    ("graph-point-underflows", lambda c: ["graph", "--hidden", "none", "--point=1e5,0",
                                          "--label", "1"], "cannot be computed there"),
    # ---- output paths ----
    ("out-is-a-file", lambda c: train("--out", c.file("f.txt", "keep")), "is a file"),
    ("out-under-a-file", lambda c: train("--out", c.file("f.txt", "keep") + "/run"),
     "f.txt', a file, not a folder"),
    ("out-in-proc", lambda c: train("--out", "/proc/micrograd-run"), "cannot write to run folder"),
    ("out-not-empty", lambda c: train("--out", str(c.run)), "already exists and is not empty"),
    ("eval-out-existing", lambda c: ["eval", "--checkpoint", str(c.run), "--data",
                                     c.csv("1,2\n"), "--out", c.file("p.csv", "mine")],
     "already exists; pass --force"),
    ("eval-out-directory", lambda c: ["eval", "--checkpoint", str(c.run), "--data",
                                      c.csv("1,2\n"), "--out", str(c.run), "--force"],
     "is a folder"),
    ("eval-out-under-a-file", lambda c: ["eval", "--checkpoint", str(c.run), "--data",
                                         c.csv("1,2\n"), "--out", c.file("f", "x") + "/p.csv"],
     "is not a folder"),
    ("eval-out-in-proc", lambda c: ["eval", "--checkpoint", str(c.run), "--data",
                                    c.csv("1,2\n"), "--out", "/proc/p.csv"], "cannot write in"),
    ("eval-out-is-the-checkpoint", lambda c: ["eval", "--checkpoint", str(c.run), "--data",
                                              c.csv("1,2\n"), "--out",
                                              str(c.run / "checkpoint.json"), "--force"],
     "is the checkpoint itself"),
    ("eval-out-is-the-data", lambda c: ["eval", "--checkpoint", str(c.run), "--data",
                                        c.csv("1,2\n"), "--out", "data.csv", "--force"],
     "is the --data file itself"),
    ("eval-out-is-a-link-to-the-data", lambda c: (
        os.symlink(c.csv("1,2\n"), c.tmp / "link.csv"),
        ["eval", "--checkpoint", str(c.run), "--data", str(c.tmp / "data.csv"), "--out",
         str(c.tmp / "link.csv"), "--force"])[1], "is the --data file itself"),
]


def _permission_denied(*args, **kwargs):
    raise PermissionError(13, "Permission denied")


def _changed_csv_run(c):
    path = c.csv(rows(n=30))
    quietly(["train", "--dataset", path, "--steps", "2", "--no-plot", "--out",
             str(c.tmp / "csvrun")])
    Path(path).write_text(rows(n=30).replace("0.1,", "0.2,", 1))
    return ["train", "--resume", str(c.tmp / "csvrun")]


def _older_copy_over_newer(c):
    """The run at step 5, and a copy of its step-3 checkpoint resumed into its folder."""
    shutil.copy(c.run / "checkpoint.json", c.tmp / "ck3.json")
    quietly(["train", "--resume", str(c.run), "--steps", "5", "--no-plot"])
    return ["train", "--resume", str(c.tmp / "ck3.json"), "--out", str(c.run), "--force"]


def tree(root: Path) -> dict[str, str]:
    """Every path under root with the sha256 of its bytes (FIFOs are not read)."""
    out = {}
    for folder, _dirs, files in os.walk(root):
        out[os.path.relpath(folder, root)] = "dir"
        for name in files:
            path = os.path.join(folder, name)
            mode = os.lstat(path).st_mode
            out[os.path.relpath(path, root)] = (
                hashlib.sha256(Path(path).read_bytes()).hexdigest() if stat.S_ISREG(mode)
                else oct(mode))
    return out


def test_the_table_is_big_enough():
    assert len(CASES) >= 40 and len({name for name, _, _ in CASES}) == len(CASES)


@pytest.mark.parametrize(("setup", "phrase"), [(s, p) for _, s, p in CASES],
                         ids=[name for name, _, _ in CASES])
def test_hostile_input_gives_one_line_exit_2_and_changes_nothing(setup, phrase, tmp_path,
                                                                 good_run, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # a default runs/<timestamp> would land here: it must not
    shutil.copytree(good_run, tmp_path / "run")
    argv = setup(Ctx(tmp_path, tmp_path / "run", monkeypatch))
    capsys.readouterr()
    before = tree(tmp_path)
    code = cli.main(argv)
    out, err = capsys.readouterr()
    assert code == 2, err
    assert err.startswith("micrograd: error: ") and err.count("\n") == 1, err
    assert phrase in err, err
    assert "Traceback" not in err and out == ""
    assert tree(tmp_path) == before
