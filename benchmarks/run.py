"""Speed and memory of every engine on the chapter's run, and how they scale.

Run `python benchmarks/run.py` (several minutes) or `python benchmarks/run.py --quick`.

Every measurement is a fresh process (`worker.py`): the baseline (PyPI micrograd 0.1.0, loaded
from its wheel, never installed), our eager engine, tape and NumPy tape, and PyTorch float64 one
sample at a time and full batch, plus the whole `micrograd train --no-plot` command. Repetitions
are interleaved (one of each engine, then again), so load from other programs hits all alike.

Prints three Markdown tables: the chapter's run (loop and build seconds, whole-process seconds, peak
memory, speed-up over the baseline, deviation of the printed losses from the chapter's log), a
scaling table at 1,000, 10,000 and 100,000 points (with each loop's ratio to PyTorch's full
batch), and wide models (2-64-64-3, 2-256-256-3: `wide.py`); then whether the speed targets
are met. Hand-written NumPy (`hand.py`) is the limit row. Options: `--quick` (chapter table only,
one repetition unless `--repeats N`; `--wide` adds the wide table), `--out FILE` (also write
the report as Markdown); see `--help`.
This script imports only the standard library, so its own memory stays small (see `worker.py`
on why that matters for the peak-memory column).
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import json
import math
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import baseline
from calls import calls_table, calls_targets, render_calls
from report import (
    Row,
    Run,
    code_version,
    fmt_dev,
    fmt_growth,
    fmt_mib,
    fmt_ratio,
    fmt_seconds,
    machine,
    markdown_table,
    src_stamp,
)
from wide import MODELS, POINTS, STEPS, render_wide, vs_torch_targets, wide_table
from workloads import LABELS, OURS, WORKLOADS

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CHAPTER_LOG_ENV = "MICROGRAD_CHAPTER_LOG"
# the LLM101n chapter micro_grad's printed run
CHAPTER_LOG = REPO / "tests" / "data" / "chapter_log.txt"
CLI = "cli"  # the row of the whole `micrograd train --no-plot` command
LABELS = {**LABELS, CLI: "`micrograd train --no-plot` (default engine)"}
SIZES = (1_000, 10_000, 100_000)
TARGET_RATIOS = {"eager": 10.0, "tape": 50.0, "numpy": 150.0}
TOLERANCE = 1e-12  # relative, on the printed train losses
MEMORY_LIMIT_KIB = 1e9 / 1024  # 1 GB
LOG_LINE = re.compile(r"^step (\d+), (train|val) loss (\S+)$")


def spawn(cmd: list[str], timeout: float) -> tuple[str, str, int, float, int]:
    """Run `cmd`; return stdout, stderr, exit code, wall seconds and the child's ru_maxrss.

    os.wait4 gives this child's own rusage (RUSAGE_CHILDREN would be a max over all children).
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        timer = threading.Timer(timeout, proc.kill)  # kills only the process we started
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        wall = time.perf_counter() - start
        code = proc.returncode = os.waitstatus_to_exitcode(status)  # reaped: kill() is a no-op
        out.seek(0)
        err.seek(0)
        return out.read().decode(), err.read().decode(), code, wall, usage.ru_maxrss


def measure(name: str, n: int, steps: int, wheel: Path | None, timeout: float,
            model: str = "2-16-3") -> Run:
    """One worker process running workload `name` with the MLP `model`."""
    cmd = [sys.executable, str(HERE / "worker.py"), name, str(n), str(steps), model]
    if name == "baseline" and wheel is not None:
        cmd.append(str(wheel))
    stdout, stderr, code, wall, _ = spawn(cmd, timeout)
    lines = stdout.splitlines()
    run = Run(wall, lines=[line for line in lines if LOG_LINE.match(line)])
    bench = [line for line in lines if line.startswith("BENCH ")]
    if code != 0 or not bench:
        why = "killed after the time limit" if code == -9 else f"exit code {code}"
        last = stderr.strip().splitlines()
        run.error = f"failed ({why})" + (f": {last[-1]}" if last else "")
        return run
    result = json.loads(bench[-1][len("BENCH "):])
    run.loop_seconds = result.get("loop_seconds")
    run.loop_cpu_seconds = result.get("loop_cpu_seconds")
    run.build_seconds = result.get("build_seconds")
    run.call_seconds = result.get("call_seconds")
    run.call_cpu_seconds = result.get("call_cpu_seconds")
    run.peak_kib = result.get("peak_rss_kib")
    run.error = result.get("error")
    run.versions = result.get("versions", {})
    return run


