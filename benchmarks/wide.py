"""Wide models: MLP 2-64-64-3 and 2-256-256-3 on 1,000 points, 20 steps, for the engines that
can train them in seconds (our numpy tape and torch engine, hand-written NumPy, PyTorch f64 full
batch).

`wide_table(...)` measures them (one process per run, runs interleaved as in `run.py`),
`render_wide(...)` prints the Markdown table (loop, build, peak memory, ratios to PyTorch's full
batch and to hand-written NumPy), `vs_torch_targets(...)` the speed targets: the numpy
engine's loop at most PyTorch full batch's at every size and wide model, within 3× of
hand-written NumPy on the chapter's run, and 2-256-256-3 built in under 0.5 s.
"""

from __future__ import annotations

from collections.abc import Callable

from report import Row, fmt_mib, fmt_ratio, fmt_seconds, markdown_table
from workloads import LABELS

MODELS = ("2-64-64-3", "2-256-256-3")
ENGINES = ("numpy", "torch", "numpy-hand", "torch-batch")
POINTS, STEPS = 1_000, 20
BUILD_LIMIT = 0.5  # seconds, 2-256-256-3


def wide_table(names: list[str], measure: Callable[..., object], repeats: int, timeout: float,
               progress: Callable[[str], None]) -> dict[str, dict[str, Row]]:
    """{model: {engine: its runs}} for the engines of `names` that are in ENGINES."""
    table = {model: {n: Row(n) for n in ENGINES if n in names} for model in MODELS}
    for rep in range(repeats):
        for model in MODELS:
            for name, row in table[model].items():
                run = measure(name, POINTS, STEPS, None, timeout, model=model)
                row.runs.append(run)
                progress(f"wide {model} {rep + 1}/{repeats}: {name}: "
                         f"{run.error or 'loop ' + fmt_seconds(run.loop_seconds) + ' s'}")
    return table


def _ratio(row: Row, other: Row | None) -> float | None:
    return row.loop / other.loop if other is not None and row.loop and other.loop else None


def render_wide(table: dict[str, dict[str, Row]], repeats: int) -> str:
    header = ["model", "engine", f"loop s (median of {repeats})", "of which build s", "peak MiB",
              "× PyTorch full batch (loop)", "× hand-written NumPy (loop)"]
    out = []
    for model, rows in table.items():
        for name, row in rows.items():
            if not row.ok:
                out.append([model, LABELS[name], row.error or "no run", "—", "—", "—", "—"])
                continue
            out.append([model, LABELS[name], fmt_seconds(row.loop), fmt_seconds(row.build),
                        fmt_mib(row.peak_kib), fmt_ratio(_ratio(row, rows.get("torch-batch"))),
                        fmt_ratio(_ratio(row, rows.get("numpy-hand")))])
    return markdown_table(header, out)


def vs_torch_targets(seed: dict[str, Row], scaling: dict[int, dict[str, Row]] | None,
                     wide: dict[str, dict[str, Row]] | None) -> list[str]:
    """The speed targets of the compiled numpy engine, one line each: met or MISSED."""
    def verdict(ok: bool) -> str:
        return "met" if ok else "MISSED"

    lines = []
    places = [("the chapter's run", seed)]
    places += [(f"{n:,} points", rows) for n, rows in (scaling or {}).items()]
    places += [(f"MLP {m}", rows) for m, rows in (wide or {}).items()]
    for where, rows in places:
        ours, torch = rows.get("numpy"), rows.get("torch-batch")
        ratio = _ratio(ours, torch) if ours is not None else None
        if ratio is not None:
            lines.append(f"- numpy loop ≤ PyTorch full-batch loop on {where}: "
                         f"{verdict(ratio <= 1.0)} ({fmt_ratio(ratio)})")
    hand = _ratio(seed["numpy"], seed.get("numpy-hand")) if "numpy" in seed else None
    if hand is not None:
        lines.append(f"- numpy within 3× of hand-written NumPy on the chapter's run: "
                     f"{verdict(hand <= 3.0)} ({fmt_ratio(hand)})")
    big = (wide or {}).get(MODELS[-1], {}).get("numpy")
    if big is not None and big.build is not None:
        lines.append(f"- build of {MODELS[-1]} < {BUILD_LIMIT} s: "
                     f"{verdict(big.build < BUILD_LIMIT)} ({fmt_seconds(big.build)} s)")
    return lines
