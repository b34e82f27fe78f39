"""The playground's web server: the packaged static files and one WebSocket per visitor.

Starlette on uvicorn. `GET /` serves index.html, `/static/NAME` the page's modules and styles
(STATIC, listed from the package's static/ folder): the only files it reads, loaded from the
package when the app is made, so nothing a page sends reaches the file system;
`/static/settings.json` is the settings schema's page view, made then too, and
`/static/first.json` a new session's state and first frame on the app's engine (`snapshot.py`:
the page draws it before its socket answers). `/ws` carries the
live stream: the page sends the messages of `protocol.py`; the server answers with `state`,
`frame`, `graph`, `walk` (backprop step by step, `walkmsg.py`), `status`, `pong` and `error`.

Each connection owns one `Session` and drops it when the socket closes; what a message does is
`driver.py`'s business (the exported page's worker uses the same driver). Training runs in a small
thread pool in slices of at most 40 ms (then one frame is computed and sent), so the event loop is
always free to answer a ping; pings are answered straight from the receive loop, every other
message waits its turn in the connection's inbox. The graph's layout comes from Graphviz's `dot`
(a subprocess, only when the graph's shape changes); its numbers are updated in place by frames.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ipaddress
import logging
import os
import shutil
import signal
import socket as socketlib
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

import uvicorn
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from micrograd.errors import EXIT_INTERRUPTED, EXIT_USAGE
from micrograd.playground import protocol
from micrograd.playground.assets import made_files
from micrograd.playground.dot import DOT_MISSING, run_dot
from micrograd.playground.driver import Driver, encode, error, graph_message
from micrograd.playground.limits import (
    DEFAULT_LIMITS,
    SHUTDOWN_GRACE,
    TRY_AGAIN_LATER,
    BackpressureProtocol,
    GuardedHTTPProtocol,
    Limits,
    LogThrottle,
    TokenBucket,
    accept_error_handler,
    connection_cap,
)
from micrograd.playground.session import Session
from micrograd.words import message_of, said

log = logging.getLogger("micrograd.playground")

FRAME_INTERVAL = 0.05  # at most 20 frames a second per connection
INBOX = 64  # queued messages per connection; more are refused with an error
DOT_WORKERS = 2  # graphs laid out at once (each waits for a `dot` process)
ACCEPT_LOG_PERIOD = 10.0  # seconds between two log lines about failed accepts
BACKLOG = 128  # connections waiting to be accepted (and accepted at once, per wake-up)
CONTENT_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
                 ".json": "application/json"}
# the exported page's Web Worker (it needs Pyodide), boot.js that starts it, its service worker
EXPORT_ONLY = {"worker.js", "sw.js", "boot.js"}


def static_files() -> dict[str, tuple[str, str]]:
    """URL path -> (packaged file, content type): index.html at `/` and every .js, .css and .json
    file of static/ at /static/NAME, so a new module of the page is served without an edit here."""
    files = {"/": ("index.html", "text/html; charset=utf-8")}
    for entry in sorted(resources.files(__package__).joinpath("static").iterdir(),
                        key=lambda e: e.name):
        ctype = CONTENT_TYPES.get(os.path.splitext(entry.name)[1])
        if ctype and entry.is_file() and entry.name not in EXPORT_ONLY \
                and not entry.name.startswith("."):
            files[f"/static/{entry.name}"] = (entry.name, ctype)
    return files


STATIC = static_files()  # the allow-list: nothing else is read, whatever a request names
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
                               "style-src 'self'; connect-src 'self'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}
LOOPBACK_HOSTS = ["127.0.0.1", "localhost"]
WILDCARDS = ("", "0.0.0.0", "::")  # binds that listen on every address
ANY_ADDRESS = "any IP address"  # in a list of allowed hosts: a Host that is an IP literal


def allowed_hosts_for(bind: str) -> list[str]:
    """The Host headers a server bound to `bind` accepts (names, and ANY_ADDRESS).

    A page from another site that rebinds its own name to our address reaches us with its name
    in Host (and its Origin names the same host, so the Origin check passes); only the Host check
    stops it. A bind to one address accepts only the names of that address: the address itself
    (IPv6 in brackets, as a Host header writes it), and for loopback binds also `localhost` and
    the other loopback literals a browser may use. A wildcard bind is reached at any of the
    machine's addresses, so it accepts any IP literal (no DNS lookup happens for one, so nothing
    can rebind it) and this machine's own names; any other name is refused.
    """
    if bind in WILDCARDS:
        hostname = socketlib.gethostname().lower()
        names = ["localhost", hostname, f"{hostname}.local", socketlib.getfqdn().lower()]
        return list(dict.fromkeys([ANY_ADDRESS, *filter(None, names)]))
    name = f"[{bind}]" if ":" in bind else bind
    extra = [*LOOPBACK_HOSTS, "[::1]"] if is_loopback(bind) else []
    return list(dict.fromkeys([name.lower(), *extra]))


def host_name(header: str | None) -> str | None:
    """The host of a Host header without its port, lowercased (IPv6 in brackets); None when
    there is none or it is not `host[:port]`."""
    text = (header or "").strip().lower()
    if text.startswith("["):  # [v6] or [v6]:port
        end = text.find("]")
        rest = text[end + 1:]
        ok = end > 1 and (rest == "" or (rest[0] == ":" and rest[1:].isdigit()))
        return text[:end + 1] if ok else None
    name, sep, port = text.partition(":")
    return name if name and (not sep or port.isdigit()) else None


def host_allowed(header: str | None, allowed: list[str]) -> bool:
    """Does a request's Host header name one of `allowed` (see `allowed_hosts_for`)?"""
    host = host_name(header)
    if host is None:
        return False
    if host in allowed:
        return True
    if ANY_ADDRESS in allowed:
        try:
            ipaddress.ip_address(host[1:-1] if host.startswith("[") else host)
            return True
        except ValueError:
            return False
    return False


