"""Every way a run can end keeps what it did, and nothing of the user's is written through.

Each test is one way a run used to lose work, block the next run, or write outside its folder:
a second resume racing the first, a picture or graph file that is a symlink, a pipe closed by
`head`, a closed or full stdout, a closed terminal (SIGHUP), a kill -9 before the first
checkpoint, a full disk, a folder where a picture was, paths longer than the system allows.
The commands run as a user runs them (a subprocess, real signals, real pipes) where that is the
point; the checks are on files and exit codes, never on how long anything took.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from micrograd import cli
from micrograd import run as run_module
from micrograd.checkpoint import load_checkpoint
from micrograd.files import FolderLock

QUIET = ["--no-plot", "--quiet"]
LONG = ["--steps", "1000000", "--no-plot"]  # runs until stopped
WAIT = 120  # seconds a subprocess may take on a busy machine before the test gives up


def micrograd(*args: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "micrograd", *args], **kwargs)


def one_line(err: str) -> str:
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


def step_of(folder: Path) -> int:
    return load_checkpoint(str(folder)).step


# ---------------------------------------------------------------- 1. concurrent resumes


def test_a_resume_that_started_first_never_rewinds_one_that_finished_meanwhile(
        tmp_path, monkeypatch, capsys):
    """B (`--resume run --steps 11`) is setting up, A (`--resume run --steps 30`) runs to the
    end meanwhile. Whatever the timing, a run that said it finished at step 30 must not find
    its checkpoint replaced by an earlier step: either A is refused while B holds the folder,
    or B reads A's checkpoint and refuses to go backwards."""
    run = tmp_path / "run"
    assert cli.main(["train", "--steps", "10", *QUIET, "--out", str(run)]) == 0
    other = {}
    real = run_module.load_splits

    def load_splits_while_a_runs(cfg, rng):
        if not other:  # A runs from start to end while B is in its setup
            other["a"] = subprocess.run(
                [sys.executable, "-m", "micrograd", "train", "--resume", str(run), "--steps",
                 "30", *QUIET], capture_output=True, text=True, timeout=WAIT)
        return real(cfg, rng)

    monkeypatch.setattr(run_module, "load_splits", load_splits_while_a_runs)
    b = cli.main(["train", "--resume", str(run), "--steps", "11", *QUIET])
    a = other["a"]
    finished = [steps for steps, code in ((30, a.returncode), (11, b)) if code == 0]
    assert finished, (a.stderr, capsys.readouterr().err)
    assert step_of(run) == max(finished)  # no run that reported success was rewound
    assert a.returncode == 0 or "in use by another micrograd run" in a.stderr


# ---------------------------------------------------------------- 2. symlinks in a run folder


def test_pictures_replace_a_symlink_and_never_write_through_it(tmp_path):
    notes, thesis = tmp_path / "notes.txt", tmp_path / "thesis.txt"
    notes.write_text("my notes\n")
    thesis.write_text("my thesis\n")
    run = tmp_path / "run"
    run.mkdir()
    (run / "loss.png").symlink_to(notes)
    (run / "training.gif").symlink_to(thesis)
    (run / "boundary.png").symlink_to(tmp_path / "nowhere.png")  # a dangling link
    code = cli.main(["train", "--steps", "4", "--quiet", "--animate", "--force", "--out",
                     str(run)])
    assert code == 0
    assert notes.read_text() == "my notes\n" and thesis.read_text() == "my thesis\n"
    assert not (tmp_path / "nowhere.png").exists()
    for name in ("loss.png", "training.gif", "boundary.png"):
        assert not (run / name).is_symlink() and (run / name).stat().st_size > 0


def test_graph_files_replace_a_symlink_and_never_write_through_it(tmp_path):
    out = tmp_path / "g"
    out.mkdir()
    victims = {}
    for name in ("graph.dot", "graph.svg", "graph.png"):
        victims[name] = tmp_path / f"victim-{name}.txt"
        victims[name].write_text(f"keep {name}\n")
        (out / name).symlink_to(victims[name])
    cli.main(["graph", "--out", str(out), "--force", "--quiet"])  # 1 without `dot`: .dot only
    for name, victim in victims.items():
        assert victim.read_text() == f"keep {name}\n"
    assert not (out / "graph.dot").is_symlink()
    assert (out / "graph.dot").read_text().startswith("digraph")


# ---------------------------------------------------------------- 4-6. stdout and signals


