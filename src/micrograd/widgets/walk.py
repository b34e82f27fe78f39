"""`Walk(root)`: the backprop walk of `root` as a notebook widget (anywidget).

The page is `micrograd.walk.walk_html(root)`, the standalone walk with its buttons, shown in an
iframe of the widget's output (its own ids and script, as `BackpropWalk` does). The widget and
the page tell each other the step shown (`postMessage`), so `walk.step` in Python is what the
learner sees: set it to move the page, read it after clicking through. `walk.current` is that
step as data (`micrograd.walk.Step`: its phase, node, text and grad). `lang="zh"` says the page's
words and the steps' sentences in Chinese (the playground's catalogue), `current.text` too.
"""

from __future__ import annotations

from dataclasses import replace
from importlib import resources
from typing import Any

from micrograd.engine import Value
from micrograd.playground.strings import CATALOGUES
from micrograd.walk import Step, backprop_steps, walk_html, walk_names
from micrograd.widgets.needs import anywidget, traitlets
from micrograd.words import said_in

_STATIC = resources.files("micrograd.widgets").joinpath("static")
STYLE = ("title", "params", "inputs", "names", "groups")  # what walk_html takes besides the root


class Walk(anywidget.AnyWidget):
    """Backpropagation of `root`, step by step, in a cell's output: `Walk(loss)`."""

    _esm = _STATIC.joinpath("walk.js").read_text(encoding="utf-8")
    page = traitlets.Unicode("").tag(sync=True)
    step = traitlets.Int(0).tag(sync=True)  # how many steps are shown (0: none yet)
    steps = traitlets.Int(0).tag(sync=True)
    height = traitlets.Int(640).tag(sync=True)

    def __init__(self, root: Value, height: int = 640, lang: str | None = "en", **kwargs: Any):
        """`kwargs`: `title`, and `to_dot`'s `params`, `inputs`, `names`, `groups` (a trace's
        `style()`); `lang`: "en" (None too) or "zh"."""
        if not isinstance(root, Value):
            raise TypeError(f"Walk needs a Value (the output to backpropagate from), got "
                            f"{type(root).__name__}")
        unknown = sorted(set(kwargs) - set(STYLE))
        if unknown:
            raise TypeError(f"Walk() got an unexpected keyword argument {unknown[0]!r}; it takes "
                            f"height, lang, {', '.join(STYLE)}")
        if lang is not None and lang not in CATALOGUES:
            raise ValueError(f"lang={lang!r}: the walk speaks {', '.join(CATALOGUES)}")
        if isinstance(height, bool) or not isinstance(height, int) or height < 100:
            raise ValueError(f"height={height!r}: the walk's height in pixels, 100 or more")
        self._catalogue = CATALOGUES[lang or "en"]
        # named as the page names them (a name given, else the label, else v{i})
        self._steps = backprop_steps(root, walk_names(root, kwargs.get("names")))
        page = walk_html(root, catalogue=self._catalogue, **kwargs)
        super().__init__(page=page, steps=len(self._steps), height=height)

    @traitlets.validate("step")
    def _in_range(self, proposal: Any) -> int:
        return max(0, min(self.steps, int(proposal["value"])))

    def __repr__(self) -> str:  # a notebook's text view of the cell (the page is the picture)
        return f"Walk(step {self.step} of {self.steps})"

    def go(self, k: int) -> None:
        """Show the first `k` steps (clamped to the walk), in every view of the widget."""
        self.step = k

    @property
    def current(self) -> Step | None:
        """The last step shown, None before the first."""
        if not self.step:
            return None
        step = self._steps[self.step - 1]
        return replace(step, text=said_in(step.text, self._catalogue))
