"""One training run, from its folder to its last picture: `Run`.

A `Run` owns what a run has: its folder, its config, its data (generated from the config's seed,
or a CSV shuffled with it), the model (`nn.chapter_mlp`), the AdamW optimizer, the RNG, the history,
the checkpoints (through `guard.RunGuard`) and the stop signals (`guard.StopSignals`). Its life:

    run = Run(cfg, RunOptions(...), signals)
    run.start(out, force)               # or run.resume(checkpoint, out, force)
    stopped = run.train(log)            # the loop: None, or the RunStopped that ended it early
    outcome = run.finish(stopped)       # checkpoint, metrics.csv, config.json, the pictures

Every check happens before the folder is made, so a refused run writes nothing. Resume validation
lives in one place, `micrograd.resume`: `resume_config` holds the typed flags and the output
folder to the checkpoint's run, `check_resumable` (called by `Run.resume`) its data, model and
optimizer state. Nothing here prints except the
loss lines, through the `log` the caller passes: the CLI (`micrograd.cli.train`) says the rest.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from micrograd import backends
from micrograd.backends import Engine
from micrograd.checkpoint import (
    FILENAME,
    Checkpoint,
    data_fingerprint,
    n_params,
    restore,
)
from micrograd.config import TrainConfig
from micrograd.data import DATASETS, RNG, DataError, load_csv, read_csv_text, split
from micrograd.errors import UsageError
from micrograd.files import replace_problem, same_file, write_atomic, wrong_separator
from micrograd.folder import RunFolder
from micrograd.guard import GuardedRun, RunGuard, RunStopped, StopSignals, is_numerical_error
from micrograd.history import History, TrainResult
from micrograd.nn import chapter_mlp
from micrograd.optim import adamw
from micrograd.resume import check_resumable
from micrograd.train import make_engine, train

PICTURES = ("loss.png", "boundary.png", "neurons.png")  # drawn unless --no-plot
MAX_GIF_FRAMES = 200  # each frame is held in memory (1 MB) until the GIF is written


@dataclass
class RunOptions:
    """How a run is carried out and recorded; none of it changes the numbers."""

    plot: bool = True  # loss.png, boundary.png, neurons.png
    save_every: int = 0  # also a checkpoint every K steps (0: only at the end and on a signal)
    detect_anomaly: bool = False
    animate: bool = False  # training.gif
    frame_every: int | None = None  # None: about 50 frames
    device: str = "cpu"  # the torch engine's device: cpu or cuda


@dataclass
class Outcome:
    """What `Run.finish` did: the files written, and why the run ended if it ended early."""

    out: str
    stopped: RunStopped | None
    written: list[str]
    skipped: list[str] = field(default_factory=list)  # pictures a signal kept from being drawn
    removed: list[str] = field(default_factory=list)  # old pictures removed (resume, --no-plot)
    signum: int | None = None  # a signal that came after the last step
    failed: list[str] = field(default_factory=list)  # files that could not be written, and why
    checkpoint_step: int | None = None  # the step of the checkpoint on disk, if any


class Run:
    """A training run: `start` or `resume`, then `train`, then `finish` (see the module doc)."""

    def __init__(self, cfg: TrainConfig, options: RunOptions | None = None,
                 signals: StopSignals | None = None):
        self.cfg, self.options = cfg, options or RunOptions()
        self.signals = StopSignals() if signals is None else signals
        self.out: str | None = None
        self.folder: RunFolder | None = None  # claimed (locked) in setup, released by finish
        self.checkpoint: Checkpoint | None = None  # the one it resumed from
        self.start_step, self.history, self.saved_step, self.in_place = 0, None, None, False
        self.snapshots = None  # training.gif's frames
        self.result: TrainResult | None = None

    # ---- setup: every check first, then the folder, the model and the optimizer ----

    def start(self, out: str | RunFolder | None, force: bool) -> Run:
        """Set up a new run in `out` (None: runs/<timestamp>)."""
        self._setup(out, force, None)
        return self

    def resume(self, ckpt: Checkpoint, out: str | RunFolder, force: bool) -> Run:
        """Set up the run `ckpt` holds, continued into `out` (from `resume_config`).

        Refuses other data, another model or edited optimizer settings before writing anything.
        """
        self._setup(out, force, ckpt)
        self.checkpoint = ckpt
        restore(ckpt, self.model, self.optimizer, self.rng)
        self.start_step, self.history = ckpt.step, ckpt.history
        self.in_place = same_file(ckpt.path, os.path.join(self.out, FILENAME))  # its own folder
        self.saved_step = ckpt.step if self.in_place else None
        return self

    def _setup(self, out: str | RunFolder | None, force: bool, ckpt: Checkpoint | None) -> None:
        cfg, options = self.cfg, self.options
        if isinstance(out, RunFolder):  # claimed already (a resume locks before it reads)
            self.folder = out
        check_device(cfg.engine, options.device)
        self.rng = RNG(cfg.seed)
        self.splits = load_splits(cfg, self.rng)  # data first, then weights, as the seed
        sizes = model_sizes(self.splits, cfg.hidden)
        self.nin = sizes[0]
        if options.animate:
            self.frame_every = check_animation(self.nin, cfg.steps, options.frame_every)
        self.data_sha256 = data_fingerprint(list(self.splits))
        if ckpt is not None:
            check_resumable(ckpt, cfg, sizes, self.data_sha256)
        folder = self.folder = self.folder or RunFolder(out).claim()
        self.out = folder.path
        folder.check_reusable(force)
        try:
            self._check_outputs(sizes)
        except BaseException:
            folder.abandon()
            raise
        self.model = chapter_mlp(sizes, cfg.activation, rng=self.rng)
        self.optimizer = adamw(self.model, cfg)

    def _check_outputs(self, sizes: list[int]) -> None:
        """Every file this run will write can be written: nothing in the way, and room on disk
        for a checkpoint (so an hour of training is not lost to a full disk at the end)."""
        for name in self.output_names():
            problem = replace_problem(os.path.join(self.out, name))
            if problem:
                raise UsageError(problem)
        estimate = 4096 + 64 * (n_params(sizes) + 2 * self.cfg.steps)  # checkpoint.json, about
        self.folder.probe(min(estimate, 64 << 20), "a checkpoint")

    def output_names(self) -> list[str]:
        """The files this run writes into its folder."""
        names = [FILENAME, "metrics.csv", "config.json"]
        if self.options.plot:
            names += ["loss.png", *(("boundary.png", "neurons.png") if self.nin == 2 else ())]
        if self.options.animate:
            names.append("training.gif")
        return names

    def discard(self) -> None:
        """Stopped during setup: unlock, and remove the folders this run made if still empty."""
        if self.folder is not None:
            self.folder.abandon()

    def release(self) -> None:
        """Let another run write into this folder (the lock also dies with the process)."""
        if self.folder is not None:
            self.folder.release()

    # ---- the loop ----

    def train(self, log=print, after=None) -> RunStopped | None:
        """Train to `cfg.steps`; return None, or the RunStopped (signal, bad numbers) that ended
        it. `after(step, history)` runs after each step (a progress bar)."""
        cfg, options = self.cfg, self.options
        train_split, val_split, test_split = self.splits
        if options.animate:  # the model's weights every k steps, for training.gif
            from micrograd.animate import Snapshots

            self.snapshots = Snapshots(self.model, self.frame_every, start=self.start_step)
        guard = self.guard = RunGuard(GuardedRun(
            self.out, self.model, self.optimizer, self.rng,
            config={**asdict(cfg), **recorded_options(options)},
            data_sha256=self.data_sha256, train_split=train_split, val_split=val_split,
            steps=cfg.steps, save_every=options.save_every, start_step=self.start_step,
            saved_step=self.saved_step, detect_anomaly=options.detect_anomaly,
            history=self.history, after=each_step(after, self.snapshots), signals=self.signals))
        stopped = None
        try:
            with guard:
                self.result = train(
                    self.model, self.optimizer, train_split, val_split, test_split,
                    steps=cfg.steps, eval_every=cfg.eval_every, log=log, on_step=guard.on_step,
                    start_step=self.start_step, history=self.history, engine=self._engine(),
                    batch_size=cfg.batch_size, rng=self.rng)
        except RunStopped as e:
            stopped, self.result = e, TrainResult(guard.history, {})
        except (ArithmeticError, ValueError) as e:
            if not is_numerical_error(e):  # a bug, not the numbers: let it show as one
                raise
            stopped, self.result = guard.numerical_error(e), TrainResult(guard.history, {})
        self.signals.defer()  # from here on a signal lets the file in progress finish
        return stopped

    def _engine(self) -> Engine:
        """The run's engine, built on the (restored) model, optimizer and device."""
        return make_engine(self.cfg.engine, self.model, self.nin, self.optimizer,
                           self.options.device)

    # ---- the files: the checkpoint first, then metrics and config, then the pictures ----

    def finish(self, stopped: RunStopped | None,
               on_frame: Callable[[int, int], None] | None = None) -> Outcome:
        """Write the run's files; a signal now skips the pictures not yet started. `on_frame(i,
        n)` follows the drawing of training.gif (animate.write_training_gif)."""
        self._on_frame = on_frame
        out, result = self.out, self.result
        saved = []  # the checkpoint first: the run is safe before the (slow) pictures are drawn
        if stopped is None:
            try:
                self.guard.save()
                saved = [FILENAME]
            except RunStopped as e:  # non-finite optimizer state: never saved
                stopped = e
        elif stopped.interrupted:
            saved = [FILENAME]  # on_step saved it before stopping
        failed: list[str] = []
        self._write(failed, "metrics.csv", metrics_csv(result.history))
        config = {**asdict(self.cfg), "sizes": self.model.sizes}
        self._write(failed, "config.json", json.dumps(config, indent=2) + "\n")
        removed = []
        if self.in_place and not self.options.plot:  # old pictures would show an earlier step
            for name in PICTURES:  # a folder of that name is not a picture of ours: it stays
                path = os.path.join(out, name)
                if os.path.lexists(path) and not os.path.isdir(path):
                    os.remove(path)
                    removed.append(name)
        stopping = stopped is not None and stopped.interrupted  # a signal ended training
        drawn: list[str] = []
        skipped: list[str] = []
        for names, draw in self._picture_jobs(stopped):
            if self.signals.signum is not None and not stopping:  # a signal came while drawing
                skipped += names
            elif not failed:  # after a write failed (a full disk), no more files are tried
                try:
                    drawn += draw()
                except OSError as e:
                    failed.append(f"{', '.join(names)} ({e.strerror or e})")
        self.release()
        gif = [name for name in drawn if name == "training.gif"]
        tables = [name for name in ("metrics.csv", "config.json")
                  if not any(f.startswith(name) for f in failed)]
        written = [*saved, *(n for n in drawn if n not in gif), *tables, *gif]
        outcome = Outcome(out, stopped, written, skipped, removed, self.signals.signum)
        outcome.failed = failed
        outcome.checkpoint_step = getattr(self.guard, "saved_step", None)
        return outcome

    def _write(self, failed: list[str], name: str, text: str) -> None:
        """Write one of the run's text files; a failure is noted, not raised (one line later)."""
        if failed:
            return
        try:
            write_text(os.path.join(self.out, name), text)
        except OSError as e:
            failed.append(f"{name} ({e.strerror or e})")

    def _picture_jobs(self, stopped: RunStopped | None) -> list:
        """(the files it writes, how) for each picture this run draws."""
        jobs = []
        if self.options.plot:
            jobs.append((["loss.png"], self._draw_loss))
            if self.nin == 2:
                jobs.append((["boundary.png", "neurons.png"], self._draw_model))
        if self.snapshots is not None and stopped is None:
            jobs.append((["training.gif"], self._draw_gif))
        return jobs

    @property
    def title(self) -> str:
        return f"MLP {'-'.join(map(str, self.model.sizes))} on {os.path.basename(self.cfg.dataset)}"

    @property
    def _final_val(self) -> float | None:
        return self.result.final["val"].loss if self.result.final else None

    def _split_dict(self) -> dict:
        return dict(zip(("train", "val", "test"), self.splits))

    def _draw_loss(self) -> list[str]:
        from micrograd.plot import plot_loss

        plot_loss(self.result.history, os.path.join(self.out, "loss.png"), self.title,
                  self._final_val)
        return ["loss.png"]

    def _draw_model(self) -> list[str]:  # the plane of x1, x2: the decision boundary, the neurons
        from micrograd.plot import plot_model

        return plot_model(self.model, self._split_dict(), self.out, self.title)

    def _draw_gif(self) -> list[str]:
        from micrograd.animate import write_training_gif

        self.snapshots.finish(self.cfg.steps)
        write_training_gif(self.model, self.snapshots, self.result.history, self._split_dict(),
                           os.path.join(self.out, "training.gif"), self.title,
                           final_val=self._final_val, on_frame=self._on_frame)
        return ["training.gif"]


