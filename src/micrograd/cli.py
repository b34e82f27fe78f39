"""The `micrograd` console script: `micrograd train` runs the seed's training run by default.

The loss lines are the program's output and go to stdout in the seed's exact format; everything
else (where files went, the progress bar) goes to stderr. A user mistake gives one line on stderr
and exit code 2, never a traceback, and never replaces an existing run folder without `--force`.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import signal
import sys
import time
from dataclasses import asdict, dataclass, field, fields

from micrograd.checkpoint import (
    FILENAME,
    Checkpoint,
    CheckpointError,
    data_fingerprint,
    load_checkpoint,
    restore,
)
from micrograd.data import DATASETS, RNG, DataError, load_csv, read_csv_text, split
from micrograd.files import probe_writable, same_file, write_atomic, wrong_separator
from micrograd.guard import Interrupted, RunGuard, RunStopped, StopSignals, is_numerical_error
from micrograd.nn import ACTIVATIONS, seed_mlp
from micrograd.optim import AdamW
from micrograd.train import ENGINES, History, TrainResult, train

EXIT_USAGE = 2
NOISY = ("moons", "circles", "spiral", "xor")
LIMITS = {"n": 100_000, "steps": 1_000_000, "width": 1024, "depth": 8}
INT_RANGES = {"n": (10, LIMITS["n"]), "steps": (1, LIMITS["steps"]), "seed": (1, 2**64 - 1),
              "eval_every": (1, LIMITS["steps"]), "batch_size": (1, LIMITS["n"])}
FLOAT_RANGES = {  # name: (lo, hi, lo_open); betas are each in [0, 1), as torch.optim.AdamW wants
    "noise": (0.0, 10.0, False), "lr": (0.0, 10.0, True), "weight_decay": (0.0, 1.0, False),
    "eps": (0.0, 1.0, True)}


class UsageError(Exception):
    """A user mistake: printed as one line, exit code 2."""


@dataclass
class TrainConfig:
    """Everything that defines a run; the defaults are the seed's run."""

    dataset: str = "seed"  # a name from DATASETS or a path to a CSV file
    n: int = 100
    noise: float | None = None  # None: the generator's default
    hidden: list[int] = field(default_factory=lambda: [16])
    activation: str = "tanh"
    steps: int = 100
    lr: float = 0.1
    betas: tuple[float, float] = (0.9, 0.95)
    eps: float = 1e-8
    weight_decay: float = 1e-4
    seed: int = 42
    eval_every: int = 10
    engine: str = "auto"  # auto: numpy when installed, else tape (both reproduce the seed's log)
    batch_size: int | None = None  # None: full batch, as the seed

    def validate(self) -> None:
        """Raise ValueError (one line naming the field) unless every field is within its limits.

        The flags' limits, held in one place: `config_from_args` and `config_from_checkpoint`
        (a checkpoint may have been edited by hand) both call this; betas and eps, which no flag
        sets, are checked here only.
        """
        def number(v: object) -> bool:
            return isinstance(v, (int, float)) and not isinstance(v, bool)

        if not isinstance(self.dataset, str) or not self.dataset.strip():
            raise ValueError(f"dataset {self.dataset!r} is neither a dataset name nor a path")
        for name, (lo, hi) in INT_RANGES.items():
            v = getattr(self, name)
            if v is None and name == "batch_size":
                continue
            if not isinstance(v, int) or isinstance(v, bool):
                raise ValueError(f"{name} {v!r} is not an integer")
            if problem := _int_problem(v, lo, hi):
                raise ValueError(f"{name} {problem}")
        for name, (lo, hi, lo_open) in FLOAT_RANGES.items():
            v = getattr(self, name)
            if v is None and name == "noise":
                continue
            if not number(v):
                raise ValueError(f"{name} {v!r} is not a number")
            if problem := _float_problem(v, repr(v), lo, hi, lo_open):
                raise ValueError(f"{name} {problem}")
        if self.noise is not None and self.dataset not in NOISY:
            raise ValueError(f"noise applies to {', '.join(NOISY)}, not {self.dataset!r}")
        betas = self.betas
        if not isinstance(betas, (tuple, list)) or len(betas) != 2 or not all(map(number, betas)):
            raise ValueError(f"betas {betas!r} is not a pair of numbers")
        for i, beta in enumerate(betas):
            if not (math.isfinite(beta) and 0.0 <= beta < 1.0):
                raise ValueError(f"betas[{i}] {beta!r} is not in [0, 1)")
        if not isinstance(self.hidden, list) or not all(
                isinstance(h, int) and not isinstance(h, bool) for h in self.hidden):
            raise ValueError(f"hidden {self.hidden!r} is not a list of layer sizes")
        if len(self.hidden) > LIMITS["depth"]:
            raise ValueError(f"hidden has {len(self.hidden)} layers; at most {LIMITS['depth']}")
        for size in self.hidden:
            if problem := _int_problem(size, 1, LIMITS["width"]):
                raise ValueError(f"hidden layer size {problem}")
        if self.activation not in ACTIVATIONS or self.activation == "linear":
            choices = ", ".join(a for a in ACTIVATIONS if a != "linear")
            raise ValueError(f"activation {self.activation!r} is not one of {choices}")
        if self.engine not in ("auto", *ENGINES):
            raise ValueError(f"engine {self.engine!r} is not one of auto, {', '.join(ENGINES)}")


