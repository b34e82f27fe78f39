"""Every setting of a run once (name, type, default, range, help, where it applies), the tables
of datasets, activations and input features, and the one check every number from outside passes.

`SCHEMA` is the one home of each setting, as TensorFlow Playground's state.ts is the page's: the
`train` flags (cli/train.py), TrainConfig's defaults and validation and a checkpoint's checks
(config.py, checkpoint.py), the playground's `configure` message and its defaults
(playground/protocol.py, session.py) and the page's controls and share link (settings.json) all
read it. A setting that means the same in two places with different bounds (the page's `n` stops
at 1,000, its `seed` at 2^31 - 1 because the page's JavaScript numbers are doubles) states the
difference once, in its entry's `page` overrides; `RUN` and `PAGE` are the two resolved views.

A table entry names its generator or activation; the module that owns the function (data.py,
playground/regression.py, engine.py's ops, playground/features.py) looks it up by that name, and
every other consumer reads the row (a new dataset or activation is a row plus its function;
docs/design.md says how). This module imports only the standard library (and `micrograd.words`,
which does too), so everything may read it.

`settings_json()` is the page's view, served at /static/settings.json and written by the export:

    {"settings": {name: {"type": "int" | "float" | "bool" | "choice" | "list",
                         "default": ..., "help": "...",
                         "min": lo, "max": hi, "min_open": bool,      # int, float; list items
                         "choices": [...],                            # choice; list of names
                         "items": "int" | "choice",                   # list
                         "min_length": k, "max_length": m,
                         "step": s, "percent": true,          # the page's slider
                         "presets": [...],                    # the page's select (else choices)
                         "labels": {value: label}}},          # how a value reads on the page
     "datasets": [{"name", "label", "problem", "classes", "noise"}],  # noise: the page's default
     "activations": ["tanh", ...], "features": [{"name", "label"}],
     "problems": [...], "problem_default": {problem: dataset}}

A number reaches micrograd from a flag, a checkpoint someone may have edited, a CSV file, a
playground message or a share link. Each of them is held to its range by `number_problem`, which
is total: it answers for any value JSON or argparse can produce (a bool, a string, a 400-digit
integer that no float can hold, NaN) with one phrase, never an exception. The caller puts the
field's name in front and raises its own one-line error (UsageError, CheckpointError,
ProtocolError), so the same mistake reads the same everywhere.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field, replace
from typing import Any

from micrograd.words import said

MAX_PATH = 4096  # characters of a dataset path (Linux's PATH_MAX)


@dataclass(frozen=True)
class Dataset:
    """A generated dataset: its problem kind, classes (0: regression), default noise and label.

    `noise` is the generator's own (None: it takes none; the page then jitters positions by its
    noise setting, which starts at 0). `label` names it on the page's button ("": its name)."""

    name: str
    problem: str
    classes: int
    noise: float | None
    label: str = ""


DATASETS = (
    Dataset("chapter", "classification", 3, None),
    Dataset("yinyang", "classification", 3, None, "yin-yang"),
    Dataset("moons", "classification", 2, 0.1),
    Dataset("circles", "classification", 2, 0.05),
    Dataset("spiral", "classification", 3, 0.2),
    Dataset("xor", "classification", 2, 0.1),
    Dataset("gaussian", "classification", 2, 0.1),
    Dataset("plane", "regression", 0, 0.0),  # noise on the targets
    Dataset("gauss", "regression", 0, 0.0),
)
DATASET = {d.name: d for d in DATASETS}
PROBLEMS = ("classification", "regression")
PROBLEM_DEFAULT = {"classification": "chapter", "regression": "plane"}  # the page's switch
# older names of datasets, still read from flags, checkpoints, share links and messages
DATASET_ALIASES = (("seed", "chapter"),)


