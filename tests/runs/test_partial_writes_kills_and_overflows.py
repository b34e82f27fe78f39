"""Edges of "nothing lost": a write taken only in part, a kill -9 mid-write, a planted lock link,
a signal while a checkpoint is read, weights that overflow in the playground, and the words of a
refusal. The commands run as a user runs them (a subprocess, a real pipe, a real file-size
limit) where that is the point. No test measures time.
"""

from __future__ import annotations

import json
import random
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from micrograd import cli
from micrograd import resume as resume_module
from micrograd.checkpoint import load_checkpoint

QUIET = ["--no-plot", "--quiet"]
WAIT = 120  # seconds a subprocess may take on a busy machine before the test gives up


def micrograd_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "micrograd", *args]


@pytest.fixture
def trained(tmp_path) -> Path:
    run = tmp_path / "run"
    assert cli.main(["train", "--steps", "2", *QUIET, "--out", str(run)]) == 0
    return run


def big_points_csv(path: Path, rows: int = 5000) -> Path:
    rng = random.Random(1)
    path.write_text("".join(f"{rng.uniform(-1, 1)!r},{rng.uniform(-1, 1)!r}\n"
                            for _ in range(rows)))
    return path


# ---------------------------------------------- eval output taken only in part


def _limit_file_size(nbytes: int):
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (nbytes, nbytes))
    return limit


def test_eval_predictions_cut_short_by_a_full_stdout_file_are_not_a_success(trained, tmp_path):
    """`eval --data x.csv > predictions.csv` on a disk that fills half-way (a file-size limit
    fails the write the same way): one large write is taken only in part, and what was not
    taken is an error (exit 4, one line), never a success with a truncated file."""
    data = big_points_csv(tmp_path / "x.csv")
    target = tmp_path / "predictions.csv"
    with open(target, "wb") as out:
        proc = subprocess.run(micrograd_cmd("eval", "--checkpoint", str(trained), "--data",
                                            str(data)),
                              stdout=out, stderr=subprocess.PIPE, text=True, timeout=WAIT,
                              preexec_fn=_limit_file_size(100_000))
    written = target.read_bytes()
    assert len(written) == 100_000 and not written.endswith(b"\n")  # the file was cut short
    assert proc.returncode == 4, (proc.returncode, proc.stderr)
    assert "cannot write to stdout" in proc.stderr


