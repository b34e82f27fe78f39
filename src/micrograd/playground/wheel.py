"""This package as a pure-Python wheel, built from its installed files, for Pyodide to unpack.

The exported page installs `micrograd` in the browser from a wheel in its own folder (no PyPI,
no micropip). The wheel is written here with `zipfile` from the files of the `micrograd` package
that is running (an editable checkout or a normal install alike), so the page runs exactly the
code the teacher has. The bytes depend only on those files: entries are sorted and dated
1980-01-01, so exporting twice gives the same wheel.
"""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile
from pathlib import Path

import micrograd

DISTRIBUTION = "micrograd_lab"  # `micrograd-lab`, normalized as wheel names write it
EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip entry can hold: reproducible bytes


def package_files() -> dict[str, bytes]:
    """{path in the wheel: bytes} of the running `micrograd` package (no caches, no dotfiles)."""
    root = Path(micrograd.__file__).resolve().parent
    out = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if not path.is_file() or any(p == "__pycache__" or p.startswith(".") for p in rel.parts):
            continue
        if path.suffix in (".pyc", ".pyo"):
            continue
        out[f"micrograd/{rel.as_posix()}"] = path.read_bytes()
    return out


def build_wheel() -> tuple[str, bytes]:
    """(file name, bytes) of `micrograd_lab-VERSION-py3-none-any.whl`."""
    version = micrograd.__version__.replace("-", "_")
    info = f"{DISTRIBUTION}-{version}.dist-info"
    files = package_files()
    files[f"{info}/METADATA"] = (f"Metadata-Version: 2.1\nName: micrograd-lab\n"
                                 f"Version: {micrograd.__version__}\n").encode()
    files[f"{info}/WHEEL"] = (b"Wheel-Version: 1.0\nGenerator: micrograd.playground.wheel\n"
                              b"Root-Is-Purelib: true\nTag: py3-none-any\n")
    files[f"{info}/top_level.txt"] = b"micrograd\n"
    record = [f"{name},sha256={_digest(data)},{len(data)}" for name, data in files.items()]
    files[f"{info}/RECORD"] = ("\n".join([*record, f"{info}/RECORD,,"]) + "\n").encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            entry = zipfile.ZipInfo(name, EPOCH)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            zf.writestr(entry, data)
    return f"{DISTRIBUTION}-{version}-py3-none-any.whl", buf.getvalue()


def _digest(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
