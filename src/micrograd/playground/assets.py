"""The page's files that are made, not packaged: the JSON it reads as it starts.

The settings schema's page view (settings.json), the page's words in each language
(strings.json) and a new session's state and first frame (first.json, snapshot.py). The server
serves them at /static/NAME and `--export` writes them into static/: one list for both, so the
served and the exported page read the same files.
"""

from __future__ import annotations

from micrograd.playground.snapshot import SNAPSHOT_PATH, snapshot_json
from micrograd.playground.strings import strings_json
from micrograd.settings import settings_json


def made_files(engine: str) -> dict[str, str]:
    """{path below the page, like "static/settings.json": its text} for a session on `engine`."""
    return {"static/settings.json": settings_json(), "static/strings.json": strings_json(),
            SNAPSHOT_PATH: snapshot_json(engine)}