class HostCheck:
    """ASGI middleware: a request or WebSocket whose Host is not allowed is answered
    `400 Invalid host header` before the app sees it (what stops DNS-rebinding pages)."""

    def __init__(self, app: Any, allowed: list[str]):
        self.app, self.allowed = app, allowed

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket") and not host_allowed(
                Headers(scope=scope).get("host"), self.allowed):
            await PlainTextResponse("Invalid host header", status_code=400)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def page_files(engine: str) -> dict[str, tuple[bytes, str]]:
    """{path: (bytes, content type)}: static/'s files, and the JSON the page reads, made now."""
    files = {path: (resources.files(__package__).joinpath("static", name).read_bytes(), ctype)
             for path, (name, ctype) in STATIC.items()}
    for path, text in made_files(engine).items():
        files[f"/{path}"] = (text.encode(), "application/json; charset=utf-8")
    return files


def create_app(
    allowed_hosts: list[str] | None = None, dot: str | None = "auto", workers: int = 2,
    engine: str = "numpy", limits: Limits = DEFAULT_LIMITS,
) -> Starlette:
    """The ASGI app. `allowed_hosts` (`allowed_hosts_for(bind)`) refuses other Host headers,
    which stops DNS-rebinding pages; `dot` is the Graphviz program ("auto": found on PATH, None:
    missing); `workers` threads train all connections' models; `limits` caps connections and
    each one's message rate."""
    files = page_files(engine)
    dot_path = shutil.which("dot") if dot == "auto" else dot
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="playground")
    dot_pool = ThreadPoolExecutor(max_workers=DOT_WORKERS, thread_name_prefix="playground-dot")
    open_sockets = 0  # one event loop: a plain counter is enough

    async def static(request: Request) -> Response:
        body, ctype = files[request.url.path]
        return Response(body, media_type=ctype, headers=HEADERS)

    async def socket(ws: WebSocket) -> None:
        # on every bind: a page's own socket names the page's host:port in Origin as in Host
        origin = ws.headers.get("origin")
        if origin is not None and \
                urlsplit(origin).netloc.lower() != ws.headers.get("host", "").lower():
            await ws.close(code=1008, reason=protocol.CROSS_ORIGIN)
            return
        nonlocal open_sockets
        await ws.accept()
        if open_sockets >= limits.connections:  # accepted first, so the page can show why
            await ws.close(code=TRY_AGAIN_LATER, reason=protocol.FULL.format(n=limits.connections))
            return
        open_sockets += 1
        try:
            await Connection(ws, pool, dot_pool, dot_path, engine, limits).serve()
        finally:
            open_sockets -= 1

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        # start every thread now: a thread started later makes the event loop wait for it to
        # get the GIL from busy trainers (seen: 400 ms without an answer to a ping)
        for executor, n in ((pool, workers), (dot_pool, DOT_WORKERS)):
            barrier = threading.Barrier(n + 1)
            for _ in range(n):
                executor.submit(barrier.wait)
            barrier.wait()
        asyncio.get_running_loop().set_exception_handler(
            accept_error_handler(LogThrottle(ACCEPT_LOG_PERIOD)))
        yield
        pool.shutdown(wait=False, cancel_futures=True)
        dot_pool.shutdown(wait=False, cancel_futures=True)

    routes = [Route(path, static) for path in files] + [WebSocketRoute("/ws", socket)]
    middleware = [] if allowed_hosts is None else \
        [Middleware(HostCheck, allowed=allowed_hosts)]
    return Starlette(routes=routes, middleware=middleware, lifespan=lifespan)


