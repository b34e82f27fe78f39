"""The command line's stdout and stderr, made safe to write to whatever happened to them.

A run's output can vanish under it: `micrograd train | head -3` closes the pipe, a terminal
closed mid-run turns writes into EIO, `>/dev/full` fills, `>&-` starts the program with no
stdout at all. A write that raises there would end the run wherever it is, losing everything
since its last checkpoint. `guarded()` puts a `GuardedStream` in front of each: a failed write is
noted (`error`), the descriptor is pointed at /dev/null so nothing raises again (not even the
interpreter's flush at exit), and the listeners are told, so a run can stop at its next safe
point and save (guard.StopSignals.request). stdout is flushed line by line, so a closed pipe
is seen at the step that wrote into it, not minutes later when a buffer fills.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import select
import sys
from collections.abc import Callable, Iterator
from typing import Any, TextIO

from micrograd.errors import EXIT_BROKEN_PIPE, EXIT_WRITE


class GuardedStream(io.TextIOBase):
    """A text stream whose write errors are kept, not raised (see the module's docstring).

    Where the stream has a descriptor, the bytes go to it with os.write, in a loop that checks
    how many were taken: Python's buffered writer reports a write cut short (a disk that fills
    half-way through a large write) as a success and drops the rest. stdout is written a line at
    a time; stderr at once (a progress bar draws without newlines).
    """

    def __init__(self, inner: TextIO, name: str, flush_lines: bool = False):
        super().__init__()
        self.inner, self.name, self.flush_lines = inner, name, flush_lines
        self.error: OSError | None = None
        self.listeners: list[Callable[[GuardedStream], None]] = []
        self._pending: list[str] = []
        self.fd = _descriptor(inner)
        self._encoding = getattr(inner, "encoding", None) or "utf-8"
        errors = getattr(inner, "errors", None) or "strict"  # a name no terminal can encode
        self._errors = "backslashreplace" if errors == "strict" else errors  # is no failure

    def write(self, text: str) -> int:
        if self.error is None:
            self._pending.append(text)
            if not self.flush_lines or "\n" in text:
                self.flush()
        return len(text)

    def flush(self) -> None:
        if self.error is not None or not self._pending:
            return
        text, self._pending = "".join(self._pending), []
        try:
            if self.fd is None:  # a stream without a descriptor (a test's capture)
                self.inner.write(text)
                self.inner.flush()
            else:
                _write_all(self.fd, text.encode(self._encoding, self._errors))
        except (OSError, ValueError) as e:  # ValueError: the stream itself was closed
            self._failed(e)

    def isatty(self) -> bool:
        try:
            return self.error is None and self.inner.isatty()
        except (OSError, ValueError):
            return False

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        self.flush()
        return self.inner.fileno()

    def __getattr__(self, name: str) -> Any:  # encoding, errors, buffer...: the real stream's
        return getattr(self.inner, name)

    @property
    def why(self) -> str:
        """The failure in words: 'stdout was closed (broken pipe)', 'cannot write to stdout
        (No space left on device)'."""
        if self.error is None:
            return ""
        if isinstance(self.error, BrokenPipeError) or self.error.errno == errno.EPIPE:
            return f"{self.name} was closed (broken pipe)"
        return f"cannot write to {self.name} ({self.error.strerror or self.error})"

    @property
    def exit_code(self) -> int:
        broken = isinstance(self.error, BrokenPipeError)
        return EXIT_BROKEN_PIPE if broken else EXIT_WRITE  # output could not be written

    def _failed(self, e: Exception) -> None:
        self.error = e if isinstance(e, OSError) else OSError(errno.EBADF, str(e))
        _to_devnull(self.inner)
        for listener in list(self.listeners):
            listener(self)


def _descriptor(stream: TextIO) -> int | None:
    """The descriptor under `stream`, once what it buffered is written; None if it has none."""
    try:
        stream.flush()
        return stream.fileno()
    except (OSError, ValueError, AttributeError):  # io.UnsupportedOperation is an OSError
        return None


def _write_all(fd: int, data: bytes) -> None:
    """os.write until every byte is taken: a short write is retried, so the error behind it
    (ENOSPC, EFBIG, EPIPE) is raised, not lost; a non-blocking descriptor is waited for."""
    view = memoryview(data)
    while view:
        try:
            view = view[os.write(fd, view):]
        except BlockingIOError:
            select.select([], [fd], [])


def _to_devnull(stream: TextIO) -> None:
    """Point `stream`'s descriptor at /dev/null: what is still buffered in it, and whatever is
    written to the descriptor later, goes nowhere instead of raising again."""
    try:
        fd = stream.fileno()
    except (OSError, ValueError, AttributeError):
        return
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, fd)
    except OSError:
        pass
    finally:
        os.close(null)


def _std_descriptors() -> None:
    """Open /dev/null on any of descriptors 0, 1, 2 the program was started without (`>&-`):
    otherwise the next file opened would get that number, and a write meant for stdout (ours,
    or a child process's) would land in a checkpoint or a lock file."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)


@contextlib.contextmanager
def guarded() -> Iterator[tuple[GuardedStream, GuardedStream]]:
    """sys.stdout and sys.stderr as GuardedStreams for the length of the block (a stream that
    is missing, as under `>&-`, is a guarded /dev/null); the originals come back after."""
    _std_descriptors()
    saved = sys.stdout, sys.stderr
    streams = []
    for stream, name in ((sys.stdout, "stdout"), (sys.stderr, "stderr")):
        if stream is None:
            stream = open(os.devnull, "w", encoding="utf-8")
        streams.append(GuardedStream(stream, name, flush_lines=name == "stdout"))
    sys.stdout, sys.stderr = streams
    try:
        yield streams[0], streams[1]
    finally:
        streams[0].flush()
        streams[1].flush()
        sys.stdout, sys.stderr = saved
