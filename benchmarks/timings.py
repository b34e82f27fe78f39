"""How long the everyday operations take: `python benchmarks/timings.py [--repeats 5]`.

The test suite checks what these do (a checkpoint is small and whole, the grid builds no graph,
the wide tape compiles to a few lines of matrix code, --animate writes its GIF); how fast they
are depends on the machine and its load, so it is measured here, never asserted there:

- checkpoint: writing the chapter's MLP 2-16-3 after 100 steps (with fsync), and loading it;
- grid: the plain-float forward of the chapter's trained model on a 100×100 grid (`plot.py`);
- wide build: recording and compiling the numpy tape of 2-256-256-3 (67,331 parameters);
- animate: the whole `micrograd train --animate` process on the chapter's run, as a ratio to
  `micrograd train --no-plot` measured alongside (the animation's own cost).

Prints the median of `--repeats` runs of each (the animate pair interleaved) and the targets,
met or MISSED; docs/checkpoints.md, docs/pictures.md and docs/engines.md quote the figures.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from report import code_version, fmt_seconds, machine, markdown_table

from micrograd.checkpoint import data_fingerprint, load_checkpoint, save_checkpoint
from micrograd.data import RNG, gen_data
from micrograd.nn import chapter_mlp
from micrograd.optim import AdamW
from micrograd.train import History, train

TARGETS = {  # seconds: what the test suite used to assert, now a benchmark's target
    "checkpoint write": 1.0, "grid forward": 0.1, "wide build": 2.0, "train --animate": 30.0}


def median_seconds(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def chapter_model(steps: int):
    """The chapter's model, data and AdamW after `steps` steps."""
    rng = RNG(42)
    splits = gen_data(rng, 100)
    model = chapter_mlp([2, 16, 3], rng=rng)
    opt = AdamW(model.parameters(), lr=0.1, betas=(0.9, 0.95), eps=1e-8, weight_decay=1e-4)
    if steps:
        train(model, opt, splits[0], splits[1], steps=steps, eval_every=0, log=lambda s: None)
    return model, opt, rng, splits


def checkpoint(repeats: int) -> dict[str, float]:
    model, opt, rng, splits = chapter_model(0)
    history = History(list(range(100)), [0.5] * 100, [None] * 100)
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "checkpoint.json")
        write = median_seconds(lambda: save_checkpoint(
            path, model, opt, rng, 100, history, {}, data_fingerprint(list(splits))), repeats)
        load = median_seconds(lambda: load_checkpoint(path), repeats)
    return {"checkpoint write": write, "checkpoint load": load}


def grid(repeats: int) -> dict[str, float]:
    from micrograd import plot

    model = chapter_model(100)[0]
    _, _, points = plot.grid((-2.4, 2.4, -2.4, 2.4), 100)
    return {"grid forward": median_seconds(lambda: plot.predict_points(model, points), repeats)}


def wide_build(repeats: int) -> dict[str, float]:
    from micrograd.tape import BatchTape

    model = chapter_mlp([2, 256, 256, 3], rng=RNG(1))
    return {"wide build": median_seconds(lambda: BatchTape(model, 2, backend="numpy"), repeats)}


def animate(repeats: int) -> dict[str, float]:
    """The whole processes, interleaved so that other load hits both alike."""
    times: dict[str, list[float]] = {"train --animate": [], "train --no-plot": []}
    for _ in range(repeats):
        for name in times:
            with tempfile.TemporaryDirectory() as tmp:
                cmd = [sys.executable, "-m", "micrograd", *name.split(), "--quiet",
                       "--out", str(Path(tmp) / "run")]
                start = time.perf_counter()
                subprocess.run(cmd, check=True, capture_output=True, timeout=600)
                times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


MEASURES = {"checkpoint": checkpoint, "grid": grid, "wide": wide_build, "animate": animate}


def render(found: dict[str, float], repeats: int) -> list[str]:
    rows = [[name, f"{1000 * s:.1f} ms" if s < 1 else f"{fmt_seconds(s)} s"]
            for name, s in found.items()]
    lines = [markdown_table(["what", f"median of {repeats}"], rows), "",
             "Targets:"]
    for name, limit in TARGETS.items():
        if name in found:
            verdict = "met" if found[name] < limit else "MISSED"
            lines.append(f"- {name} < {limit:g} s: {verdict} ({fmt_seconds(found[name])} s)")
    if "train --animate" in found:
        ratio = found["train --animate"] / found["train --no-plot"]
        lines.append(f"- train --animate ÷ train --no-plot, same run: {ratio:.1f}×")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="benchmarks/timings.py",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="runs of each (default 5)")
    parser.add_argument("--only", default=",".join(MEASURES),
                        help=f"comma-separated subset of {','.join(MEASURES)}")
    args = parser.parse_args(argv)
    names = [n for n in args.only.split(",") if n]
    if args.repeats < 1 or any(n not in MEASURES for n in names):
        parser.error(f"--repeats must be at least 1; --only takes {','.join(MEASURES)}")
    found: dict[str, float] = {}
    for name in names:
        found.update(MEASURES[name](args.repeats))
    print(f"Measured on {machine()}; {code_version()}.\n")
    print("\n".join(render(found, args.repeats)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
