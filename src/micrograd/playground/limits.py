"""What one visitor may cost the playground's server: connections, messages, memory, log lines.

The playground listens on this machine only by default, but any local process (or a page that
some other site serves to the browser) can talk to it. These limits keep one such client from
hurting the others or the server:

- `Limits.connections`: at most this many WebSockets at once; one more is accepted and closed at
  once with code 1013 ("try again later") and a reason the page shows.
- `Limits.rate` / `Limits.burst`: messages a connection may send per second once it has sent
  `burst` back to back. Messages beyond the rate are not dropped: the server reads that socket
  more slowly (the client's own writes then block), and other connections keep their turn,
  because every message handled yields to the event loop first.
- `BackpressureProtocol`: uvicorn's WebSocket protocol (websockets' sans-I/O engine), except
  that it stops reading from a client whose replies it cannot deliver. Uvicorn answers every
  PING frame with a PONG at once; a client that sends pings and never reads the pongs made the
  server buffer them all (about 95 MB of memory per 100 MB of pings). Now the replies waiting
  for such a client stay under the transport's high-water mark (64 KiB), and the client's pings
  wait in its own kernel buffers. Such a client does not answer the server's keepalive ping
  either, and is dropped when that times out (20 s).
- The same protocol logs a misbehaving client in one line (text that is not UTF-8, a broken
  frame, a connection dropped mid-message) where uvicorn logged a traceback or nothing.
- `GuardedHTTPProtocol`: uvicorn's HTTP/1.1 protocol (h11) with a cap on open TCP connections
  and a deadline for each request. Uvicorn closes a keep-alive connection idle after a response,
  but holds one that never completes a request forever, and its `limit_concurrency` answers 503
  only once a request is read; so 1,100 silent connections used up the process's open files
  (1,024), after which nothing was accepted and asyncio logged a traceback per retry. Now a
  connection that has not sent its request line and headers within `Limits.request_timeout`
  seconds is closed, and when `Limits.tcp_connections` (at most half the open-file limit) are
  open, a new one pushes out the oldest connection that has no request in flight, so a visitor
  who sends a request at once is served while an attacker holds silent ones.
- `LogThrottle`: the few errors a client can make the server log over and over (the event loop
  failing to accept, should the open files still run out) are logged once per period with a count.
- On shutdown (Ctrl-C) every connection is dropped after `SHUTDOWN_GRACE` seconds if it has not
  closed: a client that does not read never takes its close frame, and would hold the server.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

log = logging.getLogger("micrograd.playground")

TRY_AGAIN_LATER = 1013  # WebSocket close code: the server is overloaded
SHUTDOWN_GRACE = 1.0  # seconds a connection may take to close once the server stops
OPEN_FILES_SHARE = 2  # TCP connections may use at most 1/2 of the open-file limit


@dataclass(frozen=True)
class Limits:
    """Per-server and per-connection limits (the defaults are what `micrograd playground` uses;
    tests make them small)."""

    connections: int = 32  # WebSockets open at once (a page holds one)
    rate: float = 100.0  # messages per second per connection, once `burst` are used up
    burst: int = 200  # messages a connection may send back to back (a page sends a few a second)
    tcp_connections: int = 512  # TCP connections open at once, of any kind (capped by open files)
    request_timeout: float = 5.0  # seconds to send a request's line and headers, once connected


DEFAULT_LIMITS = Limits()


class TokenBucket:
    """`burst` tokens, refilled at `rate` per second; each message takes one."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic):
        self.rate, self.burst, self.clock = rate, burst, clock
        self.tokens, self.last = float(burst), clock()

    def take(self) -> float:
        """Take a token; the seconds to wait before the message may be handled (0: now).

        The debt is booked at once, so a client that keeps sending waits longer and longer and
        never gets more than `rate` messages a second handled on average.
        """
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate) - 1
        self.last = now
        return 0.0 if self.tokens >= 0 else -self.tokens / self.rate


