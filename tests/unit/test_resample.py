"""Resampling: hand-made edge cases, a naive reference implementation, and properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from candlewick.core.resample import resample
from candlewick.core.timeframes import timeframe_ms
from candlewick.core.types import Candles
from candlewick.errors import DataError

MIN = 60_000
T0 = 1_704_067_200_000  # 2024-01-01 00:00 UTC, a Monday


def make(ts: list[int] | np.ndarray, timeframe: str = "1m", seed: int = 0) -> Candles:
    """A sane series on the given open times with random prices and 3-decimal volumes."""
    stamps = np.asarray(ts, dtype=np.int64)
    rng = np.random.default_rng(seed)
    n = len(stamps)
    open_ = rng.uniform(10, 20, n).round(2)
    close = rng.uniform(10, 20, n).round(2)
    high = np.maximum(open_, close) + rng.uniform(0, 1, n).round(2)
    low = np.minimum(open_, close) - rng.uniform(0, 1, n).round(2)
    volume = rng.integers(0, 10**6, n) / 1000
    return Candles("binance", "BTC/USDT", timeframe, stamps, open_, high, low, close, volume)


def reference(candles: Candles, timeframe: str) -> list[tuple[int, float, float, float, float]]:
    """Per-bucket aggregation written the slow, obvious way (volume left out: see callers)."""
    step, sub = timeframe_ms(timeframe), timeframe_ms(candles.timeframe)
    buckets: dict[int, list[int]] = {}
    for i, ts in enumerate(candles.timestamp.tolist()):
        buckets.setdefault(ts // step * step, []).append(i)
    keys = sorted(buckets)
    if keys and candles.timestamp[0] != keys[0]:
        keys = keys[1:]
    if keys and candles.timestamp[-1] != keys[-1] + step - sub:
        keys = keys[:-1]
    return [
        (
            key,
            float(candles.open[buckets[key][0]]),
            max(float(candles.high[i]) for i in buckets[key]),
            min(float(candles.low[i]) for i in buckets[key]),
            float(candles.close[buckets[key][-1]]),
        )
        for key in keys
    ]


@st.composite
def minute_series(draw: st.DrawFn) -> Candles:
    """1m series starting anywhere, with random holes (minutes without trades)."""
    n = draw(st.integers(1, 400))
    start = T0 + draw(st.integers(0, 3 * 1440)) * MIN
    seed = draw(st.integers(0, 2**32 - 1))
    steps = np.random.default_rng(seed).choice([1, 1, 1, 1, 1, 2, 4, 17], size=n)
    return make(start + (np.cumsum(steps) - steps[0]) * MIN, seed=seed)


def test_buckets_aggregate_first_max_min_last_sum() -> None:
    candles = make(T0 + MIN * np.arange(10))
    out = resample(candles, "5m")
    assert out.timeframe == "5m"
    assert out.timestamp.tolist() == [T0, T0 + 5 * MIN]
    assert out.open.tolist() == [candles.open[0], candles.open[5]]
    assert out.close.tolist() == [candles.close[4], candles.close[9]]
    assert out.high.tolist() == [candles.high[:5].max(), candles.high[5:].max()]
    assert out.low.tolist() == [candles.low[:5].min(), candles.low[5:].min()]
    assert out.volume.tolist() == pytest.approx(
        [candles.volume[:5].sum(), candles.volume[5:].sum()]
    )


def test_partial_leading_and_trailing_buckets_are_hidden() -> None:
    # 00:02..00:13: the 00:00 bucket misses its first minutes, the 00:10 bucket its last one.
    out = resample(make(T0 + MIN * np.arange(2, 14)), "5m")
    assert out.timestamp.tolist() == [T0 + 5 * MIN]


def test_bucket_with_a_missing_minute_inside_the_series_is_kept() -> None:
    minutes = [0, 1, 2, 3, 4, 5, 7, 8, 9, 10, 11, 12, 13, 14]  # 00:06 had no trade
    candles = make(T0 + MIN * np.array(minutes))
    out = resample(candles, "5m")
    assert out.timestamp.tolist() == [T0, T0 + 5 * MIN, T0 + 10 * MIN]
    assert out.open[1] == candles.open[5] and out.close[1] == candles.close[8]


def test_bucket_missing_its_first_minutes_inside_the_series_opens_at_the_first_trade() -> None:
    candles = make(T0 + MIN * np.array([0, 1, 2, 3, 4, 7, 8, 9]))
    out = resample(candles, "5m")
    assert out.timestamp.tolist() == [T0, T0 + 5 * MIN]
    assert out.open[1] == candles.open[5]


def test_too_short_a_series_gives_no_candle() -> None:
    assert len(resample(make(T0 + MIN * np.arange(3)), "5m")) == 0
    assert len(resample(make(np.array([], dtype=np.int64)), "1h")) == 0


def test_weekly_buckets_start_on_monday() -> None:
    days = make(T0 - 2 * 1440 * MIN + 1440 * MIN * np.arange(16), "1d")  # Saturday, 16 days
    out = resample(days, "1w")
    assert out.timestamp.tolist() == [T0, T0 + 7 * 1440 * MIN]


def test_volume_sums_are_exact_decimals() -> None:
    candles = make(T0 + MIN * np.arange(5))
    candles = Candles(
        *(candles.exchange, candles.pair, "1m", candles.timestamp, candles.open, candles.high),
        *(candles.low, candles.close, np.array([0.1, 0.2, 0.0, 0.0, 0.0])),
    )
    assert 0.1 + 0.2 != 0.3
    assert resample(candles, "5m").volume.tolist() == [0.3]


def test_volumes_without_a_short_decimal_form_are_summed_as_floats() -> None:
    candles = make(T0 + MIN * np.arange(5))
    thirds = np.full(5, 1 / 3)
    candles = Candles(
        *(candles.exchange, candles.pair, "1m", candles.timestamp, candles.open, candles.high),
        *(candles.low, candles.close, thirds),
    )
    assert resample(candles, "5m").volume.tolist() == [pytest.approx(5 / 3, rel=1e-15)]


def test_same_timeframe_returns_the_series() -> None:
    candles = make(T0 + MIN * np.arange(5))
    assert resample(candles, "1m") is candles


@pytest.mark.parametrize(("source", "target"), [("5m", "7m"), ("5m", "1m"), ("15m", "20m")])
def test_target_not_a_multiple_is_refused(source: str, target: str) -> None:
    candles = make(T0 + timeframe_ms(source) * np.arange(12), source)
    with pytest.raises(DataError, match=f"{target} is not a whole multiple of {source}"):
        resample(candles, target)


def test_unknown_timeframe_is_a_data_error() -> None:
    with pytest.raises(DataError, match="unknown timeframe"):
        resample(make(T0 + MIN * np.arange(5)), "5x")


def test_unsorted_series_is_refused() -> None:
    with pytest.raises(DataError, match="not strictly increasing"):
        resample(make(T0 + MIN * np.array([0, 2, 1, 3, 4])), "5m")


@settings(max_examples=150, deadline=None)
@given(minute_series(), st.sampled_from(["3m", "5m", "15m", "1h"]))
def test_matches_the_reference_implementation(candles: Candles, timeframe: str) -> None:
    out = resample(candles, timeframe)
    expected = reference(candles, timeframe)
    got = list(
        zip(
            out.timestamp.tolist(),
            out.open.tolist(),
            out.high.tolist(),
            out.low.tolist(),
            out.close.tolist(),
            strict=True,
        )
    )
    assert got == expected


@settings(max_examples=150, deadline=None)
@given(minute_series(), st.sampled_from(["5m", "15m", "1h"]))
def test_total_volume_of_complete_buckets_is_kept(candles: Candles, timeframe: str) -> None:
    out = resample(candles, timeframe)
    step = timeframe_ms(timeframe)
    inside = np.isin(candles.timestamp // step * step, out.timestamp)
    assert math.fsum(out.volume) == pytest.approx(math.fsum(candles.volume[inside]), rel=1e-12)


@settings(max_examples=150, deadline=None)
@given(minute_series(), st.sampled_from(["5m", "15m", "1h"]))
def test_candles_stay_sane_and_aligned(candles: Candles, timeframe: str) -> None:
    out = resample(candles, timeframe)
    assert np.all(out.high >= np.maximum(out.open, out.close))
    assert np.all(out.low <= np.minimum(out.open, out.close))
    assert np.all(out.timestamp % timeframe_ms(timeframe) == 0)
    assert np.all(np.diff(out.timestamp) > 0)


def _trim_to_5m(candles: Candles) -> Candles:
    """The bars from the first one opening on a 5m boundary to the last one closing on one."""
    ts = candles.timestamp
    starts = np.flatnonzero(ts % (5 * MIN) == 0)
    ends = np.flatnonzero((ts + MIN) % (5 * MIN) == 0)
    if len(starts) == 0 or len(ends) == 0 or ends[-1] < starts[0]:
        return candles.slice(0, 0)
    return candles.slice(int(starts[0]), int(ends[-1]) + 1)


@settings(max_examples=200, deadline=None)
@given(minute_series())
def test_resampling_in_steps_equals_resampling_at_once(candles: Candles) -> None:
    candles = _trim_to_5m(candles)
    stepwise = resample(resample(candles, "5m"), "15m")
    direct = resample(candles, "15m")
    for name in ("timestamp", "open", "high", "low", "close", "volume"):
        np.testing.assert_array_equal(getattr(stepwise, name), getattr(direct, name), name)


@settings(max_examples=200, deadline=None)
@given(minute_series())
def test_in_steps_an_edge_gap_can_only_hide_edge_candles(candles: Candles) -> None:
    stepwise = resample(resample(candles, "5m"), "15m")
    direct = resample(candles, "15m")
    shared, i_step, i_direct = np.intersect1d(
        stepwise.timestamp, direct.timestamp, return_indices=True
    )
    assert len(shared) == len(stepwise)
    assert np.all(np.diff(i_direct) == 1)  # what is hidden lies at the edges
    for name in ("open", "high", "low", "close", "volume"):
        assert getattr(stepwise, name)[i_step].tolist() == getattr(direct, name)[i_direct].tolist()


def test_in_steps_a_gap_after_a_partial_start_hides_one_more_candle() -> None:
    # 1m bars at 00:04 and 00:21..00:29: the 00:00 5m bucket is partial and dropped, so the 5m
    # series starts at 00:20 and cannot tell that 00:15..00:19 had no trades.
    candles = make(T0 + MIN * np.array([4, 21, 23, 24, 25, 29]))
    assert resample(candles, "15m").timestamp.tolist() == [T0 + 15 * MIN]
    assert len(resample(resample(candles, "5m"), "15m")) == 0
