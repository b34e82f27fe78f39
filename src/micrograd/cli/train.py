"""`micrograd train`: its flags (made from the settings schema), and a `Run` (micrograd.run)
started or resumed, then reported.

The loss lines are the program's output and go to stdout in the chapter's exact format; everything
else (where files went, the progress bar, why a run stopped) goes to stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import shlex
import signal
import sys

from micrograd import backends
from micrograd.cli.args import add_setting
from micrograd.config import FLAGGED, TrainConfig, config_from_settings
from micrograd.errors import EXIT_WRITE, UsageError, signal_exit_code
from micrograd.folder import RunFolder
from micrograd.guard import Interrupted, RunStopped, StopSignals
from micrograd.resume import recorded_save_every, resume_config, resume_target
from micrograd.run import Outcome, Run, RunOptions, summary
from micrograd.settings import RUN
from micrograd.streams import GuardedStream

# how a flag departs from its setting's entry: --n's default None means "not typed" (a CSV
# dataset refuses it; a generated one takes the schema's 100)
FLAG_OPTIONS = {"n": {"default": None}, "batch_size": {"metavar": "B"}}


def add_parser(sub) -> argparse.ArgumentParser:
    t = sub.add_parser("train", help="train an MLP (default: exactly the chapter's run)",
                       description="Train an MLP; with no flags, the chapter's run (MLP 2-16-3, "
                                   "AdamW, 100 steps on the chapter's 3-class data).",
                       records_given=True)  # args.given: what --resume may change
    for name in FLAGGED:  # in the schema's order
        add_setting(t, RUN[name], **FLAG_OPTIONS.get(name, {}))
    engines = [backends.lookup(name) for name in backends.names()]
    devices = list(dict.fromkeys(d for e in engines for d in e.devices))
    t.add_argument("--device", choices=devices, default="cpu",
                   help="where the engine runs: " + ", ".join(devices) + " (default cpu; "
                        + ", ".join(f"--engine {e.name}: {'/'.join(e.devices)}"
                                    for e in engines if e.devices != ("cpu",)) + ")")
    add_output_flags(t)
    return t


def add_output_flags(t: argparse.ArgumentParser) -> None:
    """The flags of how a run is carried out and recorded (RunOptions, the folder, resume)."""
    t.add_argument("--out", default=None, help="run folder (default runs/<timestamp>)")
    t.add_argument("--force", action="store_true", help="reuse an existing, non-empty --out")
    t.add_argument("--no-plot", action="store_true",
                   help="skip loss.png, boundary.png and neurons.png")
    t.add_argument("--animate", action="store_true",
                   help="also write training.gif: the decision boundary and the loss curves, "
                        "one frame every --frame-every steps (2-D data only)")
    add_setting(t, RUN["frame_every"], metavar="K")
    t.add_argument("--quiet", action="store_true",
                   help="print only the loss lines: no summary, no progress bar, no messages")
    add_setting(t, RUN["save_every"], metavar="K")
    t.add_argument("--resume", default=None, metavar="RUN",
                   help="continue the run in folder RUN (or from a checkpoint.json) where it "
                        "stopped; it writes into that folder unless --out is given")
    t.add_argument("--detect-anomaly", action="store_true",
                   help="when a loss goes NaN/inf, name the first operation that produced it")


def run(args: argparse.Namespace) -> int:
    """`micrograd train`: the parsed arguments into a config, start or resume the run, say how
    it went. `args.given` holds the options typed (the train parser records them)."""
    if args.frame_every is not None and not args.animate:
        raise UsageError("--frame-every sets the frames of --animate; add --animate")
    cfg = config_from_settings({name: getattr(args, name) for name in FLAGGED})
    options = RunOptions(plot=not args.no_plot, save_every=args.save_every,
                         detect_anomaly=args.detect_anomaly, animate=args.animate,
                         frame_every=args.frame_every, device=args.device)
    if args.resume is None:
        return run_train(cfg, args.out, args.force, options, args.quiet)
    with StopSignals() as signals:
        try:  # the folder is locked before its checkpoint is read: no second run can move it
            target = resume_target(args.resume, args.out)
            folder = RunFolder(target).claim() if target is not None else None
        except Interrupted as e:
            return report_setup_stop(e, None, args.resume)
        try:
            given = args.given
            cfg, resume, out, force = resume_config(args.resume, given, args.out, args.force)
        except BaseException as e:
            if folder is not None:
                folder.abandon()
            if isinstance(e, Interrupted):  # while a large checkpoint was read
                return report_setup_stop(e, None, args.resume)
            raise
        if "save_every" not in given:  # the run keeps its periodic checkpoints
            options.save_every = recorded_save_every(resume)
        return run_train(cfg, folder or out, force, options, args.quiet, resume, signals)


def run_train(cfg: TrainConfig, out: str | RunFolder | None, force: bool, options: RunOptions,
              quiet: bool, resume=None, signals: StopSignals | None = None) -> int:
    """SIGINT, SIGTERM and SIGHUP are held from start to end (guard.StopSignals); a failing
    stdout asks the run to stop as a signal would (streams.GuardedStream)."""
    with contextlib.ExitStack() as stack:
        if signals is None:
            signals = stack.enter_context(StopSignals())
        stop_when_stdout_fails(signals)
        run = Run(cfg, options, signals)
        try:
            if resume is None:
                run.start(out, force)
            else:
                run.resume(resume, out, force)
                if not quiet:
                    print(f"{resume.path}: " + (
                        f"resuming at step {resume.step} of {cfg.steps}"
                        if resume.step < cfg.steps else
                        f"all {cfg.steps} steps are done (pass --steps N to train further)"),
                        file=sys.stderr)
            stopped = train_with_progress(run, quiet)
        except Interrupted as e:  # during setup: nothing written yet
            run.discard()
            return report_setup_stop(e, resume)
        except BaseException:
            run.discard()  # the lock, and a folder this run made and left empty
            raise
        if not quiet and run.result.final:
            print(summary(run.result))
        sys.stdout.flush()
        progress = DrawingProgress(quiet)
        try:
            outcome = run.finish(stopped, progress)
        finally:
            progress.close()
        return report(outcome, quiet)


def stop_when_stdout_fails(signals: StopSignals) -> None:
    """A closed or full stdout (streams.guarded) stops the run at its next step, saved."""
    stdout = sys.stdout
    if isinstance(stdout, GuardedStream):
        stdout.listeners.append(lambda s: signals.request(s.why, s.exit_code))


def report_setup_stop(e: Interrupted, resume, resuming: str | None = None) -> int:
    """A signal during setup: nothing was written; say what to do. `resuming`: the --resume
    path, when the signal came before its checkpoint was read."""
    if resume is not None:
        what = f"{resume.path} is unchanged (step {resume.step}); resume from it again"
    elif resuming is not None:
        what = f"{resuming} is unchanged; resume from it again"
    else:
        what = ("no checkpoint exists yet (nothing to resume); run the command again to "
                "start over")
    print(f"micrograd: {e} during setup, before the first step was done: {what}",
          file=sys.stderr)
    return e.exit_code


def train_with_progress(run: Run, quiet: bool) -> RunStopped | None:
    """`run.train`, with a progress bar only for a person watching, and only after a moment."""
    if quiet or not sys.stderr.isatty():
        return run.train(print)
    from tqdm import tqdm

    bar = tqdm(total=run.cfg.steps, initial=run.start_step, file=sys.stderr, delay=1.0,
               leave=False, unit="step")
    try:
        return run.train(lambda line: bar.write(line, file=sys.stdout),
                         lambda *_: bar.update())
    finally:
        close_bar(bar)


class DrawingProgress:
    """training.gif's frames as they are drawn (seconds after the log ends): on a terminal a bar
    like training's, otherwise one line "drawing training.gif ..."; nothing when quiet."""

    def __init__(self, quiet: bool):
        self.quiet, self.bar = quiet, None

    def __call__(self, done: int, total: int) -> None:
        if self.quiet:
            return
        if done == 0:
            if not sys.stderr.isatty():
                print(f"drawing training.gif ({total} frames) ...", file=sys.stderr, flush=True)
                return
            from tqdm import tqdm

            self.close()
            self.bar = tqdm(total=total, file=sys.stderr, leave=False, unit="frame",
                            desc="drawing training.gif")
        elif self.bar is not None:
            self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            close_bar(self.bar)
            self.bar = None