class _Parser(argparse.ArgumentParser):
    """argparse that reports a mistake in one line instead of usage text."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message} (see '{self.prog} --help')")


def _int_problem(v: int, lo: int, hi: int) -> str | None:
    return None if lo <= v <= hi else f"{v} is out of range {lo}..{hi}"


def _float_problem(v: float, text: str, lo: float, hi: float, lo_open: bool) -> str | None:
    if math.isfinite(v) and lo <= v <= hi and not (lo_open and v == lo):
        return None
    return f"{text} is not a finite number in {'(' if lo_open else '['}{lo}, {hi}]"


def _int_in(lo: int, hi: int):
    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if problem := _int_problem(v, lo, hi):
            raise argparse.ArgumentTypeError(problem)
        return v
    return parse


def _float_in(lo: float, hi: float, lo_open: bool = False):
    def parse(text: str) -> float:
        try:
            v = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if problem := _float_problem(v, text, lo, hi, lo_open):
            raise argparse.ArgumentTypeError(problem)
        return v
    return parse


def _hidden(text: str) -> list[int]:
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


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="micrograd", description="micrograd-lab: scalar autograd, trained.")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    t = sub.add_parser("train", help="train an MLP (default: exactly the seed's run)",
                       description="Train an MLP; with no flags, the seed's run (MLP 2-16-3, "
                                   "AdamW, 100 steps on the seed's 3-class data).")
    d = TrainConfig()
    t.add_argument("--dataset", default=d.dataset,
                   help=f"{', '.join(DATASETS)}, or a CSV file of x1,x2,...,label rows")
    t.add_argument("--n", type=_int_in(*INT_RANGES["n"]), default=None,
                   help=f"number of points to generate (default {d.n}; 80/10/10 split)")
    t.add_argument("--noise", type=_float_in(*FLOAT_RANGES["noise"]), default=None,
                   help=f"noise of {', '.join(NOISY)} (default: the dataset's own)")
    t.add_argument("--hidden", type=_hidden, default=d.hidden,
                   help="hidden layer sizes, e.g. 16 or 16,16 (default 16)")
    t.add_argument("--activation", choices=[a for a in ACTIVATIONS if a != "linear"],
                   default=d.activation, help="hidden-layer activation (default tanh)")
    t.add_argument("--steps", type=_int_in(*INT_RANGES["steps"]), default=d.steps)
    t.add_argument("--lr", type=_float_in(*FLOAT_RANGES["lr"]), default=d.lr,
                   help="AdamW learning rate (default 0.1)")
    t.add_argument("--weight-decay", type=_float_in(*FLOAT_RANGES["weight_decay"]),
                   default=d.weight_decay,
                   help="AdamW decoupled weight decay (default 1e-4)")
    t.add_argument("--seed", type=_int_in(*INT_RANGES["seed"]), default=d.seed,
                   help="RNG seed for data then weights (default 42)")
    t.add_argument("--eval-every", type=_int_in(*INT_RANGES["eval_every"]),
                   default=d.eval_every,
                   help="val loss every K steps (default 10)")
    t.add_argument("--engine", choices=["auto", *ENGINES], default=d.engine,
                   help="how loss and gradients are computed: eager (a graph per step), tape "
                        "(one recorded graph, replayed; same bits as eager), numpy (the tape on "
                        "arrays; needs micrograd-lab[fast]); auto: the fastest installed")
    t.add_argument("--batch-size", type=_int_in(*INT_RANGES["batch_size"]), default=None,
                   metavar="B",
                   help="mini-batches of B points drawn with the run's RNG (default: full batch)")
    t.add_argument("--out", default=None, help="run folder (default runs/<timestamp>)")
    t.add_argument("--force", action="store_true", help="reuse an existing, non-empty --out")
    t.add_argument("--no-plot", action="store_true",
                   help="skip loss.png, boundary.png and neurons.png")
    t.add_argument("--animate", action="store_true",
                   help="also write training.gif: the decision boundary and the loss curves, "
                        "one frame every --frame-every steps (2-D data only)")
    t.add_argument("--frame-every", type=_int_in(1, LIMITS["steps"]), default=None, metavar="K",
                   help="with --animate, one frame every K steps (default: about 50 frames)")
    t.add_argument("--quiet", action="store_true",
                   help="print only the loss lines: no summary, no progress bar, no messages")
    t.add_argument("--save-every", type=_int_in(0, LIMITS["steps"]), default=0, metavar="K",
                   help="also write checkpoint.json every K steps (default 0: only at the end "
                        "and on Ctrl-C/SIGTERM)")
    t.add_argument("--resume", default=None, metavar="RUN",
                   help="continue the run in folder RUN (or from a checkpoint.json) where it "
                        "stopped; it writes into that folder unless --out is given")
    t.add_argument("--detect-anomaly", action="store_true",
                   help="when a loss goes NaN/inf, name the first operation that produced it")
    e = sub.add_parser("eval", help="evaluate a checkpoint, or predict new points with it",
                       description="Loss and accuracy per split of a trained model (the splits "
                                   "are regenerated from the run's config), or with --data, "
                                   "class probabilities for the points of a CSV file.")
    e.add_argument("--checkpoint", required=True, metavar="PATH",
                   help="a checkpoint.json or the run folder holding it")
    e.add_argument("--data", default=None, metavar="CSV",
                   help="rows of x1,...,xn or x1,...,xn,label to predict")
    e.add_argument("--out", default=None, metavar="CSV",
                   help="write the predictions to this file (default: stdout)")
    e.add_argument("--force", action="store_true", help="overwrite an existing --out file")
    add_graph_parser(sub)
    from micrograd import playground  # its flags only: the server is imported when it runs

    playground.add_parser(sub)
    return parser


def resolve_engine(name: str) -> str:
    """`auto` becomes numpy when it is installed, else tape; numpy without NumPy is a mistake."""
    import importlib.util

    has_numpy = importlib.util.find_spec("numpy") is not None
    if name == "auto":
        return "numpy" if has_numpy else "tape"
    if name == "numpy" and not has_numpy:
        raise UsageError("--engine numpy needs NumPy: pip install 'micrograd-lab[fast]', or use "
                         "--engine tape")
    return name


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    cfg = TrainConfig(dataset=args.dataset, hidden=args.hidden, activation=args.activation,
                      steps=args.steps, lr=args.lr, weight_decay=args.weight_decay,
                      seed=args.seed, eval_every=args.eval_every, noise=args.noise,
                      engine=resolve_engine(args.engine), batch_size=args.batch_size)
    is_csv = cfg.dataset not in DATASETS
    if is_csv and not cfg.dataset.lower().endswith(".csv") and not os.path.exists(cfg.dataset):
        raise UsageError(f"unknown dataset {cfg.dataset!r}; use one of {', '.join(DATASETS)} "
                         "or the path of a CSV file")
    if is_csv:  # stored absolute: a resume or eval from another folder reads the same file
        cfg.dataset = os.path.abspath(cfg.dataset)
    if args.n is not None:
        if is_csv:
            raise UsageError("--n does not apply to a CSV dataset; it uses every row of the file")
        cfg.n = args.n
    if cfg.noise is not None and cfg.dataset not in NOISY:
        raise UsageError(f"--noise applies to {', '.join(NOISY)}, not {cfg.dataset!r}")
    try:
        cfg.validate()
    except ValueError as e:
        raise UsageError(str(e)) from None
    return cfg


def load_splits(cfg: TrainConfig, rng: RNG):
    """The dataset's splits; a CSV is shuffled with `rng` first, so every split gets each class."""
    if cfg.dataset in DATASETS:
        kwargs = {} if cfg.noise is None else {"noise": cfg.noise}
        return DATASETS[cfg.dataset](rng, cfg.n, **kwargs)
    try:
        points = load_csv(cfg.dataset)  # every file problem is a one-line DataError
    except DataError as e:
        raise UsageError(_csv_problem(cfg.dataset, e)) from None
    if len(points) < 10:
        raise UsageError(f"{cfg.dataset}: {len(points)} rows; need at least 10 for an 80/10/10 "
                         "split")
    for i in range(len(points) - 1, 0, -1):  # Fisher-Yates, driven by the run's RNG
        j = rng.random_u32() % (i + 1)
        points[i], points[j] = points[j], points[i]
    return split(points)


