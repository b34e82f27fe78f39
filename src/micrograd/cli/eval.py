"""`micrograd eval`: loss and accuracy per split of a checkpoint's model, or its predictions for
the points of a CSV file."""

from __future__ import annotations

import argparse
import sys

from micrograd.checkpoint import CheckpointError, data_fingerprint, load_checkpoint
from micrograd.config import config_from_checkpoint
from micrograd.data import RNG, DataError
from micrograd.errors import UsageError
from micrograd.files import WriteFailed, write_atomic
from micrograd.guard import is_numerical_error
from micrograd.nn import seed_mlp
from micrograd.resume import check_sizes, data_changed
from micrograd.run import load_splits, model_sizes


def add_parser(sub) -> None:
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


def metrics_line(model, name: str, points: list) -> str:
    """`train loss 0.000438 acc 100.0% (80 points)`; an infinite loss is `inf`."""
    from micrograd.train import evaluate

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


def run(args: argparse.Namespace) -> int:
    """`micrograd eval`: loss and accuracy per split, or predictions for --data."""
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
    if args.data is None:
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
    """`eval --data`: class probabilities for each point, to stdout or --out."""
    from micrograd.predict import check_output, load_points, predictions_csv

    try:
        if args.out is not None:
            check_output(args.out, args.force,
                         [("the checkpoint", ckpt.path), ("the --data file", args.data)])
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
