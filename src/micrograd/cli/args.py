"""What every subcommand's flags share: a parser that reports a mistake in one line, the argument
types that hold a flag to its range, and `add_setting`, which makes a flag from its entry in the
settings schema (`micrograd.settings`): its type, range, default and help are written there."""

from __future__ import annotations

import argparse
import math

from micrograd.errors import UsageError
from micrograd.settings import RUN, Setting, number_problem, parse_int, show

KEEP = object()  # add_setting: the schema's default


class Parser(argparse.ArgumentParser):
    """argparse that reports a mistake in one line instead of usage text."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message} (see '{self.prog} --help')")


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