def _csv_problem(path: str, error: DataError) -> str:
    """The DataError's line, or the real cause when the file is not comma-separated."""
    try:
        sep = wrong_separator(read_csv_text(path))
    except DataError:
        sep = None
    if sep is None:
        return str(error)
    return f"{path}: this looks like a {sep}-separated file; use commas (rows like 0.5,-1.2,0)"


def prepare_out(out: str | None, force: bool) -> str:
    """Create the run folder; refuse to reuse a non-empty one unless `force`.

    The default, runs/<timestamp>, is claimed with os.mkdir, so two runs started in the same
    second never share a folder: the second gets runs/<timestamp>-2.
    """
    if out is None:
        base = os.path.join("runs", time.strftime("%Y%m%d-%H%M%S"))
        out, k = base, 1
        try:
            os.makedirs("runs", exist_ok=True)
            while True:
                try:
                    os.mkdir(out)
                    break
                except FileExistsError:
                    k += 1
                    out = f"{base}-{k}"
            probe_writable(out)
        except OSError as e:
            raise UsageError(f"cannot write to run folder {out!r}: {e.strerror}") from None
        return out
    if os.path.exists(out) and not os.path.isdir(out):
        raise UsageError(f"--out {out!r} is a file, not a folder; pick another --out")
    if os.path.isdir(out) and os.listdir(out) and not force:
        raise UsageError(f"run folder {out!r} already exists and is not empty; pick another "
                         "--out or pass --force to overwrite its files")
    try:
        os.makedirs(out, exist_ok=True)
        probe_writable(out)  # a fresh temporary name: never a file of the user's
    except OSError as e:
        raise UsageError(f"cannot write to run folder {out!r}: {e.strerror}") from None
    return out


def write_text(path: str, text: str) -> None:
    """Write a text file atomically (files.write_atomic): a crash never leaves half a file."""
    write_atomic(path, text.encode("utf-8"))


def metrics_csv(history: History) -> str:
    rows = ["step,train_loss,val_loss"]
    for s, tr, va in zip(history.step, history.train_loss, history.val_loss):
        rows.append(f"{s},{tr!r},{'' if va is None else repr(va)}")
    return "\n".join(rows) + "\n"


def summary(result: TrainResult) -> str:
    parts = [f"{name} loss {m.loss:.6f} acc {100 * m.accuracy:.1f}%"
             for name, m in result.final.items()]
    return "final: " + " | ".join(parts)


