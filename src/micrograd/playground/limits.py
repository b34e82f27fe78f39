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
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

log = logging.getLogger("micrograd.playground")

TRY_AGAIN_LATER = 1013  # WebSocket close code: the server is overloaded


@dataclass(frozen=True)
class Limits:
    """Per-server and per-connection limits (the defaults are what `micrograd playground` uses;
    tests make them small)."""

    connections: int = 32  # WebSockets open at once (a page holds one)
    rate: float = 100.0  # messages per second per connection, once `burst` are used up
    burst: int = 200  # messages a connection may send back to back (a page sends a few a second)


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


def peer(protocol: Any) -> str:
    """`host:port` of a protocol's client, for one log line."""
    client = getattr(protocol, "client", None)
    return f"{client[0]}:{client[1]}" if client else "a client"


class BackpressureProtocol(WebSocketsSansIOProtocol):
    """Uvicorn's websockets-sansio protocol, reading no more from a client while the replies to it
    are piling up, and logging a client's bad frames or abrupt end in one line."""

    write_blocked = False

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
        if self.handshake_complete and not self.close_sent and not self.conn.close_rcvd and (
                self.frames or self.conn.reader.buffer):
            log.warning("playground: %s disconnected in the middle of a message", peer(self))
        super().connection_lost(exc)
