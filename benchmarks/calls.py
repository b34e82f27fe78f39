"""The whole `train()` call: our numpy engine against PyTorch's full-batch loop, each timed from
the call to its return, building and the final evaluation included.

The loop rows of `run.py` time the steps; a user waits for the whole call. Ours is
`micrograd.train.train(..., engine="numpy")`: recording and compiling the tape, the steps with
their validation lines, and the final loss and accuracy of the train, val and test splits.
PyTorch's is its tensors made from the same splits, the same steps (`torch.optim.AdamW`, full
batch) and the same three evaluations. Both get a built model and optimizer, as `train()` does,
and libraries imported beforehand; one thread each (BLAS and PyTorch). Three places: the chapter's
run (100 points, 100 steps), 10,000 points (20 steps) and MLP 2-256-256-3 on 1,000 points
(20 steps). Runs are interleaved (ours, PyTorch, ours, ...) in fresh processes, and the ratio is
of the medians of one run of this script, so load from other programs hits both sides alike.
"""

from __future__ import annotations

from collections.abc import Callable

from report import Row, fmt_seconds, markdown_table

# (label, points, steps, model)
PLACES = (("the chapter's run", 100, 100, "2-16-3"), ("10,000 points", 10_000, 20, "2-16-3"),
          ("MLP 2-256-256-3", 1_000, 20, "2-256-256-3"))
SIDES = ("numpy-call", "torch-call")
TARGET = 1.0  # ours / PyTorch, at most


def calls_table(measure: Callable[..., object], repeats: int, timeout: float,
                progress: Callable[[str], None]) -> dict[str, dict[str, Row]]:
    """{place: {side: its runs}}, the sides alternating run by run."""
    table = {label: {side: Row(side) for side in SIDES} for label, *_ in PLACES}
    for rep in range(repeats):
        for label, n, steps, model in PLACES:
            for side in SIDES:
                run = measure(side, n, steps, None, timeout, model=model)
                table[label][side].runs.append(run)
                took = run.error or f"call {fmt_seconds(run.call_seconds)} s"
                progress(f"whole call, {label} {rep + 1}/{repeats}: {side}: {took}")
    return table


def fmt_ratio(r: float | None) -> str:
    return "—" if r is None else f"{r:.2f}×"


def ratio(rows: dict[str, Row], cpu: bool = False) -> float | None:
    ours, torch = ((rows[side].call_cpu if cpu else rows[side].call) for side in SIDES)
    return ours / torch if ours and torch else None


def render_calls(table: dict[str, dict[str, Row]], repeats: int) -> str:
    header = ["place", f"ours: numpy engine, whole train() s (median of {repeats})",
              "of which build s", "PyTorch f64 full batch, whole call s", "× PyTorch (wall)",
              "CPU s: ours / PyTorch", "× PyTorch (CPU)"]
    out = []
    for label, rows in table.items():
        ours, torch = (rows[side] for side in SIDES)
        if not ours.ok or not torch.ok:
            out.append([label, ours.error or "no run", "—", torch.error or "no run", "—", "—",
                        "—"])
            continue
        out.append([label, fmt_seconds(ours.call), fmt_seconds(ours.build),
                    fmt_seconds(torch.call), fmt_ratio(ratio(rows)),
                    f"{fmt_seconds(ours.call_cpu)} / {fmt_seconds(torch.call_cpu)}",
                    fmt_ratio(ratio(rows, cpu=True))])
    return markdown_table(header, out)


def calls_targets(table: dict[str, dict[str, Row]]) -> list[str]:
    """One line per place; met when the wall-clock ratio is, CPU time's ratio beside it (less
    sensitive to other programs on a busy machine)."""
    lines = []
    for label, rows in table.items():
        r = ratio(rows)
        if r is not None:
            lines.append(f"- whole train() call, numpy ≤ PyTorch full batch on {label}: "
                         f"{'met' if r <= TARGET else 'MISSED'} ({fmt_ratio(r)} wall, "
                         f"{fmt_ratio(ratio(rows, cpu=True))} CPU)")
    return lines