PICTURES = ("loss.png", "boundary.png", "neurons.png")  # drawn unless --no-plot


def run_train(cfg: TrainConfig, out: str | None, force: bool, plot: bool, quiet: bool,
              save_every: int = 0, resume: Checkpoint | None = None,
              detect_anomaly: bool = False, animate: bool = False,
              frame_every: int | None = None) -> int:
    """`micrograd train`; SIGINT and SIGTERM are held from start to end (guard.StopSignals)."""
    created: list[str] = []  # the run folder, once this run has made it
    with StopSignals() as signals:
        try:
            return _run_train(cfg, out, force, plot, quiet, save_every, resume, detect_anomaly,
                              animate, frame_every, signals, created)
        except Interrupted as e:  # during setup: nothing written yet
            for folder in created:
                try:
                    os.rmdir(folder)  # only if empty
                except OSError:
                    pass
            if resume is None:
                what = ("no checkpoint exists yet (nothing to resume); run the command again to "
                        "start over")
            else:
                what = f"{resume.path} is unchanged (step {resume.step}); resume from it again"
            print(f"micrograd: {e} during setup, before the first step was done: {what}",
                  file=sys.stderr)
            return e.exit_code


def _run_train(cfg: TrainConfig, out: str | None, force: bool, plot: bool, quiet: bool,
               save_every: int, resume: Checkpoint | None, detect_anomaly: bool, animate: bool,
               frame_every: int | None, signals: StopSignals, created: list[str]) -> int:
    rng = RNG(cfg.seed)
    train_split, val_split, test_split = load_splits(cfg, rng)
    everything = train_split + val_split + test_split
    nin, nclasses = len(everything[0][0]), max(label for _, label in everything) + 1
    if animate:
        frame_every = check_animation(nin, cfg.steps, frame_every)
    data_sha256 = data_fingerprint([train_split, val_split, test_split])
    if resume is not None:  # before anything is written
        check_resumable(resume, cfg, [nin, *cfg.hidden, nclasses], data_sha256)
    fresh = out is None or not os.path.lexists(out)
    out = prepare_out(out, force)
    if fresh:
        created.append(out)
    model = seed_mlp([nin, *cfg.hidden, nclasses], cfg.activation, rng=rng)
    optimizer = AdamW(model.parameters(), lr=cfg.lr, betas=cfg.betas, eps=cfg.eps,
                      weight_decay=cfg.weight_decay)
    start, history, saved_step, in_place = 0, None, None, False
    if resume is not None:
        restore(resume, model, optimizer, rng)
        start, history = resume.step, resume.history
        in_place = same_file(resume.path, os.path.join(out, FILENAME))  # the run's own folder
        saved_step = resume.step if in_place else None
        if not quiet:
            print(f"{resume.path}: " + (f"resuming at step {start} of {cfg.steps}"
                  if start < cfg.steps else
                  f"all {cfg.steps} steps are done (pass --steps N to train further)"),
                  file=sys.stderr)

    bar = None
    log = print
    if not quiet and sys.stderr.isatty():
        from tqdm import tqdm  # a bar only for a person watching, and only after a moment

        bar = tqdm(total=cfg.steps, initial=start, file=sys.stderr, delay=1.0, leave=False,
                   unit="step")

        def log(line: str) -> None:
            bar.write(line, file=sys.stdout)

    snapshots = None
    if animate:  # the model's weights every k steps, for training.gif
        from micrograd.animate import Snapshots

        snapshots = Snapshots(model, frame_every, start=start)
    guard = RunGuard(out, model, optimizer, rng, config=asdict(cfg), data_sha256=data_sha256,
                     train_split=train_split, val_split=val_split, steps=cfg.steps,
                     save_every=save_every, start_step=start, saved_step=saved_step,
                     detect_anomaly=detect_anomaly, history=history,
                     after=_each_step(None if bar is None else lambda *_: bar.update(),
                                      snapshots), signals=signals)
    stopped = None  # RunStopped: a signal or numerical trouble ended the run early
    try:
        with guard:
            result = train(model, optimizer, train_split, val_split, test_split, steps=cfg.steps,
                           eval_every=cfg.eval_every, log=log, on_step=guard.on_step,
                           start_step=start, history=history, engine=cfg.engine,
                           batch_size=cfg.batch_size, rng=rng)
    except RunStopped as e:
        stopped, result = e, TrainResult(guard.history, {})
    except (ArithmeticError, ValueError) as e:
        if not is_numerical_error(e):  # a bug, not the numbers: let it show as one
            raise
        stopped, result = guard.numerical_error(e), TrainResult(guard.history, {})
    finally:
        if bar is not None:
            bar.close()
    signals.defer()  # from here on a signal lets the file in progress finish
    if not quiet and result.final:
        print(summary(result))
    sys.stdout.flush()

    saved = []  # the checkpoint first: the run is safe before the (slow) pictures are drawn
    if stopped is None:
        try:
            guard.save()
            saved = [FILENAME]
        except RunStopped as e:  # non-finite optimizer state: never saved
            stopped = e
    elif stopped.interrupted:
        saved = [FILENAME]  # on_step saved it before stopping
    write_text(os.path.join(out, "metrics.csv"), metrics_csv(result.history))
    config = {**asdict(cfg), "sizes": model.sizes}
    write_text(os.path.join(out, "config.json"), json.dumps(config, indent=2) + "\n")

    title = f"MLP {'-'.join(map(str, model.sizes))} on {os.path.basename(cfg.dataset)}"
    splits = {"train": train_split, "val": val_split, "test": test_split}
    final_val = result.final["val"].loss if result.final else None

    def draw_loss() -> list[str]:
        from micrograd.plot import plot_loss

        plot_loss(result.history, os.path.join(out, "loss.png"), title, final_val)
        return ["loss.png"]

    def draw_model() -> list[str]:  # the plane of x1, x2: the decision boundary, the neurons
        from micrograd.plot import plot_model

        return plot_model(model, splits, out, title)

    def draw_gif() -> list[str]:
        from micrograd.animate import write_training_gif

        snapshots.finish(cfg.steps)
        write_training_gif(model, snapshots, result.history, splits,
                           os.path.join(out, "training.gif"), title, final_val=final_val)
        return ["training.gif"]

    jobs = []  # (the files it writes, how)
    if plot:
        jobs.append((["loss.png"], draw_loss))
        if nin == 2:
            jobs.append((["boundary.png", "neurons.png"], draw_model))
    if snapshots is not None and stopped is None:
        jobs.append((["training.gif"], draw_gif))
    removed = []
    if in_place and not plot:  # the run's old pictures would show an earlier step: remove them
        for name in PICTURES:
            if os.path.lexists(os.path.join(out, name)):
                os.remove(os.path.join(out, name))
                removed.append(name)
    stopping = stopped is not None and stopped.interrupted  # a signal ended training: draw so far
    drawn: list[str] = []
    skipped: list[str] = []
    for names, draw in jobs:
        if signals.signum is not None and not stopping:  # a signal came while drawing
            skipped += names
        else:
            drawn += draw()
    gif = [name for name in drawn if name == "training.gif"]
    written = [*saved, *(n for n in drawn if n not in gif), "metrics.csv", "config.json", *gif]
    if stopped is not None:
        return report_stop(stopped, written, out, quiet, skipped)
    if signals.signum is not None:  # a signal after the last step: the checkpoint is there
        name = signal.Signals(signals.signum).name
        rest = (f"; not drawn: {', '.join(skipped)} (micrograd train --resume "
                f"{shlex.quote(out)} draws them)" if skipped else "; the run is complete")
        print(f"micrograd: interrupted by {name} after the last step, while writing the run's "
              f"files: wrote {', '.join(written)} to {out}{rest}", file=sys.stderr)
        return 128 + signals.signum
    if not quiet:
        gone = (f"; removed the old {', '.join(removed)} (--no-plot: they showed an earlier "
                "step)" if removed else "")
        print(f"wrote {', '.join(written)} to {out}{gone}", file=sys.stderr)
    return 0


