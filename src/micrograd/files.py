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


def probe_writable(folder: str, nbytes: int = 0) -> None:
    """Raise OSError unless a file of `nbytes` bytes can be written (and synced) in `folder`.

    The probe is a fresh temporary name (mkstemp), so it can never truncate or delete a file of
    the user's; it is removed again even if a signal interrupts the check. Real bytes, not an
    empty file: a full disk still lets one create an empty file, and would let a run train for
    an hour only to fail writing its checkpoint.
    """
    fd, probe = tempfile.mkstemp(prefix=".micrograd-write-test.", dir=folder)
    try:
        chunk = bytes(min(nbytes, 1 << 20))
        left = nbytes
        while left > 0:
            left -= os.write(fd, chunk[:left])
        if nbytes:
            os.fsync(fd)
    finally:
        os.close(fd)
        os.remove(probe)


class WriteFailed(Exception):
    """A file could not be written (disk full, read-only, in the way): one line for the user."""


def replace_problem(path: str) -> str | None:
    """Why `write_atomic(path, ...)` would fail on what is at `path` now, or None.

    A folder of that name, or a file marked read-only or immutable (`chattr +i`, which even root
    cannot replace), is in the way; found before a run starts, not after it has trained.
    """
    if os.path.isdir(path):
        return f"{path} is a folder: move it away or pick another --out"
    if os.path.lexists(path) and not os.path.islink(path) and not os.access(path, os.W_OK):
        return f"{path} is read-only (or immutable): make it writable, move it away, or pick " \
               "another --out"
    return None


class FolderLock:
    """An exclusive lock on a run folder while a run writes into it (`flock` on `.micrograd.lock`).

    A second writer (two `--resume` of one run, or `--force` into a running run's folder) is
    refused at once instead of overwriting the first's files. The kernel drops the lock when its
    process ends, kill -9 included, so a lock is never stale; the file is removed on release.
    Where `fcntl` does not exist (Windows) there is no lock.
    """

    NAME = ".micrograd.lock"

    def __init__(self, folder: str):
        self.path = os.path.join(folder, self.NAME)
        self.fd: int | None = None

    def acquire(self) -> bool:
        """Take the lock; False if another process holds it."""
        try:
            import fcntl
        except ImportError:
            return True
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                return False
            try:  # the holder may have removed the file between our open and our lock
                same = os.path.samestat(os.fstat(fd), os.stat(self.path))
            except FileNotFoundError:
                same = False
            if same:
                self.fd = fd
                return True
            os.close(fd)

    def release(self) -> None:
        if self.fd is not None:
            try:
                os.remove(self.path)
            except OSError:
                pass
            os.close(self.fd)
            self.fd = None


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
