"""The playground's web server: three packaged static files and one WebSocket per visitor.

Starlette on uvicorn. `GET /` serves index.html, `/static/app.js` and `/static/style.css` the rest:
the only files it reads, loaded from the package when the app is made, so nothing a page sends
reaches the file system. `/ws` carries the live stream: the page sends the messages of
`protocol.py`; the server answers with `state`, `frame`, `graph`, `status`, `pong` and `error`.

Each connection owns one `Session` and drops it when the socket closes. Training runs in a small
thread pool in slices of at most 40 ms (then one frame is computed and sent), so the event loop is
always free to answer a ping; pings are answered straight from the receive loop, every other
message waits its turn in the connection's inbox. The graph's layout comes from Graphviz's `dot`
(a subprocess, only when the graph's shape changes); its numbers are updated in place by frames.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import shutil
import sys
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from micrograd.graph import INSTALL_HINT
from micrograd.playground import protocol
from micrograd.playground.session import Diverged, Session, SessionError

log = logging.getLogger("micrograd.playground")

FRAME_INTERVAL = 0.05  # at most 20 frames a second per connection
SLICE = 0.04  # seconds of training per frame at full speed
MAX_PENDING_STEPS = 10_000  # `step` requests queue at most this many steps
INBOX = 64  # queued messages per connection; more are refused with an error
DOT_TIMEOUT = 30.0  # seconds for `dot` to lay out one graph
STATIC = {  # URL path -> (packaged file, content type)
    "/": ("index.html", "text/html; charset=utf-8"),
    "/static/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/static/style.css": ("style.css", "text/css; charset=utf-8"),
}
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
                               "style-src 'self' 'unsafe-inline'; connect-src 'self'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}
LOOPBACK_HOSTS = ["127.0.0.1", "localhost"]


def create_app(
    allowed_hosts: list[str] | None = None, dot: str | None = "auto", workers: int = 2,
    engine: str = "numpy",
) -> Starlette:
    """The ASGI app. `allowed_hosts` (e.g. LOOPBACK_HOSTS) refuses other Host headers, which
    stops DNS-rebinding pages; `dot` is the Graphviz program ("auto": found on PATH, None:
    missing); `workers` threads train all connections' models."""
    files = {path: (resources.files(__package__).joinpath("static", name).read_bytes(), ctype)
             for path, (name, ctype) in STATIC.items()}
    dot_path = shutil.which("dot") if dot == "auto" else dot
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="playground")

    async def static(request: Request) -> Response:
        body, ctype = files[request.url.path]
        return Response(body, media_type=ctype, headers=HEADERS)

    async def socket(ws: WebSocket) -> None:
        origin = ws.headers.get("origin")
        if origin is not None and urlsplit(origin).netloc != ws.headers.get("host"):
            await ws.close(code=1008, reason="cross-origin connections are refused")
            return
        await ws.accept()
        await Connection(ws, pool, dot_path, engine).serve()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        yield
        pool.shutdown(wait=False, cancel_futures=True)

    routes = [Route(path, static) for path in STATIC] + [WebSocketRoute("/ws", socket)]
    middleware = [] if allowed_hosts is None else \
        [Middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts)]
    return Starlette(routes=routes, middleware=middleware, lifespan=lifespan)


