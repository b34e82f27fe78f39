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
import sys
import time
from dataclasses import asdict, dataclass, field

from micrograd.data import DATASETS, RNG, DataError, load_csv, split
from micrograd.nn import ACTIVATIONS, MLP
from micrograd.optim import AdamW
from micrograd.train import History, TrainResult, train

EXIT_USAGE = 2
NOISY = ("moons", "circles", "spiral", "xor")
LIMITS = {"n": 100_000, "steps": 1_000_000, "width": 1024, "depth": 8}


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


class _Parser(argparse.ArgumentParser):
    """argparse that reports a mistake in one line instead of usage text."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message} (see '{self.prog} --help')")


def _int_in(lo: int, hi: int):
    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if not lo <= v <= hi:
            raise argparse.ArgumentTypeError(f"{v} is out of range {lo}..{hi}")
        return v
    return parse


def _float_in(lo: float, hi: float, lo_open: bool = False):
    def parse(text: str) -> float:
        try:
            v = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not math.isfinite(v) or v > hi or v < lo or (lo_open and v == lo):
            bracket = "(" if lo_open else "["
            raise argparse.ArgumentTypeError(
                f"{text} is not a finite number in {bracket}{lo}, {hi}]")
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
    t.add_argument("--n", type=_int_in(10, LIMITS["n"]), default=None,
                   help=f"number of points to generate (default {d.n}; 80/10/10 split)")
    t.add_argument("--noise", type=_float_in(0.0, 10.0), default=None,
                   help=f"noise of {', '.join(NOISY)} (default: the dataset's own)")
    t.add_argument("--hidden", type=_hidden, default=d.hidden,
                   help="hidden layer sizes, e.g. 16 or 16,16 (default 16)")
    t.add_argument("--activation", choices=[a for a in ACTIVATIONS if a != "linear"],
                   default=d.activation, help="hidden-layer activation (default tanh)")
    t.add_argument("--steps", type=_int_in(1, LIMITS["steps"]), default=d.steps)
    t.add_argument("--lr", type=_float_in(0.0, 10.0, lo_open=True), default=d.lr,
                   help="AdamW learning rate (default 0.1)")
    t.add_argument("--weight-decay", type=_float_in(0.0, 1.0), default=d.weight_decay,
                   help="AdamW decoupled weight decay (default 1e-4)")
    t.add_argument("--seed", type=_int_in(1, 2**64 - 1), default=d.seed,
                   help="RNG seed for data then weights (default 42)")
    t.add_argument("--eval-every", type=_int_in(1, LIMITS["steps"]), default=d.eval_every,
                   help="val loss every K steps (default 10)")
    t.add_argument("--out", default=None, help="run folder (default runs/<timestamp>)")
    t.add_argument("--force", action="store_true", help="reuse an existing, non-empty --out")
    t.add_argument("--no-plot", action="store_true", help="skip loss.png")
    t.add_argument("--quiet", action="store_true",
                   help="print only the loss lines: no summary, no progress bar, no messages")
    return parser


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    cfg = TrainConfig(dataset=args.dataset, hidden=args.hidden, activation=args.activation,
                      steps=args.steps, lr=args.lr, weight_decay=args.weight_decay,
                      seed=args.seed, eval_every=args.eval_every, noise=args.noise)
    is_csv = cfg.dataset not in DATASETS
    if is_csv and not cfg.dataset.lower().endswith(".csv") and not os.path.exists(cfg.dataset):
        raise UsageError(f"unknown dataset {cfg.dataset!r}; use one of {', '.join(DATASETS)} "
                         "or the path of a CSV file")
    if args.n is not None:
        if is_csv:
            raise UsageError("--n does not apply to a CSV dataset; it uses every row of the file")
        cfg.n = args.n
    if cfg.noise is not None and cfg.dataset not in NOISY:
        raise UsageError(f"--noise applies to {', '.join(NOISY)}, not {cfg.dataset!r}")
    return cfg


def load_splits(cfg: TrainConfig, rng: RNG):
    """The dataset's splits; a CSV is shuffled with `rng` first, so every split gets each class."""
    if cfg.dataset in DATASETS:
        kwargs = {} if cfg.noise is None else {"noise": cfg.noise}
        return DATASETS[cfg.dataset](rng, cfg.n, **kwargs)
    try:
        points = load_csv(cfg.dataset)
    except FileNotFoundError:
        raise UsageError(f"dataset file {cfg.dataset!r} does not exist") from None
    except (PermissionError, IsADirectoryError) as e:
        raise UsageError(f"cannot read dataset file {cfg.dataset!r}: {e.strerror}") from None
    except DataError as e:
        raise UsageError(str(e)) from None
    if len(points) < 10:
        raise UsageError(f"{cfg.dataset}: {len(points)} rows; need at least 10 for an 80/10/10 "
                         "split")
    for i in range(len(points) - 1, 0, -1):  # Fisher-Yates, driven by the run's RNG
        j = rng.random_u32() % (i + 1)
        points[i], points[j] = points[j], points[i]
    return split(points)