def _closed_while_sending(error: RuntimeError) -> bool:
    """Is `error` a send on a socket that the protocol layer had already closed?

    `limits.BackpressureProtocol` closes a client that sends a bad frame (1002, 1007) at once; a
    frame this connection was preparing meanwhile then meets a closed socket. That is the client
    going away, not a bug: uvicorn and Starlette say so with these RuntimeErrors.
    """
    text = str(error)
    return "after sending 'websocket.close'" in text or "close message has been sent" in text


class Connection:
    """One visitor: a session's `Driver`, the loop that trains it, and the messages in and out."""

    def __init__(self, ws: WebSocket, pool: ThreadPoolExecutor, dot_pool: ThreadPoolExecutor,
                 dot: str | None, engine: str, limits: Limits = DEFAULT_LIMITS):
        self.ws, self.pool, self.dot_pool, self.dot, self.engine = ws, pool, dot_pool, dot, engine
        self.bucket = TokenBucket(limits.rate, limits.burst)
        self.session: Session | None = None
        self.driver: Driver | None = None
        self.lock = asyncio.Lock()  # one of runner / handler touches the session at a time
        self.wake = asyncio.Event()
        self.inbox: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue(INBOX)
        self.render_task: asyncio.Task | None = None

    async def serve(self) -> None:
        """Run until the page goes away; then free everything this connection made."""
        tasks: list[asyncio.Task] = []
        try:
            async with self.lock:
                self.session = await self.in_pool(Session, None, self.engine)
                self.driver = Driver(self.session)
                if self.dot is not None:  # the walk's pictures, by `dot` as the graph's
                    self.driver.layout = functools.partial(run_dot, self.dot)
                await self.reply(self.driver.hello)
            tasks = [asyncio.create_task(self.runner()), asyncio.create_task(self.worker())]
            while True:
                msg = await self.ws.receive()
                if msg["type"] == "websocket.disconnect":
                    break
                # every message yields first (sleep(0) when within the rate): a client that
                # pipelines thousands of frames gets one turn at a time, like everyone else
                await asyncio.sleep(self.bucket.take())
                await self.receive(msg.get("text") if msg.get("text") is not None
                                   else msg.get("bytes"))
        except (WebSocketDisconnect, OSError):  # uvicorn's ClientDisconnected is an OSError
            pass
        except RuntimeError as e:  # the protocol closed the socket (a bad frame) while we sent
            if not _closed_while_sending(e):
                raise
        finally:
            for task in [*tasks, self.render_task]:
                if task is not None:
                    task.cancel()
            await asyncio.gather(*[t for t in [*tasks, self.render_task] if t is not None],
                                 return_exceptions=True)
            self.session = self.driver = None  # the model, optimizer and tape go with them
            release_memory()

    async def receive(self, text: Any) -> None:
        try:
            kind, fields = protocol.parse(text)
        except protocol.ProtocolError as e:
            await self.send(error(message_of(e), None))
            return
        if kind == "ping":  # answered at once, whatever the session is doing
            await self.send({"type": "pong", **fields})
            return
        try:
            self.inbox.put_nowait((kind, fields))
        except asyncio.QueueFull:
            await self.send(error(said("more than {n} messages are waiting; {kind} was dropped",
                                       n=INBOX, kind=kind), kind))

    async def worker(self) -> None:
        """Handle queued messages in order (the driver answers each, with an error if need be);
        a message waits for the training slice in flight, so `pause` reports the final step."""
        while True:
            kind, fields = await self.inbox.get()
            try:
                async with self.lock:
                    await self.reply(self.driver.handle, kind, fields)
            except RuntimeError as e:
                if _closed_while_sending(e):
                    return  # the socket is gone: serve() is ending this connection
                raise
            self.wake.set()

    async def runner(self) -> None:
        """Train while the driver is busy (playing, or steps pending), one frame per slice."""
        loop = asyncio.get_running_loop()
        while True:
            if not self.driver.busy:
                self.wake.clear()
                await self.wake.wait()
                continue
            tick = loop.time()
            async with self.lock:
                await self.reply(self.driver.train_slice, tick)
            await asyncio.sleep(max(0.0, FRAME_INTERVAL - (loop.time() - tick)))

    async def reply(self, fn: Any, *args: Any) -> None:
        """Run a driver call in the pool (call with the lock held) and send the texts it returns
        (the event loop only passes text on); lay the graph out if its shape changed."""
        driver = self.driver
        for text in await self.in_pool(fn, *args):
            await self.ws.send_text(text)
        info = driver.take_layout()
        if info is not None:
            if self.render_task is not None:
                self.render_task.cancel()
            self.render_task = asyncio.create_task(self.render(info))

    async def render(self, info: dict[str, Any]) -> None:
        """Lay out the graph with `dot` and send the SVG, off the lock and off the event loop
        (a thread waits for `dot`, trims and encodes its half-megabyte of SVG)."""
        layout = None if self.dot is None else functools.partial(run_dot, self.dot)
        text = await asyncio.get_running_loop().run_in_executor(
            self.dot_pool, graph_message, info, layout, DOT_MISSING)
        if self.session is not None and info["id"] == self.session.graph_id:
            await self.ws.send_text(text)

    async def in_pool(self, fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.pool, fn, *args)

    async def send(self, msg: dict[str, Any]) -> None:
        await self.ws.send_text(encode(msg))


