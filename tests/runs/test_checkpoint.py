"""checkpoint.py: exact round trip, no NaN saved, atomic writes (even under SIGKILL), validation."""

import json
import math
import os
import re
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from micrograd import checkpoint
from micrograd.checkpoint import (
    CheckpointError,
    data_fingerprint,
    load_checkpoint,
    restore,
    save_checkpoint,
)
from micrograd.data import RNG, gen_data
from micrograd.nn import chapter_mlp
from micrograd.optim import SGD, AdamW
from micrograd.train import History, train

EDGE_FLOATS = [5e-324, -0.0, 1.7976931348623157e308, 0.1, 1 / 3, -2.2250738585072014e-308,
               1e-300, 123456789.12345679, math.pi, -math.e]


def make_run(steps=3, seed=42, optimizer="adamw"):
    rng = RNG(seed)
    splits = gen_data(rng, 40)
    model = chapter_mlp([2, 4, 3], rng=rng)
    opt = (AdamW(model.parameters(), lr=0.1, betas=(0.9, 0.95), eps=1e-8, weight_decay=1e-4)
           if optimizer == "adamw" else SGD(model.parameters(), lr=0.1, momentum=0.9))
    result = train(model, opt, *splits, steps=steps, eval_every=2, log=lambda _: None)
    return model, opt, rng, result.history, splits


def save(path, model, opt, rng, history, splits, config=None):
    return save_checkpoint(str(path), model, opt, rng, len(history.step), history,
                           config or {"lr": 0.1}, data_fingerprint(list(splits)))


def test_round_trip_is_exact_to_the_bit(tmp_path):
    model, opt, rng, history, splits = make_run()
    for p, v in zip(model.parameters(), EDGE_FLOATS):  # the floats that repr must round-trip
        p.data = v
    opt.exp_avg[0], opt.exp_avg_sq[1] = 5e-324, 1.7976931348623157e308
    rng.state = 2**64 - 1
    save(tmp_path / "c.json", model, opt, rng, history, splits)

    ckpt = load_checkpoint(str(tmp_path / "c.json"))
    rng2 = RNG(7)
    model2 = chapter_mlp([2, 4, 3], rng=rng2)
    opt2 = AdamW(model2.parameters(), lr=0.1, betas=(0.9, 0.95), eps=1e-8, weight_decay=1e-4)
    restore(ckpt, model2, opt2, rng2)
    assert [p.data.hex() for p in model2.parameters()] == [p.data.hex()
                                                           for p in model.parameters()]
    assert math.copysign(1.0, model2.parameters()[1].data) == -1.0  # -0.0 stays negative
    assert opt2.state_dict() == opt.state_dict() and opt2.t == 3
    assert [x.hex() for x in opt2.exp_avg + opt2.exp_avg_sq] == [
        x.hex() for x in opt.exp_avg + opt.exp_avg_sq]
    assert rng2.state == 2**64 - 1
    assert ckpt.history == history and ckpt.step == 3 and ckpt.sizes == [2, 4, 3]


def test_sgd_state_with_empty_momentum_buffers_round_trips(tmp_path):
    model, opt, rng, history, splits = make_run(steps=0, optimizer="sgd")
    save(tmp_path / "checkpoint.json", model, opt, rng, history, splits)
    ckpt = load_checkpoint(str(tmp_path))  # a run folder means its checkpoint.json
    assert ckpt.optimizer["momentum_buffer"] == [None] * 27 and ckpt.step == 0


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_weights_are_never_saved(tmp_path, bad):
    model, opt, rng, history, splits = make_run()
    path = tmp_path / "checkpoint.json"
    save(path, model, opt, rng, history, splits)
    before = path.read_bytes()
    model.parameters()[5].data = bad
    with pytest.raises(ValueError, match="non-finite weights"):
        save(path, model, opt, rng, history, splits)
    assert path.read_bytes() == before  # the last good checkpoint is intact
    assert os.listdir(tmp_path) == ["checkpoint.json"]  # no temporary file left behind


def test_non_finite_optimizer_state_is_never_saved(tmp_path):
    model, opt, rng, history, splits = make_run()
    opt.exp_avg_sq[3] = math.inf
    with pytest.raises(ValueError, match="non-finite optimizer"):
        save(tmp_path / "checkpoint.json", model, opt, rng, history, splits)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("fail_at", ["fsync", "replace"])
def test_a_crash_mid_write_leaves_the_previous_checkpoint(tmp_path, monkeypatch, fail_at):
    model, opt, rng, history, splits = make_run()
    path = tmp_path / "checkpoint.json"
    save(path, model, opt, rng, history, splits)
    before = path.read_bytes()
    model.parameters()[0].data += 1.0

    def crash(*args):
        raise KeyboardInterrupt  # as a Ctrl-C or a kill would interrupt the write

    monkeypatch.setattr(checkpoint.os, fail_at, crash)
    with pytest.raises(KeyboardInterrupt):
        save(path, model, opt, rng, history, splits)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["checkpoint.json"]


