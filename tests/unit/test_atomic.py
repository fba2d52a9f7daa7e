"""Atomic writes: whole file or old file, temporary files of dead writers cleaned up."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from candlewick.atomic import (
    STALE_AFTER_S,
    atomic_writer,
    clean_stale_temp_files,
    temp_path_for,
    write_bytes_atomic,
    write_text_atomic,
)


def dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    proc = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(proc.stdout)


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_write_creates_folders_and_replaces_the_file(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "report.json"
    assert write_text_atomic(path, "é first") == path
    assert path.read_text(encoding="utf-8") == "é first"
    write_bytes_atomic(path, b"second")
    assert path.read_bytes() == b"second"
    assert listing(path.parent) == ["report.json"]


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_the_new_file_gets_the_usual_permissions(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        write_text_atomic(tmp_path / "r.html", "x")
    finally:
        os.umask(old)
    assert (tmp_path / "r.html").stat().st_mode & 0o777 == 0o644


def test_a_failing_write_leaves_the_old_file_and_no_temporary_file(tmp_path: Path) -> None:
    path = tmp_path / "report.html"
    path.write_text("old")
    with pytest.raises(RuntimeError, match="disk on fire"), atomic_writer(path) as fh:
        fh.write(b"half of the new")
        raise RuntimeError("disk on fire")
    assert path.read_text() == "old"
    assert listing(tmp_path) == ["report.html"]


def test_text_that_cannot_be_encoded_touches_nothing(tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    path.write_text("old")
    with pytest.raises(UnicodeEncodeError):
        write_text_atomic(path, "bad \ud800 surrogate")
    assert path.read_text() == "old"
    assert listing(tmp_path) == ["report.json"]


def test_stale_temporary_files_are_removed_and_live_ones_kept(tmp_path: Path) -> None:
    path = tmp_path / "run.json"
    mine = temp_path_for(path)  # this process: alive
    host, _pid, token = mine.name[len(".run.json.") : -len(".tmp")].rsplit("-", 2)
    dead = path.with_name(f".run.json.{host}-{dead_pid()}-{token}.tmp")
    other_host_fresh = path.with_name(f".run.json.elsewhere-1-{token}.tmp")
    other_host_old = path.with_name(f".run.json.elsewhere-2-{token}.tmp")
    mine_old = path.with_name(f".run.json.{host}-{os.getpid()}-0badc0de.tmp")
    store_style_fresh = path.with_name(".run.json.12345.tmp")
    store_style_old = path.with_name(".run.json.12346.tmp")
    other_target = path.with_name(f".run.json.x.{host}-{dead_pid()}-{token}.tmp")
    unrelated = path.with_name(".run.json.notes")
    for p in (
        mine,
        dead,
        other_host_fresh,
        other_host_old,
        mine_old,
        store_style_fresh,
        store_style_old,
        other_target,
        unrelated,
    ):
        p.write_text("partial")
    long_ago = time.time() - STALE_AFTER_S - 60
    for p in (other_host_old, mine_old, store_style_old):
        os.utime(p, (long_ago, long_ago))

    removed = clean_stale_temp_files(path)

    assert sorted(p.name for p in removed) == sorted(
        p.name for p in (dead, other_host_old, mine_old, store_style_old)
    )
    assert listing(tmp_path) == sorted(
        p.name for p in (mine, other_host_fresh, store_style_fresh, other_target, unrelated)
    )
    assert clean_stale_temp_files(tmp_path / "missing" / "run.json") == []


def test_each_write_cleans_the_stale_files_of_its_target(tmp_path: Path) -> None:
    path = tmp_path / "run.html"
    host = temp_path_for(path).name.split(".")[-2].rsplit("-", 2)[0]
    leftover = path.with_name(f".run.html.{host}-{dead_pid()}-00ff00ff.tmp")
    leftover.write_text("a killed writer's half page")
    write_text_atomic(path, "<html></html>")
    assert listing(tmp_path) == ["run.html"]


def test_concurrent_writers_leave_one_whole_file(tmp_path: Path) -> None:
    path = tmp_path / "run.json"
    texts = [str(i) * 200_000 for i in range(8)]
    barrier = threading.Barrier(len(texts))

    def write(text: str) -> None:
        barrier.wait()
        write_text_atomic(path, text)

    threads = [threading.Thread(target=write, args=(t,)) for t in texts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert path.read_text() in texts
    assert listing(tmp_path) == ["run.json"]
