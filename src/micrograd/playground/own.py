"""The learner's own model and points in a playground session (the notebook widget's `model=`,
`data=` and `val=`).

A session normally builds the chapter's kind of MLP and generates its points from the seed. Given
an `micrograd.nn.MLP`, it trains **that object** instead: its Values are the ones the engine
updates, so the notebook's variable holds the trained weights, and "reset" puts back the weights
it had when it was handed over. Given points, it trains on them instead of a generated dataset.
What the model and points fix (the network's shape, its activation and inputs; the dataset) is
locked: the page shows those controls disabled and the session refuses changes to them.

Everything is checked here, once, by the same checkers the page's messages pass
(`protocol.CONFIGURE`), so a model the page could not draw or points it could not hold are a
one-line `ValueError` naming the problem, before anything is shown.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any

from micrograd.engine import Value
from micrograd.nn import MLP
from micrograd.playground import protocol
from micrograd.playground.features import canonical
from micrograd.settings import DATASETS, PROBLEM_DEFAULT
from micrograd.train import first_bad_weight

Point = tuple[list[float], Any]  # ([x, y], class or target)
MODEL_FIELDS = ("hidden", "activation", "features", "problem")  # what a given model fixes
DATA_FIELDS = ("dataset", "n", "noise", "problem")  # what given points fix
VAL_FIELDS = ("train_frac",)  # a given validation set fixes the split too
MAX_CLASSES = protocol.LIMITS["label"][1] + 1  # one colour each on the page
MAX_POINTS = 2000  # as many as the plane holds (session.MAX_POINTS)
NAMES = ("data", "val")  # the keywords the points come in, as errors name them


@dataclass
class Own:
    """What the notebook handed over: a model (and the weights it came with), points, or both."""

    model: MLP | None = None
    start: list[float] | None = None  # the model's weights as given: "reset" restores them
    points: list[Point] | None = None  # the training points (all of them when `val` is None)
    val: list[Point] | None = None
    classes: int = 0  # of the points (0: regression targets)

    def locked(self) -> list[str]:
        """The settings the page must not change: the model's shape, the points' dataset."""
        names = [*(MODEL_FIELDS if self.model is not None else ()),
                 *(DATA_FIELDS if self.points is not None else ()),
                 *(VAL_FIELDS if self.val is not None else ())]
        return list(dict.fromkeys(names))

    def outputs(self) -> int | None:
        """The model's outputs (None: no model given), which a dataset must fit."""
        return None if self.model is None else self.model.sizes[-1]

    def pool(self) -> list[Point]:
        """The points (train, then val=), copied: the page's clicks add to the copy."""
        return [(list(x), y) for x, y in [*(self.points or ()), *(self.val or ())]]

    def restore(self) -> None:
        """The model's weights as they were handed over; gradients zero."""
        assert self.model is not None and self.start is not None
        for p, w in zip(self.model.parameters(), self.start):
            p.data, p.grad = w, 0.0


def adopt(model: Any = None, data: Any = None, val: Any = None,
          features: Sequence[str] | None = None) -> tuple[Own, dict[str, Any]]:
    """Check what the notebook gives; return it and the settings it fixes (`Config` fields).

    `data` is a dataset name or `(X, y)`: X rows of two coordinates, y a class (0..K-1) each, or
    a value each for a one-output model. `val` is `(X, y)` too, the points the "test" loss is
    measured on; without it the points are split by the training share, in the order given.
    """
    own, fields = Own(), {}
    if val is not None and (data is None or isinstance(data, str)):
        raise ValueError("val= goes with your own points: pass data=(X, y) too")
    if features is not None and model is None:
        raise ValueError("features= says what your model's inputs are: pass model= too")
    if model is not None:
        fields.update(model_fields(model, features))
        own.model, own.start = model, [p.data for p in model.parameters()]
    nout = own.outputs()
    if data is None or isinstance(data, str):
        if data is not None or model is not None:
            fields.update(dataset_fields(data, nout))
        return own, fields
    parts = [_pairs(data, "data"), *([] if val is None else [_pairs(val, "val")])]
    labels = [v for _, ys in parts for v in ys]
    # one output learns values; several, classes; without a model, whole numbers are classes
    regression = nout == 1 or (nout is None and not all(_whole(v) for v in labels))
    top = (nout or MAX_CLASSES) - 1
    made = [_points(xs, ys, name, regression, top) for (xs, ys), name in zip(parts, NAMES)]
    own.points, own.val = made[0], made[1] if val is not None else None
    if len(own.points) < (1 if val is not None else 2):
        raise ValueError("data: give at least 2 points (1 with val=)")
    if len(own.points) + len(own.val or ()) > MAX_POINTS:
        raise ValueError(f"data: the plane holds at most {MAX_POINTS} points; pass fewer")
    if not regression:
        own.classes = nout or max(y for _, y in own.pool()) + 1
        if own.classes < 2:
            raise ValueError("data: every y is class 0; give points of two classes or more")
    problem = "regression" if regression else "classification"
    return own, {**fields, "problem": problem, "dataset": PROBLEM_DEFAULT[problem]}


