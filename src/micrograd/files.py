"""Files, safely: the checks every input file gets, and the one way files are written.

`read_regular_file` reads a user's file (folders, FIFOs, size limit, read errors: one line);
`write_atomic` is the one way micrograd writes a file (checkpoints, metrics, configs, pictures,
graphs, pages, exports): temporary file, O_EXCL, fsync, rename, links replaced and never followed;
`make_folders` creates a run's folders (and says which, so a refused run removes them);
`probe_writable` checks a folder before a run starts.
"""

from __future__ import annotations

import errno
import os
import re
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
        flags = (os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
                 | getattr(os, "O_CLOEXEC", 0))
        while True:
            if os.path.islink(self.path):  # a link in the way is removed, never followed
                os.remove(self.path)
            fd = os.open(self.path, flags, 0o644)
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


_LEFTOVER = re.compile(r"^\..+\.[0-9a-f]{8,12}\.tmp$|^\.micrograd-write-test\.")


def is_leftover(name: str) -> bool:
    """Is `name` a file micrograd itself leaves only when killed mid-write: the lock, a
    `write_atomic` temporary (`.checkpoint.json.1a2b3c4d5e6f.tmp`) or a disk probe?"""
    return name == FolderLock.NAME or bool(_LEFTOVER.match(name))


def same_file(a: str, b: str) -> bool:
    """Do paths `a` and `b` name one file (links included)? False when either does not exist."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def make_folders(path: str) -> list[str]:
    """Create `path` and its missing parents, one at a time (no recursion, so a 2,000-level
    `--out` is no RecursionError); return the folders created, outermost first, so that a run
    refused after this point can remove exactly what it made (`remove_folders`)."""
    missing = []
    head = os.path.normpath(path)
    while head and not os.path.isdir(head):
        missing.append(head)
        parent = os.path.dirname(head)
        if parent == head:
            break
        head = parent
    created = []
    try:
        for folder in reversed(missing):
            try:
                os.mkdir(folder)
            except FileExistsError:
                if not os.path.isdir(folder):
                    raise
                continue
            created.append(folder)
    except OSError:
        remove_folders(created)
        raise
    return created


def remove_folders(created: list[str]) -> None:
    """Remove the folders `make_folders` created, innermost first, where they are still empty."""
    for folder in reversed(created):
        try:
            os.rmdir(folder)
        except OSError:
            return


def _own_folder(root: str, folder: str) -> None:
    """Make every folder from `root` down to `folder` a real folder of ours: a missing one is
    created, a symlink is replaced as a link (its target is never touched or written into), a
    file in the way is an OSError. `root` itself is the user's choice and is taken as it is."""
    rel = os.path.relpath(folder, root)
    if rel == ".":
        return
    if rel.startswith(os.pardir):
        raise OSError(errno.EINVAL, "outside the folder being written", folder)
    here = root
    for part in rel.split(os.sep):
        here = os.path.join(here, part)
        if os.path.islink(here):
            os.remove(here)
        if not os.path.lexists(here):
            os.mkdir(here)
        elif not os.path.isdir(here):
            raise OSError(errno.ENOTDIR, "a file is in the way of a folder", here)


def write_atomic(path: str, data: bytes, *, root: str | None = None) -> None:
    """Write `data` to `path`: the one way micrograd writes a file (checkpoints, metrics, pictures,
    graphs, pages, exports), so that a crash at any moment leaves the old file or the new one,
    and a symlink planted at `path` is replaced as a link, never written through.

    The bytes go to a new hidden temporary file in the same folder (same file system, so the
    rename is atomic), created with O_EXCL|O_NOFOLLOW under a random name (so no file, and no
    link, is ever opened in its place) and mode 0o666, which the process umask trims as it does
    for `open()` (the umask is never changed: that would race with other threads). The file is
    fsync-ed, `os.replace` swaps it in (a rename replaces a link itself, not its target), and the
    folder is fsync-ed so the rename is durable. `root`: the folder this write belongs to (a run
    folder, an export); the folders between it and `path` are made real folders first (see
    `_own_folder`), so a symlinked sub-folder cannot carry the file elsewhere.
    """
    folder = os.path.dirname(path) or "."
    if root is not None:
        _own_folder(root, folder)
    flags = (os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
             | getattr(os, "O_CLOEXEC", 0))
    while True:
        tmp = os.path.join(folder, f".{os.path.basename(path)[:40]}.{secrets.token_hex(6)}.tmp")
        try:
            fd = os.open(tmp, flags, 0o666)
            break
        except FileExistsError:
            continue
    try:
        with os.fdopen(fd, "wb") as f:
            _keep_mode(f.fileno(), path)
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
    _sync_folder(folder)


def _keep_mode(fd: int, path: str) -> None:
    """A file replaced keeps its permission bits (a checkpoint the user made private stays so);
    a link or a new file gets the default."""
    try:
        st = os.lstat(path)
    except OSError:
        return
    if stat.S_ISREG(st.st_mode):
        os.fchmod(fd, stat.S_IMODE(st.st_mode))


def _sync_folder(folder: str) -> None:
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
