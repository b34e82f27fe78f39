"""Resume, interruption and numerical trouble, with real subprocesses and real signals.

The kill test is the promise resuming makes: a run killed with SIGKILL at a random step and
resumed prints, from the resume point on, exactly the uninterrupted run's lines, and ends with the
same files (metrics.csv, config.json, checkpoint.json) byte for byte, weights included.
"""

import json
import math
import os
import random
import signal
import subprocess
import sys

import pytest

from micrograd import cli, optim
from micrograd import run as run_module
from micrograd.checkpoint import load_checkpoint

ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}  # lines arrive as printed, so we can kill on cue


def micrograd(*args, check=True):
    proc = subprocess.run([sys.executable, "-m", "micrograd", *args], capture_output=True,
                          text=True, timeout=300, env=ENV)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def start(*args):
    return subprocess.Popen([sys.executable, "-m", "micrograd", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=ENV)


def read_until(proc, prefix):
    """Lines of proc's stdout up to and including the first that starts with `prefix`."""
    lines = []
    while True:
        line = proc.stdout.readline()
        assert line, f"the run ended before printing {prefix!r}: {proc.stderr.read()}"
        lines.append(line)
        if line.startswith(prefix):
            return lines


def weights_hex(folder):
    doc = json.loads((folder / "checkpoint.json").read_text())
    return [float(w).hex() for w in doc["model"]["weights"]]


def from_step(lines, step):
    """The lines a run prints from step `step` on (its val line first, when one is due)."""
    i = next(i for i, ln in enumerate(lines) if ln.startswith(f"step {step},"))
    return lines[i:]


KILL_CASES = [  # (seed of the kill point, run flags, --save-every)
    (1, ["--eval-every", "7"], 1),
    (2, ["--dataset", "moons", "--hidden", "8,8", "--batch-size", "16", "--seed", "5"], 4),
    (3, ["--dataset", "spiral", "--activation", "relu", "--eval-every", "3", "--engine",
         "eager"], 10),
    (4, ["--dataset", "xor", "--hidden", "4", "--lr", "0.03", "--engine", "tape"], 3),
]


@pytest.mark.parametrize(("seed", "flags", "save_every"), KILL_CASES)
def test_sigkill_at_a_random_step_then_resume_is_byte_identical(tmp_path, seed, flags,
                                                                save_every):
    steps = 240
    run = ["train", "--steps", str(steps), "--no-plot", *flags, "--save-every", str(save_every)]
    full = micrograd(*run, "--out", str(tmp_path / "full"))  # the same command, never killed
    full_lines = full.stdout.splitlines(keepends=True)

    kill_at = random.Random(seed).randrange(save_every + 2, 120)
    proc = start(*run, "--out", str(tmp_path / "killed"))
    printed = read_until(proc, f"step {kill_at}, train loss")
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    proc.stdout.close()
    proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    assert printed == full_lines[:len(printed)]  # the killed run printed the same lines so far

    resume_at = load_checkpoint(str(tmp_path / "killed")).step
    assert kill_at + 1 - save_every <= resume_at < steps
    resumed = micrograd("train", "--resume", str(tmp_path / "killed"), "--no-plot")
    assert resumed.stdout.splitlines(keepends=True) == from_step(full_lines, resume_at)
    assert f"resuming at step {resume_at} of {steps}" in resumed.stderr
    for name in ("metrics.csv", "config.json", "checkpoint.json"):  # the whole run, byte for byte
        assert (tmp_path / "killed" / name).read_bytes() == (tmp_path / "full" / name).read_bytes()
    assert weights_hex(tmp_path / "killed") == weights_hex(tmp_path / "full")


@pytest.fixture(scope="module")
def forty_steps(tmp_path_factory):
    """An uninterrupted 40-step run, to compare interrupted-and-resumed runs against. Eager (8 ms
    a step): a signal sent after step 12 lands before step 39, leaving the resume steps to do,
    with room for a busy machine; the compiled numpy engine can run 20 steps while the test reads
    a line and signals."""
    out = tmp_path_factory.mktemp("forty") / "run"
    proc = micrograd("train", "--steps", "40", "--eval-every", "5", "--no-plot", "--out", str(out),
                     "--engine", "eager")
    return out, proc.stdout.splitlines(keepends=True)


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_stops_after_the_current_step_and_saves_everything(tmp_path, forty_steps,
                                                                    sig, code):
    out = tmp_path / "run"
    proc = start("train", "--steps", "1000000", "--eval-every", "5", "--out", str(out),
                 "--engine", "eager")
    printed = read_until(proc, "step 12, train loss")
    proc.send_signal(sig)
    rest, err = proc.stdout.read(), proc.stderr.read()  # not communicate(): it would skip the
    proc.wait(timeout=120)  # lines readline() has buffered already
    lines = printed + rest.splitlines(keepends=True)
    assert proc.returncode == code, err

    last = int(lines[-1].split(",")[0].split()[1])  # the step the run finished before stopping
    assert lines[-1].startswith(f"step {last}, train loss") and 12 <= last < 39  # steps left
    name = signal.Signals(sig).name
    assert err.count("\n") == 1  # one line; the pictures in between may grow in number
    assert err.startswith(f"micrograd: interrupted by {name} after step {last}: wrote "
                          "checkpoint.json, loss.png, ")
    assert err.endswith(f"metrics.csv, config.json to {out}; continue with: micrograd train "
                        f"--resume {out}\n")
    assert load_checkpoint(str(out)).step == last + 1
    metrics = (out / "metrics.csv").read_text().splitlines()
    assert len(metrics) == 1 + last + 1 and metrics[-1].startswith(f"{last},")
    assert (out / "loss.png").stat().st_size > 10_000

    full_out, full_lines = forty_steps
    assert lines == full_lines[:len(lines)]
    resumed = micrograd("train", "--resume", str(out), "--steps", "40", "--no-plot")
    assert resumed.stdout.splitlines(keepends=True) == from_step(full_lines, last + 1)
    assert (out / "checkpoint.json").read_bytes() == (full_out / "checkpoint.json").read_bytes()
    assert (out / "metrics.csv").read_bytes() == (full_out / "metrics.csv").read_bytes()


def test_resuming_a_finished_run_prints_its_summary_again(tmp_path, forty_steps):
    full_out, full_lines = forty_steps
    out = tmp_path / "copy"
    out.mkdir()
    for name in ("checkpoint.json", "metrics.csv", "config.json"):
        (out / name).write_bytes((full_out / name).read_bytes())
    proc = micrograd("train", "--resume", str(out), "--no-plot")
    assert proc.stdout.splitlines(keepends=True) == full_lines[-1:]  # the final: line
    assert "all 40 steps are done" in proc.stderr
    assert (out / "checkpoint.json").read_bytes() == (full_out / "checkpoint.json").read_bytes()


def test_resume_into_a_new_folder_leaves_the_old_one_alone(tmp_path, forty_steps, capsys):
    full_out, _ = forty_steps
    old = tmp_path / "old"
    assert cli.main(["train", "--steps", "15", "--eval-every", "5", "--no-plot", "--quiet",
                     "--out", str(old), "--engine", "eager"]) == 0  # as forty_steps
    before = {p.name: p.read_bytes() for p in old.iterdir()}
    new = tmp_path / "new"
    assert cli.main(["train", "--resume", str(old / "checkpoint.json"), "--steps", "40",
                     "--no-plot", "--quiet", "--out", str(new)]) == 0
    assert {p.name: p.read_bytes() for p in old.iterdir()} == before
    assert (new / "metrics.csv").read_bytes() == (full_out / "metrics.csv").read_bytes()
    assert (new / "checkpoint.json").read_bytes() == (full_out / "checkpoint.json").read_bytes()


def test_signal_handlers_are_restored_after_a_run(tmp_path):
    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    assert cli.main(["train", "--steps", "2", "--no-plot", "--quiet", "--out",
                     str(tmp_path / "r")]) == 0
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before


# ---- numerical trouble: exit 3, one line, the last good checkpoint kept ----

def test_a_diverging_run_stops_with_one_line_and_keeps_the_last_good_checkpoint(tmp_path, capsys):
    """lr 10 with weight decay 1: each AdamW step multiplies the weights by 1 - 10 = -9."""
    out = tmp_path / "run"
    code = cli.main(["train", "--lr", "10", "--weight-decay", "1", "--steps", "1000",
                     "--save-every", "50", "--no-plot", "--quiet", "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 3
    bad = int(captured.out.splitlines()[-1].split(",")[0].split()[1])
    assert not math.isfinite(float(captured.out.splitlines()[-1].split()[-1]))
    good = bad // 50 * 50
    assert captured.err == (
        f"micrograd: error: step {bad}: train loss is {captured.out.split()[-1]}; --lr 10 times "
        "--weight-decay 1 is 10 >= 1, so every step multiplies the weights by -9; keep it well "
        f"below 1; the last good checkpoint (step {good}) is kept in {out / 'checkpoint.json'}; "
        "--detect-anomaly names the operation\n")
    ckpt = load_checkpoint(str(out))
    assert ckpt.step == good and all(math.isfinite(w) for w in ckpt.weights)
    assert len((out / "metrics.csv").read_text().splitlines()) == 1 + bad + 1  # up to the bad one


def huge_csv(path, value=1.7e308, rows=40):
    rng = random.Random(0)
    path.write_text("".join(f"{rng.choice([-1, 1]) * value},{rng.choice([-1, 1]) * value},"
                            f"{i % 2}\n" for i in range(rows)))
    return path


def test_data_that_overflows_is_blamed_on_the_data_and_detect_anomaly_names_the_op(tmp_path,
                                                                                   capsys):
    data = huge_csv(tmp_path / "huge.csv")
    args = ["train", "--dataset", str(data), "--activation", "relu", "--steps", "5",
            "--no-plot", "--quiet"]
    assert cli.main([*args, "--out", str(tmp_path / "a")]) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("micrograd: error: step 0: ")
    assert "the data, not the learning rate, is the likely cause: the largest feature is 1.7e+308" \
        in err
    assert "no checkpoint was saved" in err and not (tmp_path / "a" / "checkpoint.json").exists()

    assert cli.main([*args, "--detect-anomaly", "--out", str(tmp_path / "b")]) == 3
    anomaly, error = capsys.readouterr().err.splitlines()
    assert anomaly.startswith("micrograd: anomaly: step 0, train point ")
    assert "the first non-finite value: op '" in anomaly
    assert anomaly.endswith(("gave inf", "gave -inf"))
    assert "layer 0 neuron" in anomaly and "1.7e+308" in anomaly  # the inputs, named
    assert error.startswith("micrograd: error: step 0: ")


def test_an_engine_exception_mid_run_is_one_line_exit_3(tmp_path, capsys, monkeypatch):
    real_step = optim.AdamW.step

    def step(self):
        if self.t == 6:
            raise OverflowError("exp: exp(1000.0) overflows a float")
        real_step(self)

    monkeypatch.setattr(optim.AdamW, "step", step)
    code = cli.main(["train", "--steps", "20", "--save-every", "4", "--no-plot", "--quiet",
                     "--out", str(tmp_path / "r")])
    assert code == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("micrograd: error: step 6: exp: exp(1000.0) overflows a float; the "
                          "learning rate is probably too high: try --lr 0.01; the last good "
                          "checkpoint (step 4) is kept in")
    assert load_checkpoint(str(tmp_path / "r")).step == 4


def test_weights_that_turn_nan_are_caught_at_that_step(tmp_path, capsys, monkeypatch):
    real_step = optim.AdamW.step

    def step(self):
        real_step(self)
        if self.t == 8:
            self.params[3].data = math.nan

    monkeypatch.setattr(optim.AdamW, "step", step)
    code = cli.main(["train", "--steps", "20", "--save-every", "7", "--no-plot", "--quiet",
                     "--detect-anomaly", "--out", str(tmp_path / "r")])
    assert code == 3
    anomaly, error = capsys.readouterr().err.splitlines()
    assert error.startswith("micrograd: error: step 7: the update made weight #3 nan; ")
    assert "every gradient are finite: the optimizer update itself" in anomaly
    assert load_checkpoint(str(tmp_path / "r")).step == 7  # step 7's own state was not saved


def test_a_csv_run_resumes_and_its_checkpoint_resumes_again(tmp_path, capsys):
    data = tmp_path / "points.csv"
    data.write_text("x,y,label\n" + "".join(f"{(i * 7) % 11 - 5},{(i * 3) % 7 - 3},{i % 3}\n"
                                            for i in range(60)))
    args = ["--dataset", str(data), "--eval-every", "3", "--no-plot", "--quiet"]
    assert cli.main(["train", *args, "--steps", "20", "--out", str(tmp_path / "full")]) == 0
    full = capsys.readouterr().out.splitlines()
    part = tmp_path / "part"
    assert cli.main(["train", *args, "--steps", "8", "--out", str(part)]) == 0
    assert cli.main(["train", "--resume", str(part), "--steps", "14", "--quiet"]) == 0
    assert cli.main(["train", "--resume", str(part), "--steps", "20", "--quiet"]) == 0
    assert capsys.readouterr().out.splitlines() == full
    assert (part / "checkpoint.json").read_bytes() == (tmp_path / "full" / "checkpoint.json"
                                                       ).read_bytes()
    assert json.loads((part / "config.json").read_text())["n"] == 100  # unused, kept as typed


def test_a_second_signal_stops_at_once(tmp_path):
    """During setup a signal stops at once; after a step, the first signal only asks for a stop
    after the step, and a second one interrupts now."""
    from micrograd.data import RNG
    from micrograd.guard import GuardedRun, Interrupted, RunGuard
    from micrograd.nn import chapter_mlp
    from micrograd.optim import AdamW
    from micrograd.train import History

    model = chapter_mlp([2, 3], rng=RNG(1))
    guard = RunGuard(GuardedRun(str(tmp_path), model, AdamW(model.parameters()), RNG(1),
                                config={}, data_sha256="0" * 64, train_split=[], val_split=[],
                                steps=10))
    with guard:
        with pytest.raises(Interrupted):  # setup: no step done yet, nothing to finish
            os.kill(os.getpid(), signal.SIGINT)
    assert signal.getsignal(signal.SIGINT) != guard.signals._on_signal  # restored on exit

    guard = RunGuard(GuardedRun(str(tmp_path), model, AdamW(model.parameters()), RNG(1),
                                config={}, data_sha256="0" * 64, train_split=[], val_split=[],
                                steps=10))
    with guard:
        guard.on_step(0, History([0], [1.0], [None]))  # the first step is done
        os.kill(os.getpid(), signal.SIGTERM)  # a real signal, to our own process
        assert guard.signum == signal.SIGTERM
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
    assert signal.getsignal(signal.SIGTERM) != guard.signals._on_signal  # restored on exit


# ---- review findings: data loss on resume, signals outside the steps, bugs vs numbers ----

def test_resuming_a_copied_checkpoint_never_replaces_the_runs_newer_one(tmp_path, capsys):
    """train 30; copy ck30.json; resume to 60; resuming ck30.json in place would rewind the run."""
    run = tmp_path / "z1"
    quiet = ["--no-plot", "--quiet"]
    assert cli.main(["train", "--steps", "30", *quiet, "--out", str(run)]) == 0
    (run / "ck30.json").write_bytes((run / "checkpoint.json").read_bytes())
    assert cli.main(["train", "--resume", str(run), "--steps", "60", *quiet]) == 0
    capsys.readouterr()
    before = {p.name: p.read_bytes() for p in run.iterdir()}

    assert cli.main(["train", "--resume", str(run / "ck30.json"), *quiet]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pass --out NEW_FOLDER" in err, err
    for flags in ([], ["--force"]):  # into the run's folder by name: its step 60 is kept
        assert cli.main(["train", "--resume", str(run / "ck30.json"), "--out", str(run),
                         *flags, *quiet]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "is at step 60, further on than" in err, err
    assert {p.name: p.read_bytes() for p in run.iterdir()} == before
    assert load_checkpoint(str(run)).step == 60

    assert cli.main(["train", "--resume", str(run / "ck30.json"), "--out", str(tmp_path / "z2"),
                     "--steps", "40", *quiet]) == 0  # a new folder is fine
    assert load_checkpoint(str(tmp_path / "z2")).step == 40
    assert {p.name: p.read_bytes() for p in run.iterdir()} == before


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_while_the_pictures_are_drawn_keeps_the_finished_run(tmp_path, sig, code):
    """The pictures take most of the default run's time; the checkpoint is written before them
    and the signal handlers stay until the end, so a signal there loses nothing."""
    out = tmp_path / "run"
    proc = start("train", "--steps", "20", "--out", str(out))
    read_until(proc, "final: ")  # train() has returned: the files come next
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == code, err
    name = signal.Signals(sig).name
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith(f"micrograd: interrupted by {name} after the last step, while writing "
                          "the run's files: wrote checkpoint.json, ")
    assert load_checkpoint(str(out)).step == 20
    assert len((out / "metrics.csv").read_text().splitlines()) == 1 + 20
    # the pictures not started yet are skipped (drawing one takes far longer than the signal
    # takes to arrive, so at least the last ones are), and resuming the finished run draws them
    assert err.endswith(f"(micrograd train --resume {out} draws them)\n")
    skipped = err.split("not drawn: ")[1].split(" (")[0].split(", ")
    assert "neurons.png" in skipped and not any((out / p).exists() for p in skipped)
    resumed = micrograd("train", "--resume", str(out))
    assert resumed.stdout.startswith("final: ")
    assert all((out / p).stat().st_size > 10_000 for p in skipped)


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_during_a_slow_setup_stops_at_once(tmp_path, capsys, monkeypatch, sig, code):
    """Before the first step is done nothing is worth finishing: the run stops at once, with one
    line, and leaves no folder behind (a slow tape build must not delay the stop)."""
    import time

    real_train = run_module.train
    sleeps = []

    def slow_setup(*args, **kwargs):  # a signal arrives while, say, the tape is being built
        os.kill(os.getpid(), sig)
        t0 = time.perf_counter()
        time.sleep(5)
        sleeps.append(time.perf_counter() - t0)
        return real_train(*args, **kwargs)

    monkeypatch.setattr(run_module, "train", slow_setup)
    out = tmp_path / "run"
    code_now = cli.main(["train", "--steps", "5", "--no-plot", "--out", str(out)])
    assert not sleeps  # the sleep was cut short: it never returned
    assert code_now == code
    err = capsys.readouterr().err
    assert err == (f"micrograd: interrupted by {signal.Signals(sig).name} during setup, before the "
                   "first step was done: no checkpoint exists yet (nothing to resume); run the "
                   "command again to start over\n")
    assert not out.exists()

    run = tmp_path / "resumable"  # resuming: the checkpoint it started from is left as it was
    monkeypatch.setattr(run_module, "train", real_train)
    assert cli.main(["train", "--steps", "3", "--no-plot", "--quiet", "--out", str(run)]) == 0
    before = {p.name: p.read_bytes() for p in run.iterdir()}
    monkeypatch.setattr(run_module, "train", slow_setup)
    capsys.readouterr()
    assert cli.main(["train", "--resume", str(run), "--steps", "6", "--quiet"]) == code
    assert not sleeps
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.endswith(f"{run / 'checkpoint.json'} is unchanged (step 3); resume from it again\n")
    assert {p.name: p.read_bytes() for p in run.iterdir()} == before


def test_resume_with_no_plot_removes_the_pictures_of_the_earlier_part(tmp_path, capsys):
    run = tmp_path / "run"
    assert cli.main(["train", "--steps", "5", "--quiet", "--out", str(run)]) == 0
    assert (run / "loss.png").exists() and (run / "boundary.png").exists()
    assert cli.main(["train", "--resume", str(run), "--steps", "8", "--no-plot"]) == 0
    assert capsys.readouterr().err.endswith(
        f"to {run}; removed the old loss.png, boundary.png, neurons.png (--no-plot: they showed "
        "an earlier step)\n")
    assert sorted(p.name for p in run.iterdir()) == ["checkpoint.json", "config.json",
                                                     "metrics.csv"]


def test_a_bug_in_training_is_not_reported_as_numerical_trouble(tmp_path, monkeypatch):
    """Only the engine's domain errors are numerical trouble (exit 3); a ValueError from a bug
    surfaces as a bug, with its traceback."""
    def step(self):
        a, b = [1.0]  # an unpacking bug: ValueError, but no number went bad
        return a, b

    monkeypatch.setattr(optim.AdamW, "step", step)
    with pytest.raises(ValueError, match="not enough values to unpack"):
        cli.main(["train", "--steps", "3", "--no-plot", "--quiet", "--out", str(tmp_path / "r")])


def test_the_engines_domain_errors_count_as_numerical_trouble():
    from micrograd.engine import Value
    from micrograd.guard import is_numerical_error

    for make in (lambda: Value(0.0).log(), lambda: Value(1000.0).exp(),
                 lambda: Value(0.0) ** -1, lambda: Value(-1.0) ** 0.5,
                 lambda: math.sqrt(-1.0), lambda: 1.0 / 0.0):
        with pytest.raises((ArithmeticError, ValueError)) as info:
            make()
        assert is_numerical_error(info.value), info.value
    assert not is_numerical_error(ValueError("too many values to unpack (expected 2)"))
    assert not is_numerical_error(TypeError("unsupported operand"))


def test_a_csv_run_resumes_and_evaluates_from_another_folder(tmp_path, monkeypatch, capsys):
    """The CSV's absolute path is stored: another working folder with its own points.csv (or
    none) does not change which file a resume or eval reads."""
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    rows = "".join(f"{(i * 7) % 11 - 5},{(i * 3) % 7 - 3},{i % 3}\n" for i in range(60))
    (first / "points.csv").write_text(rows)
    (second / "points.csv").write_text(rows.replace("-5,", "-4,"))  # other points, same name
    monkeypatch.chdir(first)
    assert cli.main(["train", "--dataset", "points.csv", "--steps", "4", "--no-plot", "--quiet",
                     "--out", str(tmp_path / "run")]) == 0
    assert load_checkpoint(str(tmp_path / "run")).config["dataset"] == str(first / "points.csv")
    monkeypatch.chdir(second)
    assert cli.main(["train", "--resume", str(tmp_path / "run"), "--steps", "6", "--quiet"]) == 0
    assert cli.main(["eval", "--checkpoint", str(tmp_path / "run")]) == 0
    capsys.readouterr()
    (first / "points.csv").write_text(rows.replace("-3,", "-2,"))
    assert cli.main(["eval", "--checkpoint", str(tmp_path / "run")]) == 2
    assert f"(was {first / 'points.csv'} changed?)" in capsys.readouterr().err
    # a moved file can be named again on resume: the sha256 of its points decides
    (first / "points.csv").unlink()
    (second / "moved.csv").write_text(rows)
    assert cli.main(["train", "--resume", str(tmp_path / "run"), "--steps", "8", "--quiet",
                     "--dataset", "moved.csv"]) == 0
    assert load_checkpoint(str(tmp_path / "run")).config["dataset"] == str(second / "moved.csv")


def test_a_resumed_run_keeps_saving_every_k_steps(tmp_path, capsys, monkeypatch):
    """--save-every is recorded in the checkpoint: a resume without the flag keeps it, so a
    second crash loses at most K steps (it used to turn periodic checkpoints off)."""
    run = tmp_path / "r"
    assert cli.main(["train", "--steps", "10", "--save-every", "4", "--no-plot", "--quiet",
                     "--out", str(run)]) == 0
    real_step = optim.AdamW.step

    def step(self):  # the resumed run dies at its 17th update (step 16 of the run)
        if self.t == 17:
            raise OverflowError("exp: exp(1000.0) overflows a float")
        real_step(self)

    monkeypatch.setattr(optim.AdamW, "step", step)
    assert cli.main(["train", "--resume", str(run), "--steps", "30", "--no-plot",
                     "--quiet"]) == 3
    assert load_checkpoint(str(run)).step == 16  # saved at 12 and 16, not left at 10
    capsys.readouterr()
    monkeypatch.setattr(optim.AdamW, "step", real_step)
    assert cli.main(["train", "--resume", str(run), "--steps", "30", "--save-every", "0",
                     "--no-plot", "--quiet"]) == 0  # typed, it wins (and is recorded anew)
    assert load_checkpoint(str(run)).config["save_every"] == 0


def test_a_checkpoint_without_a_recorded_save_every_still_resumes(tmp_path, capsys):
    run = tmp_path / "r"
    assert cli.main(["train", "--steps", "5", "--no-plot", "--quiet", "--out", str(run)]) == 0
    path = run / "checkpoint.json"
    doc = json.loads(path.read_text())
    del doc["config"]["save_every"]  # as written before it was recorded
    path.write_text(json.dumps(doc))
    assert cli.main(["train", "--resume", str(run), "--steps", "8", "--no-plot", "--quiet"]) == 0
    doc["config"]["save_every"] = -3
    path.write_text(json.dumps(doc))
    assert cli.main(["train", "--resume", str(run), "--steps", "9", "--no-plot", "--quiet"]) == 2
    assert "save_every is -3, not an integer" in capsys.readouterr().err
