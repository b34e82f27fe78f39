"""A run's settings: `TrainConfig` (the defaults are the chapter's run), and the two ways one is
made, from the settings a user typed and from a checkpoint.

Its fields, defaults and limits are the settings schema's (`settings.RUN`, each written once
there): the CLI's flag parsers, `config_from_settings` (a new run) and `config_from_checkpoint`
(a file that may have been edited by hand) all hold a config to them.
A user's mistake is a `UsageError`: one line, which the CLI prints with exit code 2.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, fields

from micrograd import backends
from micrograd.checkpoint import Checkpoint, CheckpointError
from micrograd.data import DATASETS
from micrograd.errors import UsageError
from micrograd.optim import adamw  # re-exported for the callers that build a run from its config
from micrograd.settings import DATASETS as TABLE
from micrograd.settings import FLOAT_RANGES, INT_RANGES, LIMITS, MAX_PATH, RUN, path_problem

__all__ = ["FLOAT_RANGES", "INT_RANGES", "LIMITS", "MAX_PATH", "TrainConfig", "UsageError",
           "adamw"]

NOISY = tuple(d.name for d in TABLE if d.problem == "classification" and d.noise is not None)
# options a checkpoint records beside the config (run.recorded_options), with their ranges
RECORDED = {"save_every": (RUN["save_every"].lo, RUN["save_every"].hi)}
# the settings `micrograd train` has a flag for and a checkpoint records (betas and eps: no flag)
FLAGGED = tuple(s.name for s in RUN.values() if s.flag and s.saved)
SAVED = tuple(s.name for s in RUN.values() if s.saved)  # TrainConfig's fields


def _number(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


@dataclass
class TrainConfig:
    """Everything that defines a run; the defaults are the chapter's run."""

    dataset: str = RUN["dataset"].default  # a name from DATASETS or a path to a CSV file
    n: int = RUN["n"].default
    noise: float | None = RUN["noise"].default  # None: the generator's default
    hidden: list[int] = field(default_factory=lambda: list(RUN["hidden"].default))
    activation: str = RUN["activation"].default
    steps: int = RUN["steps"].default
    lr: float = RUN["lr"].default
    betas: tuple[float, float] = RUN["betas"].default
    eps: float = RUN["eps"].default
    weight_decay: float = RUN["weight_decay"].default
    seed: int = RUN["seed"].default
    eval_every: int = RUN["eval_every"].default
    engine: str = RUN["engine"].default  # auto: numpy when installed, else tape
    batch_size: int | None = RUN["batch_size"].default  # None: full batch, as the chapter's

    def __post_init__(self) -> None:
        self.dataset = RUN["dataset"].canonical(self.dataset)  # "seed" is "chapter" now

    def validate(self) -> None:
        """Raise ValueError (one line naming the field) unless every field is within the
        schema's range (`settings.RUN`).

        `config_from_settings` and `config_from_checkpoint` both call this; betas and eps, which
        no flag sets, are checked here only.
        """
        if not isinstance(self.dataset, str) or not self.dataset.strip():
            raise ValueError(f"dataset {self.dataset!r} is neither a dataset name nor a path")
        for name in SAVED:
            s, v = RUN[name], getattr(self, name)
            if s.type in ("int", "float") and not (v is None and s.optional):
                if problem := s.problem(v):
                    raise ValueError(f"{name} {problem}")
        if self.noise is not None and self.dataset not in NOISY:
            raise ValueError(f"noise applies to {', '.join(NOISY)}, not {self.dataset!r}")
        betas = self.betas
        if not isinstance(betas, (tuple, list)) or len(betas) != 2 or not all(map(_number, betas)):
            raise ValueError(f"betas {betas!r} is not a pair of numbers")
        for i, beta in enumerate(betas):
            if problem := RUN["betas"].problem(beta):
                raise ValueError(f"betas[{i}] {problem}")
        self._check_hidden()
        for name in ("activation", "engine"):
            choices, value = RUN[name].choices, getattr(self, name)
            if value not in choices:
                raise ValueError(f"{name} {value!r} is not one of {', '.join(choices)}")

    def _check_hidden(self) -> None:
        s = RUN["hidden"]
        if not isinstance(self.hidden, list) or not all(
                isinstance(h, int) and not isinstance(h, bool) for h in self.hidden):
            raise ValueError(f"hidden {self.hidden!r} is not a list of layer sizes")
        depth = s.length[1]  # type: ignore[index]
        if len(self.hidden) > depth:
            raise ValueError(f"hidden has {len(self.hidden)} layers; at most {depth}")
        for size in self.hidden:
            if problem := s.problem(size):
                raise ValueError(f"hidden layer size {problem}")