def test_a_pipe_closed_by_head_stops_the_run_saved_and_resumable(tmp_path):
    run = tmp_path / "run"
    proc = micrograd("train", *LONG, "--out", str(run), stdout=subprocess.PIPE,
                     stderr=subprocess.PIPE, text=True)
    lines = [proc.stdout.readline() for _ in range(3)]  # `| head -3`
    proc.stdout.close()
    err = proc.stderr.read()
    assert proc.wait(timeout=WAIT) == 141, err  # as a shell reports a program a pipe ended
    assert lines[0] == "step 0, val loss 0.917090\n"
    assert "stdout was closed (broken pipe) after step" in one_line(err)
    assert "micrograd train --resume" in err
    step = step_of(run)
    assert step >= 2 and FolderLock.NAME not in os.listdir(run)
    metrics = (run / "metrics.csv").read_text().splitlines()
    assert len(metrics) == step + 1  # a header and one row per step done
    done = subprocess.run([sys.executable, "-m", "micrograd", "train", "--resume", str(run),
                           "--steps", str(step + 2), *QUIET], capture_output=True, text=True,
                          timeout=WAIT)
    assert done.returncode == 0, done.stderr
    assert step_of(run) == step + 2


def test_a_closed_stdout_is_no_error_and_the_run_is_saved(tmp_path):
    run = tmp_path / "run"
    proc = subprocess.run([sys.executable, "-m", "micrograd", "train", "--steps", "5",
                           "--no-plot", "--out", str(run)], stderr=subprocess.PIPE, text=True,
                          preexec_fn=lambda: os.close(1), timeout=WAIT)  # `>&-`
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert step_of(run) == 5 and (run / "metrics.csv").exists()
    # nothing meant for stdout landed in a file that took descriptor 1
    assert json.loads((run / "checkpoint.json").read_text())["step"] == 5


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full on this system")
def test_a_full_stdout_stops_the_run_saved_with_one_line(tmp_path):
    run = tmp_path / "run"
    with open("/dev/full", "w") as full:
        proc = subprocess.run([sys.executable, "-m", "micrograd", "train", *LONG, "--out",
                               str(run)], stdout=full, stderr=subprocess.PIPE, text=True,
                              timeout=WAIT)
    assert proc.returncode == 4
    assert "cannot write to stdout (No space left on device) after step" in one_line(proc.stderr)
    assert step_of(run) >= 1 and FolderLock.NAME not in os.listdir(run)
    with open("/dev/full", "w") as full:
        proc = subprocess.run([sys.executable, "-m", "micrograd", "eval", "--checkpoint",
                               str(run)], stdout=full, stderr=subprocess.PIPE, text=True,
                              timeout=WAIT)
    assert proc.returncode == 4
    assert "cannot write to stdout (No space left on device)" in one_line(proc.stderr)


def test_a_closed_terminal_sighup_saves_the_run(tmp_path):
    run = tmp_path / "run"
    proc = micrograd("train", *LONG, "--out", str(run), stdout=subprocess.PIPE,
                     stderr=subprocess.PIPE, text=True)
    for _ in range(4):  # a few steps are done
        proc.stdout.readline()
    proc.send_signal(signal.SIGHUP)
    _out, err = proc.communicate(timeout=WAIT)
    assert proc.returncode == 128 + signal.SIGHUP, err
    assert "interrupted by SIGHUP after step" in one_line(err)
    assert step_of(run) >= 2 and FolderLock.NAME not in os.listdir(run)


# ---------------------------------------------------------------- 7. a leftover lock


def test_a_run_killed_before_its_first_checkpoint_can_simply_be_started_again(tmp_path):
    run = tmp_path / "run"
    proc = micrograd("train", *LONG, "--out", str(run), stdout=subprocess.PIPE,
                     stderr=subprocess.DEVNULL, text=True)
    proc.stdout.readline()
    proc.kill()
    proc.wait(timeout=WAIT)
    proc.stdout.close()
    assert os.listdir(run) == [FolderLock.NAME]  # what kill -9 leaves: a lock nobody holds
    again = subprocess.run([sys.executable, "-m", "micrograd", "train", "--steps", "3",
                            *QUIET, "--out", str(run)], capture_output=True, text=True,
                           timeout=WAIT)
    assert again.returncode == 0, again.stderr
    assert step_of(run) == 3 and FolderLock.NAME not in os.listdir(run)