def report_stop(stopped: RunStopped, written: list[str], out: str, quiet: bool,
                skipped: list[str] | None = None) -> int:
    """Say why the run stopped and where its files are; return the exit code (3, 130, 143)."""
    wrote = f"wrote {', '.join(written)} to {out}"
    if skipped:
        wrote += f" (a signal stopped the drawing of {', '.join(skipped)})"
    if stopped.interrupted:
        print(f"micrograd: {stopped.message}: {wrote}; continue with: micrograd train --resume "
              f"{shlex.quote(out)}", file=sys.stderr)
        return stopped.exit_code
    if stopped.anomaly:
        print(f"micrograd: anomaly: {stopped.anomaly}", file=sys.stderr)
    print(f"micrograd: error: {stopped.message}", file=sys.stderr)
    if not quiet:
        print(wrote, file=sys.stderr)
    return stopped.exit_code


def given_train_flags(argv: list[str]) -> dict[str, object]:
    """The `train` options the user typed (parsed), without argparse's defaults."""
    parser = build_parser()
    train_parser = _subparser(parser, "train")
    for action in train_parser._actions:  # SUPPRESS: an option not typed stays absent
        action.default = argparse.SUPPRESS
    given = vars(parser.parse_args(argv))
    given.pop("command", None)
    return given


def _subparser(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices[name]


def config_from_checkpoint(ckpt: Checkpoint) -> TrainConfig:
    """The run's TrainConfig from a checkpoint, held to the flags' limits (TrainConfig.validate)."""
    saved, default = ckpt.config, TrainConfig()

    def bad(what: str) -> CheckpointError:
        return CheckpointError(f"checkpoint {ckpt.path}: config {what}; it was edited or is "
                               "damaged, use an unedited copy")

    names = [f.name for f in fields(TrainConfig)]
    unknown = sorted(set(saved) - set(names))
    missing = [name for name in names if name not in saved]
    if unknown or missing:
        raise bad(f"has unknown key {unknown[0]!r}" if unknown else f"lacks {missing[0]!r}")
    for name in names:
        if not _same_kind(saved[name], getattr(default, name)):
            raise bad(f"{name} is {json.dumps(saved[name])[:40]}, of the wrong type")
    values = dict(saved)
    values["betas"] = tuple(float(b) for b in saved["betas"])
    for name in ("lr", "eps", "weight_decay", "noise"):  # JSON may spell 1.0 as 1
        if values[name] is not None:
            values[name] = float(values[name])
    cfg = TrainConfig(**values)
    try:
        cfg.validate()
        cfg.engine = resolve_engine(cfg.engine)
    except ValueError as e:
        raise bad(str(e)) from None
    except UsageError as e:  # --engine numpy without NumPy: not the file's fault
        raise CheckpointError(f"checkpoint {ckpt.path}: {e}") from None
    if cfg.hidden != ckpt.sizes[1:-1] or cfg.activation != ckpt.activation:
        raise bad(f"hidden {cfg.hidden} / {cfg.activation} disagrees with the model's sizes "
                  f"{ckpt.sizes} / {ckpt.activation}")
    return cfg


def _same_kind(value: object, default: object) -> bool:
    """Is a JSON value of the type of a TrainConfig default (None: an optional number)?"""
    def number(v: object) -> bool:
        return isinstance(v, (int, float)) and not isinstance(v, bool)

    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, int):
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(default, float):
        return number(value)
    if isinstance(default, str):
        return isinstance(value, str)
    if isinstance(default, list):
        return isinstance(value, list) and all(_same_kind(v, 0) for v in value)
    if isinstance(default, tuple):
        return isinstance(value, list) and len(value) == len(default) and all(map(number, value))
    return value is None or number(value)


