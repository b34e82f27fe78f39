"""`micrograd eval RUN`: loss and accuracy per split of a run's model, or its predictions for
the points of a CSV file or for points given with --point."""

from __future__ import annotations

import argparse
import math
import sys

from micrograd.checkpoint import CheckpointError, data_fingerprint, load_checkpoint
from micrograd.config import config_from_checkpoint
from micrograd.data import RNG, DataError
from micrograd.errors import UsageError
from micrograd.files import WriteFailed, write_atomic
from micrograd.guard import is_numerical_error
from micrograd.nn import chapter_mlp
from micrograd.resume import check_sizes, data_changed
from micrograd.run import load_splits, loss_text, model_sizes


def add_parser(sub) -> None:
    e = sub.add_parser("eval", help="evaluate a checkpoint, or predict new points with it",
                       description="Loss and accuracy per split of a trained model (the splits "
                                   "are regenerated from the run's config), or with --data, "
                                   "class probabilities for the points of a CSV file.")
    e.add_argument("run", nargs="?", default=None, metavar="RUN",
                   help="the run folder (or its checkpoint.json) to evaluate")
    e.add_argument("--checkpoint", default=None, metavar="PATH",
                   help="the same as RUN (a checkpoint.json or the run folder holding it)")
    e.add_argument("--data", default=None, metavar="CSV",
                   help="rows of x1,...,xn or x1,...,xn,label to predict")
    e.add_argument("--point", type=numbers, action="append", default=None, metavar="X1,X2",
                   help="a point to predict (repeat for more; write --point=-1,0.5 for a "
                        "negative x1)")
    e.add_argument("--out", default=None, metavar="CSV",
                   help="write the predictions to this file (default: stdout)")
    e.add_argument("--force", action="store_true", help="overwrite an existing --out file")


def numbers(text: str) -> list[float]:
    """`x1,...,xn`: finite numbers, as many as the model has inputs (checked once it is read)."""
    try:
        values = [float(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: use numbers like 0.5,-1") from None
    if not all(map(math.isfinite, values)):
        raise argparse.ArgumentTypeError(f"{text!r}: use finite numbers, not inf or nan")
    return values


def checkpoint_path(args: argparse.Namespace) -> str:
    """RUN or --checkpoint (one of them; both only when they agree)."""
    given = [p for p in (args.run, args.checkpoint) if p is not None]
    if not given:
        raise UsageError("name the run to evaluate: micrograd eval runs/NAME")
    if len(set(given)) > 1:
        raise UsageError(f"RUN {args.run} and --checkpoint {args.checkpoint} differ; give one")
    return given[0]


def metrics_line(model, name: str, points: list) -> str:
    """`train loss 0.000438 acc 100.0% (80 points)`; an infinite loss is `inf`."""
    from micrograd.train import evaluate

    try:
        m = evaluate(model, points)
        loss, acc = loss_text(m.loss), m.accuracy
    except (ArithmeticError, ValueError) as e:  # a probability of 0: the loss is infinite
        if not is_numerical_error(e):
            raise
        loss = "inf"
        acc = sum(max(range(len(o)), key=o.__getitem__) == y
                  for o, y in ((model.predict(x), y) for x, y in points)) / len(points)
    return f"{name} loss {loss} acc {100 * acc:.1f}% ({len(points)} points)"


def run(args: argparse.Namespace) -> int:
    """`micrograd eval`: loss and accuracy per split, or predictions for --data."""
    try:
        ckpt = load_checkpoint(checkpoint_path(args))
        cfg = config_from_checkpoint(ckpt)
    except CheckpointError as e:
        raise UsageError(str(e)) from None
    if args.data is not None and args.point:
        raise UsageError("--data and --point both name points to predict; give one")
    if args.out is not None and args.data is None and not args.point:
        raise UsageError("--out is where the predictions for --data go; pass --data FILE.csv")
    model = chapter_mlp(ckpt.sizes, ckpt.activation, rng=RNG(1))
    for p, w in zip(model.parameters(), ckpt.weights):
        p.data = w
    if args.data is None and not args.point:
        splits = load_splits(cfg, RNG(cfg.seed))
        if data_fingerprint(list(splits)) != ckpt.data_sha256:
            raise data_changed(cfg, ckpt, "pass --data to use new data")
        check_sizes(ckpt, model_sizes(splits, cfg.hidden))  # an edited config, a model of 4 inputs
        for name, points in zip(("train", "val", "test"), splits):
            if points:
                print(metrics_line(model, name, points))
        return 0
    return predict(args, ckpt, model)


def predict(args: argparse.Namespace, ckpt, model) -> int:
    """`eval --data` or `--point`: class probabilities for each point, to stdout or --out."""
    from micrograd.predict import check_output, load_points, predictions_csv

    try:
        if args.out is not None:
            inputs = [("the checkpoint", ckpt.path)]
            check_output(args.out, args.force,
                         inputs + ([("the --data file", args.data)] if args.data else []))
        if args.point:
            xs, labels = given_points(args.point, ckpt.sizes[0]), None
        else:
            xs, labels = load_points(args.data, ckpt.sizes[0], ckpt.sizes[-1])
    except DataError as e:
        raise UsageError(str(e)) from None
    text = predictions_csv(model, xs, labels)
    metrics = None if labels is None else metrics_line(model, "data", list(zip(xs, labels)))
    if args.out is None:
        sys.stdout.write(text)
        if metrics:
            print(metrics, file=sys.stderr)
        return 0
    try:
        write_atomic(args.out, text.encode())
    except OSError as e:  # a full disk, or a file that became read-only since the check
        raise WriteFailed(f"cannot write {args.out}: {e.strerror or e}; nothing was "
                          "written") from None
    if metrics:
        print(metrics)
    print(f"wrote predictions for {len(xs)} points to {args.out}", file=sys.stderr)
    return 0


def given_points(points: list[list[float]], nin: int) -> list[list[float]]:
    """The --point values, each with as many numbers as the model has inputs."""
    for x in points:
        if len(x) != nin:
            example = ",".join(["0.5"] * nin)
            raise UsageError(f"--point {','.join(f'{v:g}' for v in x)} has {len(x)} numbers; "
                             f"the model takes {nin}, like --point={example}")
    return points
