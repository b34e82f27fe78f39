"""`micrograd train --engine torch`: the same run trained by PyTorch float64.

The chapter's run prints the chapter's log within 1e-11 (every line, against eager too); the AdamW
update on tensors gives our optimizer's bits; checkpoints are ordinary ones, so a run continues
across engines (numpy ↔ torch, torch → eager) as if uninterrupted; mini-batches are the other
engines' batches. Without PyTorch, or asked for a GPU that is not there, it says so in one line.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys

import pytest
import torch

from conftest import assert_matches_chapter_log
from micrograd import cli
from micrograd.checkpoint import load_checkpoint
from micrograd.data import RNG, gen_data
from micrograd.nn import chapter_mlp
from micrograd.optim import SGD, AdamW
from micrograd.torch_engine import NEEDS_TORCH, TorchEngine
from micrograd.train import make_engine, train

TOLERANCE = 1e-11  # relative, per printed train loss (val lines: equal as printed)
HYPER = {"lr": 0.1, "betas": (0.9, 0.95), "eps": 1e-8, "weight_decay": 1e-4}


def train_lines(tmp_path, name, *flags):
    """Run `micrograd train` in this process; return its loss lines and its folder."""
    out = tmp_path / name
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = cli.main(["train", "--no-plot", "--quiet", "--out", str(out), *flags])
    assert code == 0
    lines = buf.getvalue().splitlines()
    return lines, out


def assert_close_logs(ours, theirs, rel=TOLERANCE):
    """The same lines; val lines equal as printed, train losses within `rel` relative."""
    assert len(ours) == len(theirs) and ours
    for a, b in zip(ours, theirs):
        head, x = a.rsplit(" ", 1)
        their_head, y = b.rsplit(" ", 1)
        assert head == their_head
        if " val loss " in a:
            assert x == y
        else:
            assert float(x) == pytest.approx(float(y), rel=rel, abs=0), (a, b)


def chapter_run(engine, steps=100, optimizer_kwargs=HYPER, **kwargs):
    rng = RNG(42)
    tr, va, _ = gen_data(rng, n=100)
    model = chapter_mlp([2, 16, 3], rng=rng)
    opt = AdamW(model.parameters(), **optimizer_kwargs)
    lines = []
    result = train(model, opt, tr, va, steps=steps, log=lines.append, engine=engine,
                   rng=rng, **kwargs)
    return lines, model, opt, result


# ---- the chapter's run ----


def test_the_chapter_run_prints_the_chapters_log_within_1e_11(tmp_path, chapter_log_path):
    lines, out = train_lines(tmp_path, "torch", "--engine", "torch")
    assert_matches_chapter_log(lines, chapter_log_path, rel=TOLERANCE)
    eager, _ = train_lines(tmp_path, "eager", "--engine", "eager")
    assert_close_logs(lines, eager)
    assert lines != eager  # PyTorch's sums are ordered otherwise: close, not the same bits
    ckpt = load_checkpoint(str(out))
    assert ckpt.step == 100 and ckpt.config["engine"] == "torch"


def test_the_final_metrics_and_weights_are_eagers():
    _, model, opt, result = chapter_run("torch")
    _, eager_model, eager_opt, eager_result = chapter_run("eager")
    for name in ("train", "val"):
        assert result.final[name].accuracy == eager_result.final[name].accuracy
        assert result.final[name].loss == pytest.approx(eager_result.final[name].loss, rel=1e-11)
    for p, q in zip(model.parameters(), eager_model.parameters()):
        assert p.data == pytest.approx(q.data, rel=1e-9, abs=1e-12)
    assert opt.t == eager_opt.t == 100
    assert opt.exp_avg == pytest.approx(eager_opt.exp_avg, rel=1e-8, abs=1e-14)
    assert all(p.grad == 0.0 for p in model.parameters())


@pytest.mark.parametrize("beta1", [0.9, 0.3])  # both of lerp's forms (weight 0.1 and 0.7)
def test_the_update_on_tensors_gives_adamws_bits(beta1):
    """Given the same gradients, the engine's update is AdamW.step()'s, bit for bit."""
    hyper = {**HYPER, "betas": (beta1, 0.95)}
    ours, theirs = chapter_mlp([2, 16, 3], rng=RNG(7)), chapter_mlp([2, 16, 3], rng=RNG(7))
    opt, ref = AdamW(ours.parameters(), **hyper), AdamW(theirs.parameters(), **hyper)
    engine = TorchEngine(ours, 2, opt)
    grads = RNG(3)
    for _ in range(5):
        g = [grads.uniform(-2, 2) for _ in theirs.parameters()]
        engine.grad.copy_(torch.tensor(g, dtype=torch.float64))
        for p, gi in zip(theirs.parameters(), g):
            p.grad = gi
        engine.optimizer_step()
        ref.step()
        ref.zero_grad()
    engine.sync()
    assert [p.data for p in ours.parameters()] == [p.data for p in theirs.parameters()]
    assert opt.exp_avg == ref.exp_avg and opt.exp_avg_sq == ref.exp_avg_sq and opt.t == ref.t


def test_mini_batches_are_the_other_engines_batches(tmp_path):
    flags = ["--dataset", "moons", "--hidden", "8,8", "--batch-size", "16", "--steps", "60"]
    torch_lines, _ = train_lines(tmp_path, "torch", *flags, "--engine", "torch")
    numpy_lines, _ = train_lines(tmp_path, "numpy", *flags, "--engine", "numpy")
    assert_close_logs(torch_lines, numpy_lines)
    full, _ = train_lines(tmp_path, "full", *flags[:-4], "--steps", "60", "--engine", "torch")
    assert full[1] != torch_lines[1]  # the batches matter: the test can tell


def test_a_mini_batch_as_rows_or_as_indices_is_the_same():
    """`take` (what train() uses) and a list of the batch's rows give the same batch."""
    rng = RNG(4)
    tr, _, _ = gen_data(rng, n=60)
    model = chapter_mlp([2, 8, 3], rng=rng)
    engine = TorchEngine(model, 2, AdamW(model.parameters(), **HYPER))
    X, Y = engine.batch([x for x, _ in tr], [y for _, y in tr])
    idx = [5, 0, 17, 3, 4]
    taken = engine.take(X, Y, idx)
    listed = engine.batch([X[i] for i in idx], [Y[i] for i in idx])
    assert torch.equal(taken[0], listed[0]) and torch.equal(taken[1], listed[1])
    assert taken[1].tolist() == [tr[i][1] for i in idx]
    assert engine.loss(*taken) == engine.loss([tr[i][0] for i in idx], [tr[i][1] for i in idx])