# ---- the data and the folder ----


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


def model_sizes(splits, hidden: list[int]) -> list[int]:
    """The MLP's sizes for these splits: their features in, `hidden`, their classes out."""
    everything = [point for points in splits for point in points]
    return [len(everything[0][0]), *hidden, max(label for _, label in everything) + 1]


def _csv_problem(path: str, error: DataError) -> str:
    """The DataError's line, or the real cause when the file is not comma-separated."""
    try:
        sep = wrong_separator(read_csv_text(path))
    except DataError:
        sep = None
    if sep is None:
        return str(error)
    return f"{path}: this looks like a {sep}-separated file; use commas (rows like 0.5,-1.2,0)"


def write_text(path: str, text: str) -> None:
    """Write a text file atomically (files.write_atomic): a crash never leaves half a file."""
    write_atomic(path, text.encode("utf-8"))


def metrics_csv(history: History) -> str:
    rows = ["step,train_loss,val_loss"]
    for s, tr, va in zip(history.step, history.train_loss, history.val_loss):
        rows.append(f"{s},{tr!r},{'' if va is None else repr(va)}")
    return "\n".join(rows) + "\n"


def loss_text(loss: float) -> str:
    """A loss as the summary and `eval` print it: 6 decimals (`0.000438`), or 3 significant
    digits when 6 decimals would show fewer (`4.38e-07`, never a trained model's `0.000000`)."""
    if loss != 0.0 and abs(loss) < 1e-4 and math.isfinite(loss):
        return f"{loss:.3g}"
    return f"{loss:.6f}"


def summary(result: TrainResult) -> str:
    parts = [f"{name} loss {loss_text(m.loss)} acc {100 * m.accuracy:.1f}%"
             for name, m in result.final.items()]
    return "final: " + " | ".join(parts)


def each_step(*callbacks):
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


def check_device(engine: str, device: str) -> None:
    """--device names where the engine runs: refuse one it cannot use, or cannot find here."""
    try:
        problem = backends.problem(engine, device)
    except ImportError as e:
        raise UsageError(str(e)) from None
    if problem:
        raise UsageError(problem)


def recorded_options(options: RunOptions) -> dict[str, object]:
    """The options a checkpoint keeps besides the config because safety depends on them: a
    resumed run that silently stopped its periodic checkpoints could lose everything since."""
    return {"save_every": options.save_every}