def settings_fields(settings: dict[str, Any], fixed: dict[str, Any], own: Own) -> dict[str, Any]:
    """The page's other settings given as keywords (`lr=0.03`), checked as its messages are.
    One the model or points fix may only repeat their value; `problem=` alone picks its kind's
    first dataset, as the page's switch does."""
    out = {}
    for name, value in settings.items():
        if name not in protocol.CONFIGURE:
            raise ValueError(f"unknown setting {name}=; the playground's are "
                             f"{', '.join(protocol.CONFIGURE)}")
        try:
            out[name] = protocol.CONFIGURE[name](value)
        except protocol.ProtocolError as e:
            raise ValueError(str(e)) from None
        if name in own.locked() and fixed.get(name, out[name]) != out[name]:
            whose = "model makes" if own.model is not None and name in MODEL_FIELDS \
                else "points make"
            raise ValueError(f"{name}={value!r}: your {whose} it {fixed[name]!r}; leave "
                             f"{name}= out")
        if name in own.locked() and name not in fixed:
            raise ValueError(f"{name}= does not apply to your own points; leave it out")
    if "problem" in out and "dataset" not in out and "dataset" not in fixed:
        out["dataset"] = PROBLEM_DEFAULT[out["problem"]]
    return {**out, **fixed}


def model_fields(model: Any, features: Sequence[str] | None) -> dict[str, Any]:
    """The page's settings for a `micrograd.nn.MLP`: its hidden sizes, activation, inputs and
    problem (one output: regression), each checked as the page's messages are."""
    _check_model(model)
    sizes = model.sizes
    acts = [{n.activation for n in layer.neurons} for layer in model.layers]
    hidden_acts = set().union(*acts[:-1])
    if acts[-1] != {"linear"}:
        raise ValueError("model: the output layer must be linear (nonlin=False), as MLP makes it")
    if len(hidden_acts) > 1:
        mixed = ", ".join(sorted(hidden_acts))
        raise ValueError(f"model: the hidden neurons mix activations ({mixed}); the playground "
                         "draws one per network")
    activation = hidden_acts.pop() if hidden_acts else protocol.PAGE["activation"].default
    names = ["x1", "x2"] if features is None and sizes[0] == 2 else features
    if names is None:
        raise ValueError(f"model: it takes {sizes[0]} inputs; say which with features=[...] "
                         f"({', '.join(protocol.PAGE['features'].choices)})")
    fields = {"hidden": list(sizes[1:-1]), "activation": activation, "features": list(names)}
    try:
        checked = {k: protocol.CONFIGURE[k](v) for k, v in fields.items()}
    except protocol.ProtocolError as e:
        raise ValueError(f"model: {e}") from None
    if len(checked["features"]) != sizes[0]:
        raise ValueError(f"model: it takes {sizes[0]} inputs but features= names "
                         f"{len(checked['features'])}")
    if checked["features"] != canonical(checked["features"]):  # the order the page feeds them
        raise ValueError(f"features: give them in the playground's order, "
                         f"{', '.join(canonical(checked['features']))}, and build the model's "
                         "inputs in that order")
    nout = sizes[-1]
    if nout > MAX_CLASSES:
        raise ValueError(f"model: {nout} outputs; the playground shows at most {MAX_CLASSES} "
                         "classes (one output: a value)")
    return {**checked, "problem": "regression" if nout == 1 else "classification"}


def _check_model(model: Any) -> None:
    """An MLP the page can draw and train: micrograd.nn's own class, layers that fit together,
    each parameter once, finite weights."""
    if not isinstance(model, MLP):
        raise ValueError(f"model: give a micrograd.nn.MLP, not {type(model).__name__}")
    if model._structure() is None:
        raise ValueError(f"model: {type(model).__name__} is a subclass of MLP (or holds one of "
                         "Layer or Neuron); the playground trains micrograd.nn.MLP's own layers")
    width = len(model.layers[0].neurons[0].w)
    for i, layer in enumerate(model.layers):
        if any(len(n.w) != width for n in layer.neurons):
            raise ValueError(f"model: layer {i}'s neurons do not all take {width} inputs")
        width = len(layer.neurons)
    params = model.parameters()
    if len({id(p) for p in params}) != len(params):
        raise ValueError("model: a Value is a parameter twice (tied weights); the optimizer "
                         "would step it twice: give each neuron its own Values")
    bad = first_bad_weight(params)
    if bad is not None:
        raise ValueError(f"model: parameter {bad} is {params[bad].data}; give finite weights")