def test_eval_predictions_into_a_pipe_closed_early_exit_141(trained, tmp_path):
    """`eval --data x.csv | head -1`: the reader closes the pipe mid-output, and the exit code
    says so (141), so a `set -o pipefail` script never takes a cut file for a whole one."""
    data = big_points_csv(tmp_path / "x.csv")
    proc = subprocess.Popen(micrograd_cmd("eval", "--checkpoint", str(trained), "--data",
                                          str(data)),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout.readline().startswith(b"x1,x2,predicted")
    proc.stdout.close()  # the reader had enough, as `head -1`
    _, err = proc.communicate(timeout=WAIT)
    assert proc.returncode == 141, (proc.returncode, err)


# ---------------------------------------------- what a kill -9 leaves behind


@pytest.mark.parametrize("leftover", [".checkpoint.json.0123456789ab.tmp",
                                      ".micrograd-write-test.ab12cd34"])
def test_what_a_kill_9_leaves_in_a_new_run_folder_does_not_block_the_rerun(tmp_path, leftover):
    """kill -9 while the first checkpoint is written leaves the lock and the write's temporary
    file; kill -9 during the disk probe leaves `.micrograd-write-test.*`. Both are micrograd's
    own leftovers: the folder still counts as empty, and they are removed."""
    run = tmp_path / "run"
    run.mkdir()
    (run / ".micrograd.lock").write_bytes(b"")
    (run / leftover).write_bytes(b"{\"format\": \"micrograd-lab checkpoint\", \"vers")
    assert cli.main(["train", "--resume", str(run)]) == 2  # nothing to resume: start it again
    assert cli.main(["train", "--steps", "2", *QUIET, "--out", str(run)]) == 0
    assert load_checkpoint(str(run)).step == 2


# ---------------------------------------------- a planted lock link


def test_a_symlinked_lock_file_never_creates_a_file_outside_the_run_folder(tmp_path):
    """`run/.micrograd.lock -> elsewhere`: the lock is opened with O_NOFOLLOW after the link is
    removed, so whoever could write the folder cannot make a run create a file elsewhere."""
    run = tmp_path / "run"
    run.mkdir()
    outside = tmp_path / "outside" / "created-by-micrograd"
    outside.parent.mkdir()
    (run / ".micrograd.lock").symlink_to(outside)
    cli.main(["train", "--steps", "2", *QUIET, "--out", str(run)])
    assert not outside.exists()


# ------------------------------------------ a signal while a resume reads its checkpoint


def test_ctrl_c_while_a_resume_reads_its_checkpoint_is_one_line(trained, monkeypatch, capsys):
    """A signal while a large checkpoint is read (seconds for a 138 MB one) is a setup stop:
    one line, exit 130, the checkpoint unchanged and the lock gone."""
    before = (trained / "checkpoint.json").read_bytes()
    real = resume_module.load_checkpoint

    def load_while_ctrl_c(path):
        signal.raise_signal(signal.SIGINT)  # the handler StopSignals installed runs here
        return real(path)

    monkeypatch.setattr(resume_module, "load_checkpoint", load_while_ctrl_c)
    try:
        code = cli.main(["train", "--resume", str(trained), "--steps", "4", *QUIET])
    except Exception as e:  # what escapes main is the traceback a user sees
        pytest.fail(f"{type(e).__name__} escaped micrograd.cli.main: {e}")
    err = capsys.readouterr().err
    assert code == 130 and err.count("\n") == 1, (code, err)
    assert (trained / "checkpoint.json").read_bytes() == before
    assert not (trained / ".micrograd.lock").exists()


# ------------------------- playground: weights that overflow while the loss stays finite


def test_playground_training_that_overflows_the_weights_is_an_error_not_a_dead_connection():
    """lr 10 with weight decay 1 multiplies the weights by -9 every step: they overflow while
    tanh keeps the loss finite. Training stops with the one-line "diverged" error, frames stay
    JSON, and reset and configure still work on the same connection."""
    from micrograd.playground.driver import Driver
    from micrograd.playground.session import Session

    driver = Driver(Session())
    driver.hello()
    driver.receive(json.dumps({"type": "configure", "lr": 10, "weight_decay": 1,
                               "hidden": [3]}))
    driver.receive(json.dumps({"type": "step", "count": 1000}))
    errors = []
    now = 0.0
    for _ in range(2000):  # each slice trains at least one step: 1,000 steps end well before
        if not driver.busy:
            break
        now += 1.0
        try:
            out = driver.train_slice(now)
        except ValueError as e:
            pytest.fail(f"train_slice raised {e!r} at step {driver.session.step}")
        errors += [json.loads(m)["message"] for m in out if json.loads(m)["type"] == "error"]
    assert not driver.busy
    if driver.session.step < 1000:  # stopped early: the page is told why, in words
        assert errors and not any("internal error" in e for e in errors), errors
    for message in ({"type": "reset"}, {"type": "configure", "lr": 0.1}):
        replies = [json.loads(m) for m in driver.receive(json.dumps(message))]
        assert not any(r["type"] == "error" for r in replies), replies


# ---------------------------------------------- the words of a refusal


def test_out_below_a_file_names_the_file(tmp_path, capsys):
    """`--out afile/sub` where afile is a file names the file and says it is not a folder."""
    (tmp_path / "afile").write_text("mine\n")
    assert cli.main(["train", *QUIET, "--out", str(tmp_path / "afile" / "sub")]) == 2
    err = capsys.readouterr().err
    assert "File exists" not in err and "afile" in err and "not a folder" in err, err


def test_a_huge_integer_flag_is_called_too_large_not_not_an_integer(capsys):
    """`--steps 999...9` (5,000 digits, past what Python reads as an int) is an integer out of
    range: the range is named, and the digits are not echoed."""
    assert cli.main(["train", "--steps", "9" * 5000, *QUIET]) == 2
    err = capsys.readouterr().err
    assert "not an integer" not in err and "1..1000000" in err and len(err) < 300, err[:200]


def test_a_replaced_file_keeps_its_permissions(tmp_path):
    """A checkpoint the user made private (0600) stays private when a resume replaces it."""
    run = tmp_path / "run"
    assert cli.main(["train", "--steps", "2", *QUIET, "--out", str(run)]) == 0
    (run / "checkpoint.json").chmod(0o600)
    assert cli.main(["train", "--resume", str(run), "--steps", "3", *QUIET]) == 0
    assert load_checkpoint(str(run)).step == 3
    assert (run / "checkpoint.json").stat().st_mode & 0o777 == 0o600
