"""Clients that load a real `micrograd playground`: visitors who train, one who pings, attackers
who misbehave in turns, a flood of pipelined pings, and the server's memory read from /proc.

Shared by tests/playground/test_playground_load.py and tests/playground/test_playground_limits.py
(what must hold on any machine: everyone served, nothing lost, memory bounded) and
benchmarks/playground_load.py (how fast: the figures docs/playground.md quotes). So every client
works on a slow machine: a time-bound client also goes on until it has seen `least` answers, and
each answer is awaited for up to WAIT seconds, a failure only when a client is not served at all.
Traffic goes to loopback only; every loop is bounded in time.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import socket
import struct
import threading
import time
from pathlib import Path

import rawws
from micrograd.playground.limits import DEFAULT_LIMITS, TRY_AGAIN_LATER

WAIT = 30.0  # seconds a served client may wait for one answer, even on a busy machine
STEP = re.compile(r'"step":(\d+)')

LOAD = [  # what 8 people might be doing: every dataset, 1 to 4 hidden layers, up to the maximum
    {"dataset": "spiral", "n": 1000, "hidden": [16, 16, 16, 16], "speed": 0},
    {"dataset": "chapter", "speed": 0},
    {"dataset": "moons", "n": 300, "hidden": [8, 8], "activation": "relu", "speed": 0},
    {"dataset": "circles", "hidden": [4], "speed": 0, "batch_size": 10},
    {"dataset": "yinyang", "n": 500, "hidden": [16, 16], "speed": 0},
    {"dataset": "xor", "hidden": [6, 6, 6], "activation": "sigmoid", "speed": 0},
    {"dataset": "spiral", "n": 300, "hidden": [16, 16, 16], "speed": 300},
    {"dataset": "chapter", "hidden": [16], "speed": 30},
]


def proc_status(pid: int, field: str) -> int:
    """A number from /proc/PID/status (VmRSS in kB, Threads)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def rss_mb(pid: int) -> float:
    return proc_status(pid, "VmRSS") / 1024


def rss_settled(pid: int, below: float, wait: float = WAIT) -> float:
    """The server's RSS (MB) once it is under `below`, else after `wait` seconds: the server
    frees a session as its socket closes, which takes a while on a busy machine."""
    end = time.monotonic() + wait
    while (rss := rss_mb(pid)) >= below and time.monotonic() < end:
        time.sleep(0.5)
    return rss


async def recv(ws, wait: float = WAIT) -> str:
    """The next message; a visitor left without one for `wait` seconds fails the caller."""
    try:
        return await asyncio.wait_for(ws.recv(), timeout=wait)
    except asyncio.TimeoutError:
        raise AssertionError(f"no message from the server in {wait:g} s") from None


async def send(ws, **msg) -> None:
    await ws.send(json.dumps(msg))


async def trainer(uri: str, config: dict, seconds: float, out: list, least: int = 1) -> None:
    """Connect, configure, play; count frames and steps for `seconds`, and past them until
    `least` frames after the first have come. Appends frames, steps and the seconds between
    the first and the last frame to `out`."""
    from websockets.asyncio.client import connect

    async with connect(uri, max_size=1 << 24) as ws:
        await send(ws, type="configure", **config)
        await send(ws, type="play")
        frames, first, last, t0, t1 = 0, None, 0, None, None
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0 or frames < least:
            if frames < least:
                text = await recv(ws)
            else:
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
                    frames, last, t1 = frames + 1, step, time.monotonic()
        elapsed = t1 - t0 if t0 and t1 else 0.0
        out.append({"frames": frames, "steps": last - (first or 0), "seconds": elapsed})


async def pinger(uri: str, seconds: float, rtts: list, least: int = 1, every: float = 0.1,
                 ready: str = "graph", arrive: float = 0.5) -> None:
    """An idle visitor who arrives `arrive` seconds later, waits for its opening messages up to
    `ready` (so no queue of its own is timed), then pings every `every` seconds for `seconds`
    and past them until `least` pongs have come. Each round trip (seconds) goes to `rtts`."""
    from websockets.asyncio.client import connect

    await asyncio.sleep(arrive)
    async with connect(uri, max_size=1 << 24) as ws:
        end = time.monotonic() + seconds
        while json.loads(await recv(ws))["type"] != ready:
            pass
        k = 0
        while k < least or time.monotonic() < end:
            k += 1
            start = time.perf_counter()
            await send(ws, type="ping", id=k)
            while True:  # frames are not sent to an idle visitor; skip anything else
                msg = json.loads(await recv(ws))
                if msg["type"] == "pong" and msg["id"] == k:
                    break
            rtts.append(time.perf_counter() - start)
            await asyncio.sleep(every)


def attack(host: str, port: int, seconds: float, seen: dict) -> None:
    """Misbehave in turns for `seconds`, and until each attack was made once (one connection at
    a time, each closed at once). `seen` counts the attacks made, by kind, and under "closed"
    the invalid UTF-8 senders whose connection the server closed (within WAIT seconds)."""
    pings = rawws.frame(rawws.PING, b"p" * 125) * 4000
    tiny = rawws.text('{"type":"ping"}') * 10_000
    kinds = ("pings", "tiny", "utf8", "cut")
    end, turn = time.monotonic() + seconds, 0
    while time.monotonic() < end or turn < len(kinds):
        sock, _head = rawws.connect(host, port, timeout=WAIT)
        with sock:
            sock.settimeout(0.5)
            kind = kinds[turn % len(kinds)]
            with contextlib.suppress(TimeoutError, OSError):
                if kind == "pings":  # never reads its pongs
                    for _ in range(20):
                        sock.sendall(pings)
                elif kind == "tiny":  # pipelined, then reset while they are answered
                    sock.sendall(tiny)
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                elif kind == "utf8":  # the server must close this one itself
                    sock.sendall(rawws.text(b'{"type":"ping","id":"\xff"}'))
                    sock.settimeout(WAIT)
                    while sock.recv(4096):
                        pass
                    seen["closed"] = seen.get("closed", 0) + 1
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
            sock, _head = rawws.connect(host, port, timeout=WAIT)
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


def flood(host: str, port: int, stop: threading.Event, counts: list) -> None:
    """Pipeline tiny pings back to back until `stop` is set, reading (and discarding) the
    answers; appends the number of pongs read to `counts`."""
    sock, head = rawws.connect(host, port, timeout=WAIT)
    assert rawws.status(head) == 101
    done = threading.Event()

    def drain():
        got = 0
        while not done.is_set():
            try:
                data = sock.recv(1 << 16)
            except (TimeoutError, OSError):
                continue
            if not data:
                break
            got += data.count(b'"pong"')
        counts.append(got)

    sock.settimeout(0.5)
    reader = threading.Thread(target=drain)
    reader.start()
    burst = rawws.text('{"type":"ping","id":1}') * 10_000  # ~0.3 MB: one read of the server's
    view, sent = memoryview(burst), 0
    try:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):  # the server stopped reading: slowed
                sent += sock.send(view[sent:])  # never a frame cut off by the timeout
            sent %= len(burst)
    finally:
        done.set()
        reader.join(WAIT)
        sock.close()