def release_memory() -> None:
    """Hand freed heap back to the system (glibc's malloc_trim; elsewhere nothing to do).

    A closed connection's objects are freed at once (no reference cycles), but glibc keeps the
    pages in its per-thread arenas; trimming keeps a long-running server's footprint flat.
    """
    global _malloc_trim
    if _malloc_trim is None:
        try:
            import ctypes

            _malloc_trim = ctypes.CDLL("libc.so.6").malloc_trim
        except (OSError, AttributeError):
            _malloc_trim = False
    if _malloc_trim:
        _malloc_trim(0)


_malloc_trim: Any = None


class PlaygroundServer(uvicorn.Server):
    """Uvicorn's server, stopped the way a user expects.

    The first Ctrl-C (or SIGTERM) stops it: connections are asked to close and dropped after
    `limits.SHUTDOWN_GRACE` seconds if they have not (a client that does not read never takes
    its close frame), so the server stops even then. A second Ctrl-C while that is under way
    quits at once with one line: uvicorn's own second Ctrl-C skipped the app's shutdown, and the
    cancelled lifespan logged a 37-line traceback. The signal is not raised again afterwards, so
    `serve` returns normally.
    """

    def handle_exit(self, sig: int, frame: Any) -> None:
        if self.should_exit and sig == signal.SIGINT:
            print("micrograd playground: stopped at once (second Ctrl-C)", file=sys.stderr,
                  flush=True)
            os._exit(EXIT_INTERRUPTED)  # nothing to save: sessions live only as long as their page
        self.should_exit = True


