"""What every subcommand's flags share: a parser that reports a mistake in one line, and the
argument types that hold a flag to the limits in `micrograd.config`."""

from __future__ import annotations

import argparse
import math

from micrograd.config import UsageError
from micrograd.settings import LIMITS, number_problem, parse_int, show


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
        if problem := number_problem(size, 1, LIMITS["width"], integer=True, typed=typed):
            raise argparse.ArgumentTypeError(f"layer size {problem}")
        sizes.append(size)
    if len(sizes) > LIMITS["depth"]:
        raise argparse.ArgumentTypeError(f"{len(sizes)} hidden layers; at most {LIMITS['depth']}")
    return sizes


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