def test_relu_and_sigmoid_models_match_eager():
    for activation in ("relu", "sigmoid"):
        runs = []
        for engine in ("torch", "eager"):
            rng = RNG(5)
            tr, va, _ = gen_data(rng, n=60)
            model = chapter_mlp([2, 8, 8, 3], activation, rng=rng)
            lines = []
            train(model, AdamW(model.parameters(), **HYPER), tr, va, steps=30, log=lines.append,
                  engine=engine)
            runs.append(lines)
        assert_close_logs(*runs)


def test_the_engine_steps_adamw_only():
    model = chapter_mlp([2, 4, 3], rng=RNG(1))
    with pytest.raises(ValueError, match="steps AdamW, not SGD"):
        make_engine("torch", model, 2, SGD(model.parameters(), lr=0.1))
    with pytest.raises(ValueError, match="needs the run's AdamW"):
        make_engine("torch", model, 2)


# ---- checkpoints and resume across engines ----


@pytest.mark.parametrize(("first", "then"), [("numpy", "torch"), ("torch", "numpy"),
                                              ("torch", "eager"), ("tape", "torch")])
def test_a_run_continues_on_another_engine_as_if_uninterrupted(tmp_path, first, then):
    full, _ = train_lines(tmp_path, "full", "--steps", "40", "--engine", then)
    half, out = train_lines(tmp_path, "half", "--steps", "20", "--engine", first)
    resumed, _ = train_lines(tmp_path, "resumed", "--resume", str(out), "--steps", "40",
                             "--engine", then)
    assert_close_logs(half + resumed, full)
    doc = json.loads((tmp_path / "resumed" / "checkpoint.json").read_text())
    assert doc["config"]["engine"] == then and load_checkpoint(str(out)).step == 20


