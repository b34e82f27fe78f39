"""Files, safely: the checks every input file gets, and the one way files are written.

`read_regular_file` reads a user's file (folders, FIFOs, size limit, read errors: one line);
`write_atomic` writes the files micrograd makes (checkpoints, metrics, configs, predictions);
`probe_writable` checks a folder before a run starts.
"""

from __future__ import annotations

import os
import secrets
import stat
import tempfile


def read_regular_file(path: str, limit: int, error: type[Exception], what: str) -> bytes:
    """The bytes of `path`, a regular file of at most `limit` bytes; otherwise `error(one line)`.

    `what` names the file the user should pass instead ("a CSV file"). FIFOs and devices are
    refused because reading them can block forever.
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise error(f"{path}: does not exist") from None
    except OSError as e:  # e.g. a path through a file: "Not a directory"
        raise error(f"{path}: cannot be read: {e.strerror}") from None
    if stat.S_ISDIR(st.st_mode):
        raise error(f"{path}: is a directory; pass {what}")
    if not stat.S_ISREG(st.st_mode):
        raise error(f"{path}: is not a regular file; pass {what}")
    if st.st_size > limit:
        raise error(f"{path}: {st.st_size} bytes is over the {limit} byte limit")
    try:
        with open(path, "rb") as f:
            return f.read(limit + 1)
    except OSError as e:
        raise error(f"{path}: cannot be read: {e.strerror}") from None


def probe_writable(folder: str) -> None:
    """Raise OSError unless a file can be created in `folder`.

    The probe is a fresh temporary name (mkstemp), so it can never truncate or delete a file of
    the user's; it is removed again even if a signal interrupts the check.
    """
    fd, probe = tempfile.mkstemp(prefix=".micrograd-write-test.", dir=folder)
    try:
        os.close(fd)
    finally:
        os.remove(probe)


def same_file(a: str, b: str) -> bool:
    """Do paths `a` and `b` name one file (links included)? False when either does not exist."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def write_atomic(path: str, data: bytes) -> None:
    """Write `data` to `path` so that a crash at any moment leaves the old file or the new one.

    The bytes go to a new hidden temporary file in the same folder (same file system, so the
    rename is atomic), created with O_EXCL under a name no other file has (so no file is ever
    clobbered) and mode 0o666, which the process umask trims as it does for `open()` (the umask is
    never changed: that would race with other threads). The file is fsync-ed, `os.replace` swaps
    it in, and the folder is fsync-ed so the rename itself is durable.
    """
    folder = os.path.dirname(path) or "."
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    while True:
        tmp = os.path.join(folder, f".{os.path.basename(path)}.{secrets.token_hex(4)}.tmp")
        try:
            fd = os.open(tmp, flags, 0o666)
            break
        except FileExistsError:
            continue
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise
    try:  # not every platform can open a folder
        dfd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


def wrong_separator(text: str) -> str | None:
    """`;` or `tab` when the first non-blank line is one comma-less field holding that separator.

    Such a file parses as one column per row (the first row taken for a header), so the error
    would otherwise name line 2 and a column count; this names the real cause.
    """
    first = next((line for line in text.splitlines() if line.strip()), "")
    if "," in first:
        return None
    if ";" in first:
        return ";"
    if "\t" in first:
        return "tab"
    return None
