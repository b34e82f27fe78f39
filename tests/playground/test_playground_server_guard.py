"""The playground's server against idle connections, Ctrl-C and DNS rebinding, each attack
bounded in count and time and aimed at 127.0.0.1 only.

- Silent TCP connections beyond the open-file limit made the page unreachable and asyncio log a
  traceback per retry: now each must send its request within a deadline, the connections are
  capped below the open files, and a visitor who sends a request is served meanwhile.
- Ctrl-C did not stop the server while a client sent pings and read nothing, and a second one
  printed a traceback: now the first stops it, a second quits at once in one line.
- On a wildcard bind a page of another site, its name rebound to our address, got a working
  WebSocket (its Origin and Host agree): now only IP literals and this machine's names pass.
"""

from __future__ import annotations

import contextlib
import re
import selectors
import signal
import socket
import subprocess
import sys
import time

import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

import rawws
from micrograd.playground import server

resource = pytest.importorskip("resource")  # open-file limits: POSIX

OPEN_FILES = 256  # the server's soft limit in the idle-connections test
ATTACKERS = 300  # more silent connections than that


@contextlib.contextmanager
def playground_process(open_files: int | None = None):
    """`micrograd playground --port 0 --no-browser` (127.0.0.1), optionally with a lower soft
    open-file limit: yields (process, host, port); stderr is read after it ends."""
    def limit() -> None:
        if open_files is not None:
            hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
            resource.setrlimit(resource.RLIMIT_NOFILE, (open_files, hard))

    proc = subprocess.Popen([sys.executable, "-m", "micrograd", "playground", "--port", "0",
                             "--no-browser"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, preexec_fn=limit)
    try:
        line = proc.stdout.readline()
        match = re.search(r"http://\S+/", line)
        assert match, (line, proc.stderr.read() if proc.poll() is not None else "")
        yield (proc, *rawws.address(match.group(0)))
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def stderr_of(proc: subprocess.Popen) -> list[str]:
    return proc.stderr.read().splitlines()


def closed_by_server(socks: list[socket.socket], timeout: float) -> int:
    """Wait until the server has closed each socket (EOF or reset); how many it closed."""
    sel = selectors.DefaultSelector()
    for s in socks:
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
    closed, end = 0, time.monotonic() + timeout
    while closed < len(socks) and time.monotonic() < end:
        for key, _ in sel.select(timeout=0.5):
            try:
                data = key.fileobj.recv(4096)
            except (ConnectionResetError, BlockingIOError):
                data = b""
            if not data:
                sel.unregister(key.fileobj)
                closed += 1
    sel.close()
    return closed


# ---- idle connections (item 14)


def test_silent_connections_beyond_the_open_files_leave_a_visitor_served():
    with playground_process(OPEN_FILES) as (proc, host, port):
        attackers = []
        try:
            for i in range(ATTACKERS):
                s = socket.create_connection((host, port), timeout=10)
                if i % 2:  # half of them start a request and never finish it
                    s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                attackers.append(s)
            # while they are held: a visitor's page and its WebSocket
            assert rawws.http_get(host, port, f"{host}:{port}", timeout=30) == 200
            sock, head = rawws.connect(host, port, timeout=30)
            with sock:
                assert rawws.status(head) == 101, head
            # every silent connection is closed by the server (the deadline is 5 s)
            assert closed_by_server(attackers, timeout=60) == ATTACKERS
            assert rawws.http_get(host, port, f"{host}:{port}", timeout=30) == 200
        finally:
            for s in attackers:
                s.close()
        proc.send_signal(signal.SIGINT)
        proc.wait(30)
        lines = stderr_of(proc)
    assert not [x for x in lines if "Traceback" in x] and len(lines) <= 5, lines


def test_failed_accepts_are_logged_once_per_period_with_a_count(caplog):
    from micrograd.playground.limits import LogThrottle, accept_error_handler

    clock = [0.0]

    class Loop:
        def default_exception_handler(self, context):
            raise AssertionError(f"only failed accepts are handled here: {context}")

    handle = accept_error_handler(LogThrottle(10.0, clock=lambda: clock[0]))
    error = OSError(24, "Too many open files")
    with caplog.at_level("ERROR", logger="micrograd.playground"):
        for i in range(1000):  # 100 s of failures, ten a second
            clock[0] = i / 10
            handle(Loop(), {"message": "socket.accept() out of system resource",
                            "exception": error})
    lines = caplog.messages
    assert len(lines) == 10 and all("\n" not in x for x in lines)
    assert "Too many open files" in lines[0] and "(1 time since" in lines[0]
    assert "(100 times since" in lines[1]
    assert not any(r.exc_info for r in caplog.records)


# ---- Ctrl-C (item 15)


def flood_unread_pings(host: str, port: int) -> socket.socket:
    """A WebSocket that sends pings until the server stops reading it, and reads nothing."""
    sock, head = rawws.connect(host, port)
    assert rawws.status(head) == 101
    sock.settimeout(1.0)
    chunk = rawws.frame(rawws.PING, b"p" * 125) * 4000
    with contextlib.suppress(TimeoutError, OSError):
        for _ in range(100):
            sock.sendall(chunk)
    return sock


def test_ctrl_c_stops_the_server_while_a_client_never_reads():
    with playground_process() as (proc, host, port):
        with flood_unread_pings(host, port):
            proc.send_signal(signal.SIGINT)
            try:
                code = proc.wait(30)  # generous: it takes about a second
            except subprocess.TimeoutExpired:
                pytest.fail("still running 30 s after Ctrl-C")
        lines = stderr_of(proc)
    assert code == 0 and lines == [], lines


def test_a_second_ctrl_c_quits_at_once_in_one_line():
    with playground_process() as (proc, host, port):
        with flood_unread_pings(host, port):
            proc.send_signal(signal.SIGINT)
            time.sleep(0.2)  # the first is still closing the stuck connection
            proc.send_signal(signal.SIGINT)
            try:
                code = proc.wait(30)
            except subprocess.TimeoutExpired:
                pytest.fail("still running 30 s after a second Ctrl-C")
        lines = stderr_of(proc)
    assert code == 130 and lines == ["micrograd playground: stopped at once (second Ctrl-C)"], \
        lines


# ---- DNS rebinding on a wildcard bind (item 21), in process: nothing listens on 0.0.0.0


@pytest.mark.parametrize("bind", ["0.0.0.0", "::"])
def test_a_rebinding_page_gets_nothing_from_a_wildcard_bind(bind):
    app = server.create_app(allowed_hosts=server.allowed_hosts_for(bind), dot=None)
    with TestClient(app, base_url="http://evil.example:8765") as client:
        assert client.get("/").status_code == 400
        with pytest.raises(WebSocketDisconnect):  # its Origin and Host agree: Host refuses it
            with client.websocket_connect("ws://evil.example:8765/ws",
                                          headers={"origin": "http://evil.example:8765"}):
                pass


@pytest.mark.parametrize("host", ["192.0.2.7:8765", "[2001:db8::7]:8765", "localhost:8765",
                                  f"{socket.gethostname()}:8765"])
def test_a_wildcard_bind_answers_its_addresses_and_names(host):
    app = server.create_app(allowed_hosts=server.allowed_hosts_for("0.0.0.0"), dot=None)
    with TestClient(app, base_url=f"http://{host}") as client:
        assert client.get("/").status_code == 200
        url = f"ws://{host}/ws"
        with client.websocket_connect(url, headers={"origin": f"http://{host}"}) as ws:
            assert ws.receive_json()["type"] == "state"
        with pytest.raises(WebSocketDisconnect):  # another site's page, by our own address
            with client.websocket_connect(url, headers={"origin": "http://evil.example"}):
                pass


def test_host_names_are_parsed_strictly():
    allowed = server.allowed_hosts_for("::")
    for header in ["evil.example", "evil.example:80", "192.0.2.7.evil.example", "[::1]x",
                   "2001:db8::1", "", None, "127.0.0.1:http", "[evil.example]"]:
        assert not server.host_allowed(header, allowed), header
    for header in ["127.0.0.1", "127.0.0.1:8765", "[::1]:8765", "LOCALHOST:1"]:
        assert server.host_allowed(header, allowed), header


def test_the_startup_warning_says_what_is_open():
    note = server.exposure_note("0.0.0.0", 8765, server.allowed_hosts_for("0.0.0.0"))
    assert "\n" not in note and "every address of this machine" in note
    assert "there is no login" in note and "IP addresses" in note
    assert "localhost" in note and socket.gethostname().lower() in note
    assert "other names are refused" in note
    note = server.exposure_note("192.0.2.7", 8765, server.allowed_hosts_for("192.0.2.7"))
    assert "192.0.2.7" in note and "no login" in note
    assert server.exposure_note("127.0.0.1", 8765, ["127.0.0.1"]) is None