def cli_command() -> list[str]:
    """The installed `micrograd` console script next to this Python, else `python -m micrograd`."""
    script = shutil.which("micrograd", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "micrograd"]


def measure_cli(timeout: float) -> Run:
    """The whole `micrograd train --no-plot` process on the chapter's run (its default engine)."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [*cli_command(), "train", "--no-plot", "--out", tmp, "--force"]
        stdout, stderr, code, wall, maxrss = spawn(cmd, timeout)
    run = Run(wall, lines=[line for line in stdout.splitlines() if LOG_LINE.match(line)],
              peak_kib=maxrss)  # ru_maxrss: at least this runner's own peak (see notes)
    if code != 0:
        run.error = f"failed (exit code {code}): " + (stderr.strip().splitlines() or [""])[-1]
    return run


# ---- comparing with the chapter's log ----

def find_chapter_log(given: str | None) -> Path | None:
    """--chapter-log, else $MICROGRAD_CHAPTER_LOG, else tests/data/chapter_log.txt."""
    for candidate in (given, os.environ.get(CHAPTER_LOG_ENV), CHAPTER_LOG):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


def parse_log(lines: list[str]) -> dict[tuple[int, str], str]:
    """{(step, "train" | "val"): the printed number} of the chapter-format lines."""
    found = {}
    for line in lines:
        m = LOG_LINE.match(line.strip())
        if m:
            found[int(m.group(1)), m.group(2)] = m.group(3)
    return found


def deviation(lines: list[str], reference: list[str]) -> tuple[float, bool]:
    """Max relative deviation of the train losses from the reference's, and whether every val
    line is equal as printed; lines of steps the run did not reach count as a mismatch."""
    ours, ref = parse_log(lines), parse_log(reference)
    worst, val_equal = 0.0, True
    for key, text in ref.items():
        if key not in ours:
            return math.inf, False
        if key[1] == "val":
            val_equal &= ours[key] == text
        else:
            want = float(text)
            worst = max(worst, abs(float(ours[key]) - want) / abs(want))
    return worst, val_equal


# ---- the two tables ----

def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def chapter_table(names: list[str], repeats: int, wheel: Path | None, timeout: float,
               with_cli: bool) -> dict[str, Row]:
    rows = {name: Row(name) for name in names}
    if with_cli:
        rows[CLI] = Row(CLI)
    for rep in range(repeats):
        for name, row in rows.items():
            run = measure_cli(timeout) if name == CLI else measure(name, 100, 100, wheel, timeout)
            row.runs.append(run)
            took = run.error or f"loop {fmt_seconds(run.loop_seconds)} s"
            progress(f"chapter run {rep + 1}/{repeats}: {name}: {took}, "
                     f"process {fmt_seconds(run.process_seconds)} s")
    return rows


def render_chapter(rows: dict[str, Row], reference: list[str] | None, repeats: int) -> str:
    base = rows.get("baseline")
    base_loop = base.loop if base is not None else None
    header = ["engine", f"loop s (median of {repeats})", "of which build s",
              "whole process s (median)", "peak MiB", "speed-up vs baseline (loop)",
              "max rel. dev. of train losses vs chapter log", "val lines equal as printed"]
    out = []
    for name, row in rows.items():
        if row.error is not None and not row.ok:
            out.append([LABELS[name], row.error, "—", "—", "—", "—", "—", "—"])
            continue
        loop = row.loop
        ratio = base_loop / loop if base_loop and loop else None
        if reference is None:
            dev, equal = "no chapter log", "no chapter log"
        else:
            devs = [deviation(r.lines, reference) for r in row.ok]
            dev = fmt_dev(max(d for d, _ in devs))
            equal = "yes" if all(e for _, e in devs) else "NO"
        failed = len(row.runs) - len(row.ok)
        note = f" ({failed} failed: {row.error})" if failed else ""
        out.append([LABELS[name], fmt_seconds(loop) + note, fmt_seconds(row.build),
                    fmt_seconds(row.process),
                    fmt_mib(row.peak_kib), fmt_ratio(ratio), dev, equal])
    return markdown_table(header, out)


def scaling_table(names: list[str], chapter_rows: dict[str, Row], steps: int, repeats: int,
                  budget: float, limit: float, wheel: Path | None,
                  timeout: float) -> dict[int, dict[str, Row]]:
    """Each engine at every size of SIZES: `repeats` runs, or one if it took over `budget`
    seconds; a row whose estimate (the last measured size's time, scaled linearly by the points
    and the steps) exceeds `limit` seconds is skipped. An engine's sizes alternate (1k, 10k, 1k,
    10k, ...), so load from other programs affects both sides of the growth ratio alike."""
    table: dict[int, dict[str, Row]] = {n: {name: Row(name) for name in names} for n in SIZES}

    def measure_into(row: Row, n: int) -> None:
        run = measure(row.name, n, steps, wheel, timeout)
        row.runs.append(run)
        progress(f"{n:,} points: {row.name}: "
                 f"{run.error or 'loop ' + fmt_seconds(run.loop_seconds) + ' s'}")

    for name in names:
        last = (100, 100, chapter_rows[name]) if name in chapter_rows else None
        for n in SIZES:
            row = table[n][name]
            if last is not None:
                prev_n, prev_steps, prev_row = last
                if prev_row.error == "RecursionError":
                    row.skipped = f"skipped: RecursionError at {prev_n:,} points"
                    continue
                if prev_row.loop is not None:
                    estimate = prev_row.loop * (n / prev_n) * (steps / prev_steps)
                    if estimate > limit:
                        minutes = estimate / 60
                        row.skipped = f"skipped: est. {minutes:.{0 if minutes >= 10 else 1}f} min"
                        continue
            measure_into(row, n)
            last = (n, steps, row)
        for _ in range(repeats - 1):
            for n in SIZES:
                row = table[n][name]
                if row.runs and row.error is None and row.runs[0].process_seconds < budget:
                    measure_into(row, n)
    return table


def render_scaling(table: dict[int, dict[str, Row]], steps: int) -> str:
    header = ["engine"]
    for n in SIZES:
        header += [f"{n:,} pts: loop s", f"{n:,} pts: peak MiB", f"{n:,} pts: × PyTorch batch"]
    header.append("growth per ×10 points, loop (CPU) (linear = 10)")
    out = []
    for name in table[SIZES[0]]:
        cells = [LABELS[name]]
        for n in SIZES:
            row = table[n][name]
            if row.skipped:
                cells += [row.skipped, "—", "—"]
            elif not row.ok:
                cells += [row.error or "no run", "—", "—"]
            else:
                loops = sorted(r.loop_seconds for r in row.ok)
                runs = (f" ({len(loops)} runs: {fmt_seconds(loops[0])}–{fmt_seconds(loops[-1])})"
                        if len(loops) > 1 else " (1 run)")
                torch = table[n].get("torch-batch")
                ratio = row.loop / torch.loop if torch is not None and torch.loop else None
                cells += [fmt_seconds(row.loop) + runs, fmt_mib(row.peak_kib), fmt_ratio(ratio)]
        cells.append(" · ".join(fmt_growth(table[a][name], table[b][name])
                                for a, b in itertools.pairwise(SIZES)))
        out.append(cells)
    return markdown_table(header, out)


def targets(seed: dict[str, Row], scaling: dict[int, dict[str, Row]] | None,
            reference: list[str] | None) -> list[str]:
    """One line per target (TARGET_RATIOS, TOLERANCE, linear growth, memory): met or missed."""
    lines = []

    def verdict(ok: bool) -> str:
        return "met" if ok else "MISSED"

    base = seed.get("baseline")
    for name, want in TARGET_RATIOS.items():
        if name in seed and base is not None and base.loop and seed[name].loop:
            ratio = base.loop / seed[name].loop
            lines.append(f"- {name} ≥ {want:.0f}× faster than the baseline: "
                         f"{verdict(ratio >= want)} ({ratio:.1f}×)")
    if reference is not None:
        for name in [*OURS, CLI]:
            if name in seed:
                if not seed[name].ok:
                    lines.append(f"- {name} losses within {TOLERANCE:g}: MISSED (no run)")
                    continue
                devs = [deviation(r.lines, reference) for r in seed[name].ok]
                worst, equal = max(d for d, _ in devs), all(e for _, e in devs)
                lines.append(f"- {name} losses within {TOLERANCE:g} of the chapter's log, val "
                             "lines "
                             f"equal: {verdict(worst <= TOLERANCE and equal)} "
                             f"(max {fmt_dev(worst)}, val lines "
                             f"{'equal' if equal else 'DIFFER'})")
    if scaling is not None:
        small, big = SIZES[:2]
        for name in OURS:
            if name not in scaling[big]:
                continue
            row, first = scaling[big][name], scaling[small][name]
            if row.skipped or not row.ok or not first.ok:
                lines.append(f"- {name} trains {big:,} points: MISSED "
                             f"({row.skipped or row.error or first.error})")
                continue
            growth = row.loop / first.loop
            cpu = (f", CPU time {row.loop_cpu / first.loop_cpu:.2f}"
                   if row.loop_cpu and first.loop_cpu else "")
            lines.append(f"- {name} at {big:,} points: peak {fmt_mib(row.peak_kib)} MiB < 1 GB: "
                         f"{verdict(row.peak_kib < MEMORY_LIMIT_KIB)}; loop time growth "
                         f"{growth:.2f} ≤ {big // small}: {verdict(growth <= big / small)}{cpu}")
    if CLI in seed and "torch-batch" in seed:
        cli, torch = seed[CLI].process, seed["torch-batch"].process
        if cli is not None and torch is not None:
            lines.append(f"- whole `micrograd train --no-plot` process < PyTorch full-batch "
                         f"process: {verdict(cli < torch)} ({fmt_seconds(cli)} s vs "
                         f"{fmt_seconds(torch)} s)")
    return lines


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="benchmarks/run.py", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="chapter table only, one repetition unless --repeats (a smoke test)")
    parser.add_argument("--out", metavar="FILE", help="also write the report as Markdown")
    parser.add_argument("--repeats", type=int, help="runs per engine (default 3; --quick: 1)")
    parser.add_argument("--engines", default=",".join(WORKLOADS),
                        help=f"comma-separated subset of {','.join(WORKLOADS)}")
    parser.add_argument("--scaling-steps", type=int, default=100,
                        help="steps of every row of the scaling table (default 100)")
    parser.add_argument("--repeat-under", type=float, default=150.0, metavar="SECONDS",
                        help="scaling rows repeat only if one run takes less (default 150)")
    parser.add_argument("--limit-minutes", type=float, default=10.0,
                        help="skip a scaling row estimated to take longer (default 10)")
    parser.add_argument("--chapter-log", "--seed-log", dest="chapter_log",
                        help="the chapter's printed log (default: "
                        "$MICROGRAD_CHAPTER_LOG or tests/data/chapter_log.txt)")
    parser.add_argument("--wide", action="store_true",
                        help="with --quick: also the wide-model table (always in a full run)")
    parser.add_argument("--calls", action="store_true",
                        help="with --quick: also the whole train() call table (always in a full "
                             "run)")
    parser.add_argument("--calls-only", action="store_true",
                        help="the whole train() call table alone (--repeats, default 3)")
    parser.add_argument("--no-cli", action="store_true",
                        help="leave out the whole-process `micrograd train` row")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    names = [n for n in args.engines.split(",") if n]
    unknown = [n for n in names if n not in WORKLOADS]
    repeats = args.repeats if args.repeats is not None else 1 if args.quick and not \
        args.calls_only else 3
    if unknown or repeats < 1 or args.scaling_steps < 1:
        parser.error(f"unknown engine {unknown[0]!r}" if unknown else
                     "--repeats and --scaling-steps must be at least 1")
    limit = 60 * args.limit_minutes
    timeout = 2 * limit + 120  # a run is killed past this, whatever the estimate said

    wheel = None
    if "baseline" in names:
        try:
            wheel = baseline.fetch_wheel()
        except baseline.WheelUnavailable as e:
            progress(f"benchmarks: baseline left out: {e}")
            names.remove("baseline")
    chapter_log = find_chapter_log(args.chapter_log)
    reference = chapter_log.read_text().splitlines() if chapter_log else None
    if reference is None:
        progress("benchmarks: chapter log not found; pass --chapter-log (deviations left out)")

    started, code, stamp = time.time(), code_version(), src_stamp()
    if args.calls_only:
        names, args.quick = [], True
    seed = chapter_table(names, repeats, wheel, timeout, with_cli=not (args.no_cli or
                                                                    args.calls_only))
    scaling = wide = calls = None
    if not args.quick:
        scaling = scaling_table(names, seed, args.scaling_steps, repeats, budget=args.repeat_under,
                                limit=limit, wheel=wheel, timeout=timeout)
    if args.wide or not args.quick:
        wide = wide_table(names, measure, repeats, timeout, progress)
    if args.calls or args.calls_only or not args.quick:
        calls = calls_table(measure, repeats, timeout, progress)
    versions = {}
    rows = [*seed.values(), *(r for place in (calls or {}).values() for r in place.values())]
    for row in rows:
        for run in row.runs:
            versions.update(run.versions)
    runner_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    lib = ", ".join(f"{k} {v}" for k, v in sorted(versions.items()))
    command = "python benchmarks/run.py" + (" " + " ".join(argv or sys.argv[1:])).rstrip()
    report = [
        f"Measured {datetime.date.today().isoformat()} on {machine()}; {lib}.",
        f"Command: `{command}` ({(time.time() - started) / 60:.1f} min); {code}.",
        "",
        "Chapter's run (MLP 2-16-3, 80 training points, 100 steps, AdamW); one process per run, "
        "runs interleaved. Loop = the 100 steps incl. validation, printing and (tapes) recording "
        "the tape; libraries are imported before it, in the whole-process time. The baseline is "
        "PyPI micrograd 0.1.0's engine.py with tanh/exp/log attached as in the chapter "
        "(§4.1) and the chapter's script around it.",
    ]
    if seed:
        report += ["", render_chapter(seed, reference, repeats)]
    else:
        report = report[:2]
    if scaling is not None:
        report += [
            "",
            f"Scaling: gen_data(rng, n=N) (80% train), same model, {args.scaling_steps} steps in "
            f"every row; median of {repeats} runs (range in parentheses), or one run where a run "
            f"takes over {args.repeat_under:g} s. A row whose linear estimate from the smaller "
            f"size exceeds {args.limit_minutes:g} min is skipped.",
            "",
            render_scaling(scaling, args.scaling_steps),
        ]
    if wide is not None:
        report += ["", f"Wide models: MLP {' and '.join(MODELS)} (tanh), {POINTS:,} points, "
                   f"{STEPS} steps; the loop includes the build (recording, compiling the tape).",
                   "",
                   render_wide(wide, repeats)]
    if calls is not None:
        report += ["", "Whole `train()` call, building and the final evaluation of three splits "
                   "included (`calls.py`): our numpy engine and PyTorch f64 full batch, one "
                   f"thread each, medians of {repeats} interleaved runs.", "",
                   render_calls(calls, repeats)]
    if src_stamp() != stamp:
        report.insert(2, "WARNING: files in src/ changed during the run; these numbers mix two "
                         "versions of the code, so run it again.")
    memory = "Peak MiB is each process's own peak resident memory (VmHWM)"
    if CLI in seed:
        memory += (f"; the `micrograd train` row's is wait4's ru_maxrss, which also counts this "
                   f"runner's own peak ({runner_mib:.0f} MiB)")
    report += ["", "Targets:", *targets(seed, scaling, reference),
               *vs_torch_targets(seed, scaling, wide), *calls_targets(calls or {}), "",
               memory + "."]
    text = "\n".join(report) + "\n"
    print(text, end="")
    if args.out:
        Path(args.out).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
