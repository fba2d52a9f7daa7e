"""The lookahead check catches future reads and passes causal pipelines, on real candles."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pytest
import talib

from candlewick.core.timeframes import bucket_start, last_closed_index
from candlewick.core.types import BoolArr
from candlewick.errors import StrategyError
from candlewick.paths import shared_data_dir
from candlewick.signals import (
    FilterSpec,
    SetupSignals,
    SetupSpec,
    check_lookahead,
    generate_signals,
    ohlcv,
    setup,
    truncating,
)
from candlewick.signals.lookahead import cut_points


@setup("test_only_peek", defaults={})
def _peek(frame: pd.DataFrame, params: Mapping[str, Any]) -> SetupSignals:
    """The classic bug: tomorrow's close decides today."""
    close = pd.Series(ohlcv(frame, params, "close"))
    rising = (close.shift(-1) > close).to_numpy(dtype=np.bool_)
    return SetupSignals(rising, ~rising)


@pytest.fixture(scope="module")
def candles() -> pd.DataFrame:
    data = shared_data_dir()
    if data is None:
        pytest.skip("shared data folder (../shared/data) not found")
    return pd.read_csv(data / "candles" / "binance_XRP-USDT_5m.csv")


def with_indicators(frame: pd.DataFrame, *, closed_only: bool = True) -> pd.DataFrame:
    """SMA 10/30 on 5m, and 1h close + EMA(3) merged onto the 5m bars.

    ``closed_only=False`` reproduces the classic bug: every 5m bar sees the close of the 1h
    candle it belongs to, a candle that has not closed yet.
    """
    close = frame["close"].to_numpy(dtype=np.float64)
    ts = frame["timestamp"].to_numpy(dtype=np.int64)
    bucket = bucket_start(ts, "1h")
    hourly = frame.groupby(bucket)["close"].last()
    h_ts, h_close = hourly.index.to_numpy(dtype=np.int64), hourly.to_numpy(dtype=np.float64)
    h_ema = talib.EMA(h_close, timeperiod=3)
    # Buggy variant: the index of the 1h candle the 5m bar belongs to (still open).
    idx = last_closed_index(ts, "5m", h_ts, "1h") if closed_only else np.searchsorted(h_ts, bucket)
    seen = idx >= 0
    pick = np.clip(idx, 0, None)
    return frame.assign(
        sma_fast=talib.SMA(close, timeperiod=10),
        sma_slow=talib.SMA(close, timeperiod=30),
        close_1h=np.where(seen, h_close[pick], np.nan),
        ema_1h=np.where(seen, h_ema[pick], np.nan),
    )


def pipeline(
    setups: Sequence[SetupSpec], filters: Sequence[FilterSpec] = (), closed_only: bool = True
) -> Any:
    def run(frame: pd.DataFrame) -> tuple[BoolArr, BoolArr]:
        signals = generate_signals(with_indicators(frame, closed_only=closed_only), setups, filters)
        return signals.entry, signals.exit

    return run


def check(candles: pd.DataFrame, run: Any) -> Any:
    ts = candles["timestamp"].to_numpy(dtype=np.int64)
    return check_lookahead(truncating(candles, run), len(candles), timestamps=ts, checkpoints=100)


MTF = SetupSpec("mtf_trend_follower", {"trend_fast": "close_1h", "trend_slow": "ema_1h"})


def test_a_setup_reading_the_next_close_is_caught(candles: pd.DataFrame) -> None:
    report = check(candles, pipeline([SetupSpec("test_only_peek")]))
    assert not report.ok
    # Cut right after bar b, the peeking setup cannot see bar b + 1: bar b changes.
    last = report.differences[0]
    assert last.cut == last.bar + 1
    assert last.timestamp == int(candles["timestamp"].iloc[last.bar])
    assert "change when the future is cut off" in report.summary()
    assert len(report.to_frame()) == len(report.differences)


def test_ma_cross_with_filters_is_clean(candles: pd.DataFrame) -> None:
    filters = [
        FilterSpec("volume", {"n": 20, "k": 0.5}),
        FilterSpec("volatility_band", {"period": 14, "max_ratio": 0.05}),
        FilterSpec("cooldown", {"bars": 6}),
        FilterSpec("htf_trend"),
    ]
    run = pipeline([SetupSpec("ma_cross")], filters)
    report = check(candles, run)
    assert report.ok, report.summary()
    assert "no signal changed" in report.summary()
    full_entry, _ = run(candles)
    assert full_entry.sum() > 5  # the check looked at real signals
    assert set(np.flatnonzero(full_entry) + 1) & set(report.cuts)


def test_closed_higher_timeframe_candles_are_clean(candles: pd.DataFrame) -> None:
    assert check(candles, pipeline([MTF])).ok


def test_an_unclosed_higher_timeframe_candle_is_caught(candles: pd.DataFrame) -> None:
    report = check(candles, pipeline([MTF], closed_only=False))
    assert not report.ok
    assert {d.signal for d in report.differences} <= {"entry", "exit"}


def test_cut_points_are_bounded_and_follow_signals() -> None:
    n = 10_000
    entry = np.zeros(n, dtype=np.bool_)
    entry[::7] = True
    cuts = cut_points(entry, np.zeros(n, dtype=np.bool_), checkpoints=50, max_signal_cuts=100)
    assert len(cuts) <= 150
    assert cuts.min() >= 2 and cuts.max() < n
    assert np.all(np.diff(cuts) > 0)
    few = np.zeros(n, dtype=np.bool_)
    few[[100, 5000]] = True
    cuts = cut_points(few, np.zeros(n, dtype=np.bool_), checkpoints=10)
    assert {101, 5001} <= set(cuts.tolist())


def test_tail_compares_only_the_newest_bars() -> None:
    full = np.array([True, False, True, False, True, False])

    def upto(end: int) -> tuple[BoolArr, BoolArr]:
        # Wrong on bar 0 whenever 3 to 5 bars are given, right on every other bar.
        out = full[:end].copy()
        if 3 <= end < len(full):
            out[0] = not out[0]
        return out, np.zeros(end, dtype=np.bool_)

    assert not check_lookahead(upto, 6).ok
    assert check_lookahead(upto, 6, tail=2).ok
    diff = check_lookahead(upto, 6).differences
    assert [(d.bar, d.signal, d.full, d.truncated, d.cut) for d in diff] == [
        (0, "entry", True, False, 3)
    ]


def test_a_malformed_signals_upto_is_rejected() -> None:
    def upto(end: int) -> tuple[BoolArr, BoolArr]:
        return np.zeros(end + 1, dtype=np.bool_), np.zeros(end, dtype=np.bool_)

    with pytest.raises(StrategyError, match="length 5"):
        check_lookahead(upto, 5)
