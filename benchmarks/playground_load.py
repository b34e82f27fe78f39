"""The served playground's speed and latency under load: `python benchmarks/playground_load.py`.

Each phase starts its own `micrograd playground` on 127.0.0.1 and drives it with the clients of
tests/loadclients.py (the same ones tests/playground/test_playground_load.py uses to check that
everyone is served, nothing leaks and attackers are closed, on any machine; here the clock is
the point):

- idle: one visitor pinging every 100 ms, alone: this run's baseline latency;
- speed: one visitor on the chapter's model 2-16-3 and its 80 points at speed "max" (5 s), then at
  the default 30 steps/s (3 s): training steps and boundary refreshes (frames) per second;
- load: 8 visitors training for 20 s (every dataset, up to 4×16 neurons on 1,000 points) while a
  9th pings every 100 ms; memory (RSS) before, at peak and after they left;
- soak: 4 training and 1 pinging while attackers take turns for 15 s (unread pings, pipelined
  messages, bad UTF-8, cut frames);
- flood: one client pipelining pings without pause while another pings every 20 ms for 3 s.

Prints one Markdown table (ping median, p99 and max, p99 as a multiple of the idle median of the
same run, so a busy machine shows as a busy machine) and the targets, met or MISSED: at speed
"max" at least 30 steps/s and 10 frames/s, at 30 steps/s 25 to 35 steps/s; ping max under load
and ping p99 in the soak and the flood below 200 ms. docs/playground.md quotes the figures.
Options: `--only PHASES` (comma-separated), `--scale S` (every duration times S: `--scale 0.1` is
a smoke test), `--out FILE` (also write the report). Needs the test extras (websockets, pytest).
Not a test: the numbers depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import statistics
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))  # the clients, shared with the test suite

from report import code_version, machine, markdown_table  # noqa: E402

import loadclients as lc  # noqa: E402  (tests/ is not a package)
import rawws  # noqa: E402
from conftest import running_playground  # noqa: E402

PHASES = ("idle", "speed", "load", "soak", "flood")
TARGET_MS = 200.0


def ping_stats(rtts: list[float]) -> dict[str, float]:
    """Median, p99 and max of round trips (seconds), in milliseconds."""
    ms = sorted(1000 * t for t in rtts)
    return {"pings": len(ms), "median": statistics.median(ms),
            "p99": ms[int(0.99 * (len(ms) - 1))], "max": ms[-1]}


@contextlib.contextmanager
def serving():
    """A fresh playground: yields (host, port, ws URI, pid)."""
    with running_playground() as (url, pid):
        host, port = rawws.address(url)
        yield host, port, f"ws://{host}:{port}/ws", pid


def sampling(pid: int, peak: list[float]):
    """A task appending the server's RSS (MB) to `peak` every 0.5 s until cancelled."""
    async def sample():
        while True:
            peak.append(lc.rss_mb(pid))
            await asyncio.sleep(0.5)
    return asyncio.create_task(sample())


def idle(scale: float) -> dict:
    with serving() as (_, _, uri, _):
        rtts: list = []
        asyncio.run(lc.pinger(uri, 5.0 * scale, rtts, least=10))
    return {"ping": ping_stats(rtts)}


def speed(scale: float) -> dict:
    with serving() as (_, _, uri, _):
        out = {}
        for name, config, seconds in (("max", {"speed": 0}, 5.0), ("30", {"speed": 30}, 3.0)):
            results: list = []
            asyncio.run(lc.trainer(uri, config, seconds * scale, results, least=2))
            (r,) = results
            out[name] = {"steps/s": r["steps"] / r["seconds"],
                         "frames/s": r["frames"] / r["seconds"]}
    return out


def load(scale: float) -> dict:
    seconds = 20.0 * scale
    with serving() as (_, _, uri, pid):
        asyncio.run(lc.trainer(uri, {"speed": 0}, 2.0 * scale, []))  # warm up
        time.sleep(2.0)
        before, rtts, results, peak = lc.rss_mb(pid), [], [], []

        async def wave() -> None:
            sampler = sampling(pid, peak)
            await asyncio.gather(lc.pinger(uri, seconds - 0.5, rtts),
                                 *(lc.trainer(uri, cfg, seconds, results) for cfg in lc.LOAD))
            sampler.cancel()

        asyncio.run(wave())
        time.sleep(2.0)
        after = lc.rss_mb(pid)
    return {"ping": ping_stats(rtts), "steps/s": sum(r["steps"] for r in results) / seconds,
            "frames": sorted(r["frames"] for r in results),
            "rss": (before, max(peak), after)}