def resolve_engine(name: str) -> str:
    """`auto` becomes the registry's choice (numpy when it is installed, else tape); an engine
    whose library is not installed is a mistake, named in one line by the engine itself."""
    if name == "auto":
        return backends.auto()
    if name in backends.names() and not backends.installed(name):
        raise UsageError(backends.problem(name))
    return name


def config_from_settings(settings: dict[str, object]) -> TrainConfig:
    """A new run's config from the FLAGGED settings (`n` None: the default); UsageError if bad."""
    s = dict(settings)
    n = s.pop("n")
    cfg = TrainConfig(**s)
    cfg.engine = resolve_engine(cfg.engine)
    is_csv = cfg.dataset not in DATASETS
    if is_csv and not cfg.dataset.lower().endswith(".csv") and not os.path.exists(cfg.dataset):
        raise UsageError(f"unknown dataset {cfg.dataset!r}; use one of {', '.join(DATASETS)} "
                         "or the path of a CSV file")
    if is_csv:  # stored absolute: a resume or eval from another folder reads the same file
        cfg.dataset = os.path.abspath(cfg.dataset)
    if n is not None:
        if is_csv:
            raise UsageError("--n does not apply to a CSV dataset; it uses every row of the file")
        cfg.n = n
    if cfg.noise is not None and cfg.dataset not in NOISY:
        raise UsageError(f"--noise applies to {', '.join(NOISY)}, not {cfg.dataset!r}")
    try:
        cfg.validate()
    except ValueError as e:
        raise UsageError(str(e)) from None
    return cfg


def config_from_checkpoint(ckpt: Checkpoint) -> TrainConfig:
    """The run's TrainConfig from a checkpoint, held to the flags' limits (TrainConfig.validate)."""
    saved, default = ckpt.config, TrainConfig()

    def bad(what: str) -> CheckpointError:
        return CheckpointError(f"checkpoint {ckpt.path}: config {what}; it was edited or is "
                               "damaged, use an unedited copy")

    names = [f.name for f in fields(TrainConfig)]
    unknown = sorted(set(saved) - set(names) - set(RECORDED))
    missing = [name for name in names if name not in saved]
    if unknown or missing:
        raise bad(f"has unknown key {unknown[0]!r}" if unknown else f"lacks {missing[0]!r}")
    for name in names:
        if not _same_kind(saved[name], getattr(default, name)):
            raise bad(f"{name} is {json.dumps(saved[name])[:40]}, of the wrong type")
    for name, (lo, hi) in RECORDED.items():  # optional: older checkpoints lack them
        if name in saved and not (_same_kind(saved[name], 0) and lo <= saved[name] <= hi):
            raise bad(f"{name} is {json.dumps(saved[name])[:40]}, not an integer in {lo}..{hi}")
    if problem := path_problem(saved["dataset"]):  # os.path would raise on it
        raise bad(f"dataset is not a file name (it {problem})")
    values = {name: saved[name] for name in names}
    values["betas"] = tuple(saved["betas"])
    cfg = TrainConfig(**values)
    try:
        cfg.validate()  # before any float(): a 400-digit integer is no float
    except ValueError as e:
        raise bad(str(e)) from None
    cfg.betas = tuple(float(b) for b in cfg.betas)
    for name in (name for name in SAVED if RUN[name].type == "float"):  # JSON: 1 for 1.0
        if getattr(cfg, name) is not None:
            setattr(cfg, name, float(getattr(cfg, name)))
    # an engine not installed here (numpy, torch) stays named: not the file's fault, and a
    # resume may pick another (`resume_config` resolves the engine it will run)
    if cfg.hidden != ckpt.sizes[1:-1] or cfg.activation != ckpt.activation:
        raise bad(f"hidden {cfg.hidden} / {cfg.activation} disagrees with the model's sizes "
                  f"{ckpt.sizes} / {ckpt.activation}")
    return cfg


def _same_kind(value: object, default: object) -> bool:
    """Is a JSON value of the type of a TrainConfig default (None: an optional number)?"""
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, int):
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(default, float):
        return _number(value)
    if isinstance(default, str):
        return isinstance(value, str)
    if isinstance(default, list):
        return isinstance(value, list) and all(_same_kind(v, 0) for v in value)
    if isinstance(default, tuple):
        return isinstance(value, list) and len(value) == len(default) and all(map(_number, value))
    return value is None or _number(value)