class Connection:
    """One visitor: a session, the loop that trains it, and the messages in and out."""

    def __init__(self, ws: WebSocket, pool: ThreadPoolExecutor, dot: str | None, engine: str):
        self.ws, self.pool, self.dot, self.engine = ws, pool, dot, engine
        self.session: Session | None = None
        self.lock = asyncio.Lock()  # one of runner / handler touches the session at a time
        self.running = False
        self.pending = 0  # steps asked for by `step` messages
        self.wake = asyncio.Event()
        self.inbox: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue(INBOX)
        self.render_task: asyncio.Task | None = None

    async def serve(self) -> None:
        """Run until the page goes away; then free everything this connection made."""
        tasks: list[asyncio.Task] = []
        try:
            async with self.lock:
                self.session = await self.in_pool(Session, None, self.engine)
                await self.send(self.state())
                await self.send_frame()
            tasks = [asyncio.create_task(self.runner()), asyncio.create_task(self.worker())]
            while True:
                msg = await self.ws.receive()
                if msg["type"] == "websocket.disconnect":
                    break
                await self.receive(msg.get("text") if msg.get("text") is not None
                                   else msg.get("bytes"))
        except (WebSocketDisconnect, ConnectionError):
            pass
        finally:
            for task in [*tasks, self.render_task]:
                if task is not None:
                    task.cancel()
            await asyncio.gather(*[t for t in [*tasks, self.render_task] if t is not None],
                                 return_exceptions=True)
            self.session = None  # the model, optimizer and tape go with it

    async def receive(self, text: Any) -> None:
        try:
            kind, fields = protocol.parse(text)
        except protocol.ProtocolError as e:
            await self.error(str(e), None)
            return
        if kind == "ping":  # answered at once, whatever the session is doing
            await self.send({"type": "pong", **fields})
            return
        try:
            self.inbox.put_nowait((kind, fields))
        except asyncio.QueueFull:
            await self.error(f"more than {INBOX} messages are waiting; {kind} was dropped", kind)

    async def worker(self) -> None:
        """Handle queued messages in order, each answered with an error if it cannot be done."""
        while True:
            kind, fields = await self.inbox.get()
            try:
                await getattr(self, f"on_{kind}")(**fields)
            except (SessionError, Diverged) as e:
                await self.error(str(e), kind)
            except Exception:  # a bug: logged here, never shown to the page as a traceback
                log.exception("playground: %s failed", kind)
                await self.error(f"internal error while handling {kind}; see the server log",
                                 kind)

    # ---- message handlers ----

    async def on_configure(self, **fields: Any) -> None:
        async with self.lock:
            await self.in_pool(self.session.configure, fields)
            await self.send(self.state())
            await self.send_frame()

    async def on_add_point(self, x: float, y: float, label: int) -> None:
        await self._change(self.session.add_point, x, y, label)

    async def on_clear(self) -> None:
        await self._change(self.session.clear)

    async def on_regenerate(self) -> None:
        await self._change(self.session.new_seed)

    async def on_reset(self) -> None:
        await self._change(self.session.reset)

    async def on_pick(self, index: int) -> None:
        await self._change(self.session.pick, index)

    async def on_play(self) -> None:
        self.running = True
        self.wake.set()
        await self.send(self.status())

    async def on_pause(self) -> None:
        self.running = False
        self.pending = 0
        await self.send(self.status())

    async def on_step(self, count: int = 1) -> None:
        self.pending = min(self.pending + count, MAX_PENDING_STEPS)
        self.wake.set()

    async def _change(self, fn: Any, *args: Any) -> None:
        async with self.lock:
            await self.in_pool(fn, *args)
            await self.send(self.state())
            await self.send_frame()

    # ---- training ----

    async def runner(self) -> None:
        """Train while playing (or while steps are pending), one frame per slice."""
        loop = asyncio.get_running_loop()
        owed, last = 0.0, loop.time()
        while True:
            if not self.running and not self.pending:
                self.wake.clear()
                await self.wake.wait()
                owed, last = 0.0, loop.time()
                continue
            tick = loop.time()
            async with self.lock:
                speed = self.session.config.speed
                if self.pending:
                    n = self.pending
                elif speed == 0:
                    n = 1 << 30  # as many as fit in the slice
                else:  # steps owed at `speed` per second; a stalled second is not made up
                    owed = min(owed + speed * (tick - last), speed * 0.25 + 1)
                    n = int(owed)
                last = tick
                if n:
                    try:
                        done = await self.in_pool(self.session.train_steps, n, SLICE)
                    except (SessionError, Diverged) as e:
                        self.running, self.pending, done = False, 0, 0
                        await self.error(str(e), "play")
                        await self.send(self.status())
                    if self.pending:
                        self.pending -= min(done, self.pending)
                    else:
                        owed -= done
                    await self.send_frame()
            await asyncio.sleep(max(0.0, FRAME_INTERVAL - (loop.time() - tick)))

    # ---- sending ----

    def state(self) -> dict[str, Any]:
        return {**self.session.state(), "running": self.running}

    def status(self) -> dict[str, Any]:
        return {"type": "status", "running": self.running, "step": self.session.step}

    async def send_frame(self) -> None:
        """Compute and send a frame (call with the lock held); lay the graph out if it changed."""
        session = self.session
        frame = await self.in_pool(session.frame)
        frame["running"] = self.running
        await self.send(frame)
        if session.pending_render:
            info = await self.in_pool(session.graph_dot)
            if self.render_task is not None:
                self.render_task.cancel()
            self.render_task = asyncio.create_task(self.render(info))

    async def render(self, info: dict[str, Any]) -> None:
        """Lay out the graph with `dot` (off the lock: it may take a second) and send the SVG."""
        msg = {"type": "graph", "id": info["id"], "svg": None, "note": info["note"]}
        if info["dot"] is not None:
            if self.dot is None:
                msg["error"] = ("Graphviz's `dot` program was not found, so the graph cannot be "
                                f"drawn; to see it, {INSTALL_HINT}, then restart the playground")
            else:
                try:
                    msg["svg"] = await run_dot(self.dot, info["dot"])
                    msg.update(values=info["values"], mode=info["mode"])
                except (OSError, RuntimeError, asyncio.TimeoutError) as e:
                    msg["error"] = f"Graphviz's dot failed: {str(e)[:200]}"
        if self.session is not None and info["id"] == self.session.graph_id:
            await self.send(msg)

    async def in_pool(self, fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.pool, fn, *args)

    async def send(self, msg: dict[str, Any]) -> None:
        await self.ws.send_text(json.dumps(msg, allow_nan=False, separators=(",", ":")))

    async def error(self, message: str, request: str | None) -> None:
        await self.send({"type": "error", "message": message, "request": request})


