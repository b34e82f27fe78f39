"""A user's mistake and the command line's exit codes, in one place below everything else.

Every layer that can refuse what a user typed (the settings, a run's folder, the playground's
export) raises `UsageError`, and the command line turns it into one line on stderr and
`EXIT_USAGE`. Keeping the class and the codes here, on the standard library alone, lets any
module raise them or return a code without importing the modules that happen to use them too
(the run's config, the guard, the CLI).
"""

from __future__ import annotations

__all__ = ["EXIT_BROKEN_PIPE", "EXIT_INTERRUPTED", "EXIT_NUMERIC", "EXIT_USAGE", "EXIT_WRITE",
           "UsageError", "signal_exit_code"]

EXIT_USAGE = 2  # a user mistake (a flag, a file, a folder): one line on stderr, nothing written
EXIT_NUMERIC = 3  # training stopped on bad numbers (NaN, infinity, overflow); the last good state
EXIT_WRITE = 4  # a file could not be written (disk full, read-only file system)
_SIGNAL_BASE = 128  # the shells' convention: a program a signal ended reports 128 + its number
EXIT_INTERRUPTED = _SIGNAL_BASE + 2  # Ctrl-C (SIGINT)
EXIT_BROKEN_PIPE = _SIGNAL_BASE + 13  # SIGPIPE: stdout's reader went away (`| head`)


class UsageError(Exception):
    """A user mistake: printed as one line, exit code 2."""


def signal_exit_code(signum: int) -> int:
    """The exit code of a run a signal stopped: 128 + its number, as a shell reports it, so a
    script sees the same code whether the run saved first or died of the signal."""
    return _SIGNAL_BASE + signum
