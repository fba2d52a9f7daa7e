"""Writer locks: one process at a time reads, merges and rewrites a stored series.

The lock is an exclusive lock on a small lock file (``flock`` on POSIX, ``msvcrt.locking`` on
Windows), taken by every writer of the series around its read-merge-write. The operating system
releases it when the holder exits, even when it is killed, so a crashed writer never leaves the
series locked. Lock files are never deleted: deleting one while another process waits on it
would let a third process lock a new file and write at the same time.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from candlewick.errors import DataError

#: How long a writer waits for another writer of the same series before giving up.
WAIT_SECONDS = 300.0
_POLL_SECONDS = 0.02


def _try_lock(fd: int) -> bool:
    if sys.platform == "win32":
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _unlock(fd: int) -> None:
    if sys.platform == "win32":
        import msvcrt

        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        return
    import fcntl

    fcntl.flock(fd, fcntl.LOCK_UN)


@contextmanager
def exclusive_lock(path: Path, what: str, wait_seconds: float = WAIT_SECONDS) -> Iterator[None]:
    """Hold the exclusive lock of ``path`` (created if missing) for the ``with`` block.

    Waits for another holder up to ``wait_seconds``, then raises DataError naming ``what`` is
    being written and the lock file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + wait_seconds
        while not _try_lock(fd):
            if time.monotonic() >= deadline:
                raise DataError(
                    f"another process has been writing {what} for over {wait_seconds:g} s "
                    f"(it holds {path}); let it finish or stop it, then try again"
                )
            time.sleep(_POLL_SECONDS)
        try:
            yield
        finally:
            _unlock(fd)
    finally:
        os.close(fd)
