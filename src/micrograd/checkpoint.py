"""Checkpoints: a run's model, optimizer, RNG, step and history in one JSON file, saved atomically.

JSON, never pickle: loading a checkpoint parses numbers and strings and can never run code. Floats
are written with `repr`, which round-trips every finite float exactly; NaN and infinities are
refused on both sides (a checkpoint only ever holds a good state). `load_checkpoint` checks every
field and raises `CheckpointError` with one line naming the file, the field and the fix.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
import re
from dataclasses import dataclass
from typing import Any

from micrograd.files import read_regular_file, write_atomic
from micrograd.history import History
from micrograd.nn import ACTIVATIONS, MLP
from micrograd.settings import SETTING, number_problem, show

FORMAT = "micrograd-lab checkpoint"
VERSION = 1
FILENAME = "checkpoint.json"
MAX_CHECKPOINT_BYTES = 1024**3  # the largest model the CLI allows (8 x 1024 wide) needs ~0.6 GB
_MAX_U64 = 2**64 - 1


class CheckpointError(ValueError):
    """A checkpoint that cannot be used; the message names the file and what is wrong."""


@dataclass
class Checkpoint:
    """A loaded, validated checkpoint. `step` steps are done: a resumed run starts at `step`."""

    path: str
    step: int
    sizes: list[int]
    activation: str
    weights: list[float]  # in `model.parameters()` order
    optimizer: dict[str, Any]  # the optimizer's `state_dict()`
    rng_state: int
    data_sha256: str
    config: dict[str, Any]  # the run's TrainConfig as a dict
    history: History


def data_fingerprint(splits: Any) -> str:
    """sha256 of the (train, val, test) points: a resumed run must see the very same data."""
    return hashlib.sha256(json.dumps(splits, allow_nan=False).encode()).hexdigest()


def resolve(path: str) -> str:
    """A run folder means its checkpoint.json; a file path is used as is."""
    return os.path.join(path, FILENAME) if os.path.isdir(path) else path


def n_params(sizes: list[int]) -> int:
    """Number of parameters of MLP(sizes[0], sizes[1:]): (nin + 1) per neuron."""
    return sum((a + 1) * b for a, b in itertools.pairwise(sizes))


def save_checkpoint(
    path: str,
    model: MLP,
    optimizer: Any,
    rng: Any,
    step: int,
    history: History,
    config: dict[str, Any],
    data_sha256: str,
) -> int:
    """Write the checkpoint atomically (temp file, fsync, os.replace); return its size in bytes.

    Raises ValueError, writing nothing, if any weight or optimizer number is NaN or infinite.
    """
    weights = [p.data for p in model.parameters()]
    if not all(math.isfinite(w) for w in weights):
        raise ValueError("refusing to checkpoint non-finite weights")
    doc = {
        "format": FORMAT,
        "version": VERSION,
        "step": step,
        "model": {"type": "MLP", "sizes": model.sizes, "activation": model.activation,
                  "weights": weights},
        "optimizer": optimizer.state_dict(),
        "rng_state": rng.state,
        "data_sha256": data_sha256,
        "config": config,
        "history": {"step": history.step, "train_loss": history.train_loss,
                    "val_loss": history.val_loss},
    }
    try:  # allow_nan=False: NaN/inf anywhere (optimizer moments, losses) is an error, not "NaN"
        text = json.dumps(doc, allow_nan=False, separators=(",", ":"))
    except ValueError:
        raise ValueError("refusing to checkpoint non-finite optimizer state or losses") from None
    data = (text + "\n").encode()
    write_atomic(path, data)
    return len(data)


def load_checkpoint(path: str) -> Checkpoint:
    """Read and check a checkpoint (or a run folder's checkpoint.json); CheckpointError if bad."""
    path = resolve(path)
    doc = _read_json(path)

    def fail(what: str) -> CheckpointError:
        return CheckpointError(f"checkpoint {path}: {what}")

    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise fail(f"is not a micrograd-lab checkpoint (no \"format\": \"{FORMAT}\")")
    version = doc.get("version")
    if version != VERSION:
        raise fail(f"format version {version!r} is not supported (this micrograd-lab reads "
                   f"version {VERSION}); use the micrograd-lab that wrote it")
    _keys(doc, {"format", "version", "step", "model", "optimizer", "rng_state", "data_sha256",
                "config", "history"}, "", fail)

    step = _int(doc["step"], "step", 0, 10**9, fail)
    model = doc["model"]
    _keys(model, {"type", "sizes", "activation", "weights"}, "model.", fail)
    if model["type"] != "MLP":
        raise fail(f"model.type is {model['type']!r}; only 'MLP' is supported")
    sizes = model["sizes"]
    if not isinstance(sizes, list) or len(sizes) < 2:
        raise fail("model.sizes must be a list like [2, 16, 3]")
    sizes = [_int(s, "model.sizes", 1, 1_000_000, fail) for s in sizes]
    if model["activation"] not in ACTIVATIONS:
        raise fail(f"model.activation {model['activation']!r} is not one of {ACTIVATIONS}")
    weights = _floats(model["weights"], "model.weights", n_params(sizes), fail)

    optimizer = doc["optimizer"]
    _check_optimizer(optimizer, len(weights), fail)
    rng_state = _int(doc["rng_state"], "rng_state", 1, _MAX_U64, fail)
    sha = doc["data_sha256"]
    if not (isinstance(sha, str) and len(sha) == 64 and all(c in "0123456789abcdef" for c in sha)):
        raise fail("data_sha256 must be 64 lowercase hex digits")
    if not isinstance(doc["config"], dict):
        raise fail("config must be an object")

    hist = doc["history"]
    _keys(hist, {"step", "train_loss", "val_loss"}, "history.", fail)
    steps = hist["step"]
    if not isinstance(steps, list) or len(steps) != step or steps != list(range(step)):
        raise fail(f"history.step must be [0, 1, ..., {step - 1}] for step {step}")
    train_loss = _floats(hist["train_loss"], "history.train_loss", step, fail)
    val = hist["val_loss"]
    if not isinstance(val, list) or len(val) != step:
        raise fail(f"history.val_loss must be a list of {step} numbers or nulls")
    val_loss = [None if v is None else _float(v, "history.val_loss", fail) for v in val]
    return Checkpoint(path, step, sizes, model["activation"], weights, optimizer, rng_state, sha,
                      doc["config"], History(list(range(step)), train_loss, val_loss))


def restore(ckpt: Checkpoint, model: MLP, optimizer: Any, rng: Any) -> None:
    """Put the checkpoint's weights, optimizer state and RNG state into a freshly built run.

    The model and optimizer must have been built from the checkpoint's config: a different
    architecture or different optimizer hyper-parameters raise CheckpointError.
    """
    if model.sizes != ckpt.sizes or model.activation != ckpt.activation:
        raise CheckpointError(
            f"checkpoint {ckpt.path}: holds MLP {_arch(ckpt.sizes, ckpt.activation)}, but this run "
            f"builds MLP {_arch(model.sizes, model.activation)}; use the same data and --hidden")
    fresh = optimizer.state_dict()
    if ckpt.optimizer["type"] != fresh["type"]:
        raise CheckpointError(f"checkpoint {ckpt.path}: optimizer is {ckpt.optimizer['type']}, "
                              f"this run uses {fresh['type']}")
    for key, value in fresh.items():  # hyper-parameters must be the config's, not edited ones
        hyper = key not in ("type", "step") and (key == "betas" or not isinstance(value, list))
        if hyper and ckpt.optimizer[key] != value:
            raise CheckpointError(
                f"checkpoint {ckpt.path}: optimizer {key} is {ckpt.optimizer[key]!r} but its "
                f"config says {value!r}; the file was edited, use an unedited copy")
    for p, w in zip(model.parameters(), ckpt.weights):
        p.data = w
        p.grad = 0.0
    optimizer.load_state_dict(ckpt.optimizer)
    rng.state = ckpt.rng_state


def _arch(sizes: list[int], activation: str) -> str:
    return f"{'-'.join(map(str, sizes))} ({activation})"


def _read_json(path: str) -> Any:
    folder = os.path.dirname(path)
    if not os.path.lexists(path) and os.path.basename(path) == FILENAME \
            and os.path.isdir(folder or "."):
        raise CheckpointError(
            f"no {FILENAME} in {folder or '.'}: the run saved none (it was killed before its "
            "first --save-every checkpoint, or is not a run folder)")
    raw = read_regular_file(path, _size_bound(path), CheckpointError, f"a {FILENAME} file")
    if not raw.strip():
        raise CheckpointError(f"checkpoint {path} is empty; it was never written completely")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise CheckpointError(f"checkpoint {path} is not UTF-8 text (byte {e.start}); "
                              "it is not a checkpoint") from None
    try:
        return json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as e:
        body = text.strip()
        if e.msg == "Extra data":  # a whole JSON value, then more: not a cut-off file
            raise CheckpointError(f"checkpoint {path} has extra bytes after its end (from byte "
                                  f"{e.pos}); it was edited or two files were joined: use an "
                                  "unedited copy") from None
        if body.startswith("{") and (e.pos >= len(body) or not body.endswith("}")):  # cut off
            raise CheckpointError(f"checkpoint {path} is truncated (ends at byte {len(raw)}); "
                                  "use an earlier copy or train again") from None
        raise CheckpointError(f"checkpoint {path} is not valid JSON (line {e.lineno} column "
                              f"{e.colno}: {e.msg})") from None
    except (ValueError, RecursionError) as e:
        raise CheckpointError(f"checkpoint {path} is not valid JSON ({e})") from None


_HEAD = re.compile(rb'^\{"format":"[^"]*","version":\d+,"step":(\d{1,10}),"model":'
                   rb'\{"type":"MLP","sizes":\[(\d{1,7}(?:,\d{1,7}){1,15})\]')
BYTES_PER_NUMBER = 32  # repr of a float64 is at most 24 characters, and a separator


def _size_bound(path: str) -> int:
    """The most bytes a checkpoint can hold, from the step and sizes at its start.

    A checkpoint holds three numbers per parameter (weight and two AdamW moments, or SGD's one
    buffer) and two per step (the losses), plus a small config: a file much larger than its own
    model allows was padded or edited, and is refused before it is read (parsing JSON takes about
    twice the file in memory). A file whose start is not as micrograd-lab writes it gets the
    general limit, and the full checks after parsing.
    """
    if not os.path.isfile(path):  # a FIFO would block the read: read_regular_file refuses it
        return MAX_CHECKPOINT_BYTES
    try:
        with open(path, "rb") as f:
            head = f.read(512)
    except OSError:
        return MAX_CHECKPOINT_BYTES  # read_regular_file reports it
    m = _HEAD.match(head)
    if not m:
        return MAX_CHECKPOINT_BYTES
    sizes = [int(s) for s in m.group(2).split(b",")]
    numbers = 3 * n_params(sizes) + 2 * int(m.group(1))
    return min(MAX_CHECKPOINT_BYTES, BYTES_PER_NUMBER * numbers + 64 * 1024)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number a checkpoint may hold")


def _keys(obj: Any, want: set[str], prefix: str, fail) -> None:
    if not isinstance(obj, dict):
        raise fail(f"{prefix.rstrip('.') or 'the file'} must be a JSON object")
    missing, extra = sorted(want - obj.keys()), sorted(obj.keys() - want)
    if missing:
        raise fail(f"{prefix}{missing[0]} is missing")
    if extra:
        raise fail(f"{prefix}{extra[0]} is not a checkpoint field")


def _int(v: Any, name: str, lo: int, hi: int, fail) -> int:
    if problem := number_problem(v, lo, hi, integer=True):
        raise fail(f"{name} {problem}")
    return v


def _float(v: Any, name: str, fail) -> float:
    if number_problem(v, -math.inf, math.inf):
        raise fail(f"{name} must hold finite numbers, got {show(v)}")
    return float(v)


def _floats(v: Any, name: str, n: int, fail) -> list[float]:
    if not isinstance(v, list) or len(v) != n:
        got = f"{len(v)} entries" if isinstance(v, list) else show(v)
        raise fail(f"{name} must be a list of {n} numbers, got {got}")
    return [_float(x, name, fail) for x in v]


def _check_optimizer(opt: Any, n: int, fail) -> None:
    """The optimizer's state_dict: a type, finite scalar hyper-parameters, per-parameter lists."""
    if not isinstance(opt, dict) or opt.get("type") not in ("AdamW", "SGD"):
        raise fail("optimizer must be an object with \"type\": \"AdamW\" or \"SGD\"")
    want = ({"type", "lr", "betas", "eps", "weight_decay", "step", "exp_avg", "exp_avg_sq"}
            if opt["type"] == "AdamW" else
            {"type", "lr", "momentum", "weight_decay", "momentum_buffer"})
    _keys(opt, want, "optimizer.", fail)
    for key in sorted(want - {"type"}):
        v, name = opt[key], f"optimizer.{key}"
        if key == "step":
            _int(v, name, 0, 10**9, fail)
        elif key == "betas":
            _floats(v, name, 2, fail)
        elif key == "momentum_buffer":
            if not isinstance(v, list) or len(v) != n:
                raise fail(f"{name} must be a list of {n} numbers or nulls")
            for x in v:
                if x is not None:
                    _float(x, name, fail)
        elif key in ("exp_avg", "exp_avg_sq"):
            values = _floats(v, name, n, fail)
            if key == "exp_avg_sq" and min(values, default=0.0) < 0.0:  # a mean of squares
                raise fail(f"{name} holds {min(values)!r}, but a mean of squares is never "
                           "negative")
        else:
            _float(v, name, fail)
    _check_optimizer_domains(opt, fail)


def _check_optimizer_domains(opt: dict, fail) -> None:
    """Hyper-parameters in the settings schema's ranges (as torch.optim checks them)."""
    names = ("lr", "weight_decay", *(("betas", "eps") if opt["type"] == "AdamW" else
                                     ("momentum",)))
    for name in names:
        for value in opt[name] if name == "betas" else [opt[name]]:
            if problem := SETTING[name].problem(value):
                raise fail(f"optimizer.{name} {problem}")