def test_a_torch_checkpoint_continues_with_torch_bit_for_bit(tmp_path):
    """The checkpoint holds the tensors' exact bits: weights, moments, step, RNG."""
    flags = ["--engine", "torch", "--batch-size", "32", "--dataset", "spiral"]
    full, full_out = train_lines(tmp_path, "full", "--steps", "30", *flags)
    half, out = train_lines(tmp_path, "half", "--steps", "12", *flags)
    resumed, _ = train_lines(tmp_path, "resumed", "--resume", str(out), "--steps", "30")
    assert half + resumed == full
    for name in ("checkpoint.json", "metrics.csv"):
        assert (tmp_path / "resumed" / name).read_bytes() == (full_out / name).read_bytes()


def test_a_torch_checkpoint_loads_with_eager_and_continues(tmp_path):
    """Checkpoint written by the torch engine; eager loads it and goes on like a torch run (and
    like an eager one) within 1e-11, and the run's engine is eager from then on."""
    torch_full, _ = train_lines(tmp_path, "tfull", "--steps", "30", "--engine", "torch")
    eager_full, _ = train_lines(tmp_path, "efull", "--steps", "30", "--engine", "eager")
    half, out = train_lines(tmp_path, "half", "--steps", "15", "--engine", "torch")
    rest, _ = train_lines(tmp_path, "rest", "--resume", str(out), "--steps", "30",
                          "--engine", "eager")
    assert_close_logs(half + rest, torch_full)
    assert_close_logs(half + rest, eager_full)
    assert load_checkpoint(str(tmp_path / "rest")).config["engine"] == "eager"


def test_callbacks_see_the_weights_of_their_step():
    """on_step (checkpoints, pictures, the guard) reads the Values: synced before every call."""
    seen = {}

    def on_step(step, history):
        seen[step] = [p.data for p in model.parameters()]

    rng = RNG(42)
    tr, va, _ = gen_data(rng, n=100)
    model = chapter_mlp([2, 16, 3], rng=rng)
    train(model, AdamW(model.parameters(), **HYPER), tr, va, steps=8, log=lambda _: None,
          engine="torch", on_step=on_step)
    for k in (3, 7):
        _, shorter, _, _ = chapter_run("torch", steps=k + 1)
        assert seen[k] == [p.data for p in shorter.parameters()]
    assert seen[3] != seen[7]


# ---- one line, no traceback ----


def run_cli(*args, prelude=""):
    code = (f"import sys\n{prelude}\nfrom micrograd.cli import main\n"
            f"sys.exit(main({list(args)!r}))")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PYTHONWARNINGS": "ignore"})


def test_without_torch_the_engine_says_how_to_install_it(tmp_path):
    out = tmp_path / "run"
    proc = run_cli("train", "--engine", "torch", "--no-plot", "--out", str(out),
                   prelude="sys.modules['torch'] = None  # as if PyTorch were not installed")
    assert proc.returncode == 2
    assert proc.stderr == f"micrograd: error: {NEEDS_TORCH}\n"
    # the README installs from a clone, where `pip install 'micrograd-lab[torch]'` finds nothing
    assert NEEDS_TORCH == ("the torch engine needs PyTorch: pip install -e '.[torch]' in the "
                           "clone (pip install 'micrograd-lab[torch]' from a wheel)")
    assert proc.stdout == "" and not out.exists()


def test_without_torch_other_engines_still_run(tmp_path):
    proc = run_cli("train", "--engine", "tape", "--steps", "2", "--no-plot", "--quiet", "--out",
                   str(tmp_path / "run"), prelude="sys.modules['torch'] = None")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0] == "step 0, val loss 0.917090"


