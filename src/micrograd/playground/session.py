"""One playground connection's world: its points, its model and optimizer, and what the page draws.

A `Session` is plain Python with no web code: the server hands it validated messages and sends
what it returns. Training runs on the trainer's `numpy` engine (the BatchTape replayed on arrays;
`engine="tape"` is the pure-Python one, same bits as eager); the plane's class probabilities and
the hidden neurons' tiles come from one forward pass over a grid of points, straight from the
weights (no graph), in `plane.py`. Without NumPy (Pyodide, the static export) the session trains
on the `tape` engine and `plane.py` computes the pictures on lists: same rules, same numbers. The
computation graph of the picked point is `micrograd.graph.trace_mlp` on a shadow copy of the
model, so drawing it never touches the gradients that training accumulates.
"""

from __future__ import annotations

import copy
import math
import re
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from micrograd.data import DATASETS, RNG
from micrograd.graph import fmt_number, trace_mlp
from micrograd.nn import seed_mlp
from micrograd.optim import AdamW
from micrograd.playground.plane import b64, grid_rows, layer_lists, plane_math
from micrograd.train import make_engine, sample_batch

CLASSES = {"seed": 3, "yinyang": 3, "moons": 2, "circles": 2, "spiral": 3, "xor": 2}
# the generators' own noise; seed and yinyang have none, so the playground jitters their points
DEFAULT_NOISE = {"seed": 0.0, "yinyang": 0.0, "moons": 0.1, "circles": 0.05, "spiral": 0.2,
                 "xor": 0.1}
OWN_NOISE = ("moons", "circles", "spiral", "xor")
ACTIVATIONS = ("tanh", "relu", "sigmoid", "linear")
BETAS, EPS = (0.9, 0.95), 1e-8  # the seed's AdamW

MAX_SEED = 2**31 - 1
MAX_POINTS = 2000  # generated (at most LIMITS n) plus clicked
GRID = 50  # the plane: GRID × GRID class probabilities
TILE = 25  # each hidden neuron's tile: every other grid point
GRAPH_MAX_VALUES = 600  # above this the graph panel shows the output layer and the loss only
HISTORY_MAX = 1000  # loss-curve points kept; beyond, every other one is dropped


@dataclass
class Config:
    """Everything the page can set; the defaults are the seed's run (MLP 2-16-3, AdamW)."""

    dataset: str = "seed"
    noise: float = 0.0
    n: int = 100
    train_frac: float = 0.8
    seed: int = 42
    hidden: list[int] = field(default_factory=lambda: [16])
    activation: str = "tanh"
    lr: float = 0.1
    weight_decay: float = 1e-4
    batch_size: int = 0  # 0: full batch, as the seed
    speed: int = 30  # training steps per second; 0: as fast as the machine goes


DATA_FIELDS = ("dataset", "noise", "n", "train_frac", "seed")
NETWORK_FIELDS = ("hidden", "activation")


class SessionError(ValueError):
    """A request that is well-formed but impossible now (e.g. a label the dataset lacks)."""


class Diverged(ArithmeticError):
    """The loss became NaN or infinite: training stops until the model is reset."""


class _Head:
    """The output layer alone, as a model `trace_mlp` can walk (for graphs too big to draw)."""

    def __init__(self, layer: Any):
        self.layers = [layer]

    def parameters(self) -> list:
        return self.layers[0].parameters()

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = 0.0


