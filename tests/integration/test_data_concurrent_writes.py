"""Concurrent writers of one series: two ``candlewick data import`` processes at once both land.

Each child is the real CLI entry point in its own process. To make the race certain rather than
likely, each child's Parquet writer is slowed down (a slow disk): both processes then read the
store before either has written, which is exactly when an unserialised writer loses the other's
bars. The children start together on a go file, after both have imported everything.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from candlewick.core.types import OHLCV_COLUMNS
from candlewick.data.csv_import import read_candle_csv
from candlewick.data.store import CandleStore
from candlewick.paths import shared_data_dir

SHARED = shared_data_dir()
pytestmark = pytest.mark.skipif(
    SHARED is None, reason="shared data folder ../shared/data (or $CANDLEWICK_SHARED_DATA) absent"
)

CHILD = """
import sys, time
from pathlib import Path
import candlewick.data.store as store_module

ready, go = Path(sys.argv[1]), Path(sys.argv[2])
write = store_module._write_atomic

def slow_write(*args, **kwargs):
    time.sleep(0.3)  # a slow disk: the other process reads the store meanwhile
    write(*args, **kwargs)

store_module._write_atomic = slow_write
from candlewick.cli.main import main
ready.touch()
deadline = time.monotonic() + 60
while not go.exists() and time.monotonic() < deadline:
    time.sleep(0.001)
sys.argv = ["candlewick", *sys.argv[3:]]
main()
"""


def _halves(tmp_path: Path) -> tuple[Path, Path]:
    """The first and the second half of a real 5m file, as two files of the same series."""
    assert SHARED is not None
    header, *rows = (SHARED / "candles" / "binance_XRP-USDT_5m.csv").read_text().splitlines()
    middle = len(rows) // 2
    first = tmp_path / "binance_XRP-USDT_5m_first.csv"
    second = tmp_path / "binance_XRP-USDT_5m_second.csv"
    first.write_text("\n".join([header, *rows[:middle]]) + "\n")
    second.write_text("\n".join([header, *rows[middle:]]) + "\n")
    return first, second


@pytest.mark.parametrize("attempt", range(3))
def test_two_imports_of_one_pair_at_once_both_land(tmp_path: Path, attempt: int) -> None:
    assert SHARED is not None
    halves = _halves(tmp_path)
    home = tmp_path / "home"
    env = {**os.environ, "CANDLEWICK_HOME": str(home), "COLUMNS": "200"}
    go = tmp_path / "go"
    children = []
    for i, half in enumerate(halves):
        ready = tmp_path / f"ready{i}"
        args = ["data", "import", str(half), "--exchange", "binance", "--pair", "XRP/USDT"]
        children.append(
            (
                ready,
                subprocess.Popen(
                    [sys.executable, "-c", CHILD, str(ready), str(go), *args, "--timeframe", "5m"],
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                ),
            )
        )
    deadline = time.monotonic() + 60
    while not all(ready.exists() for ready, _ in children) and time.monotonic() < deadline:
        time.sleep(0.005)
    go.touch()
    for _, child in children:
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0, out + err

    whole = read_candle_csv(
        SHARED / "candles" / "binance_XRP-USDT_5m.csv", "binance", "XRP/USDT", "5m"
    ).candles
    stored = CandleStore(home / "candles").read("binance", "XRP/USDT", "5m")
    assert len(stored) == len(whole) == 2_751
    for name in ("timestamp", *OHLCV_COLUMNS):
        np.testing.assert_array_equal(getattr(stored, name), getattr(whole, name), name)
    leftovers = [p.name for p in (home / "candles").rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []


def test_a_held_lock_makes_the_other_writer_wait_then_say_who_holds_it(tmp_path: Path) -> None:
    from candlewick.data.locking import exclusive_lock
    from candlewick.errors import DataError

    lock = tmp_path / ".locks" / "binance_XRP-USDT_5m.lock"
    held = tmp_path / "held"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; "
            "from candlewick.data.locking import exclusive_lock\n"
            "with exclusive_lock(Path(sys.argv[1]), 'x'):\n"
            "    Path(sys.argv[2]).touch(); time.sleep(30)",
            str(lock),
            str(held),
        ]
    )
    try:
        deadline = time.monotonic() + 30
        while not held.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        with (
            pytest.raises(DataError, match=r"another process has been writing binance XRP/USDT"),
            exclusive_lock(lock, "binance XRP/USDT 5m", wait_seconds=0.3),
        ):
            pass
    finally:
        holder.kill()
        holder.wait()
    # The operating system released the killed holder's lock: it is free again at once.
    with exclusive_lock(lock, "binance XRP/USDT 5m", wait_seconds=0.3):
        pass


def test_the_next_writer_removes_a_killed_writers_temp_file(tmp_path: Path) -> None:
    assert SHARED is not None
    whole = read_candle_csv(
        SHARED / "candles" / "binance_XRP-USDT_5m.csv", "binance", "XRP/USDT", "5m"
    ).candles
    store = CandleStore(tmp_path / "candles")
    store.write(whole.slice(0, 100))
    path = store.path("binance", "XRP/USDT", "5m")
    stale = path.with_name(f".{path.name}.424242.tmp")
    stale.write_bytes(b"half a parquet file")
    store.write(whole.slice(100, 200))
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]
    assert len(store.read("binance", "XRP/USDT", "5m")) == 200
