"""What every subcommand's flags share: a parser that reports a mistake in one line, the argument
types that hold a flag to its range, and `add_setting`, which makes a flag from its entry in the
settings schema (`micrograd.settings`): its type, range, default and help are written there."""

from __future__ import annotations

import argparse
import math
from typing import Any

from micrograd.errors import UsageError
from micrograd.settings import RUN, Setting, number_problem, parse_int, show

KEEP = object()  # add_setting: the schema's default


_NOT_TYPED = object()  # Parser(records_given=True): an option's value until it is typed


class Parser(argparse.ArgumentParser):
    """argparse that reports a mistake in one line instead of usage text.

    With `records_given=True` (a subcommand's parser: `sub.add_parser(..., records_given=True)`)
    the parsed arguments also hold `given`: the options typed on the command line, parsed, without
    argparse's defaults. A resumed run keeps its settings except the typed ones, and argv is
    parsed once to know both (every option starts as a marker that only a typed one replaces).
    """

    def __init__(self, *args: Any, records_given: bool = False, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.records_given = records_given

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message} (see '{self.prog} --help')")

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        if not self.records_given or namespace is not None:
            return super().parse_known_args(args, namespace)
        options = [a for a in self._actions if a.dest is not argparse.SUPPRESS]
        namespace = argparse.Namespace(**{a.dest: _NOT_TYPED for a in options})
        namespace, extras = super().parse_known_args(args, namespace)
        given = {}
        for action in options:
            value = getattr(namespace, action.dest)
            if value is _NOT_TYPED:
                setattr(namespace, action.dest, self._default(action))
            else:
                given[action.dest] = value
        namespace.given = given
        return namespace, extras

    def _default(self, action: argparse.Action) -> Any:
        """An option's value when not typed: its default, a string one parsed as argparse does."""
        if isinstance(action.default, str) and action.type is not None:
            return self._get_value(action, action.default)
        return action.default


def int_in(lo: int, hi: int):
    def parse(text: str) -> int:
        v = parse_int(text)
        if v is None:
            raise argparse.ArgumentTypeError(f"{show(text)} is not an integer")
        typed = text if len(text) <= 40 else None  # a long one is described, not echoed
        if problem := number_problem(v, lo, hi, integer=True, typed=typed):
            raise argparse.ArgumentTypeError(problem)
        return v
    return parse


def float_in(lo: float, hi: float, lo_open: bool = False):
    def parse(text: str) -> float:
        try:
            v = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{show(text)} is not a number") from None
        if problem := number_problem(v, lo, hi, lo_open=lo_open, typed=text):
            raise argparse.ArgumentTypeError(problem)
        return v
    return parse


def hidden(text: str) -> list[int]:
    """`16` or `16,16`; `''` or `none` for no hidden layer (a linear classifier)."""
    if text.strip().lower() in ("", "none"):
        return []
    sizes = []
    for part in text.split(","):
        size = parse_int(part)
        if size is None:
            raise argparse.ArgumentTypeError(f"{show(text)}: use sizes like 16 or 16,16")
        typed = part.strip() if len(part) <= 40 else None
        if problem := RUN["hidden"].problem(size, typed=typed):
            raise argparse.ArgumentTypeError(f"layer size {problem}")
        sizes.append(size)
    depth = RUN["hidden"].length[1]  # type: ignore[index]
    if len(sizes) > depth:
        raise argparse.ArgumentTypeError(f"{len(sizes)} hidden layers; at most {depth}")
    return sizes


def add_setting(parser: argparse.ArgumentParser, s: Setting, default: object = KEEP,
                metavar: str | None = None) -> None:
    """The flag of setting `s`: parsed and range-checked as the schema says, its help with the
    default. `default` replaces the schema's (None: "not typed", for a flag whose absence means
    something else)."""
    kwargs: dict[str, object] = {"default": s.default if default is KEEP else default}
    if s.choices:
        kwargs["choices"] = list(s.choices)
    elif s.type == "int":
        kwargs["type"] = int_in(s.lo, s.hi)  # type: ignore[arg-type]
    elif s.type == "float":
        kwargs["type"] = float_in(s.lo, s.hi, s.lo_open)  # type: ignore[arg-type]
    elif s.type == "list":
        kwargs["type"] = hidden  # the one list a flag sets
    if metavar:
        kwargs["metavar"] = metavar
    shown = ",".join(map(str, s.default)) if isinstance(s.default, list) else s.default
    kwargs["help"] = s.help if s.optional else f"{s.help} (default {shown})"
    parser.add_argument(s.flag, **kwargs)  # type: ignore[arg-type]


def point(text: str) -> list[float]:
    """`x1,x2`: two finite numbers."""
    try:
        values = [float(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: use two numbers like 0,0 or 0.5,-1") from None
    if len(values) != 2:
        raise argparse.ArgumentTypeError(f"{text!r}: use two numbers like 0,0 or 0.5,-1")
    if not all(map(math.isfinite, values)):
        raise argparse.ArgumentTypeError(f"{text!r}: use finite numbers, not inf or nan")
    return values
