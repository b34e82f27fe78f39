"""Figures of a training run, written straight to files.

matplotlib is imported inside the functions (importing micrograd never pulls it in), and figures are
drawn on an Agg canvas without pyplot, so a notebook's own backend is left alone.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from micrograd.data import Point
from micrograd.files import write_atomic
from micrograd.history import History
from micrograd.settings import ACTIVATION


def save_figure(fig: Any, path: str | os.PathLike[str]) -> None:
    """Save `fig` through the one write path (files.write_atomic): drawn into memory first, so a
    picture is never half-written and a symlink at `path` is replaced, never written through."""
    import io

    path = os.fspath(path)
    buffer = io.BytesIO()
    fig.savefig(buffer, format=os.path.splitext(path)[1][1:] or "png")
    write_atomic(path, buffer.getvalue())


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
    save_figure(fig, path)


# ---- the model over the plane: decision boundary and hidden neurons ----

# Seaborn's "deep" palette: distinct for the colour-blind in the first three, calm on a slide.
CLASS_COLORS = ["#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3",
                "#937860", "#da8bc3", "#8c8c8c", "#ccb974", "#64b5cd"]
SPLIT_MARKERS = {"train": "o", "val": "s", "test": "^"}
Bounds = tuple[float, float, float, float]  # xmin, xmax, ymin, ymax


def class_colors(k: int) -> list[str]:
    """k distinct colours: the palette above, then evenly spaced hues."""
    if k <= len(CLASS_COLORS):
        return CLASS_COLORS[:k]
    from matplotlib.colors import hsv_to_rgb, to_hex

    return [to_hex(hsv_to_rgb((i / k, 0.55, 0.8))) for i in range(k)]


def plane_bounds(points: Sequence[Point], pad: float = 0.1) -> Bounds:
    """The data's bounding box in the first two features, widened by `pad` of its size."""
    xs = [p[0][0] for p in points]
    ys = [p[0][1] for p in points]
    if not xs:
        return (-1.0, 1.0, -1.0, 1.0)
    dx = (max(xs) - min(xs)) or 1.0
    dy = (max(ys) - min(ys)) or 1.0
    return (min(xs) - pad * dx, max(xs) + pad * dx, min(ys) - pad * dy, max(ys) + pad * dy)


def _np_activate(activation: str, z: Any) -> Any:
    """The activation's forward rule (the engine's own) on a NumPy array."""
    from micrograd.nn import activate
    from micrograd.ops import numpy_math

    return activate(activation, z, numpy_math())


def predict_points(model: Any, points: Any) -> Any:
    """Logits of many points at once, as an (N, K) array, with no autograd graph.

    For an MLP the forward runs on NumPy arrays (`arrays.mlp_logits` on NumPy's math), adding
    `b + w0·x0 + w1·x1 + ...` in the same order as `MLP.predict` (so it agrees to the last bit
    or two); any other model falls back to its `predict(x)` per point. Either way a 100×100
    grid takes milliseconds, not seconds.
    """
    import numpy as np

    from micrograd.arrays import mlp_logits
    from micrograd.ops import numpy_math

    h = np.asarray(points, dtype=float).reshape(len(points), -1)
    logits = mlp_logits(model, h, math=numpy_math()) if len(h) else None
    if logits is None:
        return np.array([np.atleast_1d(model.predict(list(p))) for p in h.tolist()], dtype=float)
    return logits


def np_linear(w: Any, b: Any, h: Any) -> Any:
    """Every neuron of a layer on every row of h, (N, K): the engine's `w·x+b` rule on arrays,
    so the terms are added left to right as the scalar forward adds them."""
    from micrograd.engine import LINEAR
    from micrograd.ops import numpy_math

    cols = [h[:, i : i + 1] for i in range(w.shape[1])]
    return LINEAR.forward(numpy_math(), b, *(w[:, i] for i in range(w.shape[1])), *cols)