def test_the_atomic_writer_never_changes_the_umask(tmp_path, monkeypatch):
    """The umask is process-wide: setting it (even to put it back) races with other threads,
    such as the playground's pool. The temporary file is created with mode 0o666 and O_EXCL, so
    the umask applies by itself, as for open()."""
    from micrograd import files

    mask = os.umask(0o027)
    try:
        def no_umask(*args):
            raise AssertionError("os.umask called while writing a file")

        monkeypatch.setattr(os, "umask", no_umask)
        model, opt, rng, history, splits = make_run()
        save(tmp_path / "checkpoint.json", model, opt, rng, history, splits)
        files.write_atomic(str(tmp_path / "metrics.csv"), b"step\n")
    finally:
        monkeypatch.undo()
        os.umask(mask)
    for name in ("checkpoint.json", "metrics.csv"):
        assert os.stat(tmp_path / name).st_mode & 0o777 == 0o640
    assert sorted(os.listdir(tmp_path)) == ["checkpoint.json", "metrics.csv"]


def test_the_atomic_writer_fsyncs_and_never_clobbers_a_file_of_the_temporary_name(tmp_path,
                                                                                 monkeypatch):
    from micrograd import files

    taken = tmp_path / ".metrics.csv.tmp"  # a fixed temporary name would be this
    taken.write_text("mine")
    synced = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd)))
    files.write_atomic(str(tmp_path / "metrics.csv"), b"new\n")
    assert (tmp_path / "metrics.csv").read_bytes() == b"new\n" and taken.read_text() == "mine"
    assert len(synced) == 2  # the file, then the folder


WRITER = textwrap.dedent("""
    import sys
    from micrograd.checkpoint import save_checkpoint
    from micrograd.data import RNG
    from micrograd.nn import chapter_mlp
    from micrograd.optim import AdamW
    from micrograd.train import History
    rng = RNG(3)
    model = chapter_mlp([2, 64, 64, 3], rng=rng)  # ~4,500 weights: a write takes long enough to hit
    opt = AdamW(model.parameters())
    h = History()
    step = 0
    while True:
        for p in model.parameters():
            p.data += 1.0
        save_checkpoint(sys.argv[1], model, opt, rng, 0, h, {"step": step}, "0" * 64)
        if step == 0:  # a file exists from here on, however slowly a busy machine got here
            print("ready", flush=True)
        step += 1
""")


def test_sigkill_during_writes_never_leaves_a_broken_checkpoint(tmp_path):
    """A process that does nothing but rewrite its checkpoint, killed at random moments."""
    path = tmp_path / "checkpoint.json"
    for delay in (0.05, 0.13, 0.21, 0.34):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path)],
                                stdout=subprocess.PIPE, text=True)
        assert proc.stdout.readline() == "ready\n"
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        proc.stdout.close()
        ckpt = load_checkpoint(str(path))  # complete: the old file or the new one, never half
        offsets = {round(w - v, 6) for w, v in zip(ckpt.weights, _initial_weights())}
        assert len(offsets) == 1, "all weights come from the same write"


def _initial_weights():
    return [p.data for p in chapter_mlp([2, 64, 64, 3], rng=RNG(3)).parameters()]


def write_doc(path, edit):
    model, opt, rng, history, splits = make_run()
    save(path, model, opt, rng, history, splits)
    doc = json.loads(path.read_text())
    edit(doc)
    path.write_text(json.dumps(doc))


def _set(*keys_value):
    *keys, value = keys_value

    def edit(doc):
        target = doc
        for k in keys[:-1]:
            target = target[k]
        target[keys[-1]] = value
    return edit


def _delete(*keys):
    def edit(doc):
        target = doc
        for k in keys[:-1]:
            target = target[k]
        del target[keys[-1]]
    return edit


