"""anywidget and traitlets for the widgets, or the one line that says how to get them."""

from __future__ import annotations

try:
    import anywidget
    import traitlets
except ImportError:  # the one line a user needs, not a traceback
    raise ImportError("micrograd.widgets needs anywidget: pip install -e '.[notebooks]' in the "
                      "clone (with JupyterLab), or pip install anywidget") from None

__all__ = ["anywidget", "traitlets"]
