"""The playground under load, against a real `micrograd playground` (uvicorn) on 127.0.0.1.

- speed: one visitor on the seed's model and data, training as fast as it goes: at least 30
  training steps and 10 boundary refreshes (frames) per second.
- load: 8 visitors training at once for 20 s (a mix of datasets and networks, up to the largest
  the page allows); meanwhile a 9th, idle one arrives and pings every 100 ms, and every ping
  must come back within 200 ms. The server's memory (RSS, from /proc) must stay bounded once they
  leave: a second wave of 8 must not leave it larger than the first did.

Run with `-s` to see the figures (docs/playground.md quotes them). Traffic goes to loopback
only; every loop is bounded in time.
"""

from __future__ import annotations

import asyncio
import json
import re
import statistics
import time
from pathlib import Path

import pytest

from conftest import running_playground

websockets = pytest.importorskip("websockets.asyncio.client")

STEP = re.compile(r'"step":(\d+)')


def proc_status(pid: int, field: str) -> int:
    """A number from /proc/PID/status (VmRSS in kB, Threads)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def rss_mb(pid: int) -> float:
    return proc_status(pid, "VmRSS") / 1024


@pytest.fixture
def server():
    """A fresh `micrograd playground --port 0 --no-browser`: (ws URL, pid)."""
    if not Path("/proc/self/status").exists():
        pytest.skip("needs /proc to read the server's memory")
    with running_playground() as (url, pid):
        yield url.replace("http://", "ws://") + "ws", pid


async def send(ws, **msg) -> None:
    await ws.send(json.dumps(msg))


async def trainer(uri: str, config: dict, seconds: float, out: list) -> None:
    """Connect, configure, play; count frames and steps until `seconds` have passed."""
    async with websockets.connect(uri, max_size=1 << 24) as ws:
        await send(ws, type="configure", **config)
        await send(ws, type="play")
        frames, first, last, t0 = 0, None, 0, None
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            try:
                text = await asyncio.wait_for(ws.recv(), timeout=left)
            except asyncio.TimeoutError:
                break
            assert not text.startswith('{"type":"error"'), text[:300]
            if text.startswith('{"type":"frame"'):  # "type" comes first: no need to parse it all
                step = int(STEP.search(text).group(1))
                if first is None and step > 0:
                    first, t0 = step, time.monotonic()
                elif first is not None:
                    frames += 1
                    last = step
        elapsed = time.monotonic() - t0 if t0 else 0.0
        out.append({"frames": frames, "steps": last - (first or 0), "seconds": elapsed})


async def pinger(uri: str, seconds: float, rtts: list) -> None:
    """An idle visitor who arrives once the others are training: a ping every 100 ms, timed.

    Timing starts after its own first messages (state, frame, the graph's SVG) have arrived,
    so each ping measures how long the loaded server takes to answer, not a queue of ours.
    """
    await asyncio.sleep(0.5)
    async with websockets.connect(uri, max_size=1 << 24) as ws:
        end = time.monotonic() + seconds
        while json.loads(await asyncio.wait_for(ws.recv(), timeout=10))["type"] != "graph":
            pass
        k = 0
        while time.monotonic() < end:
            k += 1
            start = time.perf_counter()
            await send(ws, type="ping", id=k)
            while True:  # frames are not sent to an idle visitor; skip anything else
                msg = json.loads(await asyncio.wait_for(ws.recv(), timeout=10))
                if msg["type"] == "pong" and msg["id"] == k:
                    break
            rtts.append(time.perf_counter() - start)
            await asyncio.sleep(0.1)


LOAD = [  # what 8 people might be doing: every dataset, 1 to 4 hidden layers, up to the maximum
    {"dataset": "spiral", "n": 1000, "hidden": [16, 16, 16, 16], "speed": 0},
    {"dataset": "seed", "speed": 0},
    {"dataset": "moons", "n": 300, "hidden": [8, 8], "activation": "relu", "speed": 0},
    {"dataset": "circles", "hidden": [4], "speed": 0, "batch_size": 10},
    {"dataset": "yinyang", "n": 500, "hidden": [16, 16], "speed": 0},
    {"dataset": "xor", "hidden": [6, 6, 6], "activation": "sigmoid", "speed": 0},
    {"dataset": "spiral", "n": 300, "hidden": [16, 16, 16], "speed": 300},
    {"dataset": "seed", "hidden": [16], "speed": 30},
]


def test_speed_on_the_seed_model(server):
    uri, _ = server
    results: list = []
    asyncio.run(trainer(uri, {"speed": 0}, 5.0, results))
    (r,) = results
    steps, frames = r["steps"] / r["seconds"], r["frames"] / r["seconds"]
    print(f"\nplayground speed, seed model 2-16-3 on the seed's 80 training points, one visitor: "
          f"{steps:.0f} training steps/s, {frames:.1f} boundary refreshes/s")
    assert steps >= 30 and frames >= 10
    results = []
    asyncio.run(trainer(uri, {"speed": 30}, 3.0, results))
    (r,) = results
    steps, frames = r["steps"] / r["seconds"], r["frames"] / r["seconds"]
    print(f"at the default speed (30 steps/s): {steps:.1f} steps/s, {frames:.1f} refreshes/s")
    assert 25 <= steps <= 35 and frames >= 10


def test_eight_visitors_for_20_seconds(server):
    uri, pid = server

    async def wave(seconds: float, rtts: list, results: list, peak: list) -> None:
        async def sample():
            while True:
                peak.append(rss_mb(pid))
                await asyncio.sleep(0.5)
        sampler = asyncio.create_task(sample())
        await asyncio.gather(pinger(uri, seconds - 0.5, rtts),
                             *(trainer(uri, cfg, seconds, results) for cfg in LOAD))
        sampler.cancel()

    async def settle() -> float:
        await asyncio.sleep(2.0)  # the server frees each session as its socket closes
        return rss_mb(pid)

    # warm up: one visitor (imports, the graph's layout, NumPy's first arrays), then measure
    asyncio.run(trainer(uri, {"speed": 0}, 2.0, []))
    before, threads_before = asyncio.run(settle()), proc_status(pid, "Threads")
    rtts: list = []
    results: list = []
    peak: list = []
    asyncio.run(wave(20.0, rtts, results, peak))
    after = asyncio.run(settle())
    rtts2: list = []
    asyncio.run(wave(5.0, rtts2, [], peak))  # a second wave: leaked sessions would pile up
    after2 = asyncio.run(settle())
    threads_after = proc_status(pid, "Threads")

    ms = sorted(1000 * t for t in rtts + rtts2)
    p99 = ms[int(0.99 * (len(ms) - 1))]
    total_steps = sum(r["steps"] for r in results)
    print(f"\n8 visitors x 20 s: {total_steps} training steps in all "
          f"({total_steps / 20:.0f}/s), frames per visitor {[r['frames'] for r in results]}")
    print(f"ping while loaded: {len(ms)} pings, median {statistics.median(ms):.1f} ms, "
          f"p99 {p99:.1f} ms, max {ms[-1]:.1f} ms")
    print(f"server RSS: {before:.0f} MB before, peak {max(peak):.0f} MB, {after:.0f} MB after "
          f"the first wave left, {after2:.0f} MB after a second wave; threads "
          f"{threads_before} -> {threads_after}")
    assert len(rtts) >= 100 and ms[-1] < 200, ms[-10:]
    assert len(results) == 8 and all(r["frames"] >= 20 and r["steps"] > 0 for r in results)
    assert after - before < 80 and after2 - after < 15 and max(peak) < 1024
    assert threads_after <= threads_before + 2