@pytest.mark.parametrize(("edit", "message"), [
    (_set("version", 2), "format version 2 is not supported"),
    (_set("format", "something else"), "is not a micrograd-lab checkpoint"),
    (_delete("rng_state"), "rng_state is missing"),
    (_set("extra", 1), "extra is not a checkpoint field"),
    (_set("step", -1), "step must be in 0..1000000000, got -1"),
    (_set("step", True), "step must be an integer"),
    (_set("step", 10**9), "history.step must be"),
    (_set("model", "weights", "a string"), "model.weights must be a list of 27 numbers"),
    (_set("model", "weights", [0.5] * 26), "got 26 entries"),
    (_set("model", "sizes", [2, 4]), "model.weights must be a list of 12 numbers"),
    (_set("model", "sizes", [2, "4", 3]), "model.sizes must be an integer"),
    (_set("model", "activation", "swish"), "model.activation 'swish'"),
    (_set("model", "type", "CNN"), "only 'MLP'"),
    (_set("optimizer", "type", "Adam"), "optimizer must be an object"),
    (_set("optimizer", "exp_avg", [0.0]), "optimizer.exp_avg must be a list of 27"),
    (_set("optimizer", "lr", "0.1"), "optimizer.lr must hold finite numbers"),
    (_set("rng_state", 0), "rng_state must be in 1.."),
    (_set("rng_state", 2**64), "rng_state must be in 1.."),
    (_set("data_sha256", "xyz"), "data_sha256 must be 64"),
    (_set("history", "train_loss", [1.0, 2.0]), "history.train_loss must be a list of 3"),
    (_set("history", "val_loss", [None, None, "x"]), "history.val_loss must hold finite"),
    (_set("history", "step", [0, 2, 1]), "history.step must be [0, 1, ..., 2]"),
    (_set("config", []), "config must be an object"),
])
def test_edited_checkpoints_are_refused_with_one_line(tmp_path, edit, message):
    path = tmp_path / "checkpoint.json"
    write_doc(path, edit)
    with pytest.raises(CheckpointError, match=None) as info:
        load_checkpoint(str(path))
    assert message in str(info.value) and "\n" not in str(info.value)
    assert str(path) in str(info.value)


@pytest.mark.parametrize(("text", "message"), [
    ("", "is empty"),
    ('{"format": "micrograd-lab checkpoint", "version": 1, "step": 3, "mo', "is truncated"),
    ("{'single': 'quotes'}", "is not valid JSON"),
    ('{"a": NaN}', "NaN is not a number a checkpoint may hold"),
    ('{"a": 1e999}', "is not a micrograd-lab checkpoint"),
    ("[" * 100_000 + "]" * 100_000, "is not valid JSON"),
    ("[1, 2, 3]", "is not a micrograd-lab checkpoint"),
])
def test_files_that_are_not_checkpoints(tmp_path, text, message):
    path = tmp_path / "checkpoint.json"
    path.write_text(text)
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(str(path))
    assert message in str(info.value)


def test_infinity_spelled_as_a_huge_number_is_refused(tmp_path):
    """JSON has no infinity, but Python parses 1e999 as one: the finiteness check catches it."""
    path = tmp_path / "checkpoint.json"
    write_doc(path, lambda doc: None)
    text, n = re.subn(r'"weights": \[[^,]+,', '"weights": [1e999,', path.read_text(), count=1)
    assert n == 1
    path.write_text(text)
    with pytest.raises(CheckpointError, match=r"model\.weights must hold finite numbers"):
        load_checkpoint(str(path))


def test_a_pickle_is_refused_and_never_executed(tmp_path):
    import pickle

    path = tmp_path / "checkpoint.json"
    path.write_bytes(pickle.dumps({"format": checkpoint.FORMAT}))
    with pytest.raises(CheckpointError, match=r"not UTF-8|not valid JSON"):
        load_checkpoint(str(path))


def test_size_limit(tmp_path, monkeypatch):
    path = tmp_path / "checkpoint.json"
    write_doc(path, lambda doc: None)
    monkeypatch.setattr(checkpoint, "MAX_CHECKPOINT_BYTES", 100)
    with pytest.raises(CheckpointError, match="over the 100 byte limit"):
        load_checkpoint(str(path))


def test_restore_refuses_another_architecture_or_edited_hyperparameters(tmp_path):
    path = tmp_path / "checkpoint.json"
    write_doc(path, lambda doc: None)
    ckpt = load_checkpoint(str(path))
    other = chapter_mlp([2, 5, 3], rng=RNG(1))
    with pytest.raises(CheckpointError, match="holds MLP 2-4-3"):
        restore(ckpt, other, AdamW(other.parameters()), RNG(1))
    model = chapter_mlp([2, 4, 3], rng=RNG(1))
    with pytest.raises(CheckpointError, match=r"optimizer lr is 0\.1 but its config says 0\.5"):
        restore(ckpt, model, AdamW(model.parameters(), lr=0.5, betas=(0.9, 0.95),
                                   weight_decay=1e-4), RNG(1))
    with pytest.raises(CheckpointError, match="optimizer is AdamW, this run uses SGD"):
        restore(ckpt, model, SGD(model.parameters()), RNG(1))


