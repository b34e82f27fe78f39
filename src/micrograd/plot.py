"""Figures of a training run, written straight to files.

matplotlib is imported inside the functions (importing micrograd never pulls it in), and figures are
drawn on an Agg canvas without pyplot, so a notebook's own backend is left alone.
"""

from __future__ import annotations

import os

from micrograd.train import History


def plot_loss(
    history: History,
    path: str | os.PathLike[str],
    title: str = "",
    final_val: float | None = None,
) -> None:
    """Train loss every step and val loss at each evaluation (and after the last step), as PNG."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4.2), dpi=120)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.plot(history.step, history.train_loss, color="#1f77b4", lw=1.8, label="train loss")
    val = [(s, v) for s, v in zip(history.step, history.val_loss) if v is not None]
    if final_val is not None and history.step:
        val.append((history.step[-1] + 1, final_val))  # the model after the last update
    if val:
        ax.plot(*zip(*val), color="#d62728", lw=1.8, marker="o", ms=4, label="val loss")
    losses = [v for v in history.train_loss if v > 0] + [v for _, v in val if v > 0]
    if losses and max(losses) / min(losses) > 20:
        ax.set_yscale("log")  # losses fall over decades; a linear axis would hide the tail
    ax.set_xlabel("step")
    ax.set_ylabel("cross-entropy loss")
    ax.set_title(title or "training and validation loss")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(frameon=False)
    fig.tight_layout()
    fig.savefig(os.fspath(path))