def close_bar(bar) -> None:
    """Show the bar's last count, then remove it. tqdm redraws at most every 0.1 s, so its last
    drawing could say "99/100", and that is what stays where a carriage return does not erase
    a line (a recording of the terminal, some consoles). A bar still within its `delay` was never
    shown and stays so."""
    if bar._time() - bar.start_t >= bar.delay:  # tqdm's own clock
        bar.refresh()
    bar.close()


def report(outcome: Outcome, quiet: bool) -> int:
    """Say where the run's files went (and why it stopped); return the exit code."""
    out, written, skipped = outcome.out, outcome.written, outcome.skipped
    if outcome.failed and (outcome.stopped is None or outcome.stopped.exit_code != EXIT_WRITE):
        kept = (f"the checkpoint of step {outcome.checkpoint_step} is safe in {out}"
                if outcome.checkpoint_step is not None else "no checkpoint was written")
        print(f"micrograd: error: could not write {', '.join(outcome.failed)} in {out}; "
              f"{kept}; free some space, then micrograd train --resume {shlex.quote(out)} "
              "writes them", file=sys.stderr)
        return EXIT_WRITE
    if outcome.stopped is not None:
        return report_stop(outcome.stopped, written, out, quiet, skipped)
    if outcome.signum is not None:  # a signal after the last step: the checkpoint is there
        name = signal.Signals(outcome.signum).name
        rest = (f"; not drawn: {', '.join(skipped)} (micrograd train --resume "
                f"{shlex.quote(out)} draws them)" if skipped else "; the run is complete")
        print(f"micrograd: interrupted by {name} after the last step, while writing the run's "
              f"files: wrote {', '.join(written)} to {out}{rest}", file=sys.stderr)
        return signal_exit_code(outcome.signum)
    if not quiet:
        gone = (f"; removed the old {', '.join(outcome.removed)} (--no-plot: they showed an "
                "earlier step)" if outcome.removed else "")
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
