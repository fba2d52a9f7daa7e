"""The indicator calculator: frame columns, errors, informative merge, incremental updates.

Incremental tolerance: finite-memory and cumulative indicators must equal the full-history
computation exactly; recursive ones (EMA-like, SAR, Supertrend) within rtol=1e-9 (in practice
they are equal bit for bit too, because their windows outlast the seed by far).
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from candlewick.core.resample import resample
from candlewick.core.types import Candles
from candlewick.data.csv_import import read_candle_csv
from candlewick.errors import DataError, IndicatorError
from candlewick.indicators import (
    INDICATORS,
    IncrementalCalculator,
    IndicatorSpec,
    build_frame,
    compute_indicators,
    indicator_info,
)
from candlewick.paths import shared_data_dir

HOUR = 3_600_000
FIVE_MIN = 300_000


@functools.cache
def btc_5m(rows: int) -> Candles:
    """The first ``rows`` bars of Binance BTC/USDT 5m (real data, no gaps; starts at 00:00)."""
    root = shared_data_dir()
    if root is None:
        pytest.skip("shared data folder (../shared/data) not found: real candles unavailable")
    path = root / "candles" / "binance_BTC-USDT_5m.csv.gz"
    return read_candle_csv(path, "binance", "BTC/USDT", "5m").candles.slice(0, rows)


SPECS = (
    IndicatorSpec("rsi_14", "rsi"),
    IndicatorSpec("bb", "bbands", {"period": 30}),
    IndicatorSpec("sma_hl2", "sma", {"period": 5}, source="hl2"),
    IndicatorSpec("ema_1h", "ema", {"period": 8}, timeframe="1h"),
    IndicatorSpec("macd_1h", "macd", timeframe="1h"),
    IndicatorSpec("atr_5m", "atr", timeframe="5m"),  # the base timeframe: not informative
)


def test_frame_has_ohlcv_then_exactly_the_declared_columns() -> None:
    base = btc_5m(2000)
    frame = build_frame(base, SPECS, {"1h": resample(base, "1h")})
    assert list(frame.columns) == [
        *("timestamp", "open", "high", "low", "close", "volume"),
        *("rsi_14", "bb_upper", "bb_middle", "bb_lower", "sma_hl2", "ema_1h"),
        *("macd_1h_macd", "macd_1h_signal", "macd_1h_hist", "atr_5m", "close_1h"),
    ]
    assert len(frame) == len(base)
    np.testing.assert_array_equal(frame["timestamp"], base.timestamp)
    np.testing.assert_array_equal(frame["close"], base.close)
    info = indicator_info("bbands")
    (upper, _, _) = info.compute([base.close], info.resolve({"period": 30}))
    np.testing.assert_array_equal(frame["bb_upper"], upper)
    hl2 = (base.high + base.low) / 2
    expected = np.convolve(hl2, np.ones(5) / 5, mode="full")[: len(hl2)]
    np.testing.assert_allclose(frame["sma_hl2"][4:], expected[4:], rtol=1e-12)


def test_informative_values_appear_only_when_their_candle_has_closed() -> None:
    base = btc_5m(600)  # starts at 00:00 UTC
    hourly = resample(base, "1h")
    columns = compute_indicators(
        base, [IndicatorSpec("h_close", "sma", {"period": 1}, timeframe="1h")], {"1h": hourly}
    )
    close_1h, h_close = columns["close_1h"], columns["h_close"]
    np.testing.assert_array_equal(close_1h, h_close)
    # The 00:00 hourly candle closes at 01:00, the close of the 00:55 bar (index 11).
    assert np.isnan(close_1h[:11]).all()
    assert close_1h[11] == hourly.close[0] == base.close[11]
    # Every bar sees the newest hourly candle closed by its own close, never a later one.
    for t in range(11, len(base)):
        hours = (int(base.timestamp[t] - base.timestamp[0]) + FIVE_MIN) // HOUR
        assert close_1h[t] == base.close[hours * 12 - 1]


@settings(max_examples=30, deadline=None)
@given(cut=st.integers(1, 1500))
def test_the_frame_has_no_lookahead(cut: int) -> None:
    """Rows up to t of the frame built on data[:t+1] equal those built on all the data."""
    base = btc_5m(1500)
    full = build_frame(base, SPECS, {"1h": resample(base, "1h")})
    part_base = base.slice(0, cut)
    part = build_frame(part_base, SPECS, {"1h": resample(part_base, "1h")})
    np.testing.assert_array_equal(part.to_numpy(), full.iloc[:cut].to_numpy())


@pytest.mark.parametrize(
    ("specs", "informative", "words"),
    [
        ([IndicatorSpec("x", "rsl")], {}, ["'x'", "unknown indicator 'rsl'", "Did you mean"]),
        ([IndicatorSpec("a", "rsi"), IndicatorSpec("a", "sma")], {}, ["'a'", "distinct id"]),
        ([IndicatorSpec("bb_upper", "sma"), IndicatorSpec("bb", "bbands")], {}, ["bb_upper"]),
        ([IndicatorSpec("close", "sma")], {}, ["'close'", "rename"]),
        ([IndicatorSpec("9x", "sma")], {}, ["letters, digits"]),
        ([IndicatorSpec("r", "rsi", {"period": 0})], {}, ["'r'", "'period'", "got 0"]),
        ([IndicatorSpec("r", "rsi", timeframe="1h")], {}, ["'r'", "1h", "not supplied"]),
        ([IndicatorSpec("r", "rsi", timeframe="1m")], {}, ["shorter than the base"]),
        ([IndicatorSpec("r", "rsi", timeframe="1x")], {}, ["unknown timeframe '1x'"]),
        ([IndicatorSpec("a", "atr", source="hl2")], {}, ["single-input"]),
        ([IndicatorSpec("s", "sma", source="typical")], {}, ["one of open, high"]),
        ([IndicatorSpec("r", "rsi", timeframe="1h")], {"1h": "5m"}, ["key each informative"]),
    ],
)
def test_bad_specs_raise_indicator_errors_naming_the_problem(
    specs: list[IndicatorSpec], informative: dict[str, str], words: list[str]
) -> None:
    base = btc_5m(300)
    given_candles = {tf: resample(base, tf) if tf == source else base
                     for tf, source in informative.items()}  # fmt: skip
    with pytest.raises(IndicatorError) as err:
        compute_indicators(base, specs, given_candles)
    for word in words:
        assert word in str(err.value)


def test_spec_params_are_frozen() -> None:
    params = {"period": 3}
    spec = IndicatorSpec("s", "sma", params)
    params["period"] = 99
    assert spec.params["period"] == 3
    with pytest.raises(TypeError):
        spec.params["period"] = 4  # type: ignore[index]


# ---- incremental ------------------------------------------------------------------------------

INFORMATIVE = (
    IndicatorSpec("h_sma", "sma", {"period": 10}, timeframe="1h"),
    IndicatorSpec("h_ema", "ema", {"period": 4}, timeframe="1h"),
    IndicatorSpec("h_rsi", "rsi", {"period": 3}, timeframe="1h"),
    IndicatorSpec("h_obv", "obv", timeframe="1h"),
    IndicatorSpec("h_st", "supertrend", {"period": 3}, timeframe="1h"),
)


def all_specs() -> list[IndicatorSpec]:
    """Every registered indicator with its defaults on the base timeframe, plus 1h ones."""
    return [IndicatorSpec(f"i_{name}", name) for name in INDICATORS.names()] + list(INFORMATIVE)


def closed_by(hourly: Candles, start_ms: int, end_ms: int) -> Candles:
    """The hourly candles whose close falls in (start_ms, end_ms]."""
    close = hourly.timestamp + HOUR
    lo, hi = np.searchsorted(close, [start_ms, end_ms], side="right")
    return hourly.slice(int(lo), int(hi))


def compare(row: dict[str, float], frame: Any, t: int, specs: list[IndicatorSpec]) -> None:
    for spec in specs:
        info = indicator_info(spec.name)
        columns = [spec.id] if len(info.outputs) == 1 else [f"{spec.id}_{o}" for o in info.outputs]
        for column in columns:
            expected, actual = float(frame[column].iat[t]), row[column]
            if info.memory == "recursive":
                np.testing.assert_allclose(actual, expected, rtol=1e-9, err_msg=f"{column}@{t}")
            else:
                np.testing.assert_array_equal(actual, expected, err_msg=f"{column}@{t}")


def test_incremental_equals_full_history_for_every_indicator() -> None:
    base = btc_5m(3600)
    hourly = resample(base, "1h")
    specs = all_specs()
    frame = build_frame(base, specs, {"1h": hourly})
    calc = IncrementalCalculator(specs, "5m")
    seed = 1600  # longer than every base window (Supertrend's, the longest, is 1461)
    assert calc.history["5m"] < seed
    seed_close = int(base.timestamp[seed - 1]) + FIVE_MIN
    row = calc.seed(base.slice(0, seed), {"1h": closed_by(hourly, 0, seed_close)})
    assert list(row) == list(frame.columns[6:])
    compare(row, frame, seed - 1, specs)
    for t in range(seed, len(base)):
        close_ms = int(base.timestamp[t]) + FIVE_MIN
        new_hourly = closed_by(hourly, close_ms - FIVE_MIN, close_ms)
        row = calc.update(base.slice(t, t + 1), {"1h": new_hourly})
        compare(row, frame, t, specs)
        assert row["close_1h"] == frame["close_1h"].iat[t]


def test_incremental_informative_windows_are_trimmed_and_still_exact() -> None:
    base = btc_5m(9000)  # 750 hourly bars: longer than every 1h window above
    hourly = resample(base, "1h")
    specs = list(INFORMATIVE[:4])  # not Supertrend: its 1h window is 1139 bars
    frame = build_frame(base, specs, {"1h": hourly})
    calc = IncrementalCalculator(specs, "5m")
    assert calc.history["1h"] < 500
    calc.seed(base.slice(0, 12), {"1h": hourly.slice(0, 1)})
    for t in range(12, len(base)):
        close_ms = int(base.timestamp[t]) + FIVE_MIN
        row = calc.update(base.slice(t, t + 1), {"1h": closed_by(hourly, close_ms - FIVE_MIN,
                                                                close_ms)})  # fmt: skip
        if t % 7 == 0 or t == len(base) - 1:
            compare(row, frame, t, specs)


def test_several_bars_per_update_and_early_informative_candles() -> None:
    base = btc_5m(1200)
    hourly = resample(base, "1h")
    specs = [IndicatorSpec("o", "obv"), IndicatorSpec("e", "ema"), *INFORMATIVE[:2]]
    frame = build_frame(base, specs, {"1h": hourly})
    calc = IncrementalCalculator(specs, "5m")
    calc.seed(base.slice(0, 100), {"1h": hourly.slice(0, 8)})
    # Ten bars at once; hourly candles handed over all at once (ahead of their close) are held
    # back until the base bar during which they close.
    for t in range(100, 1200, 10):
        row = calc.update(base.slice(t, t + 10), {"1h": hourly.slice(8, 100)} if t == 100 else {})
        compare(row, frame, t + 9, specs)


def test_no_history_then_bar_by_bar() -> None:
    base = btc_5m(400)
    specs = [IndicatorSpec("o", "obv"), IndicatorSpec("s", "sma", {"period": 3})]
    frame = build_frame(base, specs)
    calc = IncrementalCalculator(specs, "5m")
    row = calc.seed(base.slice(0, 0))
    assert np.isnan(row["o"]) and np.isnan(row["s"])
    for t in range(len(base)):
        compare(calc.update(base.slice(t, t + 1)), frame, t, specs)


def test_incremental_errors() -> None:
    base = btc_5m(300)
    calc = IncrementalCalculator([IndicatorSpec("h", "sma", timeframe="1h")], "5m")
    with pytest.raises(IndicatorError, match="1h candles, which were not supplied"):
        calc.seed(base)
    calc.seed(base.slice(0, 200), {"1h": resample(base.slice(0, 200), "1h")})
    with pytest.raises(DataError, match="not after the last one seen"):
        calc.update(base.slice(199, 200))
    with pytest.raises(IndicatorError, match="built for 5m"):
        calc.update(resample(base, "15m"))
    with pytest.raises(IndicatorError, match="unknown timeframe"):
        IncrementalCalculator([], "5x")
