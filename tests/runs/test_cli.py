"""The `micrograd` console script: the chapter's run end to end, its files, and one-line errors."""

import csv
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from micrograd import cli
from micrograd import folder as folder_module

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def chapter_log_lines(chapter_log_path):
    return chapter_log_path.read_text().splitlines()


def run(*args, cwd=None, check=True):
    """Run `python -m micrograd ...` as a user would, capturing both streams."""
    proc = subprocess.run([sys.executable, "-m", "micrograd", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


@pytest.fixture(scope="module")
def chapter_runs(tmp_path_factory, chapter_log_lines):
    """The default run, twice (determinism), through the real console-script entry point."""
    base = tmp_path_factory.mktemp("runs")
    script = Path(sys.executable).parent / "micrograd"
    assert script.exists(), "the console script `micrograd` is not installed"
    first = subprocess.run([str(script), "train", "--out", str(base / "a")],
                           capture_output=True, text=True, timeout=300)
    second = run("train", "--out", str(base / "b"))
    return base, first, second


def test_default_run_prints_the_chapter_log(chapter_runs, chapter_log_lines):
    _, first, _ = chapter_runs
    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    assert len(lines) == len(chapter_log_lines) + 1  # the chapter's lines, then one summary line
    for ours, theirs in zip(lines, chapter_log_lines):
        head, _, value = ours.rpartition(" ")
        ref_head, _, ref_value = theirs.rpartition(" ")
        assert head == ref_head
        if "val loss" in ours:
            assert value == ref_value  # printed with 6 decimals: equal as printed
        else:  # the chapter's own sum order follows memory addresses; we measured 2.3e-14
            assert abs(float(value) - float(ref_value)) <= 1e-12 * abs(float(ref_value))
    assert lines[-1].startswith("final: train loss") and "test loss" in lines[-1]


def test_two_runs_are_byte_identical(chapter_runs):
    base, first, second = chapter_runs
    assert first.stdout == second.stdout
    assert (base / "a" / "metrics.csv").read_bytes() == (base / "b" / "metrics.csv").read_bytes()


def test_run_folder_holds_metrics_config_and_a_real_plot(chapter_runs):
    base, first, _ = chapter_runs
    out = base / "a"
    assert f"to {out}" in first.stderr
    rows = list(csv.DictReader((out / "metrics.csv").open()))
    assert len(rows) == 100 and rows[0]["step"] == "0"
    printed = [ln for ln in first.stdout.splitlines() if ", train loss" in ln]
    assert [f"step {r['step']}, train loss {r['train_loss']}" for r in rows] == printed
    assert sum(1 for r in rows if r["val_loss"]) == 10
    config = json.loads((out / "config.json").read_text())
    assert config["sizes"] == [2, 16, 3] and config["lr"] == 0.1 and config["seed"] == 42

    image = pytest.importorskip("matplotlib.image").imread(out / "loss.png")
    assert image.shape[0] > 300 and image.shape[1] > 500
    assert image[..., :3].std() > 0.05  # not blank: lines, labels and ticks on white


def test_quiet_prints_only_the_loss_lines(tmp_path):
    proc = run("train", "--quiet", "--no-plot", "--steps", "12", "--out", str(tmp_path / "q"))
    lines = proc.stdout.splitlines()
    assert len(lines) == 12 + 2 and all(ln.startswith("step ") for ln in lines)
    assert proc.stderr == ""
    assert not (tmp_path / "q" / "loss.png").exists()


@pytest.mark.parametrize("name", ["yinyang", "moons", "circles", "spiral", "xor"])
def test_other_datasets_train(tmp_path, name):
    code = cli.main(["train", "--dataset", name, "--steps", "3", "--n", "40", "--no-plot",
                     "--quiet", "--out", str(tmp_path / name)])
    assert code == 0
    assert (tmp_path / name / "metrics.csv").exists()


def test_csv_dataset_with_three_features(tmp_path, capsys):
    path = tmp_path / "points.csv"
    rows = ["a,b,c,label"] + [f"{i % 7},{i % 5 - 2},{i % 3},{i % 4}" for i in range(60)]
    path.write_text("\n".join(rows) + "\n")
    code = cli.main(["train", "--dataset", str(path), "--steps", "5", "--hidden", "8,8",
                     "--no-plot", "--out", str(tmp_path / "run")])
    assert code == 0
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["sizes"] == [3, 8, 8, 4]
    assert "final: train loss" in capsys.readouterr().out


def test_no_hidden_layer_and_other_flags(tmp_path):
    code = cli.main(["train", "--hidden", "none", "--activation", "relu", "--lr", "0.05",
                     "--weight-decay", "0", "--seed", "7", "--eval-every", "2", "--steps", "4",
                     "--no-plot", "--quiet", "--out", str(tmp_path / "r")])
    assert code == 0
    config = json.loads((tmp_path / "r" / "config.json").read_text())
    assert config["sizes"] == [2, 3]
    val = [r for r in csv.DictReader((tmp_path / "r" / "metrics.csv").open()) if r["val_loss"]]
    assert [r["step"] for r in val] == ["0", "2"]


BAD_ARGS = [
    (["train", "--bogus"], "unrecognized arguments"),
    (["train", "--steps", "-1"], "--steps"),
    (["train", "--steps", "0"], "--steps"),
    (["train", "--steps", "ten"], "not an integer"),
    (["train", "--lr", "nan"], "--lr"),
    (["train", "--lr", "0"], "--lr"),
    (["train", "--lr", "inf"], "--lr"),
    (["train", "--weight-decay", "-1"], "--weight-decay"),
    (["train", "--hidden", "0"], "layer size must be in 1..1024, got 0"),
    (["train", "--hidden", "16,x"], "sizes like 16"),
    (["train", "--hidden", "100000"], "must be in 1..1024"),
    (["train", "--hidden", "4,4,4,4,4,4,4,4,4"], "at most"),
    (["train", "--n", "5"], "--n"),
    (["train", "--n", "99999999"], "--n"),
    (["train", "--seed", "0"], "--seed"),
    (["train", "--eval-every", "0"], "--eval-every"),
    (["train", "--activation", "swish"], "invalid choice"),
    (["train", "--dataset", "mnist"], "unknown dataset"),
    (["train", "--dataset", "missing.csv"], "does not exist"),
    (["train", "--noise", "0.1"], "--noise applies"),
    (["train", "--noise", "-3", "--dataset", "moons"], "--noise"),
    (["nonsense"], "invalid choice"),
    ([], "missing command"),
]


@pytest.mark.parametrize(("args", "message"), BAD_ARGS)
def test_bad_arguments_give_one_line_and_exit_2(args, message, tmp_path, capsys):
    code = cli.main([*args, "--out", str(tmp_path / "r")] if args[:1] == ["train"] else args)
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("micrograd: error:"), err
    assert message in err
    assert not (tmp_path / "r").exists()  # nothing created for a rejected command


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "no data rows"),
        ("1,2,0\n3,4\n", "line 2: expected 3 columns"),
        ("1,2,0\n3,x,1\n", "not a number"),
        ("1,2,0\n3,4,0\n", "at least 2 classes"),
        ("1,2,0\n3,4,1\n", "need at least 10"),
        ("1;2;0\n3;4;1\n", "looks like a ;-separated file; use commas"),
        ("x1;x2;label\n1;2;0\n3;4;1\n", "looks like a ;-separated file; use commas"),
        ("1\t2\t0\n3\t4\t1\n", "looks like a tab-separated file; use commas"),
    ],
)
def test_bad_csv_files_give_one_line(tmp_path, capsys, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    assert cli.main(["train", "--dataset", str(path), "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err


def test_existing_run_folder_is_never_overwritten_without_force(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    keep = out / "metrics.csv"
    keep.write_text("my precious results\n")
    args = ["train", "--steps", "2", "--no-plot", "--quiet", "--out", str(out)]
    assert cli.main(args) == 2
    assert "already exists" in capsys.readouterr().err
    assert keep.read_text() == "my precious results\n"
    assert cli.main([*args, "--force"]) == 0
    assert keep.read_text().startswith("step,train_loss,val_loss")


def test_out_that_is_a_file_is_refused(tmp_path, capsys):
    target = tmp_path / "file.txt"
    target.write_text("keep me")
    assert cli.main(["train", "--out", str(target)]) == 2
    assert "is a file" in capsys.readouterr().err and target.read_text() == "keep me"


@pytest.mark.parametrize("parent", ["a-file", "/proc"])
def test_unwritable_out_is_refused(tmp_path, capsys, parent):
    """A folder under a file, or in /proc (read-only even for root, as CI runs)."""
    (tmp_path / "a-file").write_text("x")
    base = tmp_path / parent if parent == "a-file" else Path(parent)
    assert cli.main(["train", "--steps", "1", "--out", str(base / "run")]) == 2
    assert ("a file, not a folder" if parent == "a-file" else "cannot write to run folder") \
        in capsys.readouterr().err


def test_default_out_folder_is_timestamped_and_never_reused(tmp_path):
    args = ["train", "--steps", "1", "--no-plot", "--quiet"]
    assert run(*args, cwd=tmp_path).returncode == 0
    assert run(*args, cwd=tmp_path).returncode == 0
    folders = sorted(p.name for p in (tmp_path / "runs").iterdir())
    assert len(folders) == 2 and all(f[:8].isdigit() for f in folders)


def test_runs_started_in_the_same_second_never_share_a_folder(tmp_path, monkeypatch):
    """The default folder is claimed with os.mkdir: a check-then-create would let a second run,
    checking before the first created it, write into the same folder."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(folder_module.time, "strftime", lambda fmt: "20250101-120000")
    first = folder_module.prepare_out(None, False)
    real_exists = os.path.exists
    # the other run's check came first: the folder did not exist yet when it looked
    monkeypatch.setattr(os.path, "exists", lambda p: False if "runs" in str(p) else real_exists(p))
    second = folder_module.prepare_out(None, False)
    monkeypatch.undo()
    assert first == os.path.join("runs", "20250101-120000")
    assert second == os.path.join("runs", "20250101-120000-2")


def test_force_never_touches_files_named_like_a_probe_or_a_temporary(tmp_path, capsys):
    """--force overwrites the run's files, never a user's `.write-test` or `metrics.csv.tmp`."""
    out = tmp_path / "run"
    out.mkdir()
    mine = {".write-test": "probe-named", "metrics.csv.tmp": "tmp-named", "notes.txt": "notes"}
    for name, text in mine.items():
        (out / name).write_text(text)
    assert cli.main(["train", "--steps", "2", "--no-plot", "--quiet", "--force", "--out",
                     str(out)]) == 0
    assert {name: (out / name).read_text() for name in mine} == mine
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [*mine, "checkpoint.json", "config.json", "metrics.csv"])


def test_subprocess_errors_have_no_traceback(tmp_path):
    proc = run("train", "--lr", "-5", check=False, cwd=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1


def test_help_works():
    assert "chapter's run" in run("train", "--help").stdout
    top = run("--help").stdout  # the commands speak English; the docs also Chinese
    assert "中文文档" in top and "docs/index.zh.md" in top
    for path in re.findall(r"docs/[\w.]+\.md", top):  # every page it names is there
        assert (REPO / path).is_file(), path


def test_readme_and_ci_run_the_same_commands():
    """The README's two commands are the contract: .ci/run must call the test command as is."""
    readme = (REPO / "README.md").read_text()
    ci = (REPO / ".ci" / "run").read_text()
    commands = [ln.strip() for ln in readme.split("```", 2)[1].splitlines()[1:] if ln.strip()]
    assert len(commands) == 2, commands
    assert "micrograd train" in commands[0]
    assert commands[1] in ci and "pytest" in commands[1]
    assert "export MICROGRAD_REQUIRE_TOOLS=1" in ci  # CI: a missing tool fails, never skips


def test_ruff_is_clean():
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    assert ruff, "ruff is a test dependency; install the [test] extra"
    # the whole repository: source, tests, benchmarks, scripts and the docs' notebooks
    proc = subprocess.run([ruff, "check", "--no-cache", "."], cwd=REPO,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