def resume_config(args: argparse.Namespace, argv: list[str]) -> tuple[TrainConfig, Checkpoint]:
    """The config and checkpoint of `--resume`; sets args.out (default: the run's own folder).

    A resumed run keeps its config: a flag given now must agree with it, except --steps, which
    may extend the run (or shorten it, down to the checkpoint's step).
    """
    try:
        ckpt = load_checkpoint(args.resume)
        cfg = config_from_checkpoint(ckpt)
    except CheckpointError as e:
        raise UsageError(str(e)) from None
    given = given_train_flags(argv)
    args_now = build_parser().parse_args(["train"])  # the run's settings, then the typed ones,
    for name in vars(args_now):  # normalised as a new run would be (--engine auto -> numpy)
        if hasattr(cfg, name):
            setattr(args_now, name, getattr(cfg, name))
    if cfg.dataset not in DATASETS:
        args_now.n = None
    for name, value in given.items():
        setattr(args_now, name, value)
    typed = config_from_args(args_now)
    for name in (f.name for f in fields(TrainConfig)):
        if name not in given or name == "steps":
            continue
        now, then = getattr(typed, name), getattr(cfg, name)
        if name == "dataset" and now not in DATASETS and then not in DATASETS:
            if not os.path.exists(then):  # the CSV was moved: the sha256 of its points decides
                cfg.dataset = now
                continue
            if same_file(now, then):
                continue
        if now != then:
            flag = "--" + name.replace("_", "-")
            if name in ("hidden", "activation"):
                raise UsageError(
                    f"{flag} asks for another architecture than the checkpoint's MLP "
                    f"{'-'.join(map(str, ckpt.sizes))} ({ckpt.activation}); drop {flag} to "
                    "resume it, or start a new run without --resume")
            raise UsageError(f"{flag} {given[name]} differs from the run's "
                             f"{then}; a resumed run keeps its settings (only "
                             f"--steps may change): drop {flag}, or start a new run")
    if "steps" in given:
        cfg.steps = given["steps"]
    if ckpt.step > cfg.steps:
        raise UsageError(f"the checkpoint is at step {ckpt.step}, past --steps {cfg.steps}; "
                         f"pass --steps {ckpt.step} or more")
    folder = os.path.dirname(ckpt.path) or "."
    own = os.path.basename(ckpt.path) == FILENAME  # a run folder's own checkpoint
    if args.out is None:
        if not own:  # a copy, e.g. ck30.json: continuing "in place" would replace the run's own
            raise UsageError(f"--resume {ckpt.path}: only a run folder (or its {FILENAME}) is "
                             "continued in place; pass --out NEW_FOLDER to continue this "
                             "checkpoint there")
        args.out, args.force = folder, True  # the same run, continued in its own folder
    elif own and os.path.isdir(args.out) and os.path.samefile(args.out, folder):
        args.force = True
    check_not_rewinding(args.out, ckpt)
    return cfg, ckpt


def check_not_rewinding(out: str, ckpt: Checkpoint) -> None:
    """Refuse to replace a checkpoint in `out` that is further on than the one being resumed."""
    target = os.path.join(out, FILENAME)
    if not os.path.lexists(target) or same_file(target, ckpt.path):
        return
    try:
        there = load_checkpoint(target).step
    except CheckpointError as e:
        raise UsageError(f"{target} would be replaced, and it cannot be read to check that it "
                         f"is not further on ({e}); move it away, or pick another --out") from None
    if there > ckpt.step:
        raise UsageError(f"{target} is at step {there}, further on than {ckpt.path} (step "
                         f"{ckpt.step}); resuming would replace it: move it away first, or pick "
                         "another --out")


def _data_changed(cfg: TrainConfig, ckpt: Checkpoint, fix: str) -> UsageError:
    if cfg.dataset in DATASETS:
        why = f"the {cfg.dataset} generator gives other points: another micrograd-lab version?"
    else:
        why = f"was {cfg.dataset} changed?"
    return UsageError(f"the data of {cfg.dataset!r} are not the data {ckpt.path} was trained on "
                      f"({why}); {fix}")


