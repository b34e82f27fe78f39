"""A run's folder, from its claim to its release: `RunFolder`.

The folder is locked before anything in it is read (a checkpoint to resume, the files a run
would replace), so two runs never act on what the other is about to change: the second is
refused at once, and a resume reads the checkpoint only once no one else can write it. A run
refused after the claim leaves the disk as it found it: the lock file goes, and so do the
folders the claim created. A `.micrograd.lock` left by a process that was killed holds no lock
(the kernel dropped it) and counts for nothing: the folder is still empty for a new run.
"""

from __future__ import annotations

import os
import time

from micrograd.errors import UsageError
from micrograd.files import (
    FolderLock,
    is_leftover,
    make_folders,
    probe_writable,
    remove_folders,
)


class RunFolder:
    """`claim()` makes and locks the folder; then `check_reusable`, `probe`; `release()` when the
    run is done, or `abandon()` when it was refused (also removes the folders it made)."""

    def __init__(self, path: str | None):
        self.path = path  # None: runs/<timestamp>, named by claim()
        self.created: list[str] = []
        self.lock: FolderLock | None = None

    def claim(self) -> RunFolder:
        """Create the folder if needed and lock it; UsageError (nothing left behind) if another
        run holds it or it cannot be made."""
        try:
            if self.path is None:
                self.path = self._new_timestamped()
            else:
                self._refuse_a_file_in_the_way(self.path)
                self.created = make_folders(self.path)
        except (OSError, RecursionError) as e:
            raise UsageError(f"cannot write to run folder {_short(self.path)}: "
                             f"{getattr(e, 'strerror', None) or e}; pick another --out") from None
        lock = FolderLock(self.path)
        try:
            held = lock.acquire()
        except OSError as e:
            self.abandon()
            raise UsageError(f"cannot write to run folder {_short(self.path)}: "
                             f"{e.strerror or e}; pick another --out") from None
        if not held:
            self.abandon()
            raise UsageError(f"run folder {_short(self.path)} is in use by another micrograd "
                             "run; wait for it to finish, or pick another --out")
        self.lock = lock
        return self

    @staticmethod
    def _refuse_a_file_in_the_way(path: str) -> None:
        """`--out notes.txt` or `--out notes.txt/run`: name the file, not "File exists"."""
        head = path
        while head:
            if os.path.lexists(head) and not os.path.isdir(head):
                what = "is a file" if head == path else f"is below {_short(head)}, a file"
                raise UsageError(f"--out {_short(path)} {what}, not a folder; pick another "
                                 "--out")
            parent = os.path.dirname(head)
            if parent == head:
                return
            head = parent

    def _new_timestamped(self) -> str:
        """runs/<timestamp>, claimed with os.mkdir, so two runs started in the same second never
        share a folder: the second gets runs/<timestamp>-2."""
        base = os.path.join("runs", time.strftime("%Y%m%d-%H%M%S"))
        self.created = make_folders("runs")
        out, k = base, 1
        while True:
            try:
                os.mkdir(out)
                self.created.append(out)
                return out
            except FileExistsError:
                k += 1
                out = f"{base}-{k}"

    def check_reusable(self, force: bool) -> None:
        """Refuse a folder that holds anything but what a killed run of ours leaves (its lock,
        a temporary file, a disk probe: removed now, under our lock), unless `force`."""
        assert self.path is not None
        others = []
        for name in os.listdir(self.path):
            if name == FolderLock.NAME:
                continue
            if is_leftover(name):
                try:
                    os.remove(os.path.join(self.path, name))
                    continue
                except OSError:
                    pass
            others.append(name)
        if others and not force:
            self.abandon()
            raise UsageError(f"run folder {_short(self.path)} already exists and is not empty; "
                             "pick another --out or pass --force to overwrite its files")

    def probe(self, nbytes: int = 0, what: str = "") -> None:
        """Refuse a folder where `nbytes` cannot be written (a full disk, read-only)."""
        assert self.path is not None
        try:
            probe_writable(self.path, nbytes)  # a fresh temporary name: never a user's file
        except OSError as e:
            self.abandon()
            need = f"{what} in {_short(self.path)} ({nbytes} bytes)" if what else \
                f"to run folder {_short(self.path)}"
            raise UsageError(f"cannot write {need}: {e.strerror}; free some space or pick "
                             "another --out") from None

    def release(self) -> None:
        """Let another run write into this folder (the lock also dies with the process)."""
        if self.lock is not None:
            self.lock.release()
            self.lock = None

    def abandon(self) -> None:
        """Undo the claim: release the lock and remove the folders it created, if empty."""
        self.release()
        remove_folders(self.created)
        self.created = []


def prepare_out(out: str | None, force: bool) -> str:
    """A folder to write into, for commands that write once (`micrograd graph`): claimed,
    checked empty unless `force`, probed, released."""
    folder = RunFolder(out).claim()
    folder.check_reusable(force)
    folder.probe()
    folder.release()
    assert folder.path is not None
    return folder.path


def _short(path: str | None) -> str:
    text = repr(path)
    return text if len(text) <= 80 else f"{text[:40]}...{text[-30:]} ({len(text)} characters)"