@dataclass(frozen=True)
class Activation:
    """A neuron's non-linearity, named once for every consumer.

    `name` is the setting's value and the `Value` method that applies it (`z.tanh()`); `op` the
    engine's op of that rule (`micrograd.ops.REGISTERED`), None for the identity; `torch` the
    `torch.nn` module of the same function; `label` how people read it (`TanhNeuron(2)`, the
    page's list); `bounds` its range, which decides how a picture colours a neuron's output
    (both ends finite: mapped onto the colour scale; else scaled by the largest magnitude).
    `hidden`: may `micrograd train` use it in hidden layers (linear only as the page's choice:
    a network of lines)."""

    name: str
    label: str
    op: str | None
    torch: str | None
    bounds: tuple[float | None, float | None] = (None, None)
    hidden: bool = True


SILU_MIN = -0.2784645427610738  # x·sigmoid(x) at its minimum, x = -1.2785
ACTIVATIONS = (
    Activation("tanh", "Tanh", "tanh", "Tanh", (-1.0, 1.0)),
    Activation("relu", "ReLU", "ReLU", "ReLU", (0.0, None)),
    Activation("sigmoid", "Sigmoid", "sigmoid", "Sigmoid", (0.0, 1.0)),
    Activation("silu", "SiLU", "silu", "SiLU", (SILU_MIN, None)),
    Activation("linear", "Linear", None, None, hidden=False),
)
ACTIVATION = {a.name: a for a in ACTIVATIONS}
HIDDEN_ACTIVATIONS = tuple(a.name for a in ACTIVATIONS if a.hidden)
FEATURES = (("x1", "x₁"), ("x2", "x₂"), ("x1_sq", "x₁²"), ("x2_sq", "x₂²"), ("x1_x2", "x₁x₂"),
            ("sin_x1", "sin x₁"), ("sin_x2", "sin x₂"))  # (name, label), the model's input order
ENGINES = ("eager", "tape", "numpy", "torch")


@dataclass(frozen=True)
class Setting:
    """One setting: its type, the run's default and range, help, and where it applies.

    `lo..hi` bound a number, or each item of a list (its length in `length`); `choices` a choice
    or the names a list may hold. `flag`: the `train` flag (None: no flag). `saved`: a key of a
    checkpoint's config. `page`: None when the playground lacks it, else the fields that differ
    there ({} when none do)."""

    name: str
    type: str  # int, float, bool, choice, list, str
    default: Any
    help: str
    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    hi_open: bool = False
    choices: tuple[str, ...] = ()
    length: tuple[int, int] | None = None
    items: str | None = None  # a list's: int, float or choice
    optional: bool = False  # None is a value: the default of something else (see help)
    flag: str | None = None
    saved: bool = False
    page: dict[str, Any] | None = field(default=None, compare=False)
    # the page's control: a slider's `step`, a list's `presets`, how values read (`labels`:
    # (value, label) pairs; `percent`: 0.6 reads 60%)
    step: float | None = None
    presets: tuple[Any, ...] = ()
    labels: tuple[tuple[Any, str], ...] = ()
    percent: bool = False
    aliases: tuple[tuple[str, str], ...] = ()  # (old name, its value now), accepted as the value

    def canonical(self, value: object) -> object:
        """`value`, or the value an alias of it names now."""
        return dict(self.aliases).get(value, value) if isinstance(value, str) else value

    def problem(self, value: object, *, whole_floats: bool = False,
                typed: str | None = None) -> str | None:
        """`number_problem` for this setting's range (a number's, or a list item's)."""
        return number_problem(value, self.lo, self.hi, integer="int" in (self.type, self.items),
                              lo_open=self.lo_open, hi_open=self.hi_open,
                              whole_floats=whole_floats, typed=typed)  # type: ignore[arg-type]