def test_checkpoint_is_small_for_the_chapter_model(tmp_path):
    """The chapter's MLP 2-16-3 after 100 steps: a few KB (how fast it is written, with fsync, is
    measured by `python benchmarks/timings.py`)."""
    rng = RNG(42)
    splits = gen_data(rng, 100)
    model = chapter_mlp([2, 16, 3], rng=rng)
    opt = AdamW(model.parameters(), lr=0.1, betas=(0.9, 0.95), eps=1e-8, weight_decay=1e-4)
    history = History(list(range(100)), [0.5] * 100, [None] * 100)
    size = save_checkpoint(str(tmp_path / "c.json"), model, opt, rng, 100, history, {},
                           data_fingerprint(list(splits)))
    assert size == (tmp_path / "c.json").stat().st_size < 20_000


# ---- micrograd eval: a trained model, used ----

@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A 30-step run of the chapter's setup and the summary line it printed."""
    import contextlib
    import io

    from micrograd import cli

    out = tmp_path_factory.mktemp("eval") / "run"
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert cli.main(["train", "--steps", "30", "--no-plot", "--out", str(out)]) == 0
    return out, buf.getvalue().splitlines()[-1]


def test_eval_prints_the_final_metrics_of_the_run(trained, capsys):
    from micrograd import cli

    out, final = trained
    assert cli.main(["eval", "--checkpoint", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [ln.rsplit(" (", 1)[0] for ln in lines] == final.removeprefix("final: ").split(" | ")
    assert [ln.rsplit(" (", 1)[1] for ln in lines] == ["80 points)", "10 points)", "10 points)"]


def test_eval_predicts_new_points_with_class_probabilities(trained, tmp_path, capsys):
    from micrograd import cli

    out, _ = trained
    data = tmp_path / "new.csv"
    data.write_text("a,b\n0.5,1\n-1,-1\n1,-1\n")
    assert cli.main(["eval", "--checkpoint", str(out / "checkpoint.json"), "--data",
                     str(data)]) == 0
    captured = capsys.readouterr()
    rows = captured.out.splitlines()
    assert rows[0] == "x1,x2,predicted,p0,p1,p2" and len(rows) == 4 and captured.err == ""
    ckpt = load_checkpoint(str(out))
    model = chapter_mlp([2, 16, 3], rng=RNG(1))
    for p, w in zip(model.parameters(), ckpt.weights):
        p.data = w
    for row, x in zip(rows[1:], [[0.5, 1.0], [-1.0, -1.0], [1.0, -1.0]]):
        cells = row.split(",")
        probs = [float(c) for c in cells[3:]]
        logits = model.predict(x)
        assert [float(c) for c in cells[:2]] == x
        assert int(cells[2]) == logits.index(max(logits)) == probs.index(max(probs))
        assert abs(sum(probs) - 1.0) < 1e-12 and all(0.0 <= p <= 1.0 for p in probs)
        exp = [math.exp(v) for v in logits]  # an independent softmax
        assert probs == pytest.approx([e / sum(exp) for e in exp], rel=1e-12, abs=1e-300)


def test_eval_with_labels_and_an_output_file(trained, tmp_path, capsys):
    from micrograd import cli

    out, _ = trained
    data = tmp_path / "labelled.csv"
    data.write_text("-1.5,0.3,0\n1.2,-1.1,1\n1.0,1.5,2\n1.0,1.5,0\n")
    target = tmp_path / "predictions.csv"
    args = ["eval", "--checkpoint", str(out), "--data", str(data), "--out", str(target)]
    assert cli.main(args) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("data loss ") and "acc 75.0% (4 points)" in captured.out
    assert captured.err == f"wrote predictions for 4 points to {target}\n"
    first = target.read_text()
    assert first.splitlines()[0] == "x1,x2,label,predicted,p0,p1,p2"
    target.write_text("mine")
    assert cli.main(args) == 2  # never overwritten without --force
    assert "already exists; pass --force" in capsys.readouterr().err
    assert target.read_text() == "mine"
    assert cli.main([*args, "--force"]) == 0 and target.read_text() == first


def test_eval_of_a_csv_run_regenerates_its_splits_and_notices_a_changed_file(tmp_path, capsys):
    from micrograd import cli

    data = tmp_path / "points.csv"
    data.write_text("".join(f"{i % 7 - 3},{i % 5 - 2},{i % 3}\n" for i in range(50)))
    run = tmp_path / "run"
    assert cli.main(["train", "--dataset", str(data), "--steps", "5", "--no-plot", "--out",
                     str(run)]) == 0
    final = capsys.readouterr().out.splitlines()[-1]
    assert cli.main(["eval", "--checkpoint", str(run)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert " | ".join(ln.rsplit(" (", 1)[0] for ln in lines) == final.removeprefix("final: ")
    data.write_text(data.read_text().replace("3,2,", "3,1,", 1))
    assert cli.main(["eval", "--checkpoint", str(run)]) == 2
    assert "are not the data" in capsys.readouterr().err
