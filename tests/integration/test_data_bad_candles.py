"""Bad candles are refused (or a lone bar set aside) with a message naming the file, the line,
the value and the fix; every writer of the store is held to the same checks.

Each case is a real shared data file with one thing broken, written to a temporary file.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from candlewick.core.types import OHLCV_COLUMNS, Candles
from candlewick.data.csv_import import parse_candle_filename, read_candle_csv
from candlewick.data.sources import import_file
from candlewick.data.store import CandleStore
from candlewick.errors import DataError
from candlewick.paths import shared_data_dir

SHARED = shared_data_dir()
pytestmark = pytest.mark.skipif(
    SHARED is None, reason="shared data folder ../shared/data (or $CANDLEWICK_SHARED_DATA) absent"
)
SOURCE = "binance_XRP-USDT_5m.csv"  # 2,751 bars, 2026-04-15 .. 2026-04-24
STEP = 300_000
JAN_2025 = 1_735_689_600_000  # 2025-01-01 00:00 UTC


def source_lines() -> tuple[str, list[str]]:
    assert SHARED is not None
    header, *rows = (SHARED / "candles" / SOURCE).read_text().splitlines()
    return header, rows


def broken(tmp_path: Path, rows: list[str]) -> Path:
    header, _ = source_lines()
    path = tmp_path / SOURCE
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def with_field(rows: list[str], index: int, column: int, value: str) -> list[str]:
    """``rows`` with field ``column`` (0 = timestamp .. 5 = volume) of row ``index`` set."""
    fields = rows[index].split(",")
    fields[column] = value
    return [*rows[:index], ",".join(fields), *rows[index + 1 :]]


@pytest.fixture
def store(tmp_path: Path) -> CandleStore:
    return CandleStore(tmp_path / "candles")


def refused(store: CandleStore, path: Path) -> str:
    with pytest.raises(DataError) as info:
        import_file(store, path)
    assert store.entries() == [], "a refused file must store nothing"
    message = str(info.value)
    assert str(path) in message and "Fix:" in message
    return message


@pytest.mark.parametrize(
    ("index", "column", "value", "expected"),
    [
        (5, 2, "inf", "line 7 (timestamp 1776212700000, 2026-04-15 00:25 UTC): high = inf"),
        (0, 3, "-inf", "line 2 (timestamp 1776211200000, 2026-04-15 00:00 UTC): low = -inf"),
        (
            98,
            5,
            "1e308",
            "line 100 (timestamp 1776240600000, 2026-04-15 08:10 UTC): volume = 1e+308",
        ),
        (
            48,
            5,
            "1e-320",
            "line 50 (timestamp 1776225600000, 2026-04-15 04:00 UTC): volume = 1e-320",
        ),
        (9, 4, "1e400", "(timestamp 1776213900000, 2026-04-15 00:45 UTC): high = inf, close = inf"),
    ],
)
def test_infinite_and_absurd_values_are_refused_naming_line_and_value(
    tmp_path: Path, store: CandleStore, index: int, column: int, value: str, expected: str
) -> None:
    _, rows = source_lines()
    rows = with_field(rows, index, column, value)
    if column == 4:  # keep high >= close so that only the value itself is wrong
        rows = with_field(rows, index, 2, value)
    message = refused(store, broken(tmp_path, rows))
    assert expected in message


def test_absurd_price_in_every_column_is_named(tmp_path: Path, store: CandleStore) -> None:
    _, rows = source_lines()
    for column in (1, 2, 3, 4):
        rows = with_field(rows, 20, column, "1e308")
    message = refused(store, broken(tmp_path, rows))
    assert "implausible price or volume: line 22" in message
    assert "open = 1e+308, high = 1e+308, low = 1e+308, close = 1e+308" in message


def test_zero_volume_everywhere_is_refused(tmp_path: Path, store: CandleStore) -> None:
    _, rows = source_lines()
    silent = [",".join([*row.split(",")[:5], "0"]) for row in rows]
    message = refused(store, broken(tmp_path, silent))
    assert "2751 row(s) all have zero volume" in message and "not market data" in message


def test_a_bar_before_2009_is_refused(tmp_path: Path, store: CandleStore) -> None:
    _, rows = source_lines()
    rows = with_field(rows, 0, 0, str(1_230_681_600_000))  # 2008-12-31 00:00 UTC
    message = refused(store, broken(tmp_path, rows))
    assert "1 row(s) open before 2009: line 2 (timestamp 1230681600000, 2008-12-31" in message
    assert "milliseconds" in message


def test_a_bar_in_the_future_is_refused(tmp_path: Path, store: CandleStore) -> None:
    _, rows = source_lines()
    future = (int(time.time() * 1000) // STEP + 30 * 288) * STEP  # 30 days from now
    rows = [*rows, ",".join([str(future), *rows[-1].split(",")[1:]])]
    message = refused(store, broken(tmp_path, rows))
    assert "open after the current time" in message
    assert f"line {len(rows) + 1} (timestamp {future}," in message


def test_a_lone_bar_is_set_aside_and_can_be_taken_back(tmp_path: Path, store: CandleStore) -> None:
    _, rows = source_lines()
    lone = ",".join([str(JAN_2025), *rows[0].split(",")[1:]])
    path = broken(tmp_path, [lone, *rows])
    result = import_file(store, path)
    assert result.added == len(rows) == 2_751
    assert result.quarantined == 1
    (warning,) = result.warnings
    assert str(path) in warning
    assert "line 2 (timestamp 1735689600000, 2025-01-01 00:00 UTC)" in warning
    assert result.quarantine_path is not None and str(result.quarantine_path) in warning
    stored = store.read("binance", "XRP/USDT", "5m")
    assert int(stored.timestamp[0]) > JAN_2025 and len(stored) == 2_751
    # The quarantine file holds the row's values, and imports on its own if it is right.
    aside = read_candle_csv(result.quarantine_path, "binance", "XRP/USDT", "5m").candles
    assert aside.timestamp.tolist() == [JAN_2025]
    assert [float(aside.column(c)[0]) for c in OHLCV_COLUMNS] == [
        float(x) for x in lone.split(",")[1:]
    ]
    again = import_file(store, result.quarantine_path)
    assert (again.added, again.quarantined) == (1, 0)
    assert int(store.read("binance", "XRP/USDT", "5m").timestamp[0]) == JAN_2025


def _candles(n: int, start: int, volume: float = 5.0) -> Candles:
    ts = start + STEP * np.arange(n, dtype=np.int64)
    one = np.ones(n)
    return Candles("binance", "XRP/USDT", "5m", ts, one, one * 1.2, one * 0.9, one, one * volume)


@pytest.mark.parametrize(
    ("candles", "message"),
    [
        (_candles(3, JAN_2025, volume=float("inf")), "infinite value: timestamp 1735689600000"),
        (_candles(3, JAN_2025, volume=1e-320), r"volume = 1e-320"),
        (_candles(3, 1_000_000_000_000), "open before 2009"),
        (_candles(3, 4_102_444_800_000), "open after the current time"),  # 2100
    ],
)
def test_every_writer_of_the_store_is_held_to_the_checks(
    store: CandleStore, candles: Candles, message: str
) -> None:
    # `data download` and every other path write through CandleStore.write.
    with pytest.raises(DataError, match=rf"refusing to store binance XRP/USDT 5m.*{message}"):
        store.write(candles)
    assert store.entries() == []


def test_the_store_refuses_a_series_that_would_never_trade(store: CandleStore) -> None:
    # Quiet bars are fine in a batch (a download page of an illiquid pair) ...
    store.write(_candles(5, JAN_2025, volume=0.0))
    store.write(_candles(4, JAN_2025 + 5 * STEP, volume=0.0))
    # ... but not once the stored series has no trade at all over ZERO_VOLUME_MIN_BARS bars.
    with pytest.raises(DataError, match="12 bars and zero volume on every one of them"):
        store.write(_candles(3, JAN_2025 + 9 * STEP, volume=0.0))
    assert len(store.read("binance", "XRP/USDT", "5m")) == 9
    store.write(_candles(3, JAN_2025 + 9 * STEP, volume=2.0))
    assert len(store.read("binance", "XRP/USDT", "5m")) == 12


def test_the_store_checks_the_future_against_the_clock_it_is_given(store: CandleStore) -> None:
    candles = _candles(3, JAN_2025)
    with pytest.raises(DataError, match="open after the current time, 2025-01-01 00:05 UTC"):
        store.write(candles, now_ms=JAN_2025 + STEP)
    assert store.write(candles, now_ms=JAN_2025 + 2 * STEP).added == 3


def test_quiet_bars_fill_a_gap_of_a_traded_series(store: CandleStore) -> None:
    store.write(_candles(20, JAN_2025))
    store.write(_candles(15, JAN_2025 + 20 * STEP, volume=0.0))  # a quiet stretch, downloaded
    assert len(store.read("binance", "XRP/USDT", "5m")) == 35


@pytest.mark.parametrize(
    "name",
    [
        "binance_XRP-ETH_1m.csv",  # 676 gaps
        "kraken_BTC-USDC_1m.csv.gz",  # only the minutes with trades
        "binance_BTC-USDT_1h.csv.gz",  # exchange outages, 2017 onwards
        "binanceus_BTC-USDC_1m.csv.gz",  # 12,971 zero-volume bars (the USDC de-peg)
    ],
)
def test_real_files_with_gaps_and_quiet_bars_pass_whole(name: str) -> None:
    assert SHARED is not None
    named = parse_candle_filename(name)
    assert named is not None
    read = read_candle_csv(SHARED / "candles" / name, *named)
    assert read.quarantined is None and read.rows_read == len(read.candles)
