"""The playground under load, against a real `micrograd playground` (uvicorn) on 127.0.0.1: what
must hold on any machine, however slow or busy.

- load: 8 visitors training at once for 20 s (a mix of datasets and networks, up to the largest
  the page allows); meanwhile a 9th, idle one arrives and pings every 100 ms. Every visitor is
  served: each trainer's model trains and its frames keep coming, every ping is answered. The
  server's memory (RSS, from /proc) stays bounded once they leave: a second wave of 8 must not
  leave it larger than the first did, and no thread is left behind.
- soak: 4 visitors training and one pinging while attackers take turns for 15 s (pings whose
  pongs are never read, tiny messages pipelined, text that is not UTF-8, frames cut off, more
  connections than the cap): everyone well-behaved is still served, memory stays bounded, the
  refused get close code 1013, the log holds one line per bad client and no traceback.

"Served" means an answer within loadclients.WAIT (30 s) for every message, never a rate: how
fast (steps and frames per second, ping latency with its p99 target of 200 ms) is measured by
`python benchmarks/playground_load.py`, whose figures docs/playground.md quotes.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

import rawws
from conftest import running_playground
from loadclients import (
    LOAD,
    attack,
    over_the_cap,
    pinger,
    proc_status,
    rss_mb,
    rss_settled,
    trainer,
)
from micrograd.playground.limits import DEFAULT_LIMITS

pytest.importorskip("websockets.asyncio.client")


@pytest.fixture
def server():
    """A fresh `micrograd playground --port 0 --no-browser`: (ws URL, pid)."""
    if not Path("/proc/self/status").exists():
        pytest.skip("needs /proc to read the server's memory")
    with running_playground() as (url, pid):
        yield url.replace("http://", "ws://") + "ws", pid


def test_eight_visitors_for_20_seconds(server):
    uri, pid = server

    async def wave(seconds: float, rtts: list, results: list, peak: list) -> None:
        async def sample():
            while True:
                peak.append(rss_mb(pid))
                await asyncio.sleep(0.5)
        sampler = asyncio.create_task(sample())
        await asyncio.gather(pinger(uri, seconds - 0.5, rtts, least=20),
                             *(trainer(uri, cfg, seconds, results, least=3) for cfg in LOAD))
        sampler.cancel()

    # warm up: one visitor (imports, the graph's layout, NumPy's first arrays), then measure
    asyncio.run(trainer(uri, {"speed": 0}, 2.0, []))
    time.sleep(2.0)  # the server frees each session as its socket closes
    before, threads_before = rss_mb(pid), proc_status(pid, "Threads")
    rtts: list = []
    results: list = []
    peak: list = []
    asyncio.run(wave(20.0, rtts, results, peak))
    time.sleep(2.0)
    after = rss_settled(pid, below=before + 80)
    rtts2: list = []
    results2: list = []
    asyncio.run(wave(5.0, rtts2, results2, peak))  # a second wave: leaked sessions would pile up
    time.sleep(2.0)
    after2 = rss_settled(pid, below=after + 15)
    threads_after = proc_status(pid, "Threads")

    print(f"\n8 visitors x 20 s: steps per visitor {[r['steps'] for r in results]}, frames "
          f"{[r['frames'] for r in results]}; {len(rtts)} + {len(rtts2)} pings, all answered")
    print(f"server RSS: {before:.0f} MB before, peak {max(peak):.0f} MB, {after:.0f} MB after "
          f"the first wave left, {after2:.0f} MB after a second wave; threads "
          f"{threads_before} -> {threads_after}")
    # every ping was answered (a pinger fails after loadclients.WAIT without its pong)
    assert len(rtts) >= 20 and len(rtts2) >= 20
    for wave_results in (results, results2):  # every visitor's model trained, frames kept coming
        assert len(wave_results) == 8
        assert all(r["frames"] >= 3 and r["steps"] > 0 for r in wave_results), wave_results
    assert after - before < 80 and after2 - after < 15 and max(peak) < 1024
    assert threads_after <= threads_before + 2


def test_soak_with_attackers(tmp_path):
    """15 s of normal use beside every attack (see the module's docstring)."""
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
            await asyncio.gather(pinger(uri, 14.0, rtts, least=20), attacker,
                                 *(trainer(uri, cfg, 15.0, results, least=3) for cfg in LOAD[:4]))
            sampler.cancel()

        asyncio.run(soak())
        accepted, refused = over_the_cap(host, port, 5)
        time.sleep(2.0)  # every session freed
        after = rss_settled(pid, below=before + 80)
        asyncio.run(trainer(uri, {"speed": 0}, 1.0, results))  # still serving
    lines = log.read_text().splitlines()
    print(f"\nsoak: attacks {seen}; {len(rtts)} pings, all answered; steps per visitor "
          f"{[r['steps'] for r in results]}; RSS {before:.0f} MB before, peak {max(peak):.0f} MB, "
          f"{after:.0f} MB after; over the cap: {accepted} accepted, {refused} refused; "
          f"{len(lines)} log lines")
    assert len(rtts) >= 20  # every ping answered: a pinger fails after WAIT without its pong
    assert len(results) == 5 and all(r["steps"] > 0 for r in results), results
    assert all(r["frames"] >= 3 for r in results[:4]), results
    assert after - before < 80 and max(peak) < 1024
    assert accepted == DEFAULT_LIMITS.connections and refused == 5
    assert {"pings", "tiny", "utf8", "cut"} <= set(seen), seen  # each attack made at least once
    assert seen.get("closed") == seen["utf8"], seen  # the server closed every bad UTF-8 sender
    bad_clients = sum(seen.values()) - seen["closed"]
    assert "Traceback" not in "\n".join(lines) and len(lines) <= bad_clients, lines[:10]
    assert sum("not UTF-8" in line for line in lines) == seen["utf8"], lines[:10]
