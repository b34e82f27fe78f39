"""Using a trained model on new points: read them from CSV, write class probabilities as CSV.

The input holds `x1,...,xn` rows, or `x1,...,xn,label` rows (then loss and accuracy can be
reported); a header row is optional. Errors raise `DataError` with one line naming the file, the
line and the fix, as `micrograd.data.load_csv` does, under the same size limit.
"""

from __future__ import annotations

import importlib.util
import math
import os
from collections.abc import Sequence

from micrograd import data
from micrograd.data import DataError
from micrograd.files import probe_writable, replace_problem, same_file, wrong_separator
from micrograd.nn import MLP


def load_points(path: str, nin: int, nclasses: int) -> tuple[list[list[float]], list[int] | None]:
    """Rows of `nin` features, each optionally followed by a label in 0..nclasses-1."""
    text = data.read_csv_text(path)
    try:
        return _parse_points(path, text, nin, nclasses)
    except DataError:
        sep = wrong_separator(text)
        if sep is None:
            raise
        raise DataError(f"{path}: this looks like a {sep}-separated file; use commas "
                        f"(rows of x1,...,x{nin} or x1,...,x{nin},label)") from None


def _parse_points(path: str, text: str, nin: int,
                  nclasses: int) -> tuple[list[list[float]], list[int] | None]:
    xs: list[list[float]] = []
    labels: list[int] = []
    ncols = None
    for lineno, fields in data.csv_rows(path, text):
        if ncols is None:
            ncols = len(fields)
            if ncols not in (nin, nin + 1):
                raise DataError(f"{path} line {lineno}: {ncols} columns; this model takes {nin} "
                                f"features per row, optionally followed by a label")
        xs.append(data.parse_features(path, lineno, fields[:nin]))
        if ncols == nin + 1:
            v = _number(fields[-1])
            if v is None or not (0 <= v < nclasses and v == int(v)):
                raise DataError(f"{path} line {lineno}: label {fields[-1][:20]!r} is not a class "
                                f"index 0..{nclasses - 1} of this model")
            labels.append(int(v))
    if not xs:
        raise DataError(f"{path}: has no data rows; add rows of {nin} numbers")
    return xs, labels if ncols == nin + 1 else None


def softmax(logits: Sequence[float]) -> list[float]:
    """Class probabilities from logits (the max is subtracted first: exp never overflows)."""
    top = max(logits)
    ex = [math.exp(v - top) for v in logits]
    total = 0.0
    for e in ex:
        total += e
    return [e / total for e in ex]


def predictions_csv(model: MLP, xs: list[list[float]], labels: list[int] | None) -> str:
    """x1..xn[,label],predicted,p0..pK-1 per row; floats written exactly (repr)."""
    nin, k = model.sizes[0], model.sizes[-1]
    head = [f"x{i + 1}" for i in range(nin)] + (["label"] if labels is not None else [])
    rows = [",".join([*head, "predicted", *(f"p{c}" for c in range(k))])]
    for i, (x, logits) in enumerate(zip(xs, all_logits(model, xs))):
        probs = softmax(logits)
        pred = logits.index(max(logits))
        cells = [repr(v) for v in x] + ([str(labels[i])] if labels is not None else [])
        rows.append(",".join([*cells, str(pred), *(repr(p) for p in probs)]))
    return "\n".join(rows) + "\n"


def all_logits(model: MLP, xs: list[list[float]]) -> list[list[float]]:
    """`model.predict(x)` for every x: with NumPy, all points at once on arrays (the same floats,
    bit for bit; a wide model's thousand points in a fraction of a second, not many seconds)."""
    if xs and importlib.util.find_spec("numpy") is not None:
        from micrograd.arrays import mlp_logits

        logits = mlp_logits(model, xs)
        if logits is not None:
            return logits.tolist()
    return [model.predict(x) for x in xs]


def check_output(path: str, force: bool, inputs: Sequence[tuple[str, str]] = ()) -> None:
    """Refuse an output path that is a folder, exists (without `force`), or cannot be written.

    `inputs` are (what, path) of the files this command reads: `path` being one of them is
    refused even with `force`, since writing it would destroy the input.
    """
    if os.path.isdir(path):
        raise DataError(f"--out {path} is a folder; give a file name like predictions.csv")
    for what, other in inputs:
        if same_file(path, other):
            raise DataError(f"--out {path} is {what} itself; writing it would destroy it, even "
                            "with --force: pick another name")
    if os.path.lexists(path) and not force:
        raise DataError(f"--out {path} already exists; pass --force to overwrite it or pick "
                        "another name")
    problem = replace_problem(path)
    if problem:
        raise DataError(f"--out {problem}")
    folder = os.path.dirname(path) or "."
    if not os.path.isdir(folder):
        raise DataError(f"--out {path}: folder {folder} does not exist (or is not a folder)")
    try:  # a fresh temporary name: the probe can never clobber a file
        probe_writable(folder)
    except OSError as e:
        raise DataError(f"--out {path}: cannot write in {folder}: {e.strerror}") from None


def _number(field: str) -> float | None:
    try:
        return float(field)
    except ValueError:
        return None
