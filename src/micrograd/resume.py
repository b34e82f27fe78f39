"""Resume validation, all of it: can this checkpoint go on, with these flags, in that folder?

`resume_config` holds the settings the user typed and the output folder to the checkpoint's run
(only `--steps` and `--engine` may change; a copied checkpoint needs its own `--out`; a newer
checkpoint is never replaced). `check_resumable` holds the data, the model and the optimizer
state to it, with a dry run on a scratch model, so that nothing can fail after the run's files
are touched. Every refusal is a `UsageError`: one line, exit code 2, nothing written.
"""

from __future__ import annotations

import os

from micrograd.checkpoint import (
    FILENAME,
    Checkpoint,
    CheckpointError,
    load_checkpoint,
    resolve,
    restore,
)
from micrograd.config import FLAGGED, TrainConfig, config_from_checkpoint, config_from_settings
from micrograd.data import DATASETS, RNG
from micrograd.errors import UsageError
from micrograd.files import same_file
from micrograd.nn import chapter_mlp
from micrograd.optim import adamw


def resume_config(path: str, given: dict[str, object], out: str | None,
                  force: bool) -> tuple[TrainConfig, Checkpoint, str, bool]:
    """The config and checkpoint of `--resume path`, and the (out, force) to continue into.

    `given` holds the settings the user typed (flag names; others are ignored). A resumed run
    keeps its config: a setting given now must agree with it, except `steps`, which may extend
    the run (or shorten it, down to the checkpoint's step), and `engine` (eager, tape, numpy
    and torch compute the same run). `out` None: the run's own folder.
    """
    try:
        ckpt = load_checkpoint(path)
        cfg = config_from_checkpoint(ckpt)
    except CheckpointError as e:
        raise UsageError(str(e)) from None
    given = {name: value for name, value in given.items() if name in FLAGGED}
    # the run's settings, then the typed ones, normalised as a new run's (--engine auto -> numpy)
    settings = {name: getattr(cfg, name) for name in FLAGGED}
    if cfg.dataset not in DATASETS:
        settings["n"] = None
    typed = config_from_settings({**settings, **given})
    cfg.engine = typed.engine  # any engine continues any run: the same math (docs/engines.md)
    for name in (name for name in FLAGGED if name in given and name not in ("steps", "engine")):
        now, then = getattr(typed, name), getattr(cfg, name)
        if name == "dataset" and now not in DATASETS and then not in DATASETS:
            if not os.path.exists(then):  # the CSV was moved: the sha256 of its points decides
                cfg.dataset = now
                continue
            if same_file(now, then):
                continue
        if now != then:
            raise _setting_differs(name, given[name], then, ckpt)
    if "steps" in given:
        cfg.steps = given["steps"]
    if ckpt.step > cfg.steps:
        raise UsageError(f"the checkpoint is at step {ckpt.step}, past --steps {cfg.steps}; "
                         f"pass --steps {ckpt.step} or more")
    out, force = _resume_folder(ckpt, out, force)
    check_not_rewinding(out, ckpt)
    return cfg, ckpt, out, force


def resume_target(path: str, out: str | None) -> str | None:
    """The folder `--resume path` will write into, known before the checkpoint is read, so that
    it can be locked first: `--out`, else the run folder that holds the checkpoint. None for a
    copied checkpoint without --out, which `resume_config` refuses (its folder is not a run's,
    so no lock file is put there)."""
    if out is not None:
        return out
    try:
        checkpoint = resolve(path)
    except (OSError, ValueError):  # a name the system cannot take: load_checkpoint says so
        return None
    folder = os.path.dirname(checkpoint) or "."
    if os.path.basename(checkpoint) == FILENAME and os.path.isdir(folder):
        return folder
    return None


def recorded_save_every(ckpt: Checkpoint) -> int:
    """The run's `--save-every`, as its checkpoint recorded it (0 for checkpoints without it)."""
    return int(ckpt.config.get("save_every", 0))


def _setting_differs(name: str, typed: object, then: object, ckpt: Checkpoint) -> UsageError:
    flag = "--" + name.replace("_", "-")
    if name in ("hidden", "activation"):
        return UsageError(
            f"{flag} asks for another architecture than the checkpoint's MLP "
            f"{'-'.join(map(str, ckpt.sizes))} ({ckpt.activation}); drop {flag} to "
            "resume it, or start a new run without --resume")
    return UsageError(f"{flag} {typed} differs from the run's {then}; a resumed run keeps its "
                      f"settings (only --steps and --engine may change): drop {flag}, or start "
                      "a new run")


def _resume_folder(ckpt: Checkpoint, out: str | None, force: bool) -> tuple[str, bool]:
    """Where a resumed run writes: by default its own folder (then its files may be replaced)."""
    folder = os.path.dirname(ckpt.path) or "."
    own = os.path.basename(ckpt.path) == FILENAME  # a run folder's own checkpoint
    if out is None:
        if not own:  # a copy, e.g. ck30.json: continuing "in place" would replace the run's own
            raise UsageError(f"--resume {ckpt.path}: only a run folder (or its {FILENAME}) is "
                             "continued in place; pass --out NEW_FOLDER to continue this "
                             "checkpoint there")
        return folder, True  # the same run, continued in its own folder
    if own and os.path.isdir(out) and os.path.samefile(out, folder):
        return out, True
    return out, force


def check_not_rewinding(out: str, ckpt: Checkpoint) -> None:
    """Refuse to replace a checkpoint in `out` that is further on than the one being resumed."""
    target = os.path.join(out, FILENAME)
    if not os.path.lexists(target) or same_file(target, ckpt.path):
        return
    try:
        there = load_checkpoint(target).step
    except CheckpointError as e:
        raise UsageError(f"{target} would be replaced, and it cannot be read to check that it "
                         f"is not further on ({e}); move it away, or pick another --out") from None
    if there > ckpt.step:
        raise UsageError(f"{target} is at step {there}, further on than {ckpt.path} (step "
                         f"{ckpt.step}); resuming would replace it: move it away first, or pick "
                         "another --out")


def data_changed(cfg: TrainConfig, ckpt: Checkpoint, fix: str) -> UsageError:
    """The error for data whose sha256 is not the checkpoint's; `fix` says what to do."""
    if cfg.dataset in DATASETS:
        why = f"the {cfg.dataset} generator gives other points: another micrograd-lab version?"
    else:
        why = f"was {cfg.dataset} changed?"
    return UsageError(f"the data of {cfg.dataset!r} are not the data {ckpt.path} was trained on "
                      f"({why}); {fix}")


def check_sizes(ckpt: Checkpoint, sizes: list[int]) -> None:
    """Refuse a checkpoint whose model does not fit the data its config names (inputs, classes)."""
    if sizes != ckpt.sizes:
        raise UsageError(f"{ckpt.path} holds MLP {'-'.join(map(str, ckpt.sizes))}, but this "
                         f"data and --hidden make MLP {'-'.join(map(str, sizes))}")


def check_resumable(ckpt: Checkpoint, cfg: TrainConfig, sizes: list[int],
                    data_sha256: str) -> None:
    """Refuse to resume on other data, another model or edited optimizer settings."""
    if data_sha256 != ckpt.data_sha256:
        raise data_changed(cfg, ckpt, "resuming needs the very same data")
    check_sizes(ckpt, sizes)
    model = chapter_mlp(sizes, cfg.activation, rng=RNG(1))
    try:  # a dry run on a scratch model, so the real restore cannot fail after files are written
        restore(ckpt, model, adamw(model, cfg), RNG(1))
    except (CheckpointError, ValueError, TypeError, KeyError) as e:
        raise UsageError(str(e)) from None
