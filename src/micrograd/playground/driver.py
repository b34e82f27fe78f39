"""One page's conversation with its session, without any network: messages in, messages out.

Two transports carry the same conversation: the server's `Connection` (a WebSocket, asyncio and a
thread pool, `server.py`) and the exported page's Web Worker (this package under Pyodide, one
thread, `browser.py`). Both hand a `Driver` the page's messages and send back what it returns, so
the page cannot tell them apart: every answer is a list of JSON texts in the order the page must
receive them (each encoded at once: a later frame changes the history an earlier state holds).
The driver owns the `Session`, the play / pause / step state and the pacing of training:
`train_slice(now)` trains for at most `SLICE` seconds (the steps owed at the chosen speed, or the
pending `step` requests) and returns one frame, so each transport can answer the page between
slices.

Dispatch is by name, so a new message type needs no transport code: a message of type T runs
`Driver.on_T(**fields)` when the driver has one (play, pause, step, ping and the changes whose
method has another name), else `Session.T(**fields)` as a change of the session, answered with
the new state and a frame. `protocol.parse` has already checked T and its fields.

Laying the graph out is the transport's business (Graphviz's `dot` in a process on the server,
viz.js in the browser): after a call, `take_layout()` hands over the DOT text whose shape changed,
and `graph_message(info, layout)` turns the layout's SVG into the page's `graph` message.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from typing import Any

from micrograd.playground import protocol
from micrograd.playground.session import Diverged, Session, SessionError
from micrograd.playground.walkmsg import walk_message
from micrograd.words import message_of, said, words_json

log = logging.getLogger("micrograd.playground")

SLICE = 0.04  # seconds of training per frame at full speed
MAX_PENDING_STEPS = 10_000  # `step` requests queue at most this many steps


class LayoutError(RuntimeError):
    """Laying a graph out failed (the layout program's own words follow)."""


class Driver:
    """The play state and message handling of one page over one `Session`."""

    def __init__(self, session: Session, log_hint: str = said("see the server log")):
        self.session = session
        self.log_hint = log_hint  # where a bug's traceback went, for the page's error line
        self.slice = SLICE  # seconds of training per slice at full speed
        self.running = False
        self.pending = 0  # steps asked for by `step` messages
        self._owed = 0.0  # steps owed at `speed` per second, not yet trained
        self._last: float | None = None  # when the last slice ran (None: idle since)
        self._layout: dict[str, Any] | None = None
        self.layout: Callable[[str], str] | None = None  # DOT to SVG, for the walk's pictures

    @property
    def busy(self) -> bool:
        """Is there training to do (playing, or steps pending)?"""
        return self.running or self.pending > 0

    def hello(self) -> list[str]:
        """What a page receives first: the state and a frame."""
        return [encode(self.state()), *self.frame()]

    def receive(self, text: Any) -> list[str]:
        """Answer one raw client message (checked by `protocol.parse` first)."""
        try:
            kind, fields = protocol.parse(text)
        except protocol.ProtocolError as e:
            return [encode(error(message_of(e), None))]
        return self.handle(kind, fields)

    def handle(self, kind: str, fields: dict[str, Any]) -> list[str]:
        """Answer one checked message; a failure is an `error` message, never an exception."""
        try:
            handler = getattr(self, f"on_{kind}", None)
            if handler is not None:
                return handler(**fields)
            return self.change(getattr(self.session, kind), **fields)
        except (SessionError, Diverged) as e:
            return [encode(error(message_of(e), kind))]
        except Exception:  # a bug: logged, never shown to the page as a traceback
            log.exception("playground: %s failed", kind)
            return [encode(error(said("internal error while handling {kind}; {hint}",
                                      kind=kind, hint=self.log_hint), kind))]

    # ---- the messages whose handling is not a Session method of the same name ----

    def on_ping(self, **fields: Any) -> list[str]:
        return [encode({"type": "pong", **fields})]

    def on_configure(self, **fields: Any) -> list[str]:
        return self.change(self.session.configure, fields)

    def on_regenerate(self) -> list[str]:
        return self.change(self.session.new_seed)

    def on_focus(self, layer: int | None = None, index: int | None = None) -> list[str]:
        """Show a neuron on the big plane (or the plane again): a fresh frame, no state."""
        self.session.set_focus(layer, index)
        return self.frame()

    def on_set_weight(self, **fields: Any) -> list[str]:
        """A weight set by hand: the same network, so a fresh frame and no state."""
        self.session.set_weight(**fields)
        return self.frame()

    def on_walk(self) -> list[str]:
        """Backprop step by step for the picked point, on the weights of now (the page pauses
        training first): `walkmsg.walk_message`."""
        return [encode(walk_message(self.session, self.layout))]

    def on_play(self) -> list[str]:
        self.running = True
        return [encode(self.status())]

    def on_pause(self) -> list[str]:
        self.running, self.pending, self._last = False, 0, None
        return [encode(self.status())]

    def on_step(self, count: int = 1) -> list[str]:
        self.pending = min(self.pending + count, MAX_PENDING_STEPS)
        return []

    def change(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> list[str]:
        """Apply a change to the session; answer with the new state and a frame."""
        fn(*args, **kwargs)
        return [encode(self.state()), *self.frame()]

    # ---- training ----

    def train_slice(self, now: float) -> list[str]:
        """Train for at most `self.slice` seconds and return the frame ([] when nothing was due).

        `now` is the transport's clock in seconds: at `speed` steps per second the steps owed
        since the last slice are trained (a stalled second is not made up); pending `step`
        requests come first; speed 0 trains as many steps as fit in the slice.
        """
        if not self.busy:
            self._last = None
            return []
        if self._last is None:
            self._owed, self._last = 0.0, now
        speed = self.session.config.speed
        if self.pending:
            n = self.pending
        elif speed == 0:
            n = 1 << 30  # as many as fit in the slice
        else:
            self._owed = min(self._owed + speed * (now - self._last), speed * 0.25 + 1)
            n = int(self._owed)
        self._last = now
        if not n:
            return []
        out: list[str] = []
        try:
            done = self.session.train_steps(n, self.slice)
        except (SessionError, Diverged) as e:
            self.running, self.pending, done = False, 0, 0
            out += [encode(error(message_of(e), "play")), encode(self.status())]
        except Exception:  # a bug: logged, training stops, the transport's loop goes on
            log.exception("playground: training failed")
            self.running, self.pending, done = False, 0, 0
            out += [encode(error(said("internal error while training; {hint}",
                                      hint=self.log_hint), "play")), encode(self.status())]
        if self.pending:
            self.pending -= min(done, self.pending)
        else:
            self._owed -= done
        if not self.busy:
            self._last = None
        return [*out, *self.frame()]

    # ---- what the page receives ----

    def state(self) -> dict[str, Any]:
        return {**self.session.state(), "running": self.running}

    def status(self) -> dict[str, Any]:
        return {"type": "status", "running": self.running, "step": self.session.step}

    def frame(self) -> list[str]:
        """The frame; when the graph's shape changed, its DOT text waits in `take_layout()`."""
        out = encode({**self.session.frame(), "running": self.running})
        if self.session.pending_render:
            self._layout = self.session.graph_dot()
        return [out]

    def take_layout(self) -> dict[str, Any] | None:
        """The `Session.graph_dot()` result to lay out since the last call, if any."""
        info, self._layout = self._layout, None
        return info


def error(message: str, request: str | None) -> dict[str, Any]:
    """An `error` message; a `said` message carries its `words`, which the page says in its
    language (micrograd.words)."""
    words = words_json(message)
    return {"type": "error", "message": message, "request": request,
            **({"words": words} if words else {})}


def encode(msg: dict[str, Any]) -> str:
    """Strict JSON (a NaN would break the page's parser), compact."""
    return json.dumps(msg, allow_nan=False, separators=(",", ":"))


def graph_message(info: dict[str, Any], layout: Callable[[str], str] | None,
                  missing: str = "") -> str:
    """The `graph` message for `Session.graph_dot()`'s result: the SVG, or why there is none.

    `layout` turns DOT text into SVG text (raising `LayoutError` or `OSError`); None means there
    is no layout program, and `missing` says how to get one.
    """
    msg = {"type": "graph", "id": info["id"], "svg": None, "note": info["note"]}
    if info["dot"] is not None:
        if layout is None:
            msg["error"] = missing
        else:
            try:
                msg["svg"] = trim_svg(layout(info["dot"]))
                msg.update(values=info["values"], mode=info["mode"])
            except (OSError, RuntimeError) as e:  # LayoutError, subprocess.TimeoutExpired...
                msg["error"] = said("Graphviz's dot failed: {why}", why=str(e)[:200])
    for key in ("note", "error"):  # a `said` line also in the page's language
        words = words_json(msg.get(key))
        if words:
            msg[f"{key}_words"] = words
    return encode(msg)


def trim_svg(svg: str) -> str:
    """The <svg> element alone: no XML prologue or DOCTYPE inside a page, no comments (a third
    of the size)."""
    svg = svg[svg.index("<svg"):]
    return re.sub(r"<!--.*?-->\n?", "", svg, flags=re.S)