STEPS = 1_000_000
SPEEDS = (1, 5, 30, 100, 300, 0)  # the page's choices of steps per second
N_MAX = 100_000
_GENERATED = ", ".join(d.name for d in DATASETS if d.problem == "classification")
_NOISY = ", ".join(d.name for d in DATASETS if d.problem == "classification" and d.noise)
SCHEMA = (
    Setting("dataset", "str", "chapter", f"{_GENERATED}, or a CSV file of x1,x2,...,label rows",
            flag="--dataset", saved=True, aliases=DATASET_ALIASES,
            page={"type": "choice", "choices": tuple(DATASET), "help": "the points to learn",
                  "labels": tuple((d.name, d.label) for d in DATASETS if d.label)}),
    Setting("n", "int", 100, "number of points to generate, split 80/10/10", 10, N_MAX,
            flag="--n", saved=True, page={"hi": 1000, "step": 10,
                                        "help": "number of points to generate"}),
    Setting("noise", "float", None, f"noise of {_NOISY} (default: the dataset's own)",
            0.0, 10.0, optional=True, flag="--noise", saved=True,
            page={"hi": 2.0, "default": 0.0, "optional": False, "step": 0.05,
                  "help": "noise of the points (a dataset's own, else a jitter)"}),
    Setting("hidden", "list", [16], "hidden layer sizes, e.g. 16 or 16,16", 1, 1024,
            length=(0, 8), items="int", flag="--hidden", saved=True,
            page={"hi": 16, "length": (0, 4)}),
    Setting("activation", "choice", "tanh", "hidden-layer activation", choices=HIDDEN_ACTIVATIONS,
            flag="--activation", saved=True,
            page={"choices": tuple(ACTIVATION),
                  "labels": tuple((a.name, a.label) for a in ACTIVATIONS)}),
    Setting("steps", "int", 100, "training steps", 1, STEPS, flag="--steps", saved=True),
    Setting("lr", "float", 0.1, "AdamW learning rate", 0.0, 10.0, lo_open=True, flag="--lr",
            saved=True, page={"presets": (0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0)}),
    Setting("betas", "list", (0.9, 0.95), "AdamW's running-average coefficients", 0.0, 1.0,
            hi_open=True, length=(2, 2), items="float", saved=True),
    Setting("eps", "float", 1e-8, "AdamW's term for numerical stability", 0.0, 1.0,
            lo_open=True, saved=True),
    Setting("weight_decay", "float", 1e-4, "AdamW decoupled weight decay", 0.0, 1.0,
            flag="--weight-decay", saved=True,
            page={"presets": (0.0, 0.0001, 0.001, 0.01, 0.1)}),
    Setting("seed", "int", 42, "RNG seed for data then weights", 1, 2**64 - 1, flag="--seed",
            saved=True, page={"hi": 2**31 - 1}),
    Setting("eval_every", "int", 10, "val loss every K steps", 1, STEPS, flag="--eval-every",
            saved=True),
    Setting("engine", "choice", "auto", "how loss and gradients are computed: eager (a graph "
            "per step), tape (one recorded graph, replayed; same bits as eager), numpy (the tape "
            "on arrays; needs micrograd-lab[fast]), torch (PyTorch float64; needs "
            "micrograd-lab[torch]); auto: numpy if installed, else tape",
            choices=("auto", *ENGINES), flag="--engine", saved=True),
    Setting("batch_size", "int", None, "mini-batches of B points drawn with the run's RNG "
            "(default: full batch)", 1, N_MAX, optional=True, flag="--batch-size", saved=True,
            page={"lo": 0, "hi": 2000, "default": 0, "optional": False,
                  "presets": (0, 1, 5, 10, 30, 100), "labels": ((0, "full"),),
                  "help": "points per step (0: full batch)"}),
    Setting("save_every", "int", 0, "also write checkpoint.json every K steps, or with 0 only at "
            "the end and on Ctrl-C/SIGTERM; a resumed run keeps the K it was started with",
            0, STEPS, flag="--save-every"),
    Setting("frame_every", "int", None, "with --animate, one frame every K steps (default: about "
            "50 frames)", 1, STEPS, optional=True, flag="--frame-every"),
    Setting("momentum", "float", 0.0, "SGD momentum (an optimizer's state only)", 0.0, 1.0,
            hi_open=True),
    Setting("problem", "choice", "classification", "classification or regression",
            choices=PROBLEMS, page={}),
    Setting("train_frac", "float", 0.8, "share of the points used for training", 0.1, 0.9,
            page={"step": 0.1, "percent": True}),
    Setting("speed", "int", 30, "training steps per second (0: as fast as possible)", 0, 1000,
            page={"presets": SPEEDS, "labels": tuple(
                (v, f"{v} step{'s' if v != 1 else ''}/s" if v else "max") for v in SPEEDS)}),
    Setting("features", "list", ["x1", "x2"], "the network's inputs",
            choices=tuple(name for name, _ in FEATURES), length=(1, len(FEATURES)),
            items="choice", page={}),
    Setting("regularization", "choice", "none", "a penalty on the weights (not the biases)",
            choices=("none", "l1", "l2"), page={"labels": (("l1", "L1"), ("l2", "L2"))}),
    Setting("reg_rate", "float", 0.0, "the penalty's rate", 0.0, 10.0,
            page={"presets": (0.0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)}),
    Setting("discretize", "bool", False, "hard class colours on the plane", page={}),
    Setting("show_test", "bool", False, "draw the validation points", page={}),
)
RUN = {s.name: s for s in SCHEMA if s.flag or s.saved}  # `micrograd train` and its checkpoints
PAGE = {s.name: replace(s, **s.page) for s in SCHEMA if s.page is not None}  # the playground
SETTING = {s.name: s for s in SCHEMA}