def connection_cap(limits: Limits) -> int:
    """`limits.tcp_connections`, but at most a share of this process's open-file limit: the
    rest stays free for the accept in flight, the thread pools, `dot`'s pipes and the log."""
    try:
        import resource

        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    except (ImportError, OSError, ValueError):  # no `resource` module (Windows): no such limit
        return limits.tcp_connections
    if soft == resource.RLIM_INFINITY:
        return limits.tcp_connections
    return max(1, min(limits.tcp_connections, soft // OPEN_FILES_SHARE))


class LogThrottle:
    """At most one log line per `period` seconds for one kind of event, with the count since."""

    def __init__(self, period: float, clock: Callable[[], float] = time.monotonic):
        self.period, self.clock = period, clock
        self.last: float | None = None
        self.count = 0

    def hit(self) -> int | None:
        """Count one event; the number of events to report (this one included) when a line is
        due now, else None."""
        self.count += 1
        now = self.clock()
        if self.last is not None and now - self.last < self.period:
            return None
        self.last, count, self.count = now, self.count, 0
        return count


ACCEPT_FAILED = "socket.accept() out of system resource"  # asyncio's words for it


def accept_error_handler(throttle: LogThrottle) -> Callable[[Any, dict[str, Any]], None]:
    """An event loop exception handler that logs asyncio's failed accepts (out of open files:
    retried every second, each with a traceback) in one line per `throttle` period, with a count;
    anything else goes to the loop's default handler."""

    def handle(loop: Any, context: dict[str, Any]) -> None:
        if context.get("message") != ACCEPT_FAILED:
            loop.default_exception_handler(context)
            return
        count = throttle.hit()
        if count is not None:
            log.error("playground: cannot accept connections: %s (%d time%s since the last such "
                      "line; at most one every %g s)", context.get("exception"), count,
                      "" if count == 1 else "s", throttle.period)

    return handle


def drop_after_grace(protocol: Any) -> None:
    """Abort `protocol`'s transport if it is still open `SHUTDOWN_GRACE` seconds from now."""
    protocol.loop.call_later(SHUTDOWN_GRACE, protocol.transport.abort)  # closed: does nothing


class GuardedHTTPProtocol(H11Protocol):
    """Uvicorn's h11 protocol with a request deadline and a cap on open connections (see the
    module's docstring). `cap` and `request_timeout` come from `functools.partial`."""

    def __init__(self, *args: Any, cap: int, request_timeout: float, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.cap, self.request_timeout = cap, request_timeout
        self.deadline: Any = None
        self.opened = 0.0

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        self.opened = self.loop.time()
        if len(self.connections) > self.cap:
            idle = [c for c in self.connections if isinstance(c, GuardedHTTPProtocol)
                    and c is not self and c.waiting() and not c.transport.is_closing()]
            if not idle:  # every slot serves a request: this one must wait its turn elsewhere
                transport.abort()
                return
            min(idle, key=lambda c: c.opened).transport.abort()
        self.arm()

    def waiting(self) -> bool:
        """No request in flight: nothing sent yet, part of a request, or idle after a response."""
        return self.cycle is None or self.cycle.response_complete

    def arm(self) -> None:
        """Give the client `request_timeout` seconds to send a whole request line and headers."""
        if self.deadline is not None:
            self.deadline.cancel()
        self.deadline = self.loop.call_later(self.request_timeout, self.expire)

    def expire(self) -> None:
        self.deadline = None
        if self.waiting() and self.transport.get_protocol() is self:
            self.transport.abort()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self.arm()  # the next request on this connection gets the same time

    def handle_websocket_upgrade(self, event: Any) -> None:
        if self.deadline is not None:  # the WebSocket protocol owns the connection now
            self.deadline.cancel()
            self.deadline = None
        super().handle_websocket_upgrade(event)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.deadline is not None:
            self.deadline.cancel()
            self.deadline = None
        super().connection_lost(exc)

    def shutdown(self) -> None:
        super().shutdown()
        drop_after_grace(self)


def peer(protocol: Any) -> str:
    """`host:port` of a protocol's client, for one log line."""
    client = getattr(protocol, "client", None)
    return f"{client[0]}:{client[1]}" if client else "a client"


class BackpressureProtocol(WebSocketsSansIOProtocol):
    """Uvicorn's websockets-sansio protocol, reading no more from a client while the replies to it
    are piling up, and logging a client's bad frames or abrupt end in one line."""

    write_blocked = False
    stopping = False  # the server is shutting down: a cut message is ours, not the client's

    def pause_writing(self) -> None:
        """The transport's buffer is over its high-water mark: stop reading this client (its
        pings would only add pongs to the buffer) until the buffer drains."""
        super().pause_writing()
        self.write_blocked = True
        if not self.transport.is_closing():
            self.transport.pause_reading()

    def resume_writing(self) -> None:
        super().resume_writing()
        self.write_blocked = False
        if not self.read_paused and not self.transport.is_closing():
            self.transport.resume_reading()

    async def receive(self) -> Any:
        """uvicorn resumes reading once the app has taken every queued message; not while the
        client's replies are stuck."""
        message = await super().receive()
        if self.write_blocked and not self.transport.is_closing():
            self.transport.pause_reading()
        return message

    def shutdown(self) -> None:
        """The server is stopping: close as uvicorn does, and drop the connection if its close
        cannot be delivered (a client that does not read)."""
        self.stopping = True
        super().shutdown()
        drop_after_grace(self)

    def keepalive_timeout(self) -> None:
        """No pong to our keepalive ping in time: uvicorn sends a close frame and closes, but a
        transport closes only once its buffer is delivered, which never happens to a client that
        does not read; so its connection (and session) would be held forever. Drop it."""
        super().keepalive_timeout()
        if self.transport.is_closing():
            self.transport.abort()

    def send_receive_event_to_app(self) -> None:
        """Refuse text that is not UTF-8 with close code 1007 and one log line (uvicorn logs a
        traceback for each such message)."""
        if self.curr_msg_data_type == "text" and not self.close_sent:
            try:
                b"".join(self.frames).decode()
            except UnicodeDecodeError as e:
                log.warning("playground: %s sent text that is not UTF-8 (byte %d); closed (1007)",
                            peer(self), e.start)
                self.frames = []
                self.conn.send_close(1007, "text is not UTF-8")
                super().handle_parser_exception()
                return
        super().send_receive_event_to_app()

    def handle_parser_exception(self) -> None:
        """A frame websockets could not parse (bad header, too big, unmasked): one log line."""
        exc = self.conn.parser_exc
        log.warning("playground: %s sent a bad frame (%s); closed (%s)", peer(self),
                    str(exc) or type(exc).__name__, getattr(self.conn.close_sent, "code", "?"))
        super().handle_parser_exception()

    def connection_lost(self, exc: Exception | None) -> None:
        """A client gone in the middle of a frame or of a fragmented message: one log line."""
        if self.handshake_complete and not self.stopping and not self.close_sent and \
                not self.conn.close_rcvd and (self.frames or self.conn.reader.buffer):
            log.warning("playground: %s disconnected in the middle of a message", peer(self))
        super().connection_lost(exc)
