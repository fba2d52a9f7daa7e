"""Atomic file writes: a reader sees the old file or the whole new one, never a part.

The content goes to a temporary file beside the target (same folder, so same file system),
is flushed to disk (``fsync``) and renamed over the target (``os.replace``, atomic on POSIX
and Windows); the folder is then synced so that the rename survives a crash. A write that
fails removes its temporary file; a writer that is killed cannot, so every write first
removes the *stale* temporary files of the same target (see :func:`clean_stale_temp_files`).

Temporary names are ``.<target name>.<host>-<pid>-<random>.tmp``: hidden, and naming the
writer so that a later write can tell a dead writer's leftover from a live writer's file.

```
from candlewick.atomic import atomic_writer, write_text_atomic

write_text_atomic(path, page)               # text, encoded before anything is touched
with atomic_writer(path) as fh:             # or any binary writer (Parquet, npy, ...)
    pq.write_table(table, fh)
```
"""

from __future__ import annotations

import os
import re
import secrets
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import BinaryIO

__all__ = [
    "STALE_AFTER_S",
    "atomic_writer",
    "clean_stale_temp_files",
    "temp_path_for",
    "write_bytes_atomic",
    "write_text_atomic",
]

STALE_AFTER_S = 3600.0
"""A temporary file older than this (seconds since its last change) is stale, whoever wrote it."""

# <host>-<pid>-<random> (ours), or a bare <pid> (the candle store's earlier naming).
_OWNER = re.compile(r"(?:(?P<host>\w+)-(?P<pid>\d+)-[0-9a-f]+|(?P<bare_pid>\d+))")


def _host() -> str:
    """This machine's name reduced to ``\\w`` characters (so the owner part parses back)."""
    return re.sub(r"\W", "_", socket.gethostname()) or "host"


def temp_path_for(path: Path) -> Path:
    """A fresh temporary path beside ``path`` owned by this process."""
    owner = f"{_host()}-{os.getpid()}-{secrets.token_hex(4)}"
    return path.with_name(f".{path.name}.{owner}.tmp")


def _pid_alive(pid: int) -> bool:
    """Whether a process ``pid`` exists on this machine (True when it cannot be told)."""
    if os.name != "posix":  # os.kill(pid, 0) would terminate the process on Windows
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. another user's process: it exists
        return True
    return True


def _is_stale(tmp: Path, owner: str, stale_after: float, now: float) -> bool:
    match = _OWNER.fullmatch(owner)
    if match is None:
        return False  # not a name this module (or the candle store) writes
    try:
        age = now - tmp.stat().st_mtime
    except FileNotFoundError:
        return False
    if age > stale_after:
        return True
    host, pid = match["host"], match["pid"]
    return host == _host() and pid is not None and not _pid_alive(int(pid))


def clean_stale_temp_files(path: Path, *, stale_after: float = STALE_AFTER_S) -> list[Path]:
    """Remove the stale temporary files of ``path`` and return them.

    Stale: older than ``stale_after`` seconds, or written on this machine by a process that no
    longer exists. A live writer's fresh temporary file is left alone.
    """
    prefix = f".{path.name}."
    try:
        candidates = [p for p in path.parent.iterdir() if p.name.startswith(prefix)]
    except FileNotFoundError:
        return []
    now = time.time()
    removed = []
    for tmp in candidates:
        owner = tmp.name[len(prefix) :]
        if not owner.endswith(".tmp"):
            continue
        if _is_stale(tmp, owner[: -len(".tmp")], stale_after, now):
            with suppress(FileNotFoundError):  # another writer may have cleaned it first
                tmp.unlink()
                removed.append(tmp)
    return removed


def _sync_folder(folder: Path) -> None:
    """Flush the folder's entries (the rename) to disk; a no-op where folders cannot be opened."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def atomic_writer(path: Path, *, stale_after: float = STALE_AFTER_S) -> Iterator[BinaryIO]:
    """A binary file to write ``path``'s new content into; it replaces ``path`` on success.

    The parent folders are created. If the ``with`` block raises, ``path`` is untouched and
    the temporary file is removed. Stale temporary files of ``path`` are removed first.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    clean_stale_temp_files(path, stale_after=stale_after)
    tmp = temp_path_for(path)
    # O_EXCL: never write through someone else's file; mode 0o666 minus the umask, as open().
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(path)
    except BaseException:
        with suppress(FileNotFoundError):
            tmp.unlink()
        raise
    _sync_folder(path.parent)


def write_bytes_atomic(path: Path, data: bytes, *, stale_after: float = STALE_AFTER_S) -> Path:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_writer`) and return the path."""
    with atomic_writer(path, stale_after=stale_after) as fh:
        fh.write(data)
    return Path(path)


def write_text_atomic(
    path: Path, text: str, *, encoding: str = "utf-8", stale_after: float = STALE_AFTER_S
) -> Path:
    """Write ``text`` to ``path`` atomically; it is encoded before any file is touched."""
    return write_bytes_atomic(path, text.encode(encoding), stale_after=stale_after)
