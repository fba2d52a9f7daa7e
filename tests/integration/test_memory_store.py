"""The candle store's read path and memory: numpy-owned arrays, no pyarrow.parquet imported.

Reading decodes one column at a time into numpy memory and frees Arrow's buffers (see
:mod:`candlewick.data.parquet_file`); a process that only reads never imports
``pyarrow.parquet``, whose ``pyarrow.fs`` loads the cloud file systems and ssl.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from candlewick.core.types import OHLCV_COLUMNS, Candles
from candlewick.data.parquet_file import COLUMNS, ROW_GROUP
from candlewick.data.store import CandleStore
from candlewick.errors import DataError

MIN = 60_000
T0 = 1_704_067_200_000  # 2024-01-01 00:00 UTC


def walk(n: int, start: int = T0) -> Candles:
    """``n`` plausible 1m candles (a seeded random walk on a 0.01 grid)."""
    rng = np.random.default_rng(7)
    close = np.round(100.0 + np.cumsum(rng.normal(0.0, 0.1, n)), 2)
    open_ = np.concatenate(([close[0]], close[:-1]))
    return Candles(
        "test",
        "BTC/USDT",
        "1m",
        start + MIN * np.arange(n, dtype=np.int64),
        open_,
        np.maximum(open_, close) + 0.05,
        np.minimum(open_, close) - 0.05,
        close,
        np.round(rng.uniform(1.0, 50.0, n), 3),
    )


@pytest.fixture
def store(tmp_path: Path) -> CandleStore:
    return CandleStore(tmp_path / "candles")


@pytest.mark.parametrize("bars", [1_000, ROW_GROUP + 5_000])  # one row group, then two
def test_reads_give_writable_numpy_arrays_equal_to_the_file(store: CandleStore, bars: int) -> None:
    store.write(walk(bars))
    path = store.path("test", "BTC/USDT", "1m")
    table = pq.read_table(path)
    whole = store.read("test", "BTC/USDT", "1m")
    lo, hi = T0 + 100 * MIN, T0 + (bars - 100) * MIN
    part = store.read("test", "BTC/USDT", "1m", lo, hi)
    for name in COLUMNS:
        expected = table.column(name).to_numpy()
        for got, want in ((whole, expected), (part, expected[100 : bars - 99])):
            array = getattr(got, name)
            np.testing.assert_array_equal(array, want, name)
            # numpy's own memory (or a slice of it), not a view of Arrow's buffers
            owner = array if array.base is None else array.base
            assert isinstance(owner, np.ndarray) and owner.flags.owndata, name
            assert array.flags.writeable, name


def test_metadata_and_errors_without_pyarrow_parquet(store: CandleStore, tmp_path: Path) -> None:
    from candlewick.data.parquet_file import read_metadata

    store.write(walk(500))
    path = store.path("test", "BTC/USDT", "1m")
    meta = read_metadata(path)
    assert meta.num_rows == 500 and meta.num_columns == len(COLUMNS)
    assert store.entries()[0].rows == 500
    bad = tmp_path / "candles" / "test" / "ETH-USDT" / "1m.parquet"
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"not parquet")
    with pytest.raises(DataError, match="not a candle file of this store"):
        store.entries()
    with pytest.raises(DataError, match="cannot read"):
        store.read("test", "ETH/USDT", "1m")


def test_reading_the_store_does_not_import_pyarrow_parquet(store: CandleStore) -> None:
    store.write(walk(2_000))
    code = (
        "import sys; from pathlib import Path; from candlewick.data.store import CandleStore; "
        f"s = CandleStore(Path({str(store.root)!r})); "
        "c = s.read('test', 'BTC/USDT', '5m', 1704067200000, 1704100000000); "
        "assert len(c) > 0 and len(s.entries()) == 1; "
        "loaded = sorted(m for m in ('pyarrow.parquet', 'pyarrow.fs') if m in sys.modules); "
        "assert not loaded, loaded"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_writes_still_store_every_column(store: CandleStore) -> None:
    candles = walk(300)
    store.write(candles)
    table = pq.read_table(store.path("test", "BTC/USDT", "1m"))
    assert table.column_names == list(COLUMNS)
    for name in OHLCV_COLUMNS:
        np.testing.assert_array_equal(table.column(name).to_numpy(), candles.column(name))