def grid(bounds: Bounds, n: int = 100) -> tuple[Any, Any, Any]:
    """An n×n grid over `bounds`: (xs, ys, points) with points in row-major order (y, then x)."""
    import numpy as np

    xs = np.linspace(bounds[0], bounds[1], n)
    ys = np.linspace(bounds[2], bounds[3], n)
    gx, gy = np.meshgrid(xs, ys)
    return xs, ys, np.column_stack([gx.ravel(), gy.ravel()])


def softmax(logits: Any) -> Any:
    import numpy as np

    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def accuracy(model: Any, points: Sequence[Point]) -> float:
    """Fraction of points whose largest logit (first on ties) is their label."""
    if not points:
        return float("nan")
    logits = predict_points(model, [x for x, _ in points])
    return float((logits.argmax(axis=1) == [y for _, y in points]).mean())


class BoundaryLayer:
    """The soft class map and the boundary lines of a model, drawn on an axis and redrawable."""

    def __init__(self, ax: Any, bounds: Bounds, nclasses: int, n: int = 150, tint: float = 0.5):
        import numpy as np
        from matplotlib.colors import to_rgb

        self.ax, self.bounds, self.n, self.tint = ax, bounds, n, tint
        self.xs, self.ys, self.points = grid(bounds, n)
        self.rgb = np.array([to_rgb(c) for c in class_colors(nclasses)])
        self.image = ax.imshow(np.ones((n, n, 3)), origin="lower", extent=bounds,
                               interpolation="bilinear", aspect="auto", zorder=0)
        self.lines: list[Any] = []

    def update(self, model: Any) -> Any:
        """Redraw for `model`; returns the (n, n, K) class probabilities."""
        import numpy as np

        logits = predict_points(model, self.points).reshape(self.n, self.n, -1)
        probs = softmax(logits)
        # each pixel: the class colours weighted by probability, then mixed with white
        self.image.set_data(1.0 - self.tint * (1.0 - probs @ self.rgb))
        for line in self.lines:
            line.remove()
        self.lines = []
        k = logits.shape[-1]
        if k >= 2:
            for c in range(k):  # class c's region edge: its logit minus the best other is 0
                others = np.delete(logits, c, axis=-1).max(axis=-1)
                margin = logits[..., c] - others
                if margin.min() < 0 < margin.max():
                    self.lines.append(self.ax.contour(self.xs, self.ys, margin, levels=[0.0],
                                                      colors="#333333", linewidths=1.0,
                                                      zorder=1))
        return probs


def draw_points(ax: Any, splits: dict[str, Sequence[Point]], colors: list[str]) -> list[Any]:
    """Train / val / test points with distinct markers, coloured by their true class."""
    handles = []
    for name, pts in splits.items():
        if not pts:
            continue
        marker = SPLIT_MARKERS.get(name, "D")
        ax.scatter([p[0][0] for p in pts], [p[0][1] for p in pts],
                   c=[colors[y % len(colors)] for _, y in pts], marker=marker,
                   s=34 if name == "train" else 46, edgecolors="#1a1a1a", linewidths=0.8,
                   zorder=3)
        handles.append(ax.scatter([], [], marker=marker, s=40, facecolors="#ffffff",
                                  edgecolors="#1a1a1a", linewidths=0.8,
                                  label=f"{name} ({len(pts)})"))
    return handles


def _legend(ax: Any, split_handles: list[Any], colors: list[str]) -> None:
    from matplotlib.patches import Patch

    class_handles = [Patch(facecolor=c, edgecolor="#1a1a1a", linewidth=0.6, label=f"class {i}")
                     for i, c in enumerate(colors)]
    legend = ax.legend(handles=class_handles + split_handles, loc="upper left",
                       bbox_to_anchor=(1.02, 1.0), frameon=False, fontsize=9, borderaxespad=0.0,
                       title="shade: predicted\nclass probabilities", title_fontsize=8)
    legend._legend_box.align = "left"