def test_a_lock_held_by_a_live_run_still_refuses_a_second_one(tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    holder = FolderLock(str(run))
    assert holder.acquire()
    try:
        assert cli.main(["train", "--steps", "3", *QUIET, "--out", str(run)]) == 2
        assert "in use by another micrograd run" in one_line(capsys.readouterr().err)
    finally:
        holder.release()


# ---------------------------------------------------------------- 10-12. odd folders and paths


def test_eval_refuses_a_checkpoint_whose_model_does_not_fit_its_data(tmp_path, capsys):
    """A consistent 4-16-3 model whose config was edited to say the 2-feature chapter data (with
    the chapter data's fingerprint): one line, as resume says it, not a ValueError from MLP."""
    csv = tmp_path / "four.csv"
    csv.write_text("".join(f"{i % 7},{i % 5},{i % 3},{i % 2},{i % 3}\n" for i in range(40)))
    four, chapter = tmp_path / "four", tmp_path / "chapter"
    assert cli.main(["train", "--dataset", str(csv), "--steps", "2", *QUIET, "--out",
                     str(four)]) == 0
    assert cli.main(["train", "--steps", "2", *QUIET, "--out", str(chapter)]) == 0
    doc = json.loads((four / "checkpoint.json").read_text())
    chapter_doc = json.loads((chapter / "checkpoint.json").read_text())
    doc["config"]["dataset"], doc["config"]["n"] = "chapter", chapter_doc["config"]["n"]
    doc["data_sha256"] = chapter_doc["data_sha256"]
    (four / "checkpoint.json").write_text(json.dumps(doc))
    capsys.readouterr()
    assert cli.main(["eval", "--checkpoint", str(four)]) == 2
    assert "holds MLP 4-16-3, but this data and --hidden make MLP 2-16-3" in one_line(
        capsys.readouterr().err)


def test_a_folder_named_like_a_picture_survives_a_no_plot_resume(tmp_path, capsys):
    run = tmp_path / "run"
    assert cli.main(["train", "--steps", "3", "--quiet", "--out", str(run)]) == 0
    (run / "loss.png").unlink()
    (run / "loss.png").mkdir()
    (run / "loss.png" / "mine.txt").write_text("mine\n")
    assert cli.main(["train", "--resume", str(run), "--steps", "5", *QUIET]) == 0
    assert (run / "loss.png" / "mine.txt").read_text() == "mine\n"
    assert not (run / "boundary.png").exists()  # an old picture of ours is still removed
    assert step_of(run) == 5


def test_an_out_path_too_deep_or_too_long_is_one_line_and_leaves_nothing(tmp_path, capsys):
    deep = tmp_path / "/".join(["a"] * 2100)
    assert cli.main(["train", "--steps", "2", *QUIET, "--out", str(deep)]) == 2
    assert "cannot write to run folder" in one_line(capsys.readouterr().err)
    assert not (tmp_path / "a").exists()
    long_name = tmp_path / ("x" * 300)
    assert cli.main(["train", "--steps", "2", *QUIET, "--out", str(long_name)]) == 2
    assert "File name too long" in one_line(capsys.readouterr().err)


# ---------------------------------------------------------------- 3, 8, 12. the export


EXPORT_SCRIPT = """
import resource, signal, sys
from pathlib import Path
from micrograd.playground import export
export.runtime_files = lambda runtime_from: {"pyodide/big.wasm": bytes(3 << 20),
                                             "viz/viz.js": b"//viz"}
export.build_wheel = lambda: ("micrograd-0-py3-none-any.whl", b"wheel")
if sys.argv[2] == "limited":  # every write past 1 MB fails, as on a disk that is full
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))
from micrograd import cli
sys.exit(cli.main(["playground", "--export", sys.argv[1]]))
"""


def export_in_subprocess(site: Path, limited: bool) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", EXPORT_SCRIPT, str(site),
                           "limited" if limited else "free"], capture_output=True, text=True,
                          timeout=WAIT)


@pytest.fixture
def small_runtime(monkeypatch):
    """The export with tiny stand-ins for Pyodide, viz.js and the wheel: the files are not the
    point here, where they go is."""
    from micrograd.playground import export

    monkeypatch.setattr(export, "runtime_files",
                        lambda runtime_from: {"pyodide/pyodide.js": b"//p", "viz/viz.js": b"//v"})
    monkeypatch.setattr(export, "build_wheel", lambda: ("micrograd-0-py3-none-any.whl", b"w"))


def test_an_export_replaces_a_symlinked_subfolder_and_never_writes_through_it(
        tmp_path, small_runtime):
    site, elsewhere = tmp_path / "site", tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "app.js").write_text("mine\n")
    assert cli.main(["playground", "--export", str(site)]) == 0
    (site / "static").rename(tmp_path / "old-static")
    (site / "static").symlink_to(elsewhere)
    assert cli.main(["playground", "--export", str(site)]) == 0
    assert os.listdir(elsewhere) == ["app.js"] and (elsewhere / "app.js").read_text() == "mine\n"
    assert (site / "static").is_dir() and not (site / "static").is_symlink()
    assert (site / "static" / "main.js").stat().st_size > 100