def limit_bounds(names: tuple[str, ...], view: dict[str, Setting]) -> dict[str, tuple]:
    """(lo, hi) of each named number in `view`."""
    return {name: (view[name].lo, view[name].hi) for name in names}


# the run's limits by name, for a caller that wants the numbers rather than the Setting
LIMITS = {"n": RUN["n"].hi, "steps": STEPS, "width": RUN["hidden"].hi,
          "depth": RUN["hidden"].length[1]}  # type: ignore[index]
INT_RANGES = limit_bounds(("n", "steps", "seed", "eval_every", "batch_size"), RUN)
FLOAT_RANGES = {name: (RUN[name].lo, RUN[name].hi, RUN[name].lo_open)
                for name in ("noise", "lr", "weight_decay", "eps")}


def settings_json() -> str:
    """The playground's settings and tables as JSON (the module's docstring has its shape): the
    page builds its controls and checks a share link from it, never from a copy."""
    out = {}
    for s in PAGE.values():
        entry: dict[str, Any] = {"type": s.type, "default": s.default, "help": s.help}
        if s.lo is not None:
            entry.update(min=s.lo, max=s.hi, min_open=s.lo_open)
        if s.choices:
            entry["choices"] = list(s.choices)
        if s.length is not None:
            entry.update(items=s.items, min_length=s.length[0], max_length=s.length[1])
        for key in ("step", "presets", "labels", "percent"):
            if getattr(s, key):
                entry[key] = getattr(s, key)
        if s.labels:
            entry["labels"] = {_text(value): label for value, label in s.labels}
        if s.aliases:
            entry["aliases"] = dict(s.aliases)
        out[s.name] = entry
    datasets = [{"name": d.name, "label": d.label or d.name, "problem": d.problem,
                 "classes": d.classes, "noise": d.noise or 0.0} for d in DATASETS]
    return json.dumps({"settings": out, "datasets": datasets,
                       "activations": list(PAGE["activation"].choices),
                       "features": [{"name": n, "label": label} for n, label in FEATURES],
                       "problems": list(PROBLEMS), "problem_default": PROBLEM_DEFAULT},
                      ensure_ascii=False, indent=1) + "\n"


