"""The exported playground's model side: what its Web Worker runs under Pyodide, in the browser.

`micrograd playground --export DIR` writes a static page whose worker (`static/worker.js`) starts
Pyodide, installs this package's wheel and calls `start(engine, layout)`. The `Page` it returns
wraps the very `Driver` the server uses, and speaks in the same JSON texts the server sends over
its WebSocket; `layout` is viz.js (Graphviz compiled to WebAssembly) turning DOT into SVG, where
the server runs the `dot` program. The worker calls `receive` for each message from the page and
`train_slice` between them, so the page's thread never waits for Python.

Standard library and this package only: nothing here may need NumPy, a server or the network.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from micrograd.playground.driver import SLICE, Driver, LayoutError, graph_message
from micrograd.playground.session import Session

LOG_HINT = "see the browser's console"
MAX_SLICE = 0.15  # seconds: pause and settings wait at most this long, plus one frame


class Page:
    """One exported page's session, answering in JSON texts (the server's very messages)."""

    def __init__(self, engine: str, layout: Callable[[str], Any]):
        self.driver = Driver(Session(None, engine), log_hint=LOG_HINT)
        self._layout_js = layout
        self.driver.layout = self._layout  # the walk's pictures, by viz.js as the graph's

    @property
    def busy(self) -> bool:
        return self.driver.busy

    def hello(self) -> list[str]:
        return self._texts(self.driver.hello())

    def receive(self, text: str) -> list[str]:
        return self._texts(self.driver.receive(text))

    def train_slice(self, now: float) -> list[str]:
        """One slice and its frame. At full speed the slice lasts as long as its frame took
        (between SLICE and MAX_SLICE): a frame costs Pyodide several times the server's 40 ms
        slice, and training should get at least half of the worker's time."""
        start = time.perf_counter()
        texts = self._texts(self.driver.train_slice(now))
        frame_time = time.perf_counter() - start - self.driver.slice
        self.driver.slice = min(max(SLICE, frame_time), MAX_SLICE)
        return texts

    def _texts(self, texts: list[str]) -> list[str]:
        """The driver's messages, then the graph's new layout when its shape changed."""
        info = self.driver.take_layout()
        if info is not None:
            texts.append(graph_message(info, self._layout))
        return texts

    def _layout(self, dot: str) -> str:
        try:
            return str(self._layout_js(dot))
        except Exception as e:  # a JavaScript error from viz.js arrives as pyodide's JsException
            raise LayoutError(str(e).splitlines()[0] if str(e) else type(e).__name__) from None


def start(engine: str, layout: Callable[[str], Any]) -> Page:
    """The page's session on `engine` ("tape": the pure-Python one), graphs laid out by `layout`."""
    return Page(engine, layout)
