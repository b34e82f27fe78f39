"""What a run does when its files cannot be written, or another run writes the same folder.

Each test reproduces a way a run used to lose work or end in a traceback: a folder in the way of
an output, a disk that is full before or during training, two writers in one folder. Every case
must end in one line on stderr, a non-zero exit code, and the last good checkpoint untouched.
"""

from __future__ import annotations

import errno
import json
import os
import resource
import signal
import subprocess
import sys

import pytest

from micrograd import checkpoint as checkpoint_module
from micrograd import cli
from micrograd import run as run_module
from micrograd.checkpoint import load_checkpoint
from micrograd.files import FolderLock

QUIET = ["--no-plot", "--quiet"]


def _one_line(err: str) -> str:
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


@pytest.mark.parametrize("name", ["metrics.csv", "config.json", "checkpoint.json", "loss.png"])
def test_a_folder_in_the_way_of_an_output_is_refused_before_training(tmp_path, capsys, name):
    out = tmp_path / "r"
    (out / name).mkdir(parents=True)
    flags = ["--no-plot"] if name != "loss.png" else []
    code = cli.main(["train", "--steps", "3", "--quiet", "--force", "--out", str(out), *flags])
    assert code == 2
    err = _one_line(capsys.readouterr().err)
    assert f"{out / name} is a folder" in err
    assert sorted(p.name for p in out.iterdir()) == [name]  # nothing trained, nothing written


def test_a_full_disk_mid_run_keeps_the_last_checkpoint_and_says_so(tmp_path, capsys,
                                                                   monkeypatch):
    real = checkpoint_module.write_atomic
    calls = []

    def write_atomic(path, data):
        calls.append(path)
        if len(calls) >= 3:  # steps 2 and 4 were saved; the disk is full from step 6 on
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(path, data)

    monkeypatch.setattr(checkpoint_module, "write_atomic", write_atomic)
    out = tmp_path / "r"
    code = cli.main(["train", "--steps", "10", "--save-every", "2", *QUIET, "--out", str(out)])
    assert code == 4
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "at step 6: No space left on device; the checkpoint of step 4 is kept" in err
    assert load_checkpoint(str(out)).step == 4


def test_a_full_disk_at_the_end_reports_every_file_it_could_not_write(tmp_path, capsys,
                                                                      monkeypatch):
    def write_atomic(path, data):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(run_module, "write_atomic", write_atomic)  # metrics.csv, config.json
    out = tmp_path / "r"
    code = cli.main(["train", "--steps", "4", *QUIET, "--out", str(out)])
    assert code == 4
    err = _one_line(capsys.readouterr().err)
    assert "could not write metrics.csv (Read-only file system)" in err
    assert "the checkpoint of step 4 is safe" in err
    assert load_checkpoint(str(out)).step == 4


def test_a_disk_too_full_for_a_checkpoint_is_found_before_training(tmp_path):
    """A real limit, not a mock: RLIMIT_FSIZE makes every write past 2 KB fail with EFBIG, as
    a full disk fails with ENOSPC; an empty probe file used to pass and a run trained for
    nothing."""
    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (2048, 2048))

    out = tmp_path / "r"
    proc = subprocess.run([sys.executable, "-m", "micrograd", "train", "--steps", "5", *QUIET,
                           "--out", str(out)], capture_output=True, text=True, timeout=120,
                          preexec_fn=limit)
    assert proc.returncode == 2
    assert proc.stdout == ""  # not one step was trained
    assert "cannot write a checkpoint in" in _one_line(proc.stderr)
    assert "File too large" in proc.stderr
    assert not out.exists()  # the refused run removes the folder it made