def _text(value: object) -> str:
    """A value as JavaScript's String() writes it (1.0 is "1"): the key of its label."""
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def show(value: object) -> str:
    """A short, safe rendering of any value for an error line (a huge integer is not printed
    digit by digit: Python refuses to turn one of over 4,300 digits into text)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 128:
        digits = int(value.bit_length() * math.log10(2)) + 1
        return f"{'-' if value < 0 else ''}an integer of about {digits} digits"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        text = value.encode("utf-8", "backslashreplace").decode("ascii", "backslashreplace")
        text = repr(text)
    else:
        try:
            text = json.dumps(value)
        except (TypeError, ValueError):
            text = type(value).__name__
    return text if len(text) <= 40 else text[:37] + "..."


def _bound(x: float) -> str:
    return f"{x:g}"


def number_problem(value: object, lo: float, hi: float, *, integer: bool = False,
                   lo_open: bool = False, hi_open: bool = False, whole_floats: bool = False,
                   typed: str | None = None) -> str | None:
    """Why `value` is not a number in [lo, hi] (open at an end with `lo_open`, `hi_open`), or
    None.

    `integer`: only ints (with `whole_floats`, a float like 3.0 too: JSON has one number type).
    `typed`: the text the user typed, shown instead of the value it parsed to (1e-400 is 0.0).
    The answer is a phrase to follow a field's name: "must be in 1..1000, got 0" (`said`: the
    playground's page says it in its reader's language).
    """
    got = show(value) if typed is None else show(typed)[1:-1]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        if integer:
            return said("must be an integer, got {got}", got=got)
        return said("must be a number, got {got}", got=got)
    if integer:
        if isinstance(value, float):
            if not (whole_floats and math.isfinite(value) and value.is_integer()):
                return said("must be an integer, got {got}", got=got)
            value = int(value)
        if not lo <= value <= hi:
            return said("must be in {lo}..{hi}, got {got}", lo=lo, hi=hi, got=got)
        return None
    try:
        as_float = float(value)
    except OverflowError:  # an int past 1.8e308: no float holds it
        as_float = math.inf if value > 0 else -math.inf
    if not math.isfinite(as_float):
        return said("must be a finite number, got {got}", got=got)
    if (as_float < lo or as_float > hi or (lo_open and as_float == lo)
            or (hi_open and as_float == hi)):
        return said("must be in {range}, got {got}", got=got, range=f"{'(' if lo_open else '['}"
                    f"{_bound(lo)}, {_bound(hi)}{')' if hi_open else ']'}")
    return None


def parse_int(text: str) -> int | None:
    """The integer `text` spells, or None. Python refuses to read one of over 4,300 digits; as a
    setting it is out of any range, so it reads as a number past every limit."""
    try:
        return int(text)
    except ValueError:
        digits = text.strip().lstrip("+-").replace("_", "")
        if digits.isdigit():
            return -(10 ** 4400) if text.strip().startswith("-") else 10 ** 4400
        return None


def checked_number(value: object, name: str, lo: float, hi: float, error: type[Exception], *,
                   integer: bool = False, lo_open: bool = False,
                   whole_floats: bool = False) -> float | int:
    """`value` as a float (or int with `integer`) when `number_problem` finds nothing; else
    `error("{name} {problem}")`."""
    problem = number_problem(value, lo, hi, integer=integer, lo_open=lo_open,
                             whole_floats=whole_floats)
    if problem:
        raise error(f"{name} {problem}")
    return int(value) if integer else float(value)  # type: ignore[arg-type]


def path_problem(text: str) -> str | None:
    """Why `text` cannot name a file on this system (a NUL byte, too long, not encodable), or
    None. A checkpoint is JSON, which may hold any string, such as a lone surrogate `\\ud800`."""
    if "\0" in text:
        return "holds a NUL byte"
    if len(text) > MAX_PATH:
        return f"is {len(text)} characters long (at most {MAX_PATH})"
    try:
        os.fsencode(text)
    except UnicodeError:
        return "holds characters no file name can have"
    return None
