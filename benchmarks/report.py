"""How the benchmark report prints its figures (number formats, Markdown tables) and what it
says about the code and the machine measured."""

from __future__ import annotations

import math
import os
import platform
import statistics
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


@dataclass
class Run:
    """One process: its log lines, timings (seconds) and peak memory (KiB)."""

    process_seconds: float
    loop_seconds: float | None = None
    loop_cpu_seconds: float | None = None  # CPU time of the loop: less sensitive to other load
    build_seconds: float | None = None  # tapes: recording and compiling (part of the loop)
    call_seconds: float | None = None  # the whole train() call (calls.py)
    call_cpu_seconds: float | None = None  # its CPU time (all threads)
    peak_kib: int | None = None
    lines: list[str] = field(default_factory=list)
    error: str | None = None
    versions: dict[str, str] = field(default_factory=dict)


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


@dataclass
class Row:
    """The runs of one engine at one size."""

    name: str
    runs: list[Run] = field(default_factory=list)
    skipped: str | None = None  # why the row was not run

    @property
    def ok(self) -> list[Run]:
        return [r for r in self.runs if r.error is None]

    @property
    def loop(self) -> float | None:
        return median([r.loop_seconds for r in self.ok if r.loop_seconds is not None])

    @property
    def loop_cpu(self) -> float | None:
        return median([r.loop_cpu_seconds for r in self.ok if r.loop_cpu_seconds is not None])

    @property
    def build(self) -> float | None:
        return median([r.build_seconds for r in self.ok if r.build_seconds is not None])

    @property
    def call(self) -> float | None:
        return median([r.call_seconds for r in self.ok if r.call_seconds is not None])

    @property
    def call_cpu(self) -> float | None:
        return median([r.call_cpu_seconds for r in self.ok if r.call_cpu_seconds is not None])

    @property
    def process(self) -> float | None:
        return median([r.process_seconds for r in self.ok])

    @property
    def peak_kib(self) -> int | None:
        peaks = [r.peak_kib for r in self.ok if r.peak_kib is not None]
        return max(peaks) if peaks else None

    @property
    def error(self) -> str | None:
        return next((r.error for r in self.runs if r.error is not None), None)


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


def code_version() -> str:
    """The commit measured, and whether src/ had uncommitted changes (git, if available)."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True,
                              timeout=30, check=True).stdout.strip()

    try:
        commit = git("rev-parse", "--short", "HEAD")
        dirty = git("status", "--porcelain", "--", "src")
    except (OSError, subprocess.SubprocessError):
        return "code: not a git checkout"
    return f"code: commit {commit}" + (" with uncommitted changes in src/" if dirty else "")


def src_stamp() -> float:
    """The newest modification time under src/: compared before and after the run."""
    return max((p.stat().st_mtime for p in (REPO / "src").rglob("*.py")), default=0.0)


def machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            model = next(line.split(":", 1)[1].strip() for line in f
                         if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{model}, {os.cpu_count()} cores, {platform.system()} {platform.release()}"
