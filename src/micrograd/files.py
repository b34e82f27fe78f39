"""Reading a user's file safely: one place for the checks every input file gets."""

from __future__ import annotations

import os
import stat


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
