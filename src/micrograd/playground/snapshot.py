"""The page's first picture, computed ahead: a new session's state and first frame as JSON.

A page draws the model only once the model has answered; the exported page's model is this
package under Pyodide, which takes seconds to load. So the page also fetches `static/first.json`:
the messages a new session sends first (`Driver.hello()`: its state and frame), computed with this
package by the export (and by the server, once per engine). A page whose link sets nothing draws
them at once; the model's own answers, the same numbers, follow when it is ready. Same seed, same
snapshot: a session's defaults are deterministic.
"""

from __future__ import annotations

import json
from typing import Any

from micrograd.playground.driver import Driver
from micrograd.playground.session import Session

SNAPSHOT_PATH = "static/first.json"  # beside settings.json, in the export and on the server


def first_messages(engine: str) -> list[dict[str, Any]]:
    """What a new session on `engine` sends a page first: its state, then its frame."""
    return [json.loads(text) for text in Driver(Session(None, engine)).hello()]


def snapshot_json(engine: str) -> str:
    """`first_messages(engine)` as the JSON text of static/first.json."""
    return json.dumps({"engine": engine, "messages": first_messages(engine)},
                      allow_nan=False, separators=(",", ":"))
