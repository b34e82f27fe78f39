"""The playground's messages: what a page may send, checked field by field before anything runs.

Every client message is one JSON object `{"type": ..., ...fields}`. `parse(text)` returns the type
and its fields with the right Python types, or raises `ProtocolError` whose text is sent back as
`{"type": "error", "message": ...}`: unknown types or fields, wrong types, numbers that are not
finite or out of bounds, oversized messages. What a message means is the session's business
(`session.py`); this module only says whether it is well-formed.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

from micrograd.playground.session import ACTIVATIONS, CLASSES, MAX_SEED

MAX_MESSAGE = 16_384  # characters; the largest real message (configure) is ~200
LIMITS = {
    "n": (10, 1000),
    "noise": (0.0, 2.0),
    "train_frac": (0.1, 0.9),
    "seed": (1, MAX_SEED),
    "layers": (0, 4),
    "width": (1, 16),
    "lr": (0.0, 10.0),  # lr > 0
    "weight_decay": (0.0, 1.0),
    "batch_size": (0, 2000),  # 0: full batch
    "speed": (0, 1000),  # steps per second; 0: as fast as possible
    "step_count": (1, 1000),
    "coord": (-1000.0, 1000.0),
    "index": (0, 10_000),
    "label": (0, 9),
}


class ProtocolError(ValueError):
    """A malformed or out-of-bounds message; the text says which field and what is allowed."""


def _int(name: str, lo: int, hi: int) -> Callable[[Any], int]:
    def check(v: Any) -> int:
        if isinstance(v, bool) or not isinstance(v, int):
            if isinstance(v, float) and v.is_integer():
                v = int(v)  # JSON has one number type: 3.0 is 3
            else:
                raise ProtocolError(f"{name} must be an integer, got {_show(v)}")
        if not lo <= v <= hi:
            raise ProtocolError(f"{name} must be in {lo}..{hi}, got {v}")
        return v
    return check


def _num(name: str, lo: float, hi: float, lo_open: bool = False) -> Callable[[Any], float]:
    def check(v: Any) -> float:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ProtocolError(f"{name} must be a number, got {_show(v)}")
        v = float(v)
        if not math.isfinite(v):
            raise ProtocolError(f"{name} must be a finite number, got {v}")
        if v < lo or v > hi or (lo_open and v == lo):
            raise ProtocolError(f"{name} must be in {'(' if lo_open else '['}{lo:g}, {hi:g}], "
                                f"got {v:g}")
        return v
    return check


def _choice(name: str, options: tuple[str, ...]) -> Callable[[Any], str]:
    def check(v: Any) -> str:
        if v not in options or not isinstance(v, str):
            raise ProtocolError(f"{name} must be one of {', '.join(options)}, got {_show(v)}")
        return v
    return check


def _hidden(v: Any) -> list[int]:
    lo, hi = LIMITS["layers"]
    if not isinstance(v, list):
        raise ProtocolError(f"hidden must be a list of layer sizes, got {_show(v)}")
    if not lo <= len(v) <= hi:
        raise ProtocolError(f"hidden must have {lo}..{hi} layers, got {len(v)}")
    return [_int("hidden layer size", *LIMITS["width"])(size) for size in v]


def _ping_id(v: Any) -> int | str:
    if isinstance(v, str) and len(v) <= 64:
        return v
    return _int("id", 0, 2**53)(v)


CONFIGURE = {
    "dataset": _choice("dataset", tuple(CLASSES)),
    "noise": _num("noise", *LIMITS["noise"]),
    "n": _int("n", *LIMITS["n"]),
    "train_frac": _num("train_frac", *LIMITS["train_frac"]),
    "seed": _int("seed", *LIMITS["seed"]),
    "hidden": _hidden,
    "activation": _choice("activation", ACTIVATIONS),
    "lr": _num("lr", *LIMITS["lr"], lo_open=True),
    "weight_decay": _num("weight_decay", *LIMITS["weight_decay"]),
    "batch_size": _int("batch_size", *LIMITS["batch_size"]),
    "speed": _int("speed", *LIMITS["speed"]),
}

# type -> (required fields, optional fields), each field with its checker
MESSAGES: dict[str, tuple[dict[str, Callable[[Any], Any]], dict[str, Callable[[Any], Any]]]] = {
    "ping": ({}, {"id": _ping_id}),
    "configure": ({}, CONFIGURE),
    "add_point": ({"x": _num("x", *LIMITS["coord"]), "y": _num("y", *LIMITS["coord"]),
                   "label": _int("label", *LIMITS["label"])}, {}),
    "clear": ({}, {}),
    "regenerate": ({}, {}),
    "play": ({}, {}),
    "pause": ({}, {}),
    "step": ({}, {"count": _int("count", *LIMITS["step_count"])}),
    "reset": ({}, {}),
    "pick": ({"index": _int("index", *LIMITS["index"])}, {}),
    "walk": ({}, {}),  # backprop step by step for the picked point (walkmsg.py)
}


def parse(text: Any) -> tuple[str, dict[str, Any]]:
    """(type, checked fields) of one client message, or `ProtocolError`."""
    if not isinstance(text, str):
        raise ProtocolError("send JSON text messages, not binary ones")
    if len(text) > MAX_MESSAGE:
        raise ProtocolError(f"message of {len(text)} characters; at most {MAX_MESSAGE}")
    try:
        msg = json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError) as e:  # JSONDecodeError is a ValueError
        raise ProtocolError(f"not valid JSON: {str(e)[:80]}") from None
    if not isinstance(msg, dict):
        raise ProtocolError(f"a message must be a JSON object, got {type(msg).__name__}")
    kind = msg.get("type")
    if not isinstance(kind, str) or kind not in MESSAGES:
        raise ProtocolError(f"unknown message type {_show(kind)}; use one of "
                            f"{', '.join(MESSAGES)}")
    required, optional = MESSAGES[kind]
    fields = {k: v for k, v in msg.items() if k != "type"}
    unknown = sorted(set(fields) - set(required) - set(optional))
    if unknown:
        raise ProtocolError(f"{kind}: unknown field {_show(unknown[0])}; allowed: "
                            f"{', '.join([*required, *optional]) or 'none'}")
    missing = [k for k in required if k not in fields]
    if missing:
        raise ProtocolError(f"{kind}: missing field {missing[0]!r}")
    if kind == "configure" and not fields:
        raise ProtocolError(f"configure: give at least one of {', '.join(CONFIGURE)}")
    checks = {**required, **optional}
    return kind, {k: checks[k](v) for k, v in fields.items()}


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not a finite number")


def _show(v: Any) -> str:
    """A short, safe rendering of a bad value for an error message."""
    text = json.dumps(v) if isinstance(v, (str, int, float, bool, type(None))) else \
        type(v).__name__
    return text if len(text) <= 40 else text[:37] + "..."
