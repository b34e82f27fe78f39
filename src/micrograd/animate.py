"""Training as an animation: the decision boundary and the loss curves, one frame every k steps.

`Snapshots` is an `on_step` callback for `micrograd.train.train`: it copies the model's weights
(plain floats) every `every` steps. `write_training_gif` then replays them through a copy of the
model on one reused matplotlib figure (only the pictures change between frames) and writes a GIF
with Pillow, which comes with matplotlib. Nothing here is imported by `import micrograd`.
"""

from __future__ import annotations

import copy
import io
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from micrograd.data import Point
from micrograd.files import write_atomic
from micrograd.history import History

MAX_FRAMES = 50  # the default frame step aims at about this many frames, plus the first


def frame_every(steps: int, max_frames: int = MAX_FRAMES) -> int:
    """The frame step k that gives at most `max_frames` frames after the first."""
    return max(1, math.ceil(steps / max_frames))


class Snapshots:
    """`on_step` callback: the model's weights before training and after every `every` steps."""

    def __init__(self, model: Any, every: int, start: int = 0):
        if every < 1:
            raise ValueError(f"every must be >= 1, got {every!r}")
        self.model, self.every = model, every
        self.frames: list[tuple[int, list[float]]] = []
        self.take(start)

    def take(self, done: int) -> None:
        """Record the weights as they are after `done` updates."""
        self.frames.append((done, [p.data for p in self.model.parameters()]))

    def __call__(self, step: int, history: History) -> None:
        if (step + 1) % self.every == 0:
            self.take(step + 1)

    def finish(self, steps: int) -> None:
        """Make sure the last frame is the trained model."""
        if self.frames[-1][0] != steps:
            self.take(steps)