def check_resumable(ckpt: Checkpoint, cfg: TrainConfig, sizes: list[int],
                    data_sha256: str) -> None:
    """Refuse to resume on other data, another model or edited optimizer settings."""
    if data_sha256 != ckpt.data_sha256:
        raise _data_changed(cfg, ckpt, "resuming needs the very same data")
    if sizes != ckpt.sizes:
        raise UsageError(f"{ckpt.path} holds MLP {'-'.join(map(str, ckpt.sizes))}, but this "
                         f"data and --hidden make MLP {'-'.join(map(str, sizes))}")
    model = seed_mlp(sizes, cfg.activation, rng=RNG(1))
    optimizer = AdamW(model.parameters(), lr=cfg.lr, betas=cfg.betas, eps=cfg.eps,
                      weight_decay=cfg.weight_decay)
    try:  # a dry run on a scratch model, so the real restore cannot fail after files are written
        restore(ckpt, model, optimizer, RNG(1))
    except (CheckpointError, ValueError, TypeError, KeyError) as e:
        raise UsageError(str(e)) from None


def run_eval(args: argparse.Namespace) -> int:
    """`micrograd eval`: loss and accuracy per split, or predictions for --data."""
    from micrograd.predict import check_output, load_points, predictions_csv
    from micrograd.train import evaluate

    try:
        ckpt = load_checkpoint(args.checkpoint)
        cfg = config_from_checkpoint(ckpt)
    except CheckpointError as e:
        raise UsageError(str(e)) from None
    if args.out is not None and args.data is None:
        raise UsageError("--out is where the predictions for --data go; pass --data FILE.csv")
    model = seed_mlp(ckpt.sizes, ckpt.activation, rng=RNG(1))
    for p, w in zip(model.parameters(), ckpt.weights):
        p.data = w

    def line(name: str, points: list) -> str:
        try:
            m = evaluate(model, points)
            loss, acc = f"{m.loss:.6f}", m.accuracy
        except (ArithmeticError, ValueError) as e:  # a probability of 0: the loss is infinite
            if not is_numerical_error(e):
                raise
            loss = "inf"
            acc = sum(max(range(len(o)), key=o.__getitem__) == y
                      for o, y in ((model.predict(x), y) for x, y in points)) / len(points)
        return f"{name} loss {loss} acc {100 * acc:.1f}% ({len(points)} points)"

    if args.data is None:
        splits = load_splits(cfg, RNG(cfg.seed))
        if data_fingerprint(list(splits)) != ckpt.data_sha256:
            raise _data_changed(cfg, ckpt, "pass --data to use new data")
        for name, points in zip(("train", "val", "test"), splits):
            if points:
                print(line(name, points))
        return 0
    try:
        if args.out is not None:
            check_output(args.out, args.force,
                         [("the checkpoint", ckpt.path), ("the --data file", args.data)])
        xs, labels = load_points(args.data, ckpt.sizes[0], ckpt.sizes[-1])
    except DataError as e:
        raise UsageError(str(e)) from None
    text = predictions_csv(model, xs, labels)
    metrics = None if labels is None else line("data", list(zip(xs, labels)))
    if args.out is None:
        sys.stdout.write(text)
        if metrics:
            print(metrics, file=sys.stderr)
        return 0
    write_atomic(args.out, text.encode())
    if metrics:
        print(metrics)
    print(f"wrote predictions for {len(xs)} points to {args.out}", file=sys.stderr)
    return 0


# ---- pictures: training.gif for `train --animate`, and the `graph` command ----

MAX_GIF_FRAMES = 200  # each frame is held in memory (1 MB) until the GIF is written
GRAPH_MAX_NODES = 3000  # dot takes minutes beyond this, and no one can read the picture


def _each_step(*callbacks):
    """One `on_step(step, history)` that calls the given ones (None skipped) in order."""
    calls = [c for c in callbacks if c is not None]
    if len(calls) <= 1:
        return calls[0] if calls else None

    def each(step: int, history: History) -> None:
        for call in calls:
            call(step, history)
    return each


def check_animation(nin: int, steps: int, every: int | None) -> int:
    """The frame step for --animate; refuse data it cannot draw and GIFs of too many frames."""
    from micrograd.animate import frame_every

    if nin != 2:
        raise UsageError(f"--animate draws the plane of two input features; this data has {nin}")
    every = frame_every(steps) if every is None else every
    frames = steps // every + 1
    if frames > MAX_GIF_FRAMES:
        raise UsageError(f"--frame-every {every} makes {frames} frames of training.gif; use "
                         f"--frame-every {math.ceil(steps / (MAX_GIF_FRAMES - 1))} or more")
    return every


