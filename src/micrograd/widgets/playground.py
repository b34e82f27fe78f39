"""`Playground()`: the playground in a notebook cell, its model trained in the kernel.

The third transport beside the server's WebSocket and the exported page's Web Worker: the page
(`widgets.page`) runs in an iframe of the cell's output, and each of its texts reaches the
kernel's `Driver` as a widget message; the driver's answers go back the same way. Training runs
in the kernel's event loop, a slice per frame (as the server's runner does), between the cells
the learner runs; `play()`, `pause()` and `step(n)` drive it from Python too, and `history`
logs every step as `micrograd train` does.

`Playground(model=my_mlp, data=(X, y))` trains the learner's own `micrograd.nn.MLP` object on
their points (`playground.own`): the page shows its shape and locks what the model and points
fix, and `my_mlp` holds the trained weights, step by step, as `micrograd train` would make them.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import time
from collections.abc import Sequence
from functools import partial
from importlib import resources
from numbers import Integral
from typing import Any

from micrograd.playground.dot import DOT_MISSING, run_dot
from micrograd.playground.driver import MAX_PENDING_STEPS, Driver, encode, error, graph_message
from micrograd.playground.own import adopt, settings_fields
from micrograd.playground.session import Config, Session
from micrograd.playground.strings import CATALOGUES
from micrograd.widgets.needs import anywidget, traitlets
from micrograd.widgets.page import widget_page
from micrograd.words import said

log = logging.getLogger("micrograd.widgets")
FRAME_INTERVAL = 0.05  # seconds between slices while playing: at most 20 frames a second
LOG_HINT = said("see the notebook's log")


class Playground(anywidget.AnyWidget):
    """The playground page in a cell's output; its session lives in this kernel."""

    _esm = resources.files("micrograd.widgets").joinpath("static", "playground.js").read_text(
        encoding="utf-8")
    page = traitlets.Unicode("").tag(sync=True)
    height = traitlets.Int(800).tag(sync=True)  # the page's height; the cell scales it to fit

    def __init__(self, model: Any = None, data: Any = None, *, val: Any = None,
                 features: Sequence[str] | None = None, engine: str | None = None,
                 height: int = 800, lang: str | None = None, **settings: Any):
        """`model`: a `micrograd.nn.MLP` to train in place (default: the chapter's 2-16-3, built
        from the seed). `data`: a dataset's name, or `(X, y)`: rows of two coordinates and a class
        0..K-1 each (a value each for a one-output model); split by the training share in the
        order given, unless `val=(X, y)` gives the points the test loss is measured on.
        `features`: the model's inputs when it takes other than x1, x2. Any other setting of
        the page by name (`lr=0.03`, `batch_size=10`, `seed=7`). `lang`: the page's language
        ("en", "zh"; default: the reader's browser's). A bad model, point or setting raises a
        one-line `ValueError` before anything is shown."""
        if lang is not None and lang not in CATALOGUES:
            raise ValueError(f"lang={lang!r}: the page speaks {', '.join(CATALOGUES)}")
        if data is None and "dataset" in settings:  # the page's name for it
            data = settings.pop("dataset")
        own, fields = adopt(model, data, val, features)
        fields = settings_fields(settings, fields, own)
        self.driver = Driver(Session(Config(**fields), engine, own=own), log_hint=LOG_HINT)
        dot = shutil.which("dot")
        self._layout = None if dot is None else partial(run_dot, dot)
        self.driver.layout = self._layout  # the walk's pictures
        self._timer: asyncio.TimerHandle | None = None
        self._views: set[str] = set()  # the views whose page has started
        self._graph = ""  # the last graph message, for a view that starts later
        super().__init__(page=widget_page(self.driver.session.engine_name, lang), height=height)
        self.on_msg(self._on_msg)

    # ---- from Python ----

    def __repr__(self) -> str:  # a notebook's text view of the cell (the page is the picture)
        s = self.driver.session
        return f"Playground(MLP {s.model.sizes}, step {s.step})"

    @property
    def session(self) -> Session:
        return self.driver.session

    @property
    def model(self) -> Any:
        """The MLP being trained (its Values hold the weights of now)."""
        return self.driver.session.model

    @property
    def history(self) -> dict[str, list]:
        """Every step trained: its training loss, and every 10th step the validation loss, as
        `micrograd train` logs them (`metrics.csv`): `{"step", "train", "val"}` lists."""
        return self.driver.session.log.as_dict()

    def play(self) -> None:
        """Train on in the kernel, a slice per frame, until `pause()` (or the page's pause)."""
        self._to_page(self.driver.on_play())
        self._schedule()

    def pause(self) -> None:
        self._to_page(self.driver.on_pause())

    def step(self, n: int = 1) -> int:
        """Train `n` steps now, in this cell (a playing page pauses), and show the result;
        returns the step reached."""
        if isinstance(n, bool) or not isinstance(n, Integral) or not 1 <= n <= MAX_PENDING_STEPS:
            raise ValueError(f"step(n): n is a whole number of steps, 1 to {MAX_PENDING_STEPS}, "
                             f"got {n!r}")
        n = int(n)  # a NumPy integer too
        texts = self.driver.on_pause() if self.driver.running else []
        self.driver.on_step(n)
        while self.driver.pending > 0:
            texts = [*texts, *self.driver.train_slice(time.monotonic())][-3:]
            if not self.driver.busy:  # stopped by an error (its message is in texts)
                break
        self._to_page(texts)
        return self.driver.session.step

    def close(self) -> None:
        """Stop training with the widget: no slice runs for a page that is gone."""
        if hasattr(self, "driver"):  # not when __init__ refused the model or points
            self._stop()
        super().close()

    # ---- the page's messages ----

    def _on_msg(self, _widget: Any, content: dict[str, Any], _buffers: Any) -> None:
        kind, view = content.get("kind"), str(content.get("view", ""))
        try:
            if kind == "hello":  # a view's page has started: its state, frame and graph
                self._views.add(view)
                graph = [self._graph] if self._graph else []
                self._to_page([*self.driver.hello(), *graph], open=view)
            elif kind == "bye":  # a view is gone; with the last one, training pauses
                self._views.discard(view)
                if not self._views:
                    self._stop()
            elif kind == "text":
                self._to_page(self.driver.receive(content.get("text")))
        except Exception:  # a bug: logged; the page hears of it, as the driver's own errors
            self._failed(str(kind))
        self._schedule()

    def _to_page(self, texts: list[str], **extra: Any) -> None:
        """Texts to the page (every view), then the graph's layout if its shape changed."""
        self.send({"texts": texts, **extra})
        info = self.driver.take_layout()
        if info is None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no event loop running (not a kernel): lay it out here
            self._graph_done(info, graph_message(info, self._layout, DOT_MISSING))
            return
        # `dot` in a thread, as the server's pool runs it: the kernel answers meanwhile
        job = loop.run_in_executor(None, graph_message, info, self._layout, DOT_MISSING)
        job.add_done_callback(partial(self._graph_laid_out, info))

    def _graph_laid_out(self, info: dict[str, Any], job: asyncio.Future) -> None:
        if job.cancelled():
            return
        if job.exception() is not None:
            log.error("micrograd.widgets.Playground: the graph's layout failed",
                      exc_info=job.exception())
            return
        self._graph_done(info, job.result())

    def _graph_done(self, info: dict[str, Any], text: str) -> None:
        """Send a layout that is still the session's graph, and keep it for a later view."""
        if info["id"] == self.driver.session.graph_id and self.comm is not None:
            self._graph = text
            self.send({"texts": [text]})

    def _failed(self, kind: str) -> None:
        log.exception("micrograd.widgets.Playground: %s failed", kind)
        self.driver.running = False
        self.driver.pending = 0
        message = said("internal error while handling {kind}; {hint}", kind=kind, hint=LOG_HINT)
        self.send({"texts": [encode(error(message, kind)), encode(self.driver.status())]})

    def _stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.driver.on_pause()

    def _schedule(self) -> None:
        """While the driver is busy, a slice every frame in the kernel's event loop."""
        if self.driver.busy and self._timer is None:
            try:
                loop = asyncio.get_event_loop()
            except RuntimeError:  # no loop in this thread (not a kernel): `step(n)` still works
                return
            self._timer = loop.call_later(FRAME_INTERVAL, self._tick)

    def _tick(self) -> None:
        self._timer = None
        if self.comm is None:  # closed: nothing to train for
            self.driver.on_pause()
            return
        try:
            self._to_page(self.driver.train_slice(time.monotonic()))
        except Exception:
            self._failed("play")
        self._schedule()