def server_config(app: Starlette, limits: Limits = DEFAULT_LIMITS) -> uvicorn.Config:
    """Uvicorn's settings for the playground: its HTTP and WebSocket protocols with their limits
    (`limits.py`), the backlog, and a bounded shutdown."""
    http = functools.partial(GuardedHTTPProtocol, cap=connection_cap(limits),
                             request_timeout=limits.request_timeout)
    # no per-message deflate: on loopback it would only spend the event loop's time compressing;
    # the WebSocket protocol stops reading a client that does not read (see limits.py)
    return uvicorn.Config(app, log_level="warning", http=http, ws=BackpressureProtocol,
                          ws_max_size=1 << 20, ws_per_message_deflate=False, lifespan="on",
                          backlog=BACKLOG, timeout_keep_alive=int(limits.request_timeout),
                          timeout_graceful_shutdown=int(4 * SHUTDOWN_GRACE))


def exposure_note(host: str, port: int, allowed: list[str]) -> str | None:
    """The startup warning for a bind other machines can reach (None for loopback): who can use
    the playground, and under which Host names it answers."""
    if is_loopback(host):
        return None
    names = ", ".join(n for n in allowed if n != ANY_ADDRESS)
    if host in WILDCARDS:
        where = (f"{host or '0.0.0.0'} (every address of this machine), port {port}: anyone who "
                 f"can reach any of its addresses can use the playground (there is no login). "
                 f"It answers to its IP addresses and the names {names}; other names are "
                 "refused (400), so another site's page cannot reach it by rebinding its own "
                 "name (to be reached by another name, pass that name as --host)")
    else:
        where = (f"{host}, port {port}, not only this machine: anyone who can reach that "
                 f"address can use the playground (there is no login); it answers to the Host "
                 f"{names} only")
    return f"micrograd: warning: listening on {where}"


def serve(host: str, port: int, open_browser: bool) -> int:
    """Run the playground until Ctrl-C; print the URL first. Returns the exit code."""
    import webbrowser

    family = socketlib.AF_INET6 if ":" in host else socketlib.AF_INET
    sock = socketlib.socket(family, socketlib.SOCK_STREAM)
    sock.setsockopt(socketlib.SOL_SOCKET, socketlib.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        hint = "; pass --port 0 for a free one" if e.errno in (98, 48) else ""
        print(f"micrograd: error: cannot listen on {host}:{port}: {e.strerror}{hint}",
              file=sys.stderr)
        return EXIT_USAGE
    sock.listen(BACKLOG)  # before the URL is printed: a client may connect at once
    port = sock.getsockname()[1]
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/"
    allowed = allowed_hosts_for(host)
    server = PlaygroundServer(server_config(create_app(allowed_hosts=allowed)))
    note = exposure_note(host, port, allowed)
    if note:
        print(note, file=sys.stderr)
    print(f"micrograd playground: {url} (Ctrl-C to stop)", flush=True)
    if open_browser:
        threading.Timer(0.3, webbrowser.open, (url,)).start()
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
    return 0


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
