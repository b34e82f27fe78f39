"""`micrograd playground --export DIR`: the playground as a static folder, for any web server.

A teacher cannot run a server for thirty students; a folder of files on any static host (a
university web space, GitHub Pages, `python -m http.server`) is one link. The folder holds the
served playground's own page (index.html and its modules; relative links, so it works below any
path) with one `<meta>` that makes transport.js talk to a Web Worker instead of a WebSocket; the
worker (static/worker.js) runs this package under Pyodide from `pyodide/`, lays graphs out with
viz.js from `viz/`, and installs `micrograd` from the wheel in `wheels/`. Nothing is fetched from
anywhere but the folder's own server.

`export.json` lists what an export wrote. Exporting into a folder that holds one replaces those
files (and removes the ones the new export no longer has); any other non-empty folder is refused,
so a typo never overwrites a user's files.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import micrograd
from micrograd.errors import UsageError
from micrograd.files import make_folders, remove_folders, write_atomic
from micrograd.playground import runtime
from micrograd.playground.assets import made_files
from micrograd.playground.memory import make_memory, memory_path
from micrograd.playground.wheel import build_wheel

MANIFEST = "export.json"
GENERATOR = "micrograd playground --export"
ENGINE = "tape"  # the pure-Python engine: NumPy has no build this folder could serve
TRANSPORT_META = '<meta name="micrograd-transport" content="worker">'
BOOT_SCRIPT = '<script src="static/boot.js"></script>'  # starts the worker before the modules
# the served page's policy, plus WebAssembly compilation: nothing loads from another origin
CSP_META = ('<meta http-equiv="Content-Security-Policy" content="default-src \'self\'; '
            "script-src 'self' 'wasm-unsafe-eval'; img-src 'self' data:; style-src 'self'; "
            'connect-src \'self\'">')


@dataclass
class Exported:
    """What an export wrote: the folder, its files and their total size in bytes."""

    folder: Path
    files: list[str]
    size: int
    note: str = ""  # how the page starts Python (memory.py)


def page_files() -> dict[str, bytes]:
    """The page: index.html at the top (marked for the Worker transport), the rest in static/,
    with the JSON the page reads as it starts (assets.py: as the server serves it)."""
    out = {path: text.encode() for path, text in made_files(ENGINE).items()}
    for entry in sorted(resources.files(__package__).joinpath("static").iterdir(),
                        key=lambda e: e.name):
        if entry.is_file() and not entry.name.startswith("."):
            out[f"static/{entry.name}"] = entry.read_bytes()
    index = out.pop("static/index.html").decode()
    out["index.html"] = worker_page(index).encode()
    out["sw.js"] = out.pop("static/sw.js")  # at the top: a service worker serves its folder
    return out


def cache_name(files: dict[str, bytes]) -> str:
    """A digest of an export's files: the name of the cache its service worker fills."""
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(f"{name}\0{len(files[name])}\0".encode())
        digest.update(files[name])
    return digest.hexdigest()[:16]


def worker_page(index: str) -> str:
    """The served index.html, made a static page: relative links (every root-absolute `src` or
    `href` loses its leading "/", so the folder works below any path of a host, as a teacher's
    `https://example.edu/~you/class/`), and the Worker transport, its worker started by
    boot.js as soon as the head is read."""
    index = re.sub(r'(\s(?:src|href)=["\'])/(?!/)', r"\1", index)
    end = index.index("</head>")
    return f"{index[:end]}{TRANSPORT_META}\n{CSP_META}\n{BOOT_SCRIPT}\n{index[end:]}"


def runtime_files(runtime_from: list[Path] | None) -> dict[str, bytes]:
    """Pyodide's and viz.js's files the page loads, from the pinned (checked) tarballs."""
    out = {}
    for tarball, folder in ((runtime.PYODIDE, "pyodide"), (runtime.VIZ, "viz")):
        for name, data in runtime.files_of(tarball, runtime.fetch(tarball, runtime_from)).items():
            out[f"{folder}/{Path(name).name}"] = data
    return out


def notice() -> bytes:
    lines = [f"Exported by micrograd-lab {micrograd.__version__} (`micrograd playground --export`)."
             "", "Third-party files in this folder, unmodified, from the npm registry:"]
    for t, folder in ((runtime.PYODIDE, "pyodide/"), (runtime.VIZ, "viz/")):
        lines.append(f"- {folder}: {t.name} {t.version} ({t.license}), {t.url}")
    return ("\n".join(lines) + "\n").encode()


