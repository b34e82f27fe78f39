"""One playground connection's world: its points, its model and optimizer, and what the page draws.

A `Session` is plain Python with no web code: the server hands it validated messages and sends
what it returns. Training takes `micrograd train`'s steps: the same optimizer (`config.adamw`), a
registered engine built through `train.make_engine` (`numpy` where NumPy is, else the pure-Python
`tape`, same bits as eager; any other by name) and `train.train_step` for each step, so a session
and a CLI run with the same seed and settings take the same steps. The plane's class
probabilities (or regression values), the hidden neurons' tiles and a hovered neuron's picture
come from one forward pass over a grid of points, straight from the weights (no graph), in
`plane.py`. Without NumPy (Pyodide, the static export, whose page names the engine: `tape`) the
session trains on the `tape` engine and `plane.py` computes the pictures on lists: same rules,
same numbers. The graph panel is `graphview.py`.

Beyond the chapter's run the page can set TensorFlow Playground's knobs: the input features
(`features.py`), a regression problem (`regression.py`: two datasets, the mean squared error),
an L1 or L2 penalty on the weights (added to their gradients before the AdamW step, in the
step's `before_update`, which also stops on a non-finite loss before it is applied), and two
display switches (`discretize`, `show_test`) that are only stored, so that state restores them.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from micrograd.config import TrainConfig, adamw
from micrograd.data import DATASETS, RNG
from micrograd.losses import squared_error
from micrograd.nn import chapter_mlp
from micrograd.playground.features import FEATURES, canonical, expand
from micrograd.playground.graphview import GRAPH_MAX_VALUES, GraphPanel
from micrograd.playground.own import Own, fits
from micrograd.playground.plane import b64, extent_of, grid_rows, layer_lists, plane_math
from micrograd.playground.regression import REGRESSION_DATASETS
from micrograd.playground.steplog import EVAL_EVERY, StepLog
from micrograd.settings import DATASETS as DATASETS_TABLE
from micrograd.settings import PAGE
from micrograd.train import first_bad_weight, make_engine, train_step
from micrograd.words import said

CLASSES = {d.name: d.classes for d in DATASETS_TABLE if d.problem == "classification"}
REGRESSION = tuple(d.name for d in DATASETS_TABLE if d.problem == "regression")
# the generators' own noise; the others have none, so the playground jitters their points
DEFAULT_NOISE = {d.name: d.noise or 0.0 for d in DATASETS_TABLE}
OWN_NOISE = tuple(d.name for d in DATASETS_TABLE if d.noise is not None)  # regression: targets
ACTIVATIONS = PAGE["activation"].choices
PROBLEMS = PAGE["problem"].choices
REGULARIZATIONS = PAGE["regularization"].choices
FEATURE_NAMES = tuple(FEATURES)

MAX_SEED = PAGE["seed"].hi
MAX_POINTS = 2000  # generated (at most LIMITS n) plus clicked
GRID = 50  # the plane: GRID × GRID class probabilities
TILE = 25  # each hidden neuron's tile: every other grid point
HISTORY_MAX = 1000  # loss-curve points kept; beyond, every other one is dropped
__all__ = ["GRAPH_MAX_VALUES", "Config", "Diverged", "Session", "SessionError"]


@dataclass
class Config:
    """Everything the page can set; the defaults (the schema's, `settings.PAGE`) are the chapter's
    run (MLP 2-16-3, AdamW)."""

    dataset: str = PAGE["dataset"].default
    noise: float = PAGE["noise"].default
    n: int = PAGE["n"].default
    train_frac: float = PAGE["train_frac"].default
    seed: int = PAGE["seed"].default
    hidden: list[int] = field(default_factory=lambda: list(PAGE["hidden"].default))
    activation: str = PAGE["activation"].default
    lr: float = PAGE["lr"].default
    weight_decay: float = PAGE["weight_decay"].default
    batch_size: int = PAGE["batch_size"].default  # 0: full batch, as the chapter's
    speed: int = PAGE["speed"].default  # training steps per second; 0: as fast as it goes
    problem: str = PAGE["problem"].default  # or "regression" (dataset plane or gauss)
    features: list[str] = field(default_factory=lambda: list(PAGE["features"].default))
    regularization: str = PAGE["regularization"].default  # l1, l2: on weights, not biases
    reg_rate: float = PAGE["reg_rate"].default
    discretize: bool = PAGE["discretize"].default  # display only: hard class colours
    show_test: bool = PAGE["show_test"].default  # display only: draw the validation points


DATA_FIELDS = ("problem", "dataset", "noise", "n", "train_frac", "seed")
NETWORK_FIELDS = ("hidden", "activation", "features")


class SessionError(ValueError):
    """A request that is well-formed but impossible now (e.g. a label the dataset lacks)."""


class Diverged(ArithmeticError):
    """The loss became NaN or infinite: training stops until the model is reset."""


def check_dataset(problem: str, dataset: str) -> None:
    """A dataset of the other problem kind is refused, naming the ones that fit."""
    if (dataset in REGRESSION) != (problem == "regression"):
        kind = "regression" if dataset in REGRESSION else "classification"
        fits = REGRESSION if problem == "regression" else tuple(CLASSES)
        raise SessionError(f"dataset {dataset!r} is for {kind}; for {problem} use "
                           f"{', '.join(fits[:-1])} or {fits[-1]}")


class Session(GraphPanel):
    """The data, model, optimizer and step counter of one connection."""

    def __init__(self, config: Config | None = None, engine: str | None = None,
                 use_numpy: bool | None = None, own: Own | None = None):
        self.config = Config() if config is None else config
        self.own = Own() if own is None else own  # the notebook's model and points (own.py)
        check_dataset(self.config.problem, self.config.dataset)
        self.config.features = canonical(self.config.features)
        self.math = plane_math(use_numpy)  # NumPy's arrays, or lists where NumPy is missing
        # the numpy engine where NumPy is, else the pure-Python tape (the same bits as eager)
        self.engine_name = engine or ("numpy" if self.math.numpy else "tape")
        self.graph_id = 0
        self.pending_render = False  # the graph's shape changed: the server lays it out again
        self._graph_key: tuple | None = None
        self._mode: tuple[tuple | None, str, int] = (None, "full", 0)  # key, mode, values
        self.focus: tuple[int, int] | None = None  # (layer, index) of the hovered neuron
        self._grid: tuple[tuple | None, Any] = (None, None)  # (extent, features), grid inputs
        self.regenerate_data()

    # ---- data ----

    def regression(self) -> bool:
        return self.config.problem == "regression"

    def regenerate_data(self) -> None:
        """New points from the config's dataset and seed, then fresh weights (in that order)."""
        c = self.config
        rng = RNG(c.seed)
        pool = self.own.pool() or self._generated_points(rng)
        cut = min(max(round(c.train_frac * len(pool)), 1), len(pool) - 1)
        if self.own.val is not None:
            cut = len(self.own.points or ())
        self.train, self.val = pool[:cut], pool[cut:]
        self.classes = 0 if self.regression() else self.own.classes or CLASSES[c.dataset]
        self.extent = extent_of(pool)
        self.picked: int | None = 0
        self._weights_state = rng.state  # reset() starts the weights from here again
        self.build_model()
        self._points_changed()

    def _generated_points(self, rng: RNG) -> list:
        """The config's dataset from `rng`, jittered by the noise when it has none of its own."""
        c = self.config
        if self.regression():
            pool = REGRESSION_DATASETS[c.dataset](rng, c.n, noise=c.noise)
        else:
            gen = DATASETS[c.dataset]
            splits = gen(rng, c.n, noise=c.noise) if c.dataset in OWN_NOISE else gen(rng, c.n)
            pool = [(list(x), y) for part in splits for x, y in part]
        if c.dataset not in OWN_NOISE and c.noise > 0:  # jitter positions; labels stay
            pool = [([x[0] + c.noise * rng.gauss(), x[1] + c.noise * rng.gauss()], y)
                    for x, y in pool]
        return pool

    def _points_changed(self) -> None:
        """The points' features as the engine and the plane's math read them, made once."""
        feats = self.config.features
        rows = [expand([x for x, _ in part], feats) for part in (self.train, self.val)]
        targets = [[float(y) for _, y in part] for part in (self.train, self.val)]
        self._rows = rows
        self._labels = [y for _, y in self.train]  # what the engine trains on: classes or values
        m, nin = self.math, len(feats)
        self._arrays = (m.inputs(rows[0], nin), m.inputs(rows[1], nin), m.targets(targets[0]),
                        m.targets(targets[1]))
        self._batch: tuple | None = None  # the engine's copies of the training set and the
        self._val_batch: tuple | None = None  # validation set, made on use

    def points(self) -> list[list[float]]:
        """[x, y, label (regression: the target), 0 for train / 1 for val] for every point,
        train first (4 decimals)."""
        def target(y: float) -> float:
            return round(y, 4) if self.regression() else y
        return [[round(x[0], 4), round(x[1], 4), target(y), 0] for x, y in self.train] + \
            [[round(x[0], 4), round(x[1], 4), target(y), 1] for x, y in self.val]

    def add_point(self, x: float, y: float, label: int | None = None,
                  value: float | None = None) -> None:
        """Add a training point of class `label`, or in regression of target `value` (it must
        lie on the plane)."""
        x0, x1, y0, y1 = self.extent
        if not (x0 <= x <= x1 and y0 <= y <= y1):
            raise SessionError(f"point ({x:g}, {y:g}) is off the plane "
                               f"[{x0:g}, {x1:g}] × [{y0:g}, {y1:g}]")
        if self.regression() and (value is None or label is not None):
            raise SessionError("add_point: a regression point needs a value in [-1, 1], "
                               "not a label")
        if not self.regression():
            if label is None or value is not None:
                raise SessionError("add_point: a classification point needs a label, not a value")
            if not 0 <= label < self.classes:
                raise SessionError(f"label {label} is not a class of {self.config.dataset} "
                                   f"(0..{self.classes - 1})")
        if len(self.train) + len(self.val) >= MAX_POINTS:
            raise SessionError(said("the plane holds at most {n} points; clear it first",
                                    n=MAX_POINTS))
        self.train.append(([float(x), float(y)], float(value) if label is None else int(label)))
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

    def picked_point(self) -> tuple[list[float], Any] | None:
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
        nin = len(c.features)
        if self.own.model is not None:  # the notebook's object, its weights as handed over
            self.own.restore()
            self.model = self.own.model
        else:
            self.model = chapter_mlp([nin, *c.hidden, self.classes or 1], c.activation, rng=rng)
        self.rng = rng  # then it draws the mini-batches, as `micrograd train` does
        self.params = self.model.parameters()
        self.weights = [w for layer in self.model.layers for n in layer.neurons for w in n.w]
        # the CLI's optimizer for the page's lr and weight decay (betas and eps: the chapter's)
        self.optimizer = adamw(self.model, TrainConfig(lr=c.lr, weight_decay=c.weight_decay))
        # regression trains the mean of (out - y)² on the same engine
        loss = squared_error if self.regression() else None
        self.engine = make_engine(self.engine_name, self.model, nin, self.optimizer, loss=loss)
        self.shadow = copy.deepcopy(self.model)  # the graph panel's copy
        self.step = 0
        self.history: dict[str, list] = {"step": [], "train": [], "val": []}  # the page's curve
        self.log = StepLog()  # every step, as `micrograd train` logs it
        self.diverged = False
        self.last_loss: float | None = None  # the loss of the last step, before its update
        self._batch = self._val_batch = None
        if self.focus is not None and not self._neuron_exists(*self.focus):
            self.focus = None  # the hovered neuron went with the old network

    def reset(self) -> None:
        self.build_model()

    def new_seed(self) -> None:
        """Regenerate: the same settings with the next seed (new points, new weights)."""
        self.config.seed = self.config.seed % MAX_SEED + 1
        self.regenerate_data()

    def configure(self, fields: dict[str, Any]) -> str:
        """Apply validated settings; returns what was rebuilt: 'data', 'network' or 'hyper'."""
        old = asdict(self.config)
        fields = dict(fields)
        fixed = [k for k in self.own.locked() if k in fields and fields[k] != old[k]]
        if fixed:
            raise SessionError(said("{name} is your notebook's to set: the model or points you "
                                    "gave fix it", name=fixed[0]))
        if "dataset" in fields and fits(fields["dataset"], self.own.outputs()) is None:
            raise SessionError(said("{dataset} does not fit your notebook's model: it has {n} "
                                    "outputs", dataset=fields["dataset"], n=self.own.outputs()))
        if "features" in fields:
            fields["features"] = canonical(fields["features"])
        check_dataset(fields.get("problem", old["problem"]), fields.get("dataset", old["dataset"]))
        if "dataset" in fields and "noise" not in fields and fields["dataset"] != old["dataset"]:
            fields["noise"] = DEFAULT_NOISE[fields["dataset"]]
        for key, value in fields.items():
            setattr(self.config, key, value)
        changed = {k for k in fields if fields[k] != old[k]}
        if changed & set(DATA_FIELDS):
            self.regenerate_data()
            return "data"
        if changed & set(NETWORK_FIELDS):
            self.build_model()
            self._points_changed()
            return "network"
        self.optimizer.lr = self.config.lr
        self.optimizer.weight_decay = self.config.weight_decay
        return "hyper"

    def set_weight(self, layer: int, neuron: int, input: int, value: float) -> None:
        """Weight `input` of neuron `neuron` in layer `layer` (0: the first hidden layer) set by
        hand (the page's click on a weight line); training goes on from the new value."""
        layers = self.model.layers
        if not 0 <= layer < len(layers):
            raise SessionError(f"set_weight: layer {layer} does not exist; use "
                               f"0..{len(layers) - 1}")
        neurons = layers[layer].neurons
        if not 0 <= neuron < len(neurons):
            raise SessionError(f"set_weight: layer {layer} has {len(neurons)} neurons; use neuron "
                               f"0..{len(neurons) - 1}")
        w = neurons[neuron].w
        if not 0 <= input < len(w):
            raise SessionError(f"set_weight: a neuron of layer {layer} has {len(w)} inputs; use "
                               f"input 0..{len(w) - 1}")
        w[input].data = value

    def param_count(self) -> int:
        return len(self.params)

    # ---- training ----

    def train_steps(self, max_steps: int, budget: float = math.inf) -> int:
        """Up to `max_steps` AdamW steps (`train.train_step`, as `micrograd train` takes them),
        stopping once `budget` seconds have passed."""
        if not self.train:
            raise SessionError(said("there are no training points; add some or regenerate the "
                                    "data"))
        if self.diverged:
            raise Diverged(said("the loss is not finite; lower the learning rate and press "
                                "reset"))
        if self._batch is None:
            self._batch = self.engine.batch(self._rows[0], self._labels)
        X, Y = self._batch
        self.engine.reload()  # an engine's own copy of the weights: from the Values of now
        start, done = time.perf_counter(), 0
        with self.math.errstate():  # a diverging run shows up as a non-finite loss
            while done < max_steps:
                val = self._val_loss() if self.step % EVAL_EVERY == 0 else None
                try:
                    self.last_loss = train_step(self.engine, self.optimizer, X, Y,
                                                self.config.batch_size, self.rng,
                                                before_update=self._before_update)
                    self.log.add(self.step, self.last_loss, val)
                except (OverflowError, ValueError, ZeroDivisionError):  # the python tape's
                    self.optimizer.zero_grad()
                    self._diverged(math.nan)
                self._check_weights()
                self.step += 1
                done += 1
                if time.perf_counter() - start >= budget:
                    break
        return done

    def _val_loss(self) -> float | None:
        """The validation loss on the engine's weights of now, as `micrograd train` takes it."""
        if not self.val:
            return None
        if self._val_batch is None:
            self._val_batch = self.engine.batch(self._rows[1], [y for _, y in self.val])
        return self.engine.loss(*self._val_batch)

    def _before_update(self, loss: float) -> None:
        """Between the gradient and the update: stop on a non-finite loss before the update
        would carry it into the weights (the page keeps showing the last good model), else add
        the penalty's gradient."""
        if not math.isfinite(loss):
            self._diverged(loss)
        self._penalize()

    def _diverged(self, loss: float) -> None:
        self.diverged = True
        raise Diverged(said("the loss became {loss} at step {step}; lower the learning rate "
                            "and press reset", loss=loss, step=self.step))

    def _check_weights(self) -> None:
        """Weights can overflow while tanh keeps the loss finite (lr·weight decay >= 1 flips and
        grows them every step): stop as for a non-finite loss, before a frame holds them."""
        i = first_bad_weight(self.params)
        if i is not None:
            self.diverged = True
            raise Diverged(said("the update made a weight {w} at step {step}; lower the "
                                "learning rate or the weight decay and press reset",
                                w=self.params[i].data, step=self.step))

    def _penalize(self) -> None:
        """The penalty's gradient into the weights' (not the biases'): L1 rate·sign(w), L2
        rate·w, as TensorFlow Playground regularizes; AdamW's step then sees the sum."""
        kind, rate = self.config.regularization, self.config.reg_rate
        if kind == "l2":
            for w in self.weights:
                w.grad += rate * w.data
        elif kind == "l1":
            for w in self.weights:
                w.grad += rate * ((w.data > 0) - (w.data < 0))

    def penalty(self) -> float:
        """The penalty's value: rate·Σ|w| (L1), rate·Σw²/2 (L2), 0 without one."""
        kind, rate = self.config.regularization, self.config.reg_rate
        if kind == "l1":
            return rate * math.fsum(abs(w.data) for w in self.weights)
        if kind == "l2":
            return rate * math.fsum(w.data * w.data for w in self.weights) / 2
        return 0.0

    # ---- what the page draws ----

    def state(self) -> dict[str, Any]:
        """Everything the page needs after a change of data or network."""
        return {"type": "state", "config": asdict(self.config), "classes": self.classes,
                "extent": list(self.extent), "points": self.points(), "picked": self.picked,
                "sizes": self.model.sizes, "params": self.param_count(), "step": self.step,
                "history": self.history, "engine": self.engine_name,
                "locked": self.own.locked(), "own_points": self.own.points is not None}

    def frame(self) -> dict[str, Any]:
        """Losses, accuracies, the plane (class probabilities or regression values), tiles,
        the hovered neuron's picture, weights, penalty, graph values."""
        m, layers, regression = self.math, layer_lists(self.model), self.regression()
        with m.errstate():
            grid = self._grid_inputs()
            acts = m.forward(layers, grid)
            tiles = b"".join(m.tile_bytes(a, act, GRID, GRID // TILE)
                             for a, (_, _, act) in zip(acts[:-1], layers[:-1]))
            Xt, Xv, Yt, Yv = self._arrays
            train_loss, train_acc = m.loss_acc(layers, Xt, Yt, regression)
            val_loss, val_acc = m.loss_acc(layers, Xv, Yv, regression)
            out = acts[-1] if regression else m.softmax(acts[-1])
            plane = {"values": b64(m.column_bytes(m.column(out, 0), "clip"))} if regression \
                else {"probs": b64(m.prob_bytes(out, self.classes))}
            focus = self._focus_grid(grid, [*acts[:-1], out], layers)
        self._record(train_loss, val_loss)
        penalty = self.penalty()
        frame = {
            "type": "frame", "step": self.step, "train_loss": train_loss, "val_loss": val_loss,
            "train_acc": train_acc, "val_acc": val_acc, "sizes": self.model.sizes,
            "grid": GRID, "classes": self.classes, **plane,
            "tile": TILE, "tiles": b64(tiles), "weights": m.weights(layers),
            "penalty": penalty if math.isfinite(penalty) else None, "focus": focus,
        }
        frame["graph"] = self.graph_values()  # also notes a change of the graph's shape
        return frame

    def _grid_inputs(self) -> Any:
        """The features of the plane's cell centres, as the math reads them (made once)."""
        key = (self.extent, tuple(self.config.features))
        if self._grid[0] != key:
            rows = expand(grid_rows(self.extent, GRID), self.config.features)
            self._grid = (key, self.math.inputs(rows, len(self.config.features)))
        return self._grid[1]

    # ---- the hovered neuron ----

    def _neuron_exists(self, layer: int, index: int) -> bool:
        sizes = self.model.sizes
        return 0 <= layer < len(sizes) and 0 <= index < sizes[layer]

    def set_focus(self, layer: int | None = None, index: int | None = None) -> None:
        """Show neuron `index` of `layer` on the big plane (0: the input features, then the
        hidden layers, then the outputs); no layer: show the plane again."""
        if layer is None:
            self.focus = None
            return
        sizes = self.model.sizes
        if not 0 <= layer < len(sizes):
            raise SessionError(f"focus: layer {layer} does not exist; use 0 (inputs) to "
                               f"{len(sizes) - 1} (outputs)")
        if not 0 <= index < sizes[layer]:
            raise SessionError(f"focus: layer {layer} has {sizes[layer]} neurons; use index "
                               f"0..{sizes[layer] - 1}")
        self.focus = (layer, index)

    def _focus_grid(self, grid: Any, outs: list, layers: list) -> dict[str, Any] | None:
        """The hovered neuron over the whole grid, scaled as its tile is (an input as a linear
        neuron, a class probability as a sigmoid, a regression output clipped to [-1, 1])."""
        if self.focus is None:
            return None
        layer, index = self.focus
        m = self.math
        if layer == 0:
            col, rule = m.column(grid, index), "linear"
        else:
            col = m.column(outs[layer - 1], index)
            rule = layers[layer - 1][2] if layer < len(layers) else \
                "clip" if self.regression() else "sigmoid"
        return {"layer": layer, "index": index, "grid": b64(m.column_bytes(col, rule))}

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
