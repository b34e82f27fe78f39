"""The exported page's head start: Pyodide's memory right after importing micrograd.

A browser that starts Pyodide spends seconds initialising CPython and importing this package
before the page can train (about 3.5 s of a 4.5 s start on a quiet 2-core machine). Pyodide can
instead restore a *memory snapshot*: the WebAssembly memory of an interpreter that already did all
that. The export makes one with Node.js when it finds Node 18 or newer (`memory.mjs`, run on the
export's own Pyodide and wheel) and ships it gzip-compressed as `python/memory.gz`; the page's
worker restores it (Pyodide checks that the snapshot comes from the very same build). Without
Node the export says so and the page makes the snapshot itself on its first visit, kept in the
browser's cache for the next (static/worker.js).

Nothing of the exporting machine goes in: Node runs with an empty environment and a neutral
program name, on files copied to a temporary folder.
"""

from __future__ import annotations

import gzip
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

MEMORY_PATH = "python/memory.gz"
MODULE = "micrograd.playground.browser"  # what the page's worker imports first
NODE_MAJOR = 18  # the oldest Node.js Pyodide supports
TIMEOUT = 300  # seconds: minutes on a busy machine, never forever


@dataclass
class Memory:
    """The compressed snapshot, or None and a one-line reason the page starts without one."""

    data: bytes | None
    note: str


def node_program() -> str | None:
    """The `node` on PATH when it is at least NODE_MAJOR, else None."""
    node = shutil.which("node")
    if node is None:
        return None
    try:
        version = subprocess.run([node, "--version"], capture_output=True, text=True,
                                 timeout=30).stdout
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
    with tempfile.TemporaryDirectory(prefix="micrograd-memory-") as tmp:
        for name, data in pyodide_files.items():
            Path(tmp, "pyodide", name).parent.mkdir(exist_ok=True)
            Path(tmp, "pyodide", name).write_bytes(data)
        Path(tmp, "micrograd.whl").write_bytes(wheel)
        script = resources.files(__package__).joinpath("memory.mjs").read_text()
        Path(tmp, "memory.mjs").write_text(script)
        out = Path(tmp, "memory.bin")
        try:
            done = subprocess.run(
                [node, "memory.mjs", "pyodide", "micrograd.whl", MODULE, engine, out.name], cwd=tmp,
                env={"PATH": os.defpath}, capture_output=True, text=True, timeout=TIMEOUT)
        except (OSError, subprocess.SubprocessError) as e:
            return Memory(None, f"Node.js could not make Python's start-up state ({e}); the "
                                "page starts Python from scratch on a first visit")
        if done.returncode != 0 or not out.exists():
            last = (done.stderr.strip().splitlines() or ["no message"])[-1]
            return Memory(None, f"Node.js could not make Python's start-up state ({last}); "
                                "the page starts Python from scratch on a first visit")
        return Memory(gzip.compress(out.read_bytes(), compresslevel=6, mtime=0),
                      "with Python's start-up state (made by Node.js)")