def previous_export(folder: Path) -> list[str]:
    """The files a previous export wrote in `folder` ([] for a new or empty folder); a folder
    with anything else in it is refused, and so is a path that cannot be looked at (too long,
    through a file, unreadable): one line, nothing written."""
    try:
        if folder.exists() and not folder.is_dir():
            raise UsageError(f"--export {folder}: a file of that name exists; name a folder")
        if not folder.exists() or not any(folder.iterdir()):
            return []
    except OSError as e:  # a folder the user may not read, a name over the system's limit
        raise UsageError(f"--export {_short(folder)}: cannot read it: {e.strerror or e}; name "
                         "another folder") from None
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
        if manifest.get("generator") == GENERATOR and isinstance(manifest.get("files"), list):
            return [f for f in manifest["files"] if isinstance(f, str)]
    except (OSError, ValueError, AttributeError):
        pass
    raise UsageError(f"--export {folder}: the folder is not empty and holds no previous export; "
                     f"name a new or empty folder (nothing was written)")


def _short(path: Path) -> str:
    text = str(path)
    return text if len(text) <= 80 else f"{text[:40]}...{text[-30:]} ({len(text)} characters)"


# what the worker fetches (and counts as it downloads) besides the wheel; pyodide.asm.mjs and
# viz.js are imported as modules, which a worker cannot count
FETCHED = ("pyodide/pyodide.asm.wasm", "pyodide/python_stdlib.zip", "pyodide/pyodide-lock.json")


def manifest_bytes(files: list[str], wheel: str, memory: str | None = None, download: int = 0,
                   cache: str = "") -> bytes:
    """export.json: what wrote the folder, the files it holds, `wheel`: this package's wheel,
    `memory`: Python's start-up state (memory.py) or null when the export could not make it,
    `download`: the bytes the worker fetches before Python runs (its progress note counts
    them), and `cache`: the name of the cache the service worker keeps the runtime in."""
    manifest = {"generator": GENERATOR, "micrograd": micrograd.__version__, "engine": ENGINE,
                "wheel": wheel, "pyodide": runtime.PYODIDE.version,
                "viz": runtime.VIZ.version, "download": download, "cache": cache,
                "memory": memory, "files": sorted({*files, MANIFEST})}
    return (json.dumps(manifest, indent=1) + "\n").encode()


def export(folder: Path, runtime_from: list[Path] | None = None) -> Exported:
    """Write the static playground into `folder` (see the module's docstring).

    export.json is written first, listing every file this export and the previous one may
    leave, so an export stopped half-way (a full disk, a kill) is still recognised as an export
    and the next one replaces its files; it is written again, exact, at the end. Every file goes
    through files.write_atomic with the folder as its root: a symlink in the folder (a file, or
    a sub-folder such as static/) is replaced as a link, never written through.
    """
    previous = previous_export(folder)
    files = {**page_files(), **runtime_files(runtime_from)}
    wheel_name, wheel = build_wheel()
    # named by its bytes: a browser that still holds an older export's files never takes them
    wheel_path = f"wheels/{hashlib.sha256(wheel).hexdigest()[:16]}/{wheel_name}"
    files[wheel_path] = wheel
    files["THIRD-PARTY.txt"] = notice()
    pyodide = {n.removeprefix("pyodide/"): d for n, d in files.items() if n.startswith("pyodide/")}
    memory = make_memory(pyodide, wheel, ENGINE)
    mem_path = memory_path([wheel, *(pyodide[n] for n in sorted(pyodide))])
    cache = cache_name(files)  # the memory is made from these: no new name for a new memory
    if memory.data is not None:
        files[mem_path] = memory.data
    else:
        mem_path = None
    download = sum(len(files.get(name, b"")) for name in (*FETCHED, wheel_path, mem_path or ""))
    root = os.fspath(folder)
    created: list[str] = []
    try:
        created = make_folders(root)
        write_atomic(os.path.join(root, MANIFEST),
                     manifest_bytes([*previous, *files], wheel_path), root=root)
        created = []  # the folder now holds an export: it stays, whatever happens next
        for name, data in files.items():
            write_atomic(os.path.join(root, name), data, root=root)
        for name in set(previous) - set(files) - {MANIFEST}:
            _remove_stale(folder, name)
        files[MANIFEST] = manifest_bytes(list(files), wheel_path, mem_path, download, cache)
        write_atomic(os.path.join(root, MANIFEST), files[MANIFEST], root=root)
    except OSError as e:
        remove_folders(created)
        where = _short(Path(e.filename)) if e.filename else _short(folder)
        raise UsageError(f"--export {_short(folder)}: cannot write {where}: {e.strerror or e}; "
                         "fix that and export again (the files written so far are replaced)"
                         ) from None
    return Exported(folder, sorted(files), sum(len(d) for d in files.values()), memory.note)


def _remove_stale(folder: Path, name: str) -> None:
    """Remove a file an earlier export wrote, if it is still a plain file inside `folder`."""
    path = folder / name
    inside = os.path.realpath(path).startswith(os.path.realpath(folder) + os.sep)
    if inside and path.is_file() and not path.is_symlink():
        path.unlink()
        parent = path.parent  # an older wheel's or memory's own folder, now empty
        if parent != folder and parent.parent.parent == folder and not any(parent.iterdir()):
            parent.rmdir()
