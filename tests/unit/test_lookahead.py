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
    FilterVerdict,
    SetupSignals,
    SetupSpec,
    Signals,
    check_lookahead,
    filter_,
    generate_signals,
    ohlcv,
    setup,
    truncating,
    verdict,
)
from candlewick.signals.lookahead import cut_points


@setup("test_only_peek", defaults={})
def _peek(frame: pd.DataFrame, params: Mapping[str, Any]) -> SetupSignals:
    """The classic bug: tomorrow's close decides today."""
    close = pd.Series(ohlcv(frame, params, "close"))
    rising = (close.shift(-1) > close).to_numpy(dtype=np.bool_)
    return SetupSignals(rising, ~rising)


@filter_("test_only_drop_before_a_fall", defaults={})
def _drop_before_a_fall(
    frame: pd.DataFrame, entries: BoolArr, params: Mapping[str, Any]
) -> FilterVerdict:
    """A filter reading the future that only removes entries: the next close is lower."""
    close = pd.Series(ohlcv(frame, params, "close"))
    falls = (close.shift(-1) < close).to_numpy(dtype=np.bool_)  # NaN on the last bar: False
    return verdict(entries, ~falls, lambda i: "the next close is lower")


@setup("test_only_last_bar", defaults={})
def _last_bar(frame: pd.DataFrame, params: Mapping[str, Any]) -> SetupSignals:
    """Enters where the next bar is unknown: only truncated histories ever signal."""
    close = pd.Series(ohlcv(frame, params, "close"))
    entry = close.shift(-1).isna().to_numpy(dtype=np.bool_) & close.notna().to_numpy()
    return SetupSignals(entry, np.zeros(len(frame), dtype=np.bool_))


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


def signals_of(setups: Sequence[SetupSpec], filters: Sequence[FilterSpec] = ()) -> Any:
    """A pipeline returning the generator's Signals (with its decision log)."""

    def run(frame: pd.DataFrame) -> Signals:
        return generate_signals(with_indicators(frame), setups, filters)

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


def test_a_filter_reading_the_future_that_only_removes_entries_is_caught(
    candles: pd.DataFrame,
) -> None:
    run = signals_of([SetupSpec("ma_cross")], [FilterSpec("test_only_drop_before_a_fall")])
    full = run(candles)
    rejected = np.flatnonzero(full.raw_entry & ~full.entry)
    assert full.entry.sum() > 5 and len(rejected) > 5  # it keeps some entries, removes others
    upto = truncating(candles, run)
    # No evenly spaced and no random cut: caught by the cuts after rejected entries alone.
    report = check_lookahead(upto, len(candles), checkpoints=0, random_cuts=0)
    assert not report.ok
    assert report.counts()["rejected"] == min(300, len(rejected))
    assert {d.cut_kind for d in report.differences} == {"rejected"}
    assert all(d.signal == "entry" and not d.full and d.truncated for d in report.differences)
    assert len(report.differences) == report.counts()["rejected"]  # every such cut shows one
    assert {d.bar for d in report.differences} <= set(rejected.tolist())
    # Cut only after the signals the full run keeps (the old cut set), it went unseen.
    blind = check_lookahead(upto, len(candles), checkpoints=0, random_cuts=0, max_rejected_cuts=0)
    assert blind.ok and blind.counts()["signal"] > 5


def test_an_entry_only_truncated_histories_have_is_caught_by_random_cuts(
    candles: pd.DataFrame,
) -> None:
    upto = truncating(candles, signals_of([SetupSpec("test_only_last_bar")]))
    report = check_lookahead(upto, len(candles), checkpoints=0, random_cuts=20, seed=11)
    assert not report.ok
    assert report.counts() == {"signal": 0, "rejected": 0, "random": 20, "checkpoint": 0}
    assert {d.cut_kind for d in report.differences} == {"random"}
    assert len(report.differences) == 20
    assert "20 at random bars, 0 evenly spaced; seed 11)" in report.summary()
    again = check_lookahead(upto, len(candles), checkpoints=0, random_cuts=20, seed=11)
    assert again.cuts == report.cuts
    assert check_lookahead(upto, len(candles), checkpoints=0, random_cuts=0).ok  # blind


def test_a_pipeline_whose_output_depends_on_its_past_calls_is_caught() -> None:
    calls: list[int] = []

    def upto(end: int) -> tuple[BoolArr, BoolArr]:
        calls.append(end)  # state kept between calls: bar 3 signals from the second call on
        entry = np.zeros(end, dtype=np.bool_)
        entry[3] = len(calls) > 1
        return entry, np.zeros(end, dtype=np.bool_)

    report = check_lookahead(upto, 50, checkpoints=0, random_cuts=0)
    assert report.cuts == ()
    assert [(d.bar, d.full, d.truncated, d.cut, d.cut_kind) for d in report.differences] == [
        (3, False, True, 50, "repeat")
    ]
    assert "keeps state between calls" in report.summary()
    assert calls == [50, 50]


def test_cut_points_are_bounded_reproducible_and_of_every_kind() -> None:
    n = 10_000
    entry = np.zeros(n, dtype=np.bool_)
    entry[::7] = True
    zeros = np.zeros(n, dtype=np.bool_)
    plan = cut_points(entry, zeros, checkpoints=50, max_signal_cuts=100, random_cuts=30)
    cuts = plan.ends
    assert len(cuts) <= 180 and len(plan.kinds) == len(cuts)
    assert cuts.min() >= 2 and cuts.max() < n
    assert np.all(np.diff(cuts) > 0)
    assert sum(plan.counts().values()) == len(cuts)
    assert plan.counts()["signal"] == 100
    few = np.zeros(n, dtype=np.bool_)
    few[[100, 5000]] = True
    rejected = np.zeros(n, dtype=np.bool_)
    rejected[[300, 301, 5000]] = True
    plan = cut_points(few, zeros, rejected, checkpoints=10, random_cuts=0)
    kinds = dict(zip(plan.ends.tolist(), plan.kinds, strict=True))
    assert {kinds[101], kinds[5001]} == {"signal"}  # 5001 is also after a rejected bar
    assert kinds[301] == kinds[302] == "rejected"
    assert plan.counts() == {"signal": 2, "rejected": 2, "random": 0, "checkpoint": 10}
    seeded = [
        cut_points(zeros, zeros, checkpoints=0, random_cuts=40, seed=s).ends for s in (1, 1, 2)
    ]
    assert np.array_equal(seeded[0], seeded[1]) and len(seeded[0]) == 40
    assert not np.array_equal(seeded[0], seeded[2])


def test_the_report_says_what_was_checked(candles: pd.DataFrame) -> None:
    run = signals_of([SetupSpec("ma_cross")], [FilterSpec("volume", {"n": 20, "k": 1.0})])
    ts = candles["timestamp"].to_numpy(dtype=np.int64)
    report = check_lookahead(truncating(candles, run), len(candles), timestamps=ts, seed=5)
    assert report.ok, report.summary()
    counts = report.counts()
    assert counts["rejected"] > 0 and counts["signal"] > 0 and counts["random"] > 0
    summary = report.summary()
    assert (
        f"{len(report.cuts)} truncated histories ({counts['signal']} after kept signals" in summary
    )
    assert "seed 5) + the full history again" in summary
    doc = report.to_dict()
    assert doc["cuts"] == len(report.cuts) == sum(doc["cuts_by_kind"].values())
    assert (doc["ok"], doc["seed"], doc["differences"], doc["repeated"]) == (True, 5, 0, True)


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