def test_without_torch_a_torch_run_resumes_on_another_engine(tmp_path):
    _, out = train_lines(tmp_path, "run", "--steps", "5", "--engine", "torch")
    no_torch = "sys.modules['torch'] = None"
    proc = run_cli("train", "--resume", str(out), "--steps", "8", "--no-plot", prelude=no_torch)
    assert (proc.returncode, proc.stderr) == (2, f"micrograd: error: {NEEDS_TORCH}\n")
    assert load_checkpoint(str(out)).step == 5
    proc = run_cli("train", "--resume", str(out), "--steps", "8", "--no-plot", "--quiet",
                   "--engine", "numpy", prelude=no_torch)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0].startswith("step 5, train loss ")
    assert load_checkpoint(str(out)).step == 8


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA GPU")
def test_device_cuda_without_a_gpu_is_one_line(tmp_path):
    out = tmp_path / "run"
    proc = run_cli("train", "--engine", "torch", "--device", "cuda", "--out", str(out))
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("micrograd: error: --device cuda: ")
    assert proc.stderr.rstrip().endswith("use --device cpu")
    assert not out.exists()


def test_device_applies_to_the_torch_engine_only(tmp_path, capsys):
    out = tmp_path / "run"
    assert cli.main(["train", "--engine", "numpy", "--device", "cuda", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err == ("micrograd: error: --device cuda applies to --engine torch only; add "
                   "--engine torch, or drop --device\n")
    assert not out.exists()
    assert cli.main(["train", "--device", "gpu", "--out", str(out)]) == 2
    assert "invalid choice: 'gpu'" in capsys.readouterr().err


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_device_cuda_runs_the_chapter_run(tmp_path, chapter_log_path):
    lines, _ = train_lines(tmp_path, "cuda", "--engine", "torch", "--device", "cuda")
    assert_matches_chapter_log(lines, chapter_log_path, rel=TOLERANCE)


# ---- an optimizer the engine cannot imitate; a model changed between two train() calls ----


def test_an_adamw_with_its_own_step_is_refused_not_silently_replaced():
    """The engine writes AdamW's update itself: a subclass or a patched `step` (clipping, a
    schedule) would be skipped without a word, so it is refused in one line."""
    model = chapter_mlp([2, 4, 3], rng=RNG(1))

    class ClippedAdamW(AdamW):
        def step(self):
            for p in self.params:
                p.grad = max(-0.1, min(0.1, p.grad))
            super().step()

    with pytest.raises(ValueError, match="AdamW's own step"):
        make_engine("torch", model, 2, ClippedAdamW(model.parameters()))
    patched = AdamW(model.parameters())
    patched.step = lambda: None
    with pytest.raises(ValueError, match="AdamW's own step"):
        make_engine("torch", model, 2, patched)
    engine = make_engine("torch", model, 2, AdamW(model.parameters()))
    engine.optimizer.step = lambda: None  # patched after the engine was built
    with pytest.raises(ValueError, match="AdamW's own step"):
        engine.train_step(*engine.batch([[0.1, 0.2]], [1]), engine.optimizer)


def test_train_twice_on_one_engine_starts_from_the_values_of_now():
    """Weights and moments set between two `train()` calls on one built engine are the ones
    the second call trains from, as with eager (not the engine's tensors of the first call)."""
    runs = []
    for engine_name in ("eager", "torch"):
        rng = RNG(42)
        tr, va, _ = gen_data(rng, n=60)
        model = chapter_mlp([2, 8, 3], rng=rng)
        opt = AdamW(model.parameters(), **HYPER)
        engine = engine_name if engine_name == "eager" else make_engine("torch", model, 2, opt)
        train(model, opt, tr, va, steps=5, log=lambda s: None, engine=engine, rng=rng)
        for p in model.parameters():
            p.data = p.data * 0.5
        opt.exp_avg = [0.0] * len(opt.params)
        opt.exp_avg_sq = [0.0] * len(opt.params)
        opt.t = 0
        lines = []
        train(model, opt, tr, va, steps=5, log=lines.append, engine=engine, rng=rng)
        runs.append(lines)
    assert_close_logs(runs[1], runs[0])
