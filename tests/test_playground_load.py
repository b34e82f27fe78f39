"""The playground under load, against a real `micrograd playground` (uvicorn) on 127.0.0.1.

- speed: one visitor on the seed's model and data, training as fast as it goes: at least 30
  training steps and 10 boundary refreshes (frames) per second.
- load: 8 visitors training at once for 20 s (a mix of datasets and networks, up to the largest
  the page allows); meanwhile a 9th, idle one arrives and pings every 100 ms, and every ping
  must come back within 200 ms. The server's memory (RSS, from /proc) must stay bounded once they
  leave: a second wave of 8 must not leave it larger than the first did.
- soak: 4 visitors training and one pinging while attackers take turns for 15 s (pings whose
  pongs are never read, tiny messages pipelined, text that is not UTF-8, frames cut off, more
  connections than the cap): pings still come back within 200 ms (p99), memory stays bounded,
  the refused get close code 1013, the log holds one line per bad client and no traceback.

Run with `-s` to see the figures (docs/playground.md quotes them). Traffic goes to loopback
only; every loop is bounded in time.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import socket
import statistics
import struct
import time
from pathlib import Path

import pytest

import rawws
from conftest import running_playground
from micrograd.playground.limits import DEFAULT_LIMITS, TRY_AGAIN_LATER

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


def attack(host: str, port: int, seconds: float, seen: dict) -> None:
    """Misbehave in turns for `seconds` (one connection at a time, each closed at once)."""
    pings = rawws.frame(rawws.PING, b"p" * 125) * 4000
    tiny = rawws.text('{"type":"ping"}') * 10_000
    end, turn = time.monotonic() + seconds, 0
    while time.monotonic() < end:
        sock, _head = rawws.connect(host, port)
        with sock:
            sock.settimeout(0.5)
            kind = ("pings", "tiny", "utf8", "cut")[turn % 4]
            with contextlib.suppress(TimeoutError, OSError):
                if kind == "pings":  # never reads its pongs
                    for _ in range(20):
                        sock.sendall(pings)
                elif kind == "tiny":  # pipelined, then reset while they are answered
                    sock.sendall(tiny)
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                elif kind == "utf8":
                    sock.sendall(rawws.text(b'{"type":"ping","id":"\xff"}'))
                else:  # gone in the middle of a frame
                    sock.sendall(rawws.text('{"type":"ping"}' + " " * 200)[:40])
        seen[kind] = seen.get(kind, 0) + 1
        turn += 1
        time.sleep(0.2)


def over_the_cap(host: str, port: int, extra: int) -> tuple[int, int]:
    """Open as many connections as the cap allows and `extra` more: (accepted, refused with 1013
    and a reason)."""
    socks, accepted, refused = [], 0, 0
    try:
        for _ in range(DEFAULT_LIMITS.connections + extra):
            sock, _head = rawws.connect(host, port)
            socks.append(sock)
            opcode, payload = rawws.read_frame(sock)
            if opcode == rawws.TEXT:
                accepted += 1
            elif opcode == rawws.CLOSE and struct.unpack("!H", payload[:2])[0] == TRY_AGAIN_LATER:
                refused += b"full" in payload
    finally:
        for sock in socks:
            sock.close()
    return accepted, refused


def test_soak_with_attackers(tmp_path):
    """15 s of normal use beside every attack of issue 10 (see the module's docstring)."""
    if not Path("/proc/self/status").exists():
        pytest.skip("needs /proc to read the server's memory")
    log = tmp_path / "server.log"
    with running_playground(stderr=log) as (url, pid):
        host, port = rawws.address(url)
        uri = f"ws://{host}:{port}/ws"
        asyncio.run(trainer(uri, {"speed": 0}, 1.0, []))  # warm up
        before = rss_mb(pid)
        rtts, results, seen, peak = [], [], {}, []

        async def soak() -> None:
            loop = asyncio.get_running_loop()
            attacker = loop.run_in_executor(None, attack, host, port, 14.0, seen)
            async def sample():
                while True:
                    peak.append(rss_mb(pid))
                    await asyncio.sleep(0.5)
            sampler = asyncio.create_task(sample())
            await asyncio.gather(pinger(uri, 14.0, rtts), attacker,
                                 *(trainer(uri, cfg, 15.0, results) for cfg in LOAD[:4]))
            sampler.cancel()

        asyncio.run(soak())
        accepted, refused = over_the_cap(host, port, 5)
        time.sleep(2.0)  # every session freed
        after = rss_mb(pid)
        asyncio.run(trainer(uri, {"speed": 0}, 1.0, results))  # still serving
    ms = sorted(1000 * t for t in rtts)
    p99 = ms[int(0.99 * (len(ms) - 1))]
    lines = log.read_text().splitlines()
    print(f"\nsoak: attacks {seen}; ping median {statistics.median(ms):.1f} ms, p99 {p99:.1f} ms, "
          f"max {ms[-1]:.1f} ms; RSS {before:.0f} MB before, peak {max(peak):.0f} MB, "
          f"{after:.0f} MB after; over the cap: {accepted} accepted, {refused} refused; "
          f"{len(lines)} log lines")
    assert len(ms) >= 50 and p99 < 200, ms[-10:]
    assert len(results) == 5 and all(r["steps"] > 0 for r in results)
    assert after - before < 80 and max(peak) < 1024
    assert accepted == DEFAULT_LIMITS.connections and refused == 5
    assert "Traceback" not in "\n".join(lines) and len(lines) <= sum(seen.values()), lines[:10]
    assert sum("not UTF-8" in line for line in lines) == seen["utf8"], lines[:10]
