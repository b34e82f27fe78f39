"""The limits of a run's settings, and the one check every number from outside passes.

A number reaches micrograd from a flag, a checkpoint someone may have edited, a CSV file, a
playground message or a share link. Each of them is held to its range by `number_problem`, which
is total: it answers for any value JSON or argparse can produce (a bool, a string, a 400-digit
integer that no float can hold, NaN) with one phrase, never an exception. The caller puts the
field's name in front and raises its own one-line error (UsageError, CheckpointError,
ProtocolError), so the same mistake reads the same everywhere.
"""

from __future__ import annotations

import math
import os

LIMITS = {"n": 100_000, "steps": 1_000_000, "width": 1024, "depth": 8}
INT_RANGES = {"n": (10, LIMITS["n"]), "steps": (1, LIMITS["steps"]), "seed": (1, 2**64 - 1),
              "eval_every": (1, LIMITS["steps"]), "batch_size": (1, LIMITS["n"])}
FLOAT_RANGES = {  # name: (lo, hi, lo_open); betas are each in [0, 1), as torch.optim.AdamW wants
    "noise": (0.0, 10.0, False), "lr": (0.0, 10.0, True), "weight_decay": (0.0, 1.0, False),
    "eps": (0.0, 1.0, True)}
MAX_PATH = 4096  # characters of a dataset path (Linux's PATH_MAX)


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
            import json

            text = json.dumps(value)
        except (TypeError, ValueError):
            text = type(value).__name__
    return text if len(text) <= 40 else text[:37] + "..."


def _bound(x: float) -> str:
    return f"{x:g}"


def number_problem(value: object, lo: float, hi: float, *, integer: bool = False,
                   lo_open: bool = False, whole_floats: bool = False,
                   typed: str | None = None) -> str | None:
    """Why `value` is not a number in [lo, hi] (or (lo, hi] with `lo_open`), or None.

    `integer`: only ints (with `whole_floats`, a float like 3.0 too: JSON has one number type).
    `typed`: the text the user typed, shown instead of the value it parsed to (1e-400 is 0.0).
    The answer is a phrase to follow a field's name: "must be in 1..1000, got 0".
    """
    got = show(value) if typed is None else show(typed)[1:-1]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        kind = "an integer" if integer else "a number"
        return f"must be {kind}, got {got}"
    if integer:
        if isinstance(value, float):
            if not (whole_floats and math.isfinite(value) and value.is_integer()):
                return f"must be an integer, got {got}"
            value = int(value)
        if not lo <= value <= hi:
            return f"must be in {lo}..{hi}, got {got}"
        return None
    try:
        as_float = float(value)
    except OverflowError:  # an int past 1.8e308: no float holds it
        as_float = math.inf if value > 0 else -math.inf
    if not math.isfinite(as_float):
        return f"must be a finite number, got {got}"
    if as_float < lo or as_float > hi or (lo_open and as_float == lo):
        return f"must be in {'(' if lo_open else '['}{_bound(lo)}, {_bound(hi)}], got {got}"
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