def write_training_gif(
    model: Any,
    snapshots: Snapshots,
    history: History,
    splits: dict[str, Sequence[Point]],
    path: str | os.PathLike[str],
    title: str = "",
    frame_ms: int = 120,
    last_frame_ms: int = 2000,
    grid_n: int = 90,
    final_val: float | None = None,
    on_frame: Callable[[int, int], None] | None = None,
) -> int:
    """Render every snapshot (boundary left, loss curves right) into a GIF; return the frame count.

    Frames are labelled in the training log's numbering (`frame_label`): the weights after s
    updates are "step s", as the log's line of step s measures them; the trained model, after
    the last update, is "after step 99" for the chapter's 100 steps, whose log ends at step 99.
    `on_frame(i, n)` is called with i = 0 before the first of the n frames, then as frame i is
    drawn (for a progress bar).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from micrograd import plot

    replica = copy.deepcopy(model)  # the snapshots are poured into this, never into `model`
    everything = [p for pts in splits.values() for p in pts]
    nclasses = max(max((y for _, y in everything), default=0) + 1,
                   len(plot.predict_points(model, [everything[0][0]])[0]))
    colors = plot.class_colors(nclasses)
    bounds = plot.plane_bounds(everything)
    total = snapshots.frames[-1][0]
    train_x = [x for x, _ in splits.get("train", ())]
    train_y = [y for _, y in splits.get("train", ())]

    fig = Figure(figsize=(10.0, 4.6), dpi=90)
    canvas = FigureCanvasAgg(fig)
    ax, lx = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.15, 1.0]})
    layer, handles = _plane_axes(ax, bounds, nclasses, splits, colors, grid_n)

    val = [(s, v) for s, v in zip(history.step, history.val_loss) if v is not None]
    if final_val is not None:
        val.append((total, final_val))  # the val loss of the trained model, as loss.png shows
    train_line, val_line, now = _loss_axes(lx, history.train_loss, val, total)
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=3,
              fontsize=9, frameon=False, handletextpad=0.2, columnspacing=1.2)
    head = fig.suptitle("", fontsize=12)
    fig.tight_layout(rect=(0, 0, 1, 0.94))

    picture = _Picture(canvas, layer, (train_line, val_line, now), head)
    frames = _render_frames(picture, replica, snapshots, history, val, title, train_x, train_y,
                            on_frame)
    images = _shared_palette(frames)
    durations = [frame_ms] * (len(images) - 1) + [last_frame_ms]
    _save_gif(images, durations, os.fspath(path))
    return len(images)


@dataclass
class _Picture:
    """The parts of a frame that change from snapshot to snapshot."""

    canvas: Any
    layer: Any  # the plane's colours, updated from the replica's weights
    lines: tuple  # train loss, val loss, the current step's dot
    head: Any  # the title: step and train accuracy


def _render_frames(picture: _Picture, replica: Any, snapshots: Snapshots, history: History,
                   val: list, title: str, train_x: list, train_y: list,
                   on_frame: Callable[[int, int], None] | None) -> list:
    """Pour each snapshot into `replica`, update the picture, and keep the drawn frame."""
    from PIL import Image

    from micrograd import plot

    params = replica.parameters()
    steps, train_loss = history.step, history.train_loss
    total = snapshots.frames[-1][0]
    train_line, val_line, now = picture.lines
    frames = []
    if on_frame is not None:
        on_frame(0, len(snapshots.frames))
    for done, weights in snapshots.frames:
        for p, w in zip(params, weights):
            p.data = w
        picture.layer.update(replica)
        upto = sum(1 for s in steps if s <= done)  # train_loss[s] is the loss after s updates
        train_line.set_data(steps[:upto], train_loss[:upto])
        shown_val = [(s, v) for s, v in val if s <= done]
        val_line.set_data([s for s, _ in shown_val], [v for _, v in shown_val])
        now.set_data(steps[upto - 1 : upto], train_loss[upto - 1 : upto])
        acc = ""
        if train_x:
            right = (plot.predict_points(replica, train_x).argmax(axis=1) == train_y).mean()
            acc = f"   ·   train accuracy {100 * right:.0f}%"
        picture.head.set_text(f"{title + ': ' if title else ''}{frame_label(done, total)}{acc}")
        picture.canvas.draw()
        frames.append(Image.frombuffer("RGBA", picture.canvas.get_width_height(),
                                       picture.canvas.buffer_rgba()).convert("RGB"))
        if on_frame is not None:
            on_frame(len(frames), len(snapshots.frames))
    return frames


def _save_gif(images: list[Any], durations: list[int], path: str) -> None:
    """Encode in memory, then the one write path: never half a GIF, never through a link."""
    buffer = io.BytesIO()
    images[0].save(buffer, format="GIF", save_all=True, append_images=images[1:],
                   duration=durations, loop=0, optimize=False, disposal=1)
    write_atomic(path, buffer.getvalue())


def _plane_axes(ax: Any, bounds: Any, nclasses: int, splits: dict[str, Sequence[Point]],
                colors: list[str], grid_n: int) -> tuple[Any, list[Any]]:
    """The boundary panel: its redrawable class map and the points (with their legend handles)."""
    from micrograd import plot

    layer = plot.BoundaryLayer(ax, bounds, nclasses, n=grid_n)
    handles = plot.draw_points(ax, splits, colors)
    ax.set_xlim(bounds[0], bounds[1])
    ax.set_ylim(bounds[2], bounds[3])
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    return layer, handles


def frame_label(done: int, total: int) -> str:
    """A frame's step in the training log's numbering.

    `train` logs steps 0..total-1, and the line "step s, train loss L" measures the model after s
    updates, before step s's own update. So the frame of the weights after `done` updates is
    "step done" (its loss is the one logged at step done, the loss panel's dot), and the last
    frame, the trained model, is "after step total-1": for the chapter's 100 steps "step 0 of 0–99",
    ..., "step 98 of 0–99", then "after step 99 of 0–99", as the log ends at step 99.
    """
    span = f" of 0–{total - 1}"
    return f"after step {total - 1}{span}" if done >= total > 0 else f"step {done}{span}"


def _loss_axes(lx: Any, train_loss: list[float], val: list[tuple[int, float]], total: int):
    """The loss panel's empty lines (train, val, the current step) and its fixed axes."""
    (train_line,) = lx.plot([], [], color="#1f77b4", lw=1.8, label="train loss")
    (val_line,) = lx.plot([], [], color="#d62728", lw=1.6, marker="o", ms=4, label="val loss")
    (now,) = lx.plot([], [], "o", color="#1f77b4", ms=6)
    losses = [v for v in train_loss if v > 0] + [v for _, v in val if v > 0]
    if losses and max(losses) / min(losses) > 20:
        lx.set_yscale("log")
    lx.set_xlim(0, max(total, 1))
    if losses and lx.get_yscale() == "log":
        lx.set_ylim(min(losses) / 1.5, max(losses) * 1.5)
    elif losses:
        lx.set_ylim(0, max(losses) * 1.1)
    lx.set_xlabel("step")
    lx.set_ylabel("cross-entropy loss")
    lx.grid(True, alpha=0.3)
    lx.legend(handles=[train_line, val_line], frameon=False, loc="upper right")
    return train_line, val_line, now


def _shared_palette(frames: list[Any]) -> list[Any]:
    """Quantize every frame to one palette made from up to 8 frames spread over the run.

    A palette per frame would shift colours from frame to frame (a red line turning orange when
    it is only a few pixels long); one palette keeps every colour steady across the animation,
    and sampling frames from the whole run gives it the blended shades of every stage.
    """
    from PIL import Image

    picks = sorted({round(i * (len(frames) - 1) / 7) for i in range(8)})
    w, h = frames[0].size
    sheet = Image.new("RGB", (w, h * len(picks)))
    for k, i in enumerate(picks):
        sheet.paste(frames[i], (0, h * k))
    palette = sheet.quantize(colors=255, method=Image.Quantize.MEDIANCUT)
    return [f.quantize(palette=palette, dither=Image.Dither.NONE) for f in frames]
