"""How the benchmark report prints its figures: number formats and Markdown tables."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from run import Row


def fmt_seconds(s: float | None) -> str:
    if s is None:
        return "—"
    return f"{s:.3f}" if s < 1 else f"{s:.2f}" if s < 100 else f"{s:.0f}"


def fmt_mib(kib: float | None) -> str:
    return "—" if kib is None else f"{kib / 1024:.0f}"


def fmt_ratio(r: float | None) -> str:
    if r is None:
        return "—"
    return f"{r:.1f}×" if r < 100 else f"{r:.0f}×"


def fmt_dev(d: float) -> str:
    return "0" if d == 0 else "missing lines" if math.isinf(d) else f"{d:.1e}"


def fmt_growth(small: Row, big: Row) -> str:
    """time(big)/time(small) of the loop's wall clock, and of its CPU time in parentheses."""
    if not (small.ok and big.ok and small.loop and big.loop):
        return "—"
    text = f"{big.loop / small.loop:.1f}"
    if small.loop_cpu and big.loop_cpu:
        text += f" ({big.loop_cpu / small.loop_cpu:.1f})"
    return text


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(header), rule, *map(line, rows)])