class Session:
    """The data, model, optimizer and step counter of one connection."""

    def __init__(self, config: Config | None = None, engine: str | None = None,
                 use_numpy: bool | None = None):
        self.config = Config() if config is None else config
        self.math = plane_math(use_numpy)  # NumPy's arrays, or lists where NumPy is missing
        # the numpy engine where NumPy is, else the pure-Python tape (the same bits as eager)
        self.engine_name = engine or ("numpy" if self.math.numpy else "tape")
        self.graph_id = 0
        self.pending_render = False  # the graph's shape changed: the server lays it out again
        self._graph_key: tuple | None = None
        self._mode: tuple[tuple | None, str, int] = (None, "full", 0)  # key, mode, values
        self.regenerate_data()

    # ---- data ----

    def regenerate_data(self) -> None:
        """New points from the config's dataset and seed, then fresh weights (the seed's order)."""
        c = self.config
        rng = RNG(c.seed)
        gen = DATASETS[c.dataset]
        if c.dataset in OWN_NOISE:
            splits = gen(rng, c.n, noise=c.noise)
        else:
            splits = gen(rng, c.n)
        pool = [(list(x), y) for part in splits for x, y in part]
        if c.dataset not in OWN_NOISE and c.noise > 0:  # jitter positions; labels stay
            pool = [([x[0] + c.noise * rng.gauss(), x[1] + c.noise * rng.gauss()], y)
                    for x, y in pool]
        cut = min(max(round(c.train_frac * len(pool)), 1), len(pool) - 1)
        self.train, self.val = pool[:cut], pool[cut:]
        self.classes = CLASSES[c.dataset]
        self.extent = _extent(pool)
        self.picked: int | None = 0
        self._weights_state = rng.state  # reset() starts the weights from here again
        self._points_changed()
        self.build_model()

    def _points_changed(self) -> None:
        """The points as the engine and the plane's math read them, converted once per change."""
        rows = [[x for x, _ in part] for part in (self.train, self.val)]
        targets = [[float(y) for _, y in part] for part in (self.train, self.val)]
        self._rows = rows
        self._targets = targets
        m = self.math
        self._arrays = (m.inputs(rows[0], 2), m.inputs(rows[1], 2), m.targets(targets[0]),
                        m.targets(targets[1]))
        self._batch: tuple | None = None  # the engine's copy of the training set, made on use

    def points(self) -> list[list[float]]:
        """[x, y, label, 0 for train / 1 for val] for every point, train first (4 decimals)."""
        return [[round(x[0], 4), round(x[1], 4), y, 0] for x, y in self.train] + \
            [[round(x[0], 4), round(x[1], 4), y, 1] for x, y in self.val]

    def add_point(self, x: float, y: float, label: int) -> None:
        """Add a training point of class `label` (it must lie on the plane)."""
        x0, x1, y0, y1 = self.extent
        if not (x0 <= x <= x1 and y0 <= y <= y1):
            raise SessionError(f"point ({x:g}, {y:g}) is off the plane "
                               f"[{x0:g}, {x1:g}] × [{y0:g}, {y1:g}]")
        if not 0 <= label < self.classes:
            raise SessionError(f"label {label} is not a class of {self.config.dataset} "
                               f"(0..{self.classes - 1})")
        if len(self.train) + len(self.val) >= MAX_POINTS:
            raise SessionError(f"the plane holds at most {MAX_POINTS} points; clear it first")
        self.train.append(([float(x), float(y)], int(label)))
        if self.picked is None:
            self.picked = len(self.train) - 1  # the first point on a cleared plane: graph it
        elif self.picked >= len(self.train) - 1:
            self.picked += 1  # a val point moved one place down the list
        self._points_changed()

    def clear(self) -> None:
        """Remove every point (the plane and the model stay): draw your own data."""
        self.train, self.val, self.picked = [], [], None
        self._points_changed()

    def pick(self, index: int) -> None:
        n = len(self.train) + len(self.val)
        if not 0 <= index < n:
            raise SessionError(f"point {index} does not exist; there are {n} points")
        self.picked = index

    def picked_point(self) -> tuple[list[float], int] | None:
        if self.picked is None:
            return None
        i = self.picked
        return self.train[i] if i < len(self.train) else self.val[i - len(self.train)]

    # ---- model ----

    def build_model(self) -> None:
        """Fresh weights from the RNG state right after the data; step 0."""
        c = self.config
        rng = RNG(c.seed)
        rng.state = self._weights_state
        self.model = seed_mlp([2, *c.hidden, self.classes], c.activation, rng=rng)
        self.rng = rng  # then it draws the mini-batches, as `micrograd train` does
        self.params = self.model.parameters()
        self.optimizer = AdamW(self.params, lr=c.lr, betas=BETAS, eps=EPS,
                               weight_decay=c.weight_decay)
        self.engine = make_engine(self.engine_name, self.model, 2)
        self.shadow = copy.deepcopy(self.model)  # the graph panel's copy
        self.step = 0
        self.history: dict[str, list] = {"step": [], "train": [], "val": []}
        self.diverged = False

    def reset(self) -> None:
        self.build_model()

    def new_seed(self) -> None:
        """Regenerate: the same settings with the next seed (new points, new weights)."""
        self.config.seed = self.config.seed % MAX_SEED + 1
        self.regenerate_data()

    def configure(self, fields: dict[str, Any]) -> str:
        """Apply validated settings; returns what was rebuilt: 'data', 'network' or 'hyper'."""
        old = asdict(self.config)
        if "dataset" in fields and "noise" not in fields and fields["dataset"] != old["dataset"]:
            fields = {**fields, "noise": DEFAULT_NOISE[fields["dataset"]]}
        for key, value in fields.items():
            setattr(self.config, key, value)
        changed = {k for k in fields if fields[k] != old[k]}
        if changed & set(DATA_FIELDS):
            self.regenerate_data()
            return "data"
        if changed & set(NETWORK_FIELDS):
            self.build_model()
            return "network"
        self.optimizer.lr = self.config.lr
        self.optimizer.weight_decay = self.config.weight_decay
        return "hyper"

    def param_count(self) -> int:
        return len(self.params)

    # ---- training ----

    def train_steps(self, max_steps: int, budget: float = math.inf) -> int:
        """Up to `max_steps` AdamW steps, stopping once `budget` seconds have passed."""
        if not self.train:
            raise SessionError("there are no training points; add some or regenerate the data")
        if self.diverged:
            raise Diverged("the loss is not finite; lower the learning rate and press reset")
        if self._batch is None:
            batch = getattr(self.engine, "batch", lambda X, Y: (X, Y))  # eager takes lists
            self._batch = batch(self._rows[0], self._targets[0])
        X, Y = self._batch
        full = self.config.batch_size == 0 or self.config.batch_size >= len(Y)
        start, done = time.perf_counter(), 0
        with self.math.errstate():  # a diverging run shows up as a non-finite loss
            while done < max_steps:
                try:
                    if full:
                        loss = self.engine.loss_and_backward(X, Y)
                    else:
                        idx = sample_batch(self.rng, len(Y), self.config.batch_size)
                        loss = self.engine.loss_and_backward(*_take(X, Y, idx))
                except (OverflowError, ValueError, ZeroDivisionError):  # the python tape's
                    loss = math.nan
                if not math.isfinite(loss):
                    self.diverged = True
                    self.optimizer.zero_grad()
                    raise Diverged(f"the loss became {loss} at step {self.step}; lower the "
                                   "learning rate and press reset")
                self.optimizer.step()
                self.optimizer.zero_grad()
                self.step += 1
                done += 1
                if time.perf_counter() - start >= budget:
                    break
        return done

    # ---- what the page draws ----

    def state(self) -> dict[str, Any]:
        """Everything the page needs after a change of data or network."""
        return {"type": "state", "config": asdict(self.config), "classes": self.classes,
                "extent": list(self.extent), "points": self.points(), "picked": self.picked,
                "sizes": self.model.sizes, "params": self.param_count(), "step": self.step,
                "history": self.history, "engine": self.engine_name}

    def frame(self) -> dict[str, Any]:
        """Losses, accuracies, the plane's class probabilities, tiles, weights, graph values."""
        m, layers = self.math, layer_lists(self.model)
        with m.errstate():
            acts = m.forward(layers, m.inputs(grid_rows(self.extent, GRID), 2))
            tiles = b"".join(m.tile_bytes(a, act, GRID, GRID // TILE)
                             for a, (_, _, act) in zip(acts[:-1], layers[:-1]))
            Xt, Xv, Yt, Yv = self._arrays
            train_loss, train_acc = m.loss_acc(layers, Xt, Yt)
            val_loss, val_acc = m.loss_acc(layers, Xv, Yv)
            probs = m.softmax_bytes(acts[-1], self.classes)
        self._record(train_loss, val_loss)
        out = {
            "type": "frame", "step": self.step, "train_loss": train_loss, "val_loss": val_loss,
            "train_acc": train_acc, "val_acc": val_acc, "sizes": self.model.sizes,
            "grid": GRID, "classes": self.classes, "probs": b64(probs),
            "tile": TILE, "tiles": b64(tiles), "weights": m.weights(layers),
        }
        self._check_graph()
        out["graph"] = self.graph_values()
        return out

    def _record(self, train_loss: float | None, val_loss: float | None) -> None:
        h = self.history
        if h["step"] and h["step"][-1] == self.step:  # a redraw without training: replace
            h["train"][-1], h["val"][-1] = train_loss, val_loss
            return
        h["step"].append(self.step)
        h["train"].append(train_loss)
        h["val"].append(val_loss)
        if len(h["step"]) > HISTORY_MAX:
            for key in h:
                h[key] = h[key][::2]

    # ---- the computation graph of the picked point ----

    def graph_key(self) -> tuple | None:
        """What fixes the graph's shape: sizes, activation, the picked label. None: no point."""
        point = self.picked_point()
        if point is None:
            return None
        return (tuple(self.model.sizes), self.config.activation, point[1])

    def _check_graph(self) -> None:
        """A new shape gets a new `graph_id` and asks for a new layout (`pending_render`)."""
        key = self.graph_key()
        if key != self._graph_key:
            self._graph_key = key
            self.graph_id += 1
            self.pending_render = True

    def trace(self) -> tuple[Any, str]:
        """The picked point's graph on the current weights: (trace, 'full' or 'head')."""
        point = self.picked_point()
        assert point is not None
        for s, p in zip(self.shadow.parameters(), self.params):
            s.data = p.data
        x, label = point
        layers = self.shadow.layers
        if self._graph_mode() == "full":
            return trace_mlp(self.shadow, x, label), "full"
        h = list(x)
        for layer in layers[:-1]:
            h = layer.predict(h)
        trace = trace_mlp(_Head(layers[-1]), h, label)
        depth = len(layers) - 1
        rename = [(r"^x(\d+)$", rf"h{depth}[\1]"), (r"^w1\[", f"w{depth + 1}["),
                  (r"^b1\[", f"b{depth + 1}[")]
        for v, name in trace.names.items():
            for pattern, repl in rename:
                name = re.sub(pattern, repl, name)
            trace.names[v] = name
        return trace, "head"

    def _graph_mode(self) -> str:
        """'full' when the whole graph has at most GRAPH_MAX_VALUES values, else 'head'."""
        key = self.graph_key()
        if self._mode[0] != key:
            point = self.picked_point()
            full = len(trace_mlp(self.shadow, point[0], point[1]).nodes())
            self._mode = (key, "full" if full <= GRAPH_MAX_VALUES else "head", full)
        return self._mode[1]

    def graph_dot(self) -> dict[str, Any]:
        """The DOT text of the picked point's graph and a line saying what it shows."""
        self._check_graph()
        self.pending_render = False
        if self.picked_point() is None:
            return {"id": self.graph_id, "dot": None, "note": "no points: add one to see its graph"}
        trace, mode = self.trace()
        n = len(trace.nodes())
        note = f"{n} values"
        if mode == "head":
            note = (f"the whole graph has {self._mode[2]} values, too many to read (at most "
                    f"{GRAPH_MAX_VALUES} are drawn): showing the output layer and the loss; the "
                    f"last hidden layer's outputs enter as inputs")
        return {"id": self.graph_id, "dot": trace.to_dot(), "note": note, "values": n,
                "mode": mode}

    def graph_values(self) -> dict[str, Any] | None:
        """Every node's data and grad, formatted as the SVG boxes show them, in DOT order."""
        if self.picked_point() is None:
            return None
        try:
            trace, _ = self.trace()
        except (ArithmeticError, ValueError):  # a diverged model: nothing sensible to show
            return None
        nodes = trace.nodes()
        return {"id": self.graph_id, "loss": _finite(trace.loss.data),
                "data": [fmt_number(v.data) for v in nodes],
                "grad": [fmt_number(v.grad) for v in nodes]}


def _take(X: Any, Y: Any, idx: list[int]) -> tuple[Any, Any]:
    """The rows `idx` of a batch: fancy indexing on arrays, a list on lists."""
    if isinstance(X, list):
        return [X[i] for i in idx], [Y[i] for i in idx]
    return X[idx], Y[idx]


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


def _extent(points: list) -> tuple[float, float, float, float]:
    """A square around the points with a margin, its centre and half-width in tenths."""
    if not points:
        return (-2.0, 2.0, -2.0, 2.0)
    xs = [p[0][0] for p in points]
    ys = [p[0][1] for p in points]
    cx, cy = round((min(xs) + max(xs)) / 2, 1), round((min(ys) + max(ys)) / 2, 1)
    half = max(max(xs) - min(xs), max(ys) - min(ys), 1.0) / 2 * 1.08 + 0.05
    half = math.ceil(half * 10) / 10
    return (round(cx - half, 2), round(cx + half, 2), round(cy - half, 2), round(cy + half, 2))
