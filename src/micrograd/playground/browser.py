"""The exported playground's model side: what its Web Worker runs under Pyodide, in the browser.

`micrograd playground --export DIR` writes a static page whose worker (`static/worker.js`) starts
Pyodide, installs this package's wheel and calls `start(engine, layout)`. The `Page` it returns
wraps the very `Driver` the server uses, and speaks in the same JSON texts the server sends over
its WebSocket; `layout` is viz.js (Graphviz compiled to WebAssembly) turning DOT into SVG, where
the server runs the `dot` program. The worker calls `receive` for each message from the page and
`train_slice` between them, then `layout` (the graph's picture, when its shape changed), so the
page's thread never waits for Python.

Standard library and this package only: nothing here may need NumPy, a server or the network.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from micrograd.playground.driver import SLICE, Driver, LayoutError, graph_message
from micrograd.playground.session import Session
from micrograd.words import said

LOG_HINT = said("see the browser's console")
MAX_SLICE = 0.15  # seconds: pause and settings wait at most this long, plus one frame


class Page:
    """One exported page's session, answering in JSON texts (the server's very messages)."""

    def __init__(self, engine: str, layout: Callable[[str], Any] | None):
        self.engine = engine
        self.driver = Driver(Session(None, engine), log_hint=LOG_HINT)
        self._layout_js = layout
        self.driver.layout = self._layout  # the walk's pictures, by viz.js as the graph's
        self._hello: list[str] | None = None

    @property
    def busy(self) -> bool:
        return self.driver.busy

    def hello(self) -> list[str]:
        """The state and first frame (computed ahead by `prepare`, when it ran)."""
        texts, self._hello = self._hello, None
        return texts if texts is not None else self.driver.hello()

    def receive(self, text: str) -> list[str]:
        return self.driver.receive(text)

    def train_slice(self, now: float) -> list[str]:
        """One slice and its frame. At full speed the slice lasts as long as its frame took
        (between SLICE and MAX_SLICE): a frame costs Pyodide several times the server's 40 ms
        slice, and training should get at least half of the worker's time."""
        start = time.perf_counter()
        texts = self.driver.train_slice(now)
        frame_time = time.perf_counter() - start - self.driver.slice
        self.driver.slice = min(max(SLICE, frame_time), MAX_SLICE)
        return texts

    def layout(self) -> list[str]:
        """The graph's new layout when its shape changed since the last call, else nothing.
        The worker asks after posting each answer, so viz.js never delays the state or frame."""
        info = self.driver.take_layout()
        return [] if info is None else [graph_message(info, self._layout)]

    def _layout(self, dot: str) -> str:
        if self._layout_js is None:
            raise LayoutError("no layout program yet")
        try:
            return str(self._layout_js(dot))
        except Exception as e:  # a JavaScript error from viz.js arrives as pyodide's JsException
            raise LayoutError(str(e).splitlines()[0] if str(e) else type(e).__name__) from None


_prepared: Page | None = None


def prepare(engine: str) -> None:
    """Build the page's session and its first answer ahead, with no layout program yet: the
    export's memory snapshot (memory.py) is taken after this, so a page restored from it starts
    with the work done. A snapshot cannot hold JavaScript objects, so `start` adds viz.js."""
    global _prepared
    _prepared = Page(engine, None)
    _prepared._hello = _prepared.driver.hello()


def start(engine: str, layout: Callable[[str], Any]) -> Page:
    """The page's session on `engine` ("tape": the pure-Python one), graphs laid out by `layout`:
    the prepared one when there is one for `engine` (used once), else a new one."""
    global _prepared
    page, _prepared = _prepared, None
    if page is None or page.engine != engine:
        page = Page(engine, layout)
    page._layout_js = layout
    return page