def plot_boundary(
    model: Any,
    splits: dict[str, Sequence[Point]],
    path: str | os.PathLike[str],
    title: str = "",
    n: int = 200,
) -> None:
    """The predicted class over the plane (class probabilities blended), the points on top, PNG."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    everything = [p for pts in splits.values() for p in pts]
    nclasses = max((y for _, y in everything), default=0) + 1
    nclasses = max(nclasses, len(predict_points(model, [everything[0][0]])[0]))
    colors = class_colors(nclasses)
    fig = Figure(figsize=(7.4, 5.6), dpi=120)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    bounds = plane_bounds(everything)
    BoundaryLayer(ax, bounds, nclasses, n=n).update(model)
    handles = draw_points(ax, splits, colors)
    _legend(ax, handles, colors)
    ax.set_xlim(bounds[0], bounds[1])
    ax.set_ylim(bounds[2], bounds[3])
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    acc = " · ".join(f"{name} {100 * accuracy(model, pts):.1f}%"
                     for name, pts in splits.items() if pts)
    ax.set_title(f"{title or 'decision boundary'}\naccuracy: {acc}", fontsize=11)
    fig.tight_layout()
    save_figure(fig, path)


MAX_NEURON_PANELS = 64


# A neuron's value over the plane: grey below 0, white at 0, purple above (the playground's tiles
# too). Neither end is a class colour, so class-coloured points stay visible on any tile.
NEURON_NEG, NEURON_POS = "#4d4d4d", "#762a83"


def neuron_cmap(diverging: bool = True) -> Any:
    """grey → white → purple (or white → purple for relu, which is never negative), kept pale
    (70% of the purple, 60% of the grey) so that the points drawn on top stand out."""
    from matplotlib.colors import LinearSegmentedColormap, to_rgb

    pale = [0.3 + 0.7 * c for c in to_rgb(NEURON_POS)]
    if not diverging:
        return LinearSegmentedColormap.from_list("neuron_pos", ["#ffffff", pale])
    neg = [0.4 + 0.6 * c for c in to_rgb(NEURON_NEG)]
    return LinearSegmentedColormap.from_list("neuron", [neg, "#ffffff", pale])


def plot_neurons(
    model: Any,
    points: Sequence[Point],
    path: str | os.PathLike[str],
    title: str = "",
    n: int = 100,
) -> int:
    """One tile per neuron of the first layer (its activation over the plane, its zero line), PNG.

    The dashed line is where the neuron's pre-activation w·x + b is 0 (for tanh, where the
    activation is 0): each neuron cuts the plane in two along it, and later layers combine cuts.
    Returns the number of tiles (at most MAX_NEURON_PANELS).
    """
    import math

    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure


    neurons = model.layers[0].neurons
    shown = neurons[:MAX_NEURON_PANELS]
    act_name = shown[0].activation
    bounds = plane_bounds(points)
    xs, ys, pts = grid(bounds, n)
    cols = math.ceil(math.sqrt(len(shown)))
    rows = math.ceil(len(shown) / cols)
    fig = Figure(figsize=(1.75 * cols + 1.1, 1.75 * rows + 1.0), dpi=120)
    FigureCanvasAgg(fig)
    acts, zs = [], []
    for neuron in shown:
        w = np.array([wi.data for wi in neuron.w])
        z = neuron.b.data + pts[:, 0] * w[0] + (pts[:, 1] * w[1] if len(w) > 1 else 0.0)
        zs.append(z.reshape(n, n))
        acts.append(_np_activate(neuron.activation, z).reshape(n, n))
    cmap, vmin, vmax = _neuron_scale(act_name, acts)
    prefix = "logit" if len(model.layers) == 1 else "h1["
    colors = class_colors(max((y for _, y in points), default=0) + 1)
    image = None
    for k, (act, z) in enumerate(zip(acts, zs)):
        ax = fig.add_subplot(rows, cols, k + 1)
        image = ax.imshow(act, origin="lower", extent=bounds, cmap=cmap, aspect="auto",
                          vmin=vmin, vmax=vmax, interpolation="bilinear")
        _neuron_tile(ax, (xs, ys, z), points, colors, bounds)
        ax.set_title(f"{prefix}{k}{']' if prefix == 'h1[' else ''}", fontsize=9, pad=2)
    more = f" (first {len(shown)} of {len(neurons)})" if len(neurons) > len(shown) else ""
    fig.suptitle(f"{title or 'first-layer neurons'}{more}\n{act_name}(w·x + b) over the plane; "
                 "dashed: w·x + b = 0", fontsize=10)
    fig.tight_layout(rect=(0, 0.45 / fig.get_figheight(), 1 - 0.9 / fig.get_figwidth(), 1))
    _class_legend(fig, colors)
    cax = fig.add_axes((1 - 0.75 / fig.get_figwidth(), 0.12, 0.18 / fig.get_figwidth(), 0.7))
    fig.colorbar(image, cax=cax).ax.tick_params(labelsize=8)
    save_figure(fig, path)
    return len(shown)


def _neuron_scale(act_name: str, acts: list) -> tuple[Any, float, float]:
    """Colour map and range of the neuron tiles: the activation's whole range where it has one
    (so tiles of different runs compare), else centred on its value at w·x + b = 0."""
    import numpy as np

    center = float(_np_activate(act_name, np.zeros(1))[0])
    spread = max(float(np.abs(a - center).max()) for a in acts) or 1.0
    cmap, vmin, vmax = neuron_cmap(), center - spread, center + spread
    lo, hi = ACTIVATION[act_name].bounds  # the settings' table
    if lo is not None and hi is not None:
        vmin, vmax = lo, hi  # the full range (tanh's, sigmoid's)
    elif lo == 0.0:  # never negative (relu): white at 0, purple as it grows
        cmap, vmin = neuron_cmap(diverging=False), 0.0
    return cmap, vmin, vmax


def _neuron_tile(ax: Any, zero_line: tuple, points: Sequence[Point], colors: list[str],
                 bounds: tuple) -> None:
    """A tile's dashed line w·x + b = 0 (where it crosses the plane), the points, a plain frame."""
    xs, ys, z = zero_line
    if z.min() < 0 < z.max():
        ax.contour(xs, ys, z, levels=[0.0], colors="#1a1a1a", linewidths=1.0, linestyles="--")
    ax.scatter([p[0][0] for p in points], [p[0][1] for p in points], s=12,
               c=[colors[y % len(colors)] for _, y in points], edgecolors="#1a1a1a",
               linewidths=0.5)  # class colours, dark rims: visible on every shade
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlim(bounds[0], bounds[1])
    ax.set_ylim(bounds[2], bounds[3])
    for side in ax.spines.values():
        side.set_color("#999999")


def _class_legend(fig: Any, colors: list[str]) -> None:
    """A row under the tiles naming the points' class colours."""
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], ls="", marker="o", ms=5, mfc=c, mec="#1a1a1a", mew=0.5,
                      label=f"class {i}") for i, c in enumerate(colors)]
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), frameon=False,
               fontsize=8, handletextpad=0.2, columnspacing=1.0, borderaxespad=0.2)


def plot_model(
    model: Any, splits: dict[str, Sequence[Point]], out: str | os.PathLike[str], title: str = ""
) -> list[str]:
    """boundary.png and neurons.png of a model on 2-D data into folder `out`; the names written."""
    plot_boundary(model, splits, os.path.join(out, "boundary.png"), f"{title}: decision boundary")
    points = [p for pts in splits.values() for p in pts]
    plot_neurons(model, points, os.path.join(out, "neurons.png"),
                 f"{title}: the first layer's neurons")
    return ["boundary.png", "neurons.png"]