def test_an_export_never_opens_a_planted_temporary_name(tmp_path, small_runtime):
    site, victim = tmp_path / "site", tmp_path / "victim.txt"
    victim.write_text("keep\n")
    assert cli.main(["playground", "--export", str(site)]) == 0  # a previous export
    for name in ("index.html", "export.json", "THIRD-PARTY.txt"):  # the names a pid predicts
        (site / f".{name}.{os.getpid()}.tmp").symlink_to(victim)
    assert cli.main(["playground", "--export", str(site)]) == 0
    assert victim.read_text() == "keep\n"
    assert not (site / "index.html").is_symlink()


def test_an_export_stopped_by_a_full_disk_is_replaced_by_the_next(tmp_path):
    site = tmp_path / "site"
    failed = export_in_subprocess(site, limited=True)
    assert failed.returncode == 2 and "File too large" in one_line(failed.stderr)
    assert not [p for p in site.rglob("*.tmp")]  # no temporary file is left behind
    again = export_in_subprocess(site, limited=False)
    assert again.returncode == 0, again.stderr
    assert (site / "pyodide" / "big.wasm").stat().st_size == 3 << 20
    assert "pyodide/big.wasm" in json.loads((site / "export.json").read_text())["files"]


def test_an_export_refused_for_a_full_disk_leaves_no_folder(tmp_path):
    site = tmp_path / "new" / "site"
    script = EXPORT_SCRIPT.replace("(1 << 20, 1 << 20)", "(0, 0)")  # not one byte fits
    proc = subprocess.run([sys.executable, "-c", script, str(site), "limited"],
                          capture_output=True, text=True, timeout=WAIT)
    assert proc.returncode == 2 and "File too large" in one_line(proc.stderr)
    assert not (tmp_path / "new").exists()


def test_an_export_name_too_long_is_one_line(tmp_path, capsys):
    assert cli.main(["playground", "--export", str(tmp_path / ("x" * 300))]) == 2
    err = one_line(capsys.readouterr().err)
    assert "File name too long" in err and "(3" in err  # the path is shortened, its length said


# ---------------------------------------------------------------- 9. numbers no float can hold


HUGE = 10**310  # JSON reads it as an int; float() of it raises OverflowError


@pytest.mark.parametrize("field", ["lr", "noise", "train_frac", "weight_decay", "reg_rate"])
def test_a_protocol_number_past_any_float_is_one_error_message(field):
    from micrograd.playground import protocol

    with pytest.raises(protocol.ProtocolError) as caught:
        protocol.parse(json.dumps({"type": "configure", field: HUGE}))
    assert str(caught.value) == f"{field} must be a finite number, got an integer of about " \
                                f"311 digits"


def test_int_fields_report_a_huge_integer_without_printing_it():
    from micrograd.playground import protocol

    with pytest.raises(protocol.ProtocolError, match=r"n must be in 10\.\.1000, got an integer "
                                                     r"of about 4201 digits"):
        protocol.parse('{"type": "configure", "n": 1' + "0" * 4200 + "}")


@pytest.mark.parametrize("edit, phrase", [
    (lambda d: d["model"]["weights"].__setitem__(0, HUGE), "model.weights must hold finite"),
    (lambda d: d["optimizer"].__setitem__("lr", HUGE), "optimizer.lr must hold finite"),
    (lambda d: d["config"].__setitem__("lr", HUGE), "config lr must be a finite number"),
    (lambda d: d["config"].__setitem__("betas", [HUGE, 0.9]), "config betas[0] must be a finite"),
    (lambda d: d["config"].__setitem__("dataset", "seed\ud800.csv"), "dataset is not a file"),
], ids=["weight", "optimizer-lr", "config-lr", "beta", "lone-surrogate"])
@pytest.mark.parametrize("command", ["resume", "eval"])
def test_an_edited_checkpoint_with_an_impossible_value_is_one_line(tmp_path, capsys, edit,
                                                                   phrase, command):
    run = tmp_path / "run"
    assert cli.main(["train", "--steps", "2", *QUIET, "--out", str(run)]) == 0
    doc = json.loads((run / "checkpoint.json").read_text())
    edit(doc)
    text = json.dumps(doc)  # a lone surrogate is written as the escape \ud800, as JSON allows
    (run / "checkpoint.json").write_text(text)
    capsys.readouterr()
    args = (["train", "--resume", str(run), "--steps", "4", *QUIET] if command == "resume"
            else ["eval", "--checkpoint", str(run)])
    assert cli.main(args) == 2
    assert phrase in one_line(capsys.readouterr().err)
    assert (run / "checkpoint.json").read_text() == text  # nothing was replaced
