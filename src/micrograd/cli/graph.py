"""`micrograd graph`: the computation graph of one point through the chapter's model, drawn at
initialisation and after training (DOT, and SVG/PNG when Graphviz's `dot` is installed)."""

from __future__ import annotations

import argparse
import os
import sys

from micrograd.cli.args import hidden, int_in, point
from micrograd.config import TrainConfig
from micrograd.data import RNG, chapter_label
from micrograd.errors import UsageError
from micrograd.files import write_atomic
from micrograd.folder import prepare_out
from micrograd.guard import is_numerical_error
from micrograd.nn import chapter_mlp
from micrograd.optim import adamw
from micrograd.run import load_splits
from micrograd.train import train

GRAPH_MAX_NODES = 3000  # dot takes minutes beyond this, and no one can read the picture


def add_parser(sub) -> None:
    g = sub.add_parser(
        "graph", help="draw the computation graph of one point through the chapter's model",
        description="Draw the computation graph of one point through the chapter's model (every "
                    "*, +, tanh, exp, log, with each value's data and grad after one backward), "
                    "at initialisation (graph-init.svg/png) and after training (graph.svg/png). "
                    "Needs Graphviz's `dot`; without it the .dot files are written.")
    g.add_argument("--point", type=point, default=None, metavar="X1,X2",
                   help="the input (default: the run's first training point; write "
                        "--point=-1,0.5 for a negative x1)")
    g.add_argument("--label", type=int_in(0, 2), default=None,
                   help="its class 0..2 (default: the class the chapter's data give the point)")
    g.add_argument("--hidden", type=hidden, default=TrainConfig().hidden,
                   help="hidden layer sizes (default 16, the chapter's; 2 fits on a slide)")
    g.add_argument("--steps", type=int_in(0, 10_000), default=TrainConfig().steps,
                   help="training steps of the chapter's run before graph.svg (default 100; "
                        "0: only the untrained graph)")
    g.add_argument("--walk", action="store_true",
                   help="also write walk.html: the last graph's forward pass and backpropagation "
                        "step by step, with step / back / play buttons (a standalone page)")
    g.add_argument("--out", default=None, help="run folder (default runs/<timestamp>)")
    g.add_argument("--force", action="store_true", help="reuse an existing, non-empty --out")
    g.add_argument("--quiet", action="store_true", help="print nothing but errors")


def pictures(args: argparse.Namespace, name: str) -> list[tuple[str, str, str]]:
    """(file stem, DOT text, one line about it) for each graph, all made before any folder."""
    from micrograd.graph import trace_mlp
    from micrograd.walk import step_count

    cfg = TrainConfig(hidden=args.hidden)
    rng = RNG(cfg.seed)
    train_split, val_split, _ = load_splits(cfg, rng)  # the chapter's run: data first, then weights
    model = chapter_mlp([2, *cfg.hidden, 3], cfg.activation, rng=rng)
    if args.point is None:  # a point the run trains on, so its loss is the run's (not the
        args.point = list(train_split[0][0])  # three-class junction at (0, 0): no model is sure)
        whose = " (the first training point)"
    else:
        whose = ""
    if args.label is None:
        args.label = chapter_label(*args.point)
    where = f"point ({args.point[0]:.4g}, {args.point[1]:.4g}), label {args.label}{whose}"
    typed = f"--point={args.point[0]:g},{args.point[1]:g} --label {args.label}"

    def trace_at(when: str):
        try:
            return trace_mlp(model, args.point, args.label)
        except (ArithmeticError, ValueError) as e:
            if not is_numerical_error(e):
                raise
            why = ("the label's probability is 0 in floating point; " if str(e).startswith("log")
                   else "")
            raise UsageError(f"{typed}: the loss of {name} {when} cannot be computed there "
                             f"({why}{e}); pick a point nearer the data (about -2..2)") from None

    trace = trace_at("at initialisation")
    made = []  # a loss of -0.0 (-log 1) + 0.0 prints as 0.000000
    if args.steps:
        made.append(("graph-init", trace.to_dot(title=f"{name} at initialisation: {where}"),
                     f"at initialisation: loss {trace.loss.data + 0.0:.4g}, "
                     f"{len(trace.nodes())} values ({where})"))
        model.zero_grad()  # the traced backward's grads must not leak into the first step
        train(model, adamw(model, cfg), train_split, val_split, steps=args.steps, eval_every=0,
              log=lambda line: None)
        when = f"after {args.steps} training step{'s' if args.steps != 1 else ''}"
        trace = trace_at(when)
    else:
        when = "at initialisation"
    made.append(("graph", trace.to_dot(title=f"{name} {when}: {where}"),
                 f"{when}: loss {trace.loss.data + 0.0:.4g}, {len(trace.nodes())} values "
                 f"({where})"))
    if getattr(args, "walk", False):
        made.append(("walk", walk_page(trace, f"{name} {when}: {where}"),
                     f"{when}, step by step: {step_count(trace.loss)} steps ({where})"))
    return made


def walk_page(trace, title: str) -> str:
    """walk.html's text, or "" when `dot` is missing (then it is named among the missing)."""
    from micrograd.graph import DotNotFound
    from micrograd.walk import walk_html

    try:
        return walk_html(trace.loss, f"Backpropagation, step by step: {title}", **trace.style())
    except DotNotFound:
        return ""


def run(args: argparse.Namespace) -> int:
    """`micrograd graph`: draw the chapter's model's graph on one point, untrained and trained."""
    from micrograd.graph import INSTALL_HINT, DotFailed, DotNotFound, render, trace_size

    sizes = [2, *args.hidden, 3]
    name = f"MLP {'-'.join(map(str, sizes))}"
    if trace_size(sizes) > GRAPH_MAX_NODES:
        raise UsageError(f"the graph of {name} has {trace_size(sizes)} values, too many to "
                         f"draw (at most {GRAPH_MAX_NODES}); pass a smaller --hidden")
    made = pictures(args, name)
    out = prepare_out(args.out, args.force)  # only now: a refused point leaves no folder
    written, missing = [], False
    for stem, dot_text, about in made:
        if stem == "walk":  # a page, not DOT text
            if dot_text:
                write_atomic(os.path.join(out, "walk.html"), dot_text.encode("utf-8"))
                written.append("walk.html")
            else:
                missing = True
            if not args.quiet:
                print(f"{stem}: {name} {about}")
            continue
        try:
            written += [os.path.basename(p) for p in render(dot_text, os.path.join(out, stem))]
        except DotNotFound:
            written.append(f"{stem}.dot")
            missing = True
        except DotFailed as e:  # not the user's mistake, but still one line, not a traceback
            print(f"micrograd: error: {e}", file=sys.stderr)
            return 1
        if not args.quiet:
            print(f"{stem}: {name} {about}")
    if missing:
        print(f"micrograd: Graphviz's `dot` program was not found, so only "
              f"{', '.join(written)} were written to {out}; to draw them, {INSTALL_HINT}",
              file=sys.stderr)
        return 1
    if not args.quiet:
        print(f"wrote {', '.join(written)} to {out}", file=sys.stderr)
    return 0