def _point(text: str) -> list[float]:
    """`x1,x2`: two finite numbers."""
    try:
        point = [float(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: use two numbers like 0,0 or 0.5,-1") from None
    if len(point) != 2:
        raise argparse.ArgumentTypeError(f"{text!r}: use two numbers like 0,0 or 0.5,-1")
    if not all(map(math.isfinite, point)):
        raise argparse.ArgumentTypeError(f"{text!r}: use finite numbers, not inf or nan")
    return point


def add_graph_parser(sub) -> None:
    g = sub.add_parser(
        "graph", help="draw the computation graph of one point through the seed's model",
        description="Draw the computation graph of one point through the seed's model (every "
                    "*, +, tanh, exp, log, with each value's data and grad after one backward), "
                    "at initialisation (graph-init.svg/png) and after training (graph.svg/png). "
                    "Needs Graphviz's `dot`; without it the .dot files are written.")
    g.add_argument("--point", type=_point, default=[0.0, 0.0], metavar="X1,X2",
                   help="the input (default 0,0; write --point=-1,0.5 for a negative x1)")
    g.add_argument("--label", type=_int_in(0, 2), default=0, help="its class 0..2 (default 0)")
    g.add_argument("--hidden", type=_hidden, default=TrainConfig().hidden,
                   help="hidden layer sizes (default 16, the seed's; 2 fits on a slide)")
    g.add_argument("--steps", type=_int_in(0, 10_000), default=TrainConfig().steps,
                   help="training steps of the seed's run before graph.svg (default 100; "
                        "0: only the untrained graph)")
    g.add_argument("--out", default=None, help="run folder (default runs/<timestamp>)")
    g.add_argument("--force", action="store_true", help="reuse an existing, non-empty --out")
    g.add_argument("--quiet", action="store_true", help="print nothing but errors")


def run_graph(args: argparse.Namespace) -> int:
    """`micrograd graph`: draw the seed model's graph on one point, untrained and trained."""
    from micrograd.graph import INSTALL_HINT, DotFailed, DotNotFound, render, trace_mlp, trace_size

    cfg = TrainConfig(hidden=args.hidden)
    sizes = [2, *cfg.hidden, 3]
    name = f"MLP {'-'.join(map(str, sizes))}"
    if trace_size(sizes) > GRAPH_MAX_NODES:
        raise UsageError(f"the graph of {name} has {trace_size(sizes)} values, too many to "
                         f"draw (at most {GRAPH_MAX_NODES}); pass a smaller --hidden")
    rng = RNG(cfg.seed)
    train_split, val_split, _ = load_splits(cfg, rng)  # the seed's run: data first, then weights
    model = seed_mlp([2, *sizes[1:]], cfg.activation, rng=rng)
    where = f"point ({args.point[0]:g}, {args.point[1]:g}), label {args.label}"
    point = f"--point={args.point[0]:g},{args.point[1]:g} --label {args.label}"

    def trace_at(when: str):
        try:
            return trace_mlp(model, args.point, args.label)
        except (ArithmeticError, ValueError) as e:
            if not is_numerical_error(e):
                raise
            why = ("the label's probability is 0 in floating point; " if str(e).startswith("log")
                   else "")
            raise UsageError(f"{point}: the loss of {name} {when} cannot be computed there "
                             f"({why}{e}); pick a point nearer the data (about -2..2)") from None

    trace = trace_at("at initialisation")
    # (file stem, DOT text, one line about it): all made before the folder; a loss of -0.0
    # (-log 1) + 0.0 prints as 0.000000
    pictures = []
    if args.steps:
        pictures.append(("graph-init", trace.to_dot(title=f"{name} at initialisation: {where}"),
                         f"at initialisation: loss {trace.loss.data + 0.0:.6f}, "
                         f"{len(trace.nodes())} values"))
        model.zero_grad()  # the traced backward's grads must not leak into the first step
        optimizer = AdamW(model.parameters(), lr=cfg.lr, betas=cfg.betas, eps=cfg.eps,
                          weight_decay=cfg.weight_decay)
        train(model, optimizer, train_split, val_split, steps=args.steps, eval_every=0,
              log=lambda line: None)
        when = f"after {args.steps} training step{'s' if args.steps != 1 else ''}"
        trace = trace_at(when)
    else:
        when = "at initialisation"
    pictures.append(("graph", trace.to_dot(title=f"{name} {when}: {where}"),
                     f"{when}: loss {trace.loss.data + 0.0:.6f}, {len(trace.nodes())} values"))
    out = prepare_out(args.out, args.force)  # only now: a refused point leaves no folder
    written, missing = [], False
    for stem, dot_text, about in pictures:
        try:
            written += [os.path.basename(p) for p in render(dot_text, os.path.join(out, stem))]
        except DotNotFound:
            written.append(f"{stem}.dot")
            missing = True
        except DotFailed as e:  # not the user's mistake, but still one line, not a traceback
            print(f"micrograd: error: {e}", file=sys.stderr)
            return 1
        if not args.quiet:
            print(f"{stem}: {name} {about} ({where})")
    if missing:
        print(f"micrograd: Graphviz's `dot` program was not found, so only "
              f"{', '.join(written)} were written to {out}; to draw them, {INSTALL_HINT}",
              file=sys.stderr)
        return 1
    if not args.quiet:
        print(f"wrote {', '.join(written)} to {out}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            raise UsageError("missing command; try 'micrograd train' (see 'micrograd --help')")
        if args.command == "eval":
            return run_eval(args)
        if args.command == "graph":
            return run_graph(args)
        if args.command == "playground":
            from micrograd import playground

            return playground.run(args)
        if args.frame_every is not None and not args.animate:
            raise UsageError("--frame-every sets the frames of --animate; add --animate")
        cfg, resume = config_from_args(args), None
        if args.resume is not None:
            cfg, resume = resume_config(args, sys.argv[1:] if argv is None else argv)
        return run_train(cfg, args.out, args.force, not args.no_plot, args.quiet,
                         save_every=args.save_every, resume=resume,
                         detect_anomaly=args.detect_anomaly, animate=args.animate,
                         frame_every=args.frame_every)
    except UsageError as e:
        print(f"micrograd: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("micrograd: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `micrograd train | head` is not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return 0