def soak(scale: float) -> dict:
    seconds = 15.0 * scale
    with serving() as (host, port, uri, pid):
        asyncio.run(lc.trainer(uri, {"speed": 0}, 1.0 * scale, []))  # warm up
        before, rtts, results, seen, peak = lc.rss_mb(pid), [], [], {}, []

        async def run() -> None:
            attacker = asyncio.get_running_loop().run_in_executor(
                None, lc.attack, host, port, seconds - 1, seen)
            sampler = sampling(pid, peak)
            await asyncio.gather(lc.pinger(uri, seconds - 1, rtts), attacker,
                                 *(lc.trainer(uri, cfg, seconds, results) for cfg in lc.LOAD[:4]))
            sampler.cancel()

        asyncio.run(run())
    return {"ping": ping_stats(rtts), "attacks": seen, "rss": (before, max(peak), None)}


def flood(scale: float) -> dict:
    with serving() as (host, port, uri, _):
        counts: list = []
        stop = threading.Event()
        flooder = threading.Thread(target=lc.flood, args=(host, port, stop, counts))
        flooder.start()
        time.sleep(0.3)
        rtts: list = []
        try:
            asyncio.run(lc.pinger(uri, 3.0 * scale, rtts, least=10, every=0.02, ready="frame",
                                  arrive=0.0))
        finally:
            stop.set()
            flooder.join(lc.WAIT)
    return {"ping": ping_stats(rtts), "flooder pongs": counts}


def fmt_ping(ping: dict, base: float | None) -> list[str]:
    ratio = f"{ping['p99'] / base:.0f}×" if base else "—"
    return [str(ping["pings"]), f"{ping['median']:.1f}", f"{ping['p99']:.1f}",
            f"{ping['max']:.1f}", ratio]


def render(found: dict) -> list[str]:
    """The table of pings, the other figures, then one line per target."""
    base = found["idle"]["ping"]["median"] if "idle" in found else None
    rows = [[name, *fmt_ping(r["ping"], base)] for name, r in found.items() if "ping" in r]
    lines = [markdown_table(["phase", "pings", "median ms", "p99 ms", "max ms",
                             "p99 ÷ idle median"], rows), ""]
    for name, r in found.items():
        if "rss" in r:
            before, peak, after = r["rss"]
            lines.append(f"- {name}: server RSS {before:.0f} MB before, peak {peak:.0f} MB"
                         + (f", {after:.0f} MB after" if after is not None else ""))
    if "load" in found:
        r = found["load"]
        lines.append(f"- load: {r['steps/s']:.0f} training steps/s in all; frames per visitor "
                     f"{r['frames']}")
    if "soak" in found:
        lines.append(f"- soak: attacks made {found['soak']['attacks']}")
    if "flood" in found:
        lines.append(f"- flood: the flooder's pongs {found['flood']['flooder pongs']}")
    return [*lines, "", "Targets:", *targets(found)]


def targets(found: dict) -> list[str]:
    def verdict(ok: bool) -> str:
        return "met" if ok else "MISSED"

    lines = []
    if "speed" in found:
        fast, slow = found["speed"]["max"], found["speed"]["30"]
        lines += [f"- speed max ≥ 30 steps/s and ≥ 10 frames/s: "
                  f"{verdict(fast['steps/s'] >= 30 and fast['frames/s'] >= 10)} "
                  f"({fast['steps/s']:.0f} steps/s, {fast['frames/s']:.1f} frames/s)",
                  f"- speed 30: 25–35 steps/s, ≥ 10 frames/s: "
                  f"{verdict(25 <= slow['steps/s'] <= 35 and slow['frames/s'] >= 10)} "
                  f"({slow['steps/s']:.1f} steps/s, {slow['frames/s']:.1f} frames/s)"]
    for name, key in (("load", "max"), ("soak", "p99"), ("flood", "p99")):
        if name in found:
            ms = found[name]["ping"][key]
            lines.append(f"- {name}: ping {key} < {TARGET_MS:.0f} ms: "
                         f"{verdict(ms < TARGET_MS)} ({ms:.1f} ms)")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="benchmarks/playground_load.py",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(PHASES),
                        help=f"comma-separated subset of {','.join(PHASES)}")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="every duration times this (default 1; 0.1: a smoke test)")
    parser.add_argument("--out", metavar="FILE", help="also write the report as Markdown")
    args = parser.parse_args(argv)
    phases = [p for p in args.only.split(",") if p]
    if any(p not in PHASES for p in phases) or args.scale <= 0:
        parser.error(f"--only takes {','.join(PHASES)}; --scale must be positive")
    started, found = time.time(), {}
    for phase in phases:
        print(f"playground_load: {phase}...", file=sys.stderr, flush=True)
        found[phase] = globals()[phase](args.scale)
    command = "python benchmarks/playground_load.py " + " ".join(argv or sys.argv[1:])
    text = "\n".join([
        f"Measured {datetime.date.today().isoformat()} on {machine()}; {code_version()}.",
        f"Command: `{command.strip()}` ({(time.time() - started) / 60:.1f} min).", "",
        *render(found)]) + "\n"
    print(text, end="")
    if args.out:
        Path(args.out).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