async def run_dot(dot: str, text: str) -> str:
    """SVG text from DOT text, by Graphviz's `dot` in a subprocess (killed on timeout/cancel)."""
    proc = await asyncio.create_subprocess_exec(
        dot, "-Tsvg", stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    try:
        out, err = await asyncio.wait_for(proc.communicate(text.encode()), DOT_TIMEOUT)
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()
        raise
    if proc.returncode != 0:
        raise RuntimeError(err.decode(errors="replace").strip() or f"exit {proc.returncode}")
    svg = out.decode()
    svg = svg[svg.index("<svg"):]  # no XML prologue or DOCTYPE inside a page
    return re.sub(r"<!--.*?-->\n?", "", svg, flags=re.S)  # nor comments: a third of the size


def serve(host: str, port: int, open_browser: bool) -> int:
    """Run the playground until Ctrl-C; print the URL first. Returns the exit code."""
    import socket as socketlib
    import threading
    import webbrowser

    import uvicorn

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
        return 2
    port = sock.getsockname()[1]
    loopback = is_loopback(host)
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/"
    app = create_app(allowed_hosts=LOOPBACK_HOSTS if host in LOOPBACK_HOSTS else None)
    config = uvicorn.Config(app, log_level="warning", ws_max_size=1 << 20, lifespan="on")
    server = uvicorn.Server(config)
    if not loopback:
        print(f"micrograd: warning: listening on {host}, not only this machine: anyone who can "
              "reach it can use the playground (there is no login)", file=sys.stderr)
    print(f"micrograd playground: {url} (Ctrl-C to stop)", flush=True)
    if open_browser:
        threading.Timer(0.3, webbrowser.open, (url,)).start()
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    return 0


def is_loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
