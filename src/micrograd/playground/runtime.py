"""The browser runtime of an exported playground: Pyodide and viz.js, from pinned npm tarballs.

An exported page runs this package under Pyodide (CPython compiled to WebAssembly) and lays out
the computation graph with viz.js (Graphviz compiled to WebAssembly). Both come from the npm
registry as tarballs pinned here by version and by their registry integrity (sha512), so an
export is the same bytes on every machine, and a tampered or truncated download is refused, not
published to a class. Tarballs are cached under `$XDG_CACHE_HOME/micrograd-lab/npm/` (else
`~/.cache/...`) and downloaded once; `--runtime-from` points at tarballs fetched elsewhere
(`npm pack pyodide@314.0.7 @viz-js/viz@3.31.0`) for a machine with no network.

Only the files a page needs are taken out of each tarball, by name (nothing is extracted blindly).
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import tarfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from micrograd.errors import UsageError
from micrograd.files import make_folders, write_atomic

DOWNLOAD_TIMEOUT = 60.0  # seconds per tarball (the larger is 6.5 MB)
MAX_TARBALL = 64 << 20  # bytes: a response larger than this is not a tarball we pinned


@dataclass(frozen=True)
class Tarball:
    """One pinned npm package: where it is, what it must hash to, which files a page needs."""

    name: str  # the npm package name
    version: str
    integrity: str  # the registry's `dist.integrity`: "sha512-" + base64 digest
    files: tuple[str, ...]  # paths inside the tarball's `package/` folder
    license: str

    @property
    def url(self) -> str:
        return f"https://registry.npmjs.org/{self.name}/-/{self.name.split('/')[-1]}-" \
               f"{self.version}.tgz"

    @property
    def pack_name(self) -> str:
        """The file name `npm pack NAME@VERSION` writes ("@viz-js/viz" -> "viz-js-viz-...")."""
        return f"{self.name.lstrip('@').replace('/', '-')}-{self.version}.tgz"


PYODIDE = Tarball(
    "pyodide", "314.0.7",
    "sha512-0YvXxEhfEdpLfb/XkM2BFAeMROq0iMUX2bzzH9pOttyMcWkwq+HbE5uyuGD82LN7y2q+SNvi/6V5JEsOlD2R1A==",
    ("pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm", "python_stdlib.zip",
     "pyodide-lock.json"),
    "MPL-2.0",
)
VIZ = Tarball(
    "@viz-js/viz", "3.31.0",
    "sha512-r7zlQdRvcwvIpjHGgs+KNWHeE/P5/Dq7k8ZAKaMCbZqomxCBJV78gVuQYaHzFVca+kB0mX0fMW9UFevCOBG50A==",
    ("dist/viz.js",),  # an ES module with Graphviz's WebAssembly inlined
    "MIT",
)
TARBALLS = (PYODIDE, VIZ)


def cache_dir() -> Path:
    """Where downloaded tarballs are kept: $XDG_CACHE_HOME/micrograd-lab/npm (or ~/.cache/...)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "micrograd-lab" / "npm"


def integrity_of(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def check(tarball: Tarball, data: bytes, origin: str,
          fix: str = "delete it and export again") -> bytes:
    """`data` if it hashes to the pinned integrity, else a UsageError naming `origin` and `fix`
    (a cached copy is re-downloaded once deleted; a --runtime-from file is the user's own)."""
    if integrity_of(data) != tarball.integrity:
        raise UsageError(f"{origin} is not {tarball.name} {tarball.version} as published (its "
                         f"sha512 differs from the pinned one); {fix}")
    return data


def download(tarball: Tarball, timeout: float = DOWNLOAD_TIMEOUT) -> bytes:
    """The tarball's bytes from the npm registry, checked; UsageError (one line) on failure."""
    try:
        with urllib.request.urlopen(tarball.url, timeout=timeout) as response:
            data = response.read(MAX_TARBALL + 1)
    except (OSError, ValueError) as e:  # URLError, timeouts and HTTP errors are OSErrors
        reason = getattr(e, "reason", None) or e
        raise UsageError(f"cannot download {tarball.name} {tarball.version} from "
                         f"{tarball.url}: {reason}; on a machine with network run `npm pack "
                         f"{' '.join(f'{t.name}@{t.version}' for t in TARBALLS)}` and pass "
                         f"--runtime-from FOLDER_WITH_THE_TGZ_FILES") from None
    if len(data) > MAX_TARBALL:
        raise UsageError(f"{tarball.url} sent more than {MAX_TARBALL >> 20} MB; not the pinned "
                         f"tarball")
    return check(tarball, data, tarball.url)


def cached(tarball: Tarball) -> bytes | None:
    """The checked tarball from the cache, or None when absent (a corrupt copy is an error)."""
    path = cache_dir() / tarball.pack_name
    if not path.is_file():
        return None
    return check(tarball, read(path), str(path))


def fetch(tarball: Tarball, runtime_from: list[Path] | None = None) -> bytes:
    """The checked tarball: from `runtime_from` when given (never the network), else the cache,
    else the registry (then cached)."""
    if runtime_from:
        return from_paths(tarball, runtime_from)
    data = cached(tarball)
    if data is not None:
        return data
    data = download(tarball)
    path = cache_dir() / tarball.pack_name
    try:
        make_folders(os.fspath(path.parent))
        write_atomic(os.fspath(path), data)
    except OSError:
        pass  # an unwritable cache only costs a download next time
    return data


def from_paths(tarball: Tarball, paths: list[Path]) -> bytes:
    """The tarball among `paths` (.tgz files, or folders holding them under npm's names)."""
    names = (tarball.pack_name, tarball.url.rsplit("/", 1)[1])
    fix = f"fetch it again with `npm pack {tarball.name}@{tarball.version}`"
    for path in paths:
        if path.is_dir():
            for name in names:
                if (path / name).is_file():
                    return check(tarball, read(path / name), str(path / name), fix)
        elif path.is_file() and path.name in names:
            return check(tarball, read(path), str(path), fix)
        elif not path.exists():
            raise UsageError(f"--runtime-from {path}: no such file or folder")
    shown = ", ".join(str(p) for p in paths)
    raise UsageError(f"--runtime-from {shown}: no {tarball.pack_name} there; fetch it with "
                     f"`npm pack {tarball.name}@{tarball.version}`")


def read(path: Path) -> bytes:
    """A tarball's bytes; a file that cannot be read (permissions) is a one-line UsageError."""
    try:
        return path.read_bytes()
    except OSError as e:
        raise UsageError(f"cannot read {path}: {e.strerror or e}") from None


def files_of(tarball: Tarball, data: bytes) -> dict[str, bytes]:
    """The page's files out of the (checked) tarball: {path in package/: bytes}."""
    out: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for name in tarball.files:
            member = tar.getmember(f"package/{name}")
            handle = tar.extractfile(member)
            assert handle is not None, name  # a regular file in the pinned tarball
            out[name] = handle.read()
    return out