def prepare_out(out: str | None, force: bool) -> str:
    """Create the run folder; refuse to reuse a non-empty one unless `force`."""
    if out is None:
        base = os.path.join("runs", time.strftime("%Y%m%d-%H%M%S"))
        out, k = base, 1
        while os.path.exists(out):
            k += 1
            out = f"{base}-{k}"
    if os.path.exists(out) and not os.path.isdir(out):
        raise UsageError(f"--out {out!r} is a file, not a folder; pick another --out")
    if os.path.isdir(out) and os.listdir(out) and not force:
        raise UsageError(f"run folder {out!r} already exists and is not empty; pick another "
                         "--out or pass --force to overwrite its files")
    try:
        os.makedirs(out, exist_ok=True)
        probe = os.path.join(out, ".write-test")
        with open(probe, "w"):
            pass
        os.remove(probe)
    except OSError as e:
        raise UsageError(f"cannot write to run folder {out!r}: {e.strerror}") from None
    return out


def write_text_atomic(path: str, text: str) -> None:
    """Write via a temporary file and os.replace: a crash never leaves half a file."""
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    os.replace(tmp, path)


def metrics_csv(history: History) -> str:
    rows = ["step,train_loss,val_loss"]
    for s, tr, va in zip(history.step, history.train_loss, history.val_loss):
        rows.append(f"{s},{tr!r},{'' if va is None else repr(va)}")
    return "\n".join(rows) + "\n"


def summary(result: TrainResult) -> str:
    parts = [f"{name} loss {m.loss:.6f} acc {100 * m.accuracy:.1f}%"
             for name, m in result.final.items()]
    return "final: " + " | ".join(parts)


def run_train(cfg: TrainConfig, out: str | None, force: bool, plot: bool, quiet: bool) -> int:
    rng = RNG(cfg.seed)
    train_split, val_split, test_split = load_splits(cfg, rng)
    everything = train_split + val_split + test_split
    nin, nclasses = len(everything[0][0]), max(label for _, label in everything) + 1
    out = prepare_out(out, force)
    model = MLP(nin, [*cfg.hidden, nclasses], activation=cfg.activation, rng=rng)
    optimizer = AdamW(model.parameters(), lr=cfg.lr, betas=cfg.betas, eps=cfg.eps,
                      weight_decay=cfg.weight_decay)

    bar = None
    log = print
    if not quiet and sys.stderr.isatty():
        from tqdm import tqdm  # a bar only for a person watching, and only after a moment

        bar = tqdm(total=cfg.steps, file=sys.stderr, delay=1.0, leave=False, unit="step")

        def log(line: str) -> None:
            bar.write(line, file=sys.stdout)

    try:
        result = train(model, optimizer, train_split, val_split, test_split, steps=cfg.steps,
                       eval_every=cfg.eval_every, log=log,
                       on_step=None if bar is None else lambda *_: bar.update())
    finally:
        if bar is not None:
            bar.close()
    if not quiet:
        print(summary(result))
    sys.stdout.flush()

    write_text_atomic(os.path.join(out, "metrics.csv"), metrics_csv(result.history))
    config = {**asdict(cfg), "sizes": model.sizes}
    write_text_atomic(os.path.join(out, "config.json"), json.dumps(config, indent=2) + "\n")
    written = ["metrics.csv", "config.json"]
    if plot:
        from micrograd.plot import plot_loss

        title = f"MLP {'-'.join(map(str, model.sizes))} on {os.path.basename(cfg.dataset)}"
        plot_loss(result.history, os.path.join(out, "loss.png"), title, result.final["val"].loss)
        written.insert(0, "loss.png")
    if not quiet:
        print(f"wrote {', '.join(written)} to {out}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            raise UsageError("missing command; try 'micrograd train' (see 'micrograd --help')")
        cfg = config_from_args(args)
        return run_train(cfg, args.out, args.force, not args.no_plot, args.quiet)
    except UsageError as e:
        print(f"micrograd: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("micrograd: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `micrograd train | head` is not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return 0
