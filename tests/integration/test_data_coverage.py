"""Which stored series a timeframe is read from, and the covered window reported with it.

The case of the issue: the README's emulator block imports 30 days of 1m candles for some
pairs of ``examples/portfolio_15m.yaml``; the backtest must still read the year of 15m candles
of the shared data for them, like for the other pairs, instead of resampling the 30 days.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from candlewick.core.resample import resample
from candlewick.core.types import OHLCV_COLUMNS, Candles
from candlewick.data.coverage import Coverage, coverage_of, coverage_warning
from candlewick.data.csv_import import read_candle_csv
from candlewick.data.sources import ensure_candles, import_file, load_series
from candlewick.data.store import CandleStore
from candlewick.paths import shared_data_dir

SHARED = shared_data_dir()
pytestmark = pytest.mark.skipif(
    SHARED is None, reason="shared data folder ../shared/data (or $CANDLEWICK_SHARED_DATA) absent"
)
DAY = 86_400_000
APR_2023 = 1_680_307_200_000  # 2023-04-01 00:00 UTC, first bar of the 15m files
LAST_15M = 1_712_705_400_000  # 2024-04-09 23:30 UTC, their last bar
MAR_25_2026 = 1_774_396_800_000  # 2026-03-25 00:00 UTC, inside the 1m files
PORTFOLIO = ["BTC/USDT", "ETH/USDT", "SOL/USDT", "XRP/USDT", "ADA/USDT", "DOGE/USDT"]
PORTFOLIO += ["LINK/USDT", "AVAX/USDT"]  # examples/portfolio_15m.yaml
EMULATOR_FILES = [  # what the README's emulator block imports (30 days of 1m candles)
    "binance_BTC-USDT_1m_2026-03.csv.gz",
    "binance_ETH-USDT_1m_2026-03.csv.gz",
    "binance_SOL-USDT_1m.csv.gz",
    "binance_XRP-USDT_1m.csv.gz",
]


def data_file(name: str) -> Path:
    assert SHARED is not None
    return SHARED / "candles" / name


@pytest.fixture
def store(tmp_path: Path) -> CandleStore:
    return CandleStore(tmp_path / "candles")


def assert_same(a: Candles, b: Candles) -> None:
    for name in ("timestamp", *OHLCV_COLUMNS):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), name)


def test_portfolio_pairs_all_read_the_year_of_15m_candles(store: CandleStore) -> None:
    for name in EMULATOR_FILES:
        import_file(store, data_file(name))
    coverages = []
    for pair in PORTFOLIO:
        loaded = load_series(store, "binance", pair, "15m", data_dir=SHARED)
        coverage = loaded.coverage
        assert (coverage.pair, coverage.timeframe) == (pair, "15m")
        assert (coverage.first_ts, coverage.last_ts, coverage.bars) == (APR_2023, LAST_15M, 35_999)
        assert coverage.source_timeframe == "15m" and not coverage.resampled, pair
        assert coverage == coverage_of(loaded.candles, "15m")
        coverages.append(coverage)
    assert coverage_warning(coverages) is None
    # The 1m series stay, next to the 15m ones imported for the backtest.
    assert [e.timeframe for e in store.entries() if e.pair == "BTC/USDT"] == ["1m", "15m"]


def test_ensure_candles_prefers_the_shared_file_covering_more(store: CandleStore) -> None:
    import_file(store, data_file("binance_BTC-USDT_1m_2026-03.csv.gz"))
    candles, note = ensure_candles(store, "binance", "BTC/USDT", "15m", data_dir=SHARED)
    assert len(candles) == 35_999
    assert note.startswith("binance BTC/USDT 15m: 35,999 bars, 2023-04-01 00:00 → ")
    assert "imported just now from" in note and "binance_BTC-USDT_15m.csv.gz" in note
    # Next time the stored 15m series covers it: read, nothing imported.
    again, note = ensure_candles(store, "binance", "BTC/USDT", "15m", data_dir=SHARED)
    assert_same(again, candles)
    assert "read from the local candle store" in note


def test_a_window_the_exact_timeframe_does_not_cover_is_resampled(store: CandleStore) -> None:
    import_file(store, data_file("binance_BTC-USDT_15m.csv.gz"))
    import_file(store, data_file("binance_BTC-USDT_1m_2026-03.csv.gz"))
    window = (MAR_25_2026, MAR_25_2026 + 7 * DAY)
    choice = store.choose_source("binance", "BTC/USDT", "15m")
    assert choice is not None and (choice.timeframe, choice.covers) == ("15m", True)
    choice = store.choose_source("binance", "BTC/USDT", "15m", window[0], window[1] - 1)
    assert choice is not None and (choice.timeframe, choice.bars) == ("1m", 7 * 96)
    # `read` keeps to the stored 15m series (data show, data gaps and downloads look at it).
    assert store.source_timeframe("binance", "BTC/USDT", "15m", window[0], window[1] - 1) == "15m"
    assert len(store.read("binance", "BTC/USDT", "15m", window[0], window[1] - 1)) == 0
    loaded = load_series(store, "binance", "BTC/USDT", "15m", *window, data_dir=SHARED)
    assert loaded.coverage.resampled and loaded.coverage.source_timeframe == "1m"
    assert (loaded.coverage.first_ts, loaded.coverage.bars) == (window[0], 7 * 96)
    assert loaded.coverage.last_ts == window[1] - 15 * 60_000  # [start, end): end excluded
    assert "resampled from 1m" in loaded.coverage.describe()
    fine = store.read("binance", "BTC/USDT", "1m", window[0], window[1] - 1)
    assert_same(loaded.candles, resample(fine, "15m"))
    # A window inside the 15m series reads it as stored.
    inside = load_series(store, "binance", "BTC/USDT", "15m", APR_2023, APR_2023 + DAY)
    assert inside.coverage.source_timeframe == "15m" and inside.coverage.bars == 96


def test_the_store_picks_the_series_delivering_most_bars(store: CandleStore) -> None:
    def source(*args: Any) -> str | None:
        choice = store.choose_source(*args)
        return None if choice is None else choice.timeframe

    import_file(store, data_file("binance_ETH-USDT_1h.csv.gz"))  # 2023-01-01 .. 2024-01-10
    import_file(store, data_file("binance_ETH-USDT_15m.csv.gz"))  # 2023-04-01 .. 2024-04-09
    # 2024-02: only the 15m series has it.
    feb = (1_706_745_600_000, 1_709_251_200_000 - 1)
    assert source("binance", "ETH/USDT", "1h", *feb) == "15m"
    # 2023-06 .. 2024-03: 15m has more bars of it than the 1h series (ends 2024-01-10).
    assert source("binance", "ETH/USDT", "1h", 1_685_577_600_000, feb[1]) == "15m"
    # 2023-06 .. 2023-12: both cover it; the exact timeframe wins.
    assert source("binance", "ETH/USDT", "1h", 1_685_577_600_000,
                                  1_701_388_800_000) == "1h"  # fmt: skip
    candles, coverage = store.read_with_coverage("binance", "ETH/USDT", "4h", *feb)
    assert coverage == coverage_of(candles, "15m") and coverage.bars == 29 * 6


def test_coverage_warning_names_each_window_and_the_common_one() -> None:
    def cov(pair: str, first: int, last: int) -> Coverage:
        return Coverage("binance", pair, "15m", "15m", (last - first) // 900_000 + 1, first, last)

    same = [cov("BTC/USDT", APR_2023, LAST_15M), cov("ETH/USDT", APR_2023, LAST_15M)]
    assert coverage_warning(same) is None
    later = cov("SOL/USDT", APR_2023 + 10 * DAY, LAST_15M + DAY)
    warning = coverage_warning([*same, later])
    assert warning is not None
    assert "pairs cover different windows" in warning
    assert "SOL/USDT 2023-04-11 00:00 → 2024-04-10 23:45 UTC" in warning
    assert "BTC/USDT 2023-04-01 00:00 → 2024-04-09 23:45 UTC" in warning
    assert "all cover 2023-04-11 00:00 → 2024-04-09 23:45 UTC" in warning
    apart = cov("BNB/USDT", LAST_15M + 30 * DAY, LAST_15M + 60 * DAY)
    disjoint = coverage_warning([*same, apart])
    assert disjoint is not None and "no period is covered by every pair" in disjoint
    empty = Coverage("binance", "ADA/USDT", "15m", "1m", 0, None, None)
    assert "ADA/USDT no complete bar" in (coverage_warning([*same, empty]) or "")


def test_coverage_describes_native_and_resampled_series() -> None:
    native = Coverage("binance", "BTC/USDT", "15m", "15m", 35_999, APR_2023, LAST_15M)
    assert native.describe() == (
        "binance BTC/USDT 15m: 35,999 bars, 2023-04-01 00:00 → 2024-04-09 23:45 UTC, "
        "native 15m candles"
    )
    assert native.end_ts == LAST_15M + 900_000
    resampled = Coverage("binance", "BTC/USDT", "15m", "1m", 2, APR_2023, APR_2023 + 900_000)
    assert resampled.resampled and resampled.describe().endswith("resampled from 1m candles")


def test_a_short_stored_timeframe_does_not_shadow_a_long_finer_one(store: CandleStore) -> None:
    # Three days of 15m candles (as a download would leave) next to 17 months of 5m candles.
    import_file(store, data_file("binance_BTC-USDT_5m.csv.gz"))  # 2024-03-01 .. 2025-08-18
    fifteen = read_candle_csv(data_file("binance_BTC-USDT_15m.csv.gz"), "binance", "BTC/USDT",
                              "15m").candles  # fmt: skip
    store.write(fifteen.slice(len(fifteen) - 3 * 96, len(fifteen)))
    choice = store.choose_source("binance", "BTC/USDT", "15m")
    assert choice is not None and choice.timeframe == "5m" and not choice.covers
    loaded = load_series(store, "binance", "BTC/USDT", "15m", data_dir=SHARED)
    assert loaded.coverage.source_timeframe == "5m" and loaded.coverage.bars == 154_301 // 3
    assert "resampled from 5m candles, read from the local candle store" in loaded.note
    # The three days themselves are read as stored.
    days = (int(fifteen.timestamp[-3 * 96]), int(fifteen.timestamp[-1]))
    inside = store.choose_source("binance", "BTC/USDT", "15m", *days)
    assert inside is not None and (inside.timeframe, inside.covers) == ("15m", True)