def test_a_second_writer_of_one_run_folder_is_refused_and_touches_nothing(tmp_path, capsys):
    out = tmp_path / "r"
    assert cli.main(["train", "--steps", "4", *QUIET, "--out", str(out)]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    holder = FolderLock(str(out))
    assert holder.acquire()  # as a running `micrograd train --resume` holds it
    try:
        capsys.readouterr()
        code = cli.main(["train", "--resume", str(out), "--steps", "8", *QUIET])
        assert code == 2
        assert "is in use by another micrograd run" in _one_line(capsys.readouterr().err)
        code = cli.main(["train", "--steps", "2", *QUIET, "--force", "--out", str(out)])
        assert code == 2
        assert {p.name: p.read_bytes() for p in out.iterdir()
                if p.name != FolderLock.NAME} == before
    finally:
        holder.release()
    assert cli.main(["train", "--resume", str(out), "--steps", "8", *QUIET]) == 0
    assert load_checkpoint(str(out)).step == 8
    assert FolderLock.NAME not in os.listdir(out)  # released: the folder is as a run leaves it


def test_a_lock_dies_with_its_process(tmp_path):
    code = ("import sys, time; from micrograd.files import FolderLock; "
            "assert FolderLock(sys.argv[1]).acquire(); print('held', flush=True); time.sleep(60)")
    proc = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stdout.readline() == "held\n"
        assert not FolderLock(str(tmp_path)).acquire()
        proc.kill()
        proc.wait(timeout=10)
        lock = FolderLock(str(tmp_path))
        assert lock.acquire()  # kill -9 leaves the file, never a held lock
        lock.release()
    finally:
        proc.kill()
        proc.wait(timeout=10)


def _edited_checkpoint(tmp_path, edit) -> str:
    out = tmp_path / "r"
    assert cli.main(["train", "--steps", "3", *QUIET, "--out", str(out)]) == 0
    path = out / "checkpoint.json"
    doc = json.loads(path.read_text())
    edit(doc)
    path.write_text(json.dumps(doc))
    return str(out)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d["config"].update(dataset="seed\0.csv"), "dataset is not a file name"),
        (lambda d: d["config"].update(dataset="x" * 5000), "dataset is not a file name"),
        (lambda d: d["optimizer"]["exp_avg_sq"].__setitem__(0, -1e-3),
         "a mean of squares is never negative"),
        (lambda d: d["optimizer"].update(betas=[0.9, 1.5]),
         "optimizer.betas must be in [0, 1), got 1.5"),
        (lambda d: d["optimizer"].update(eps=0.0), "optimizer.eps must be in (0, 1], got 0.0"),
    ],
    ids=["nul-in-path", "path-too-long", "negative-exp-avg-sq", "beta-above-1", "eps-zero"],
)
def test_a_checkpoint_with_an_impossible_field_is_refused_before_anything_is_written(
        tmp_path, capsys, edit, message):
    out = _edited_checkpoint(tmp_path, edit)
    before = {name: open(os.path.join(out, name), "rb").read() for name in os.listdir(out)}
    capsys.readouterr()
    assert cli.main(["train", "--resume", out, "--steps", "6", *QUIET]) == 2
    assert message in _one_line(capsys.readouterr().err)
    assert cli.main(["eval", "--checkpoint", out]) == 2
    assert message in _one_line(capsys.readouterr().err)
    assert {n: open(os.path.join(out, n), "rb").read() for n in os.listdir(out)} == before


def test_trailing_bytes_are_not_called_a_truncated_checkpoint(tmp_path, capsys):
    out = tmp_path / "r"
    assert cli.main(["train", "--steps", "3", *QUIET, "--out", str(out)]) == 0
    path = out / "checkpoint.json"
    path.write_bytes(path.read_bytes() + b'{"more": 1}\n')
    capsys.readouterr()
    assert cli.main(["train", "--resume", str(out), "--steps", "6", *QUIET]) == 2
    err = _one_line(capsys.readouterr().err)
    assert "has extra bytes after its end" in err and "truncated" not in err


def test_a_checkpoint_far_larger_than_its_model_allows_is_refused_unread(tmp_path, capsys):
    """A 2-16-3 model's checkpoint is ~10 KB; padded to 300 KB it is refused before parsing,
    whose memory grows with the file (a 1e9-byte file used to peak near 2 GB)."""
    out = tmp_path / "r"
    assert cli.main(["train", "--steps", "3", *QUIET, "--out", str(out)]) == 0
    path = out / "checkpoint.json"
    path.write_bytes(path.read_bytes() + b" " * 300_000)  # still valid JSON
    capsys.readouterr()
    assert cli.main(["eval", "--checkpoint", str(out)]) == 2
    assert "byte limit" in _one_line(capsys.readouterr().err)
    path.write_bytes(path.read_bytes()[:-290_000])  # within the bound: read as usual
    assert cli.main(["eval", "--checkpoint", str(out)]) == 0
