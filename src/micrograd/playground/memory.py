"""The exported page's head start: Pyodide's memory right after importing micrograd.

A browser that starts Pyodide spends seconds initialising CPython and importing this package
before the page can train (about 3.5 s of a 4.5 s start on a quiet 2-core machine). Pyodide can
instead restore a *memory snapshot*: the WebAssembly memory of an interpreter that already did all
that. The export makes one with Node.js when it finds Node 18 or newer (`memory.mjs`, run on
the export's own Pyodide and wheel) and ships it gzip-compressed as `python/memory-DIGEST.gz`;
the page's worker restores it (Pyodide checks that it comes from the very same build). Without
Node the export says so and the page makes the snapshot itself on its first visit, kept in the
browser's cache for the next (static/worker.js).

Nothing of the exporting machine goes in: Pyodide gets a fixed environment (HOME, LANG) and a
neutral program name, Node runs with TZ=UTC (Emscripten keeps the local time zone's name), on
files copied to a temporary folder. The file's name carries a digest of the wheel and Pyodide it
was made from, so a browser still holding an older export's files never restores an old memory
into a new export.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

MODULE = "micrograd.playground.browser"  # what the page's worker imports first
NODE_MAJOR = 18  # the oldest Node.js Pyodide supports
TIMEOUT = 300  # seconds: minutes on a busy machine, never forever


@dataclass
class Memory:
    """The compressed snapshot, or None and a one-line reason the page starts without one."""

    data: bytes | None
    note: str


def memory_path(sources: list[bytes]) -> str:
    """Where the export keeps the memory made from `sources` (the wheel, Pyodide's files)."""
    digest = hashlib.sha256()
    for data in sources:
        digest.update(hashlib.sha256(data).digest())
    return f"python/memory-{digest.hexdigest()[:16]}.gz"


def node_env() -> dict[str, str]:
    """Node's environment: this one (a version manager's `node` shim needs it), with the time
    zone fixed and no NODE_OPTIONS of the user's."""
    env = {k: v for k, v in os.environ.items() if k != "NODE_OPTIONS"}
    return {**env, "TZ": "UTC"}


def node_program() -> str | None:
    """The `node` on PATH when it is at least NODE_MAJOR, else None."""
    node = shutil.which("node")
    if node is None:
        return None
    node = os.path.abspath(node)
    try:
        version = subprocess.run([node, "--version"], capture_output=True, text=True,
                                 errors="replace", env=node_env(), timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.match(r"v(\d+)\.", version.strip())
    return node if match and int(match.group(1)) >= NODE_MAJOR else None


def make_memory(pyodide_files: dict[str, bytes], wheel: bytes, engine: str) -> Memory:
    """Pyodide's memory after unpacking `wheel`, importing MODULE and preparing the page's
    session on `engine` (browser.prepare), gzip-compressed.

    `pyodide_files` maps each Pyodide file's name (pyodide.mjs, pyodide.asm.wasm...) to its bytes.
    """
    node = node_program()
    if node is None:
        return Memory(None, f"no Node.js {NODE_MAJOR}+ on PATH, so the page starts Python from "
                            "scratch on a first visit (seconds slower; later visits restore "
                            "the state it saves); install Node.js and export again to ship it")
    try:
        data, why = run_node(node, pyodide_files, wheel, engine)
    except (OSError, subprocess.SubprocessError) as e:  # a full disk, a timeout
        data, why = None, str(e)
    if data is None:
        return Memory(None, f"Node.js could not make Python's start-up state ({why}); the page "
                            "starts Python from scratch on a first visit")
    return Memory(gzip.compress(data, compresslevel=6, mtime=0),
                  "with Python's start-up state (made by Node.js)")


def run_node(node: str, pyodide_files: dict[str, bytes], wheel: bytes,
             engine: str) -> tuple[bytes | None, str]:
    """memory.mjs under `node` on copies of the files in a temporary folder: (the memory, "") or
    (None, the last line Node printed)."""
    with tempfile.TemporaryDirectory(prefix="micrograd-memory-") as tmp:
        for name, data in pyodide_files.items():
            Path(tmp, "pyodide", name).parent.mkdir(exist_ok=True)
            Path(tmp, "pyodide", name).write_bytes(data)
        Path(tmp, "micrograd.whl").write_bytes(wheel)
        script = resources.files(__package__).joinpath("memory.mjs").read_text()
        Path(tmp, "memory.mjs").write_text(script)
        out = Path(tmp, "memory.bin")
        done = subprocess.run(
            [node, "memory.mjs", "pyodide", "micrograd.whl", MODULE, engine, out.name], cwd=tmp,
            env=node_env(), capture_output=True, text=True, errors="replace", timeout=TIMEOUT)
        if done.returncode != 0 or not out.exists():
            return None, (done.stderr.strip().splitlines() or ["no message"])[-1]
        return out.read_bytes(), ""
