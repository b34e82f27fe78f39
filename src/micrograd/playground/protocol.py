"""The playground's messages: what a page may send, checked field by field before anything runs.

Every client message is one JSON object `{"type": ..., ...fields}`. `parse(text)` returns the type
and its fields with the right Python types, or raises `ProtocolError` whose text is sent back as
`{"type": "error", "message": ...}`: unknown types or fields, wrong types, numbers that are not
finite or out of bounds, oversized messages. What a message means is the session's business
(`session.py`); this module only says whether it is well-formed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from micrograd.settings import PAGE, Setting, number_problem, show
from micrograd.words import said

# why the server closes a socket at once: a close frame's reason holds 123 bytes, no room for
# `words`, so the page finds the template that reads it (strings.py lists them with the pictures')
CROSS_ORIGIN = "cross-origin connections are refused"
FULL = "the playground is full: {n} connections are open; try again later"
CLOSE_REASONS = (CROSS_ORIGIN, FULL)

MAX_MESSAGE = 16_384  # characters; the largest real message (configure) is ~200
# the bounds of every number a message may hold: the settings' from the schema (`hidden`: its
# layers and their width), the other fields' here
LIMITS = {
    **{s.name: (s.lo, s.hi) for s in PAGE.values() if s.type in ("int", "float")},
    "layers": PAGE["hidden"].length,
    "width": (PAGE["hidden"].lo, PAGE["hidden"].hi),
    "step_count": (1, 1000),
    "coord": (-1000.0, 1000.0),
    "index": (0, 10_000),
    "label": (0, 9),
    "value": (-1.0, 1.0),
    "layer": (0, 10),
    "weight": (-100.0, 100.0),  # a weight set by hand
}


class ProtocolError(ValueError):
    """A malformed or out-of-bounds message; the text says which field and what is allowed."""


def _int(name: str, lo: int, hi: int) -> Callable[[Any], int]:
    def check(v: Any) -> int:
        if problem := number_problem(v, lo, hi, integer=True, whole_floats=True):
            raise ProtocolError(said("{name} {problem}", name=name, problem=problem))
        return int(v)
    return check


def _num(name: str, lo: float, hi: float, lo_open: bool = False) -> Callable[[Any], float]:
    def check(v: Any) -> float:
        if problem := number_problem(v, lo, hi, lo_open=lo_open):
            raise ProtocolError(said("{name} {problem}", name=name, problem=problem))
        return float(v)
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


def _bool(name: str) -> Callable[[Any], bool]:
    def check(v: Any) -> bool:
        if not isinstance(v, bool):
            raise ProtocolError(f"{name} must be true or false, got {_show(v)}")
        return v
    return check


def _features(v: Any) -> list[str]:
    names = PAGE["features"].choices
    options = ", ".join(names)
    if not isinstance(v, list) or not v:
        raise ProtocolError(f"features must be a non-empty list of {options}, got {_show(v)}")
    for name in v:
        if not isinstance(name, str) or name not in names:
            raise ProtocolError(f"features: unknown feature {_show(name)}; use {options}")
    if len(set(v)) != len(v):
        raise ProtocolError("features: each feature at most once, got "
                            f"{', '.join(n for n in names if v.count(n) > 1)} twice")
    return list(v)


def _ping_id(v: Any) -> int | str:
    if isinstance(v, str) and len(v) <= 64:
        return v
    return _int("id", 0, 2**53)(v)


def _check(s: Setting) -> Callable[[Any], Any]:
    """The checker of a `configure` field, from the setting's type and range in the schema."""
    if s.type == "int":
        return _int(s.name, s.lo, s.hi)  # type: ignore[arg-type]
    if s.type == "float":
        return _num(s.name, s.lo, s.hi, lo_open=s.lo_open)  # type: ignore[arg-type]
    if s.type == "choice" and s.aliases:  # an old name is read as the value it names now
        check = _choice(s.name, s.choices)
        return lambda v: check(s.canonical(v))
    if s.type == "choice":
        return _choice(s.name, s.choices)
    if s.type == "bool":
        return _bool(s.name)
    return {"hidden": _hidden, "features": _features}[s.name]  # the lists' own words


CONFIGURE = {name: _check(s) for name, s in PAGE.items()}

# type -> (required fields, optional fields), each field with its checker
MESSAGES: dict[str, tuple[dict[str, Callable[[Any], Any]], dict[str, Callable[[Any], Any]]]] = {
    "ping": ({}, {"id": _ping_id}),
    "configure": ({}, CONFIGURE),
    "add_point": ({"x": _num("x", *LIMITS["coord"]), "y": _num("y", *LIMITS["coord"])},
                  {"label": _int("label", *LIMITS["label"]),
                   "value": _num("value", *LIMITS["value"])}),
    "clear": ({}, {}),
    "regenerate": ({}, {}),
    "play": ({}, {}),
    "pause": ({}, {}),
    "step": ({}, {"count": _int("count", *LIMITS["step_count"])}),
    "reset": ({}, {}),
    "pick": ({"index": _int("index", *LIMITS["index"])}, {}),
    "focus": ({}, {"layer": _int("layer", *LIMITS["layer"]),
                   "index": _int("index", *LIMITS["index"])}),
    "walk": ({}, {}),  # backprop step by step for the picked point (walkmsg.py)
    "set_weight": ({"layer": _int("layer", *LIMITS["layer"]),
                    "neuron": _int("neuron", *LIMITS["index"]),
                    "input": _int("input", *LIMITS["index"]),
                    "value": _num("value", *LIMITS["weight"])}, {}),
}
# optional fields that come together: exactly one of a group (add_point), or all or none (focus)
ONE_OF = {"add_point": ("label", "value")}
ALL_OR_NONE = {"focus": ("layer", "index")}


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
    if kind in ONE_OF and sum(k in fields for k in ONE_OF[kind]) != 1:
        a, b = ONE_OF[kind]
        raise ProtocolError(f"{kind}: give exactly one of {a!r} (classification) or {b!r} "
                            "(regression)")
    if kind in ALL_OR_NONE and 0 < sum(k in fields for k in ALL_OR_NONE[kind]) < 2:
        raise ProtocolError(f"{kind}: give both {' and '.join(map(repr, ALL_OR_NONE[kind]))}, "
                            "or neither to clear it")
    checks = {**required, **optional}
    return kind, {k: checks[k](v) for k, v in fields.items()}


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not a finite number")


def _show(v: Any) -> str:
    """A short, safe rendering of a bad value for an error message."""
    if isinstance(v, (str, float, bool, type(None))):
        text = json.dumps(v)
        return text if len(text) <= 40 else text[:37] + "..."
    return show(v) if isinstance(v, int) else type(v).__name__