def dataset_fields(name: str | None, nout: int | None) -> dict[str, Any]:
    """A dataset by name (checked as the page's messages are; None: the default of the model's
    kind), which must fit the model's outputs: its classes, or one output for regression."""
    problem = None if nout is None else "regression" if nout == 1 else "classification"
    try:
        dataset = protocol.CONFIGURE["dataset"](name or PROBLEM_DEFAULT[problem or
                                                                         "classification"])
    except protocol.ProtocolError as e:
        raise ValueError(f"data: {e}") from None
    problem_kind = fits(dataset, nout)
    if problem_kind is None:
        outputs = dataset_outputs(dataset)
        what = "a value" if outputs == 1 else f"{outputs} classes"
        raise ValueError(f"data: {dataset!r} has {what}; your model has {nout} output"
                         f"{'s' if nout != 1 else ''} (pass data=(X, y), or an MLP with "
                         f"{outputs} output{'s' if outputs > 1 else ''})")
    return {"dataset": dataset, "problem": problem_kind}


def dataset_outputs(dataset: str) -> int:
    """The outputs a model of `dataset` has: its classes, or 1 for a regression dataset."""
    return next(d.classes for d in DATASETS if d.name == dataset) or 1


def fits(dataset: str, nout: int | None) -> str | None:
    """The dataset's problem kind if a model of `nout` outputs (None: any) can learn it."""
    table = next(d for d in DATASETS if d.name == dataset)
    return table.problem if nout is None or dataset_outputs(dataset) == nout else None


def _pairs(data: Any, name: str) -> tuple[list, list]:
    """(X rows as lists of two finite coordinates, y as a flat list) of `(X, y)`."""
    try:
        if isinstance(data, (dict, str)):
            raise TypeError(type(data).__name__)
        X, y = data
        rows, labels = _as_list(X), [_scalar(v) for v in _as_list(y)]
    except (TypeError, ValueError):
        raise ValueError(f"{name}: give (X, y): X a list of [x1, x2] rows, y a label or value "
                         "for each") from None
    if len(rows) != len(labels):
        raise ValueError(f"{name}: X has {len(rows)} rows but y has {len(labels)} labels")
    return [_row(r, name, i) for i, r in enumerate(rows)], labels


def _points(rows: list, labels: list, name: str, regression: bool, top: int) -> list[Point]:
    """Each row with its value (regression) or its class in 0..top."""
    if regression:
        return [(x, _target(v, name, i)) for i, (x, v) in enumerate(zip(rows, labels))]
    return [(x, _label(v, name, i, top)) for i, (x, v) in enumerate(zip(rows, labels))]


def _as_list(a: Any) -> list:
    """A list of a list, tuple, NumPy array or pandas frame/series (their rows)."""
    if hasattr(a, "to_numpy"):
        a = a.to_numpy()
    return a.tolist() if hasattr(a, "tolist") else list(a)


def _scalar(v: Any) -> Any:
    """A label of a column vector ([1] of an N×1 array) as the label itself; a `Value` as its
    number."""
    v = v[0] if isinstance(v, (list, tuple)) and len(v) == 1 else v
    return v.data if isinstance(v, Value) else v


def _row(r: Any, name: str, i: int) -> list[float]:
    lo, hi = protocol.LIMITS["coord"]
    try:
        x = [float(_scalar(v)) for v in _as_list(r)]
    except (TypeError, ValueError):
        raise ValueError(f"{name}: row {i} of X is not two numbers: {_short(r)}") from None
    if len(x) != 2:
        raise ValueError(f"{name}: row {i} of X has {len(x)} numbers; the plane needs 2 (x1, x2)")
    if not all(math.isfinite(v) and lo <= v <= hi for v in x):
        raise ValueError(f"{name}: row {i} of X, {x}, is not on a plane of {lo:g}..{hi:g}")
    return x


def _short(v: Any) -> str:
    text = repr(v)
    return text if len(text) <= 40 else text[:39] + "\u2026"


def _whole(v: Any) -> bool:
    return isinstance(v, Integral) or (isinstance(v, Real) and float(v).is_integer())


def _target(v: Any, name: str, i: int) -> float:
    if not isinstance(v, Real) or not math.isfinite(float(v)):  # a bool is 0 or 1
        raise ValueError(f"{name}: y[{i}] = {_short(v)} is not a finite number")
    return float(v)


def _label(v: Any, name: str, i: int, top: int) -> int:
    if not _whole(v) or not 0 <= v <= top:  # a bool is class 0 or 1
        raise ValueError(f"{name}: y[{i}] = {_short(v)} is not a class 0..{top}; classes are "
                         "0, 1, ... (a one-output model learns values instead)")
    return int(v)
