"""What every subcommand's flags share: a parser that reports a mistake in one line, and the
argument types that hold a flag to the limits in `micrograd.config`."""

from __future__ import annotations

import argparse
import math

from micrograd.config import UsageError
from micrograd.settings import LIMITS, number_problem


class Parser(argparse.ArgumentParser):
    """argparse that reports a mistake in one line instead of usage text."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message} (see '{self.prog} --help')")


def int_in(lo: int, hi: int):
    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if problem := number_problem(v, lo, hi, integer=True):
            raise argparse.ArgumentTypeError(problem)
        return v
    return parse


def float_in(lo: float, hi: float, lo_open: bool = False):
    def parse(text: str) -> float:
        try:
            v = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if problem := number_problem(v, lo, hi, lo_open=lo_open):
            raise argparse.ArgumentTypeError(problem)
        return v
    return parse


def hidden(text: str) -> list[int]:
    """`16` or `16,16`; `''` or `none` for no hidden layer (a linear classifier)."""
    if text.strip().lower() in ("", "none"):
        return []
    sizes = []
    for part in text.split(","):
        try:
            size = int(part)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r}: use sizes like 16 or 16,16") from None
        if not 1 <= size <= LIMITS["width"]:
            raise argparse.ArgumentTypeError(
                f"layer size {size} is out of range 1..{LIMITS['width']}")
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
