"""Ties decided exactly: window sums of decimal prices, checked against fractions.Fraction.

The reference in every test is exact rational arithmetic on the decimals (``Fraction``, or the
CSV's own strings), rounded by ``float(Fraction)`` (correctly rounded): nothing of ours.
"""

from __future__ import annotations

import functools
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from candlewick.core.types import Candles
from candlewick.indicators import IncrementalCalculator, IndicatorSpec, build_frame
from candlewick.indicators.exact import average, decimal_integers, window_sum
from candlewick.indicators.library import rolling_mean, rolling_sum
from candlewick.paths import shared_data_dir
from candlewick.signals.setups import SETUPS

FIFTEEN_MIN = 900_000


def exact_means(decimals: list[Fraction], period: int) -> list[float]:
    """float(mean) of every window, from exact fractions (NaN during the warm-up)."""
    out = [float("nan")] * min(period - 1, len(decimals))
    for t in range(period - 1, len(decimals)):
        out.append(float(sum(decimals[t - period + 1 : t + 1], Fraction(0)) / period))
    return out


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(0, 10**9), min_size=1, max_size=80),
    st.integers(0, 8),
    st.integers(1, 40),
)
def test_rolling_mean_is_the_correctly_rounded_exact_mean(
    units: list[int], places: int, period: int
) -> None:
    decimals = [Fraction(u, 10**places) for u in units]
    x = np.array([float(d) for d in decimals])
    expected = exact_means(decimals, period)
    np.testing.assert_array_equal(rolling_mean(x, period), np.array(expected))
    sums = [float(sum(decimals[t - period + 1 : t + 1], Fraction(0))) for t in range(len(x))]
    np.testing.assert_array_equal(rolling_sum(x, period)[period - 1 :], sums[period - 1 :])


def test_equal_means_are_equal_floats_where_float_sums_are_not() -> None:
    # 0.1 + 0.2 + 0.3 (three bars) and 0.2 (one bar, three times) have the same mean, 0.2;
    # summing their float64 images gives 0.6000000000000001 / 3 != 0.2.
    x = np.array([0.1, 0.2, 0.3, 0.2, 0.2, 0.2])
    fast, slow = rolling_mean(x, 3), rolling_mean(x, 6)
    assert np.sum(x[:3]) / 3 != 0.2  # the float noise this rule removes
    assert fast[2] == 0.2 and fast[5] == 0.2 and slow[5] == 0.2


def test_large_magnitudes_take_the_exact_python_int_path() -> None:
    # 2**49-ish integers: window sums pass 2**53 (divided as Python ints) and 9,000 of them
    # pass int64's range in a running total (summed as Python ints): still exact.
    units = [2**49 - 7 * k for k in range(9000)]
    x = np.array([float(u) for u in units])
    total = [0]
    for u in units:
        total.append(total[-1] + u)
    for period in (300, 8500):  # int64 window by window; Python ints (a window overflows)
        ends = range(period - 1, 9000)
        expected = [float(Fraction(total[t + 1] - total[t + 1 - period], period)) for t in ends]
        np.testing.assert_array_equal(rolling_mean(x, period)[period - 1 :], np.array(expected))
    assert decimal_integers(np.array([2.0**50, 1.5]))[2].tolist() == [False, True]


def test_off_grid_values_fall_back_per_window_and_stay_window_local() -> None:
    rng = np.random.default_rng(7)
    x = np.round(rng.uniform(100, 200, 400), 2)
    x[[50, 51, 300]] = x[[50, 51, 300]] / 3.0  # no decimal of <= 12 places
    _, _, on_grid = decimal_integers(x)
    assert not on_grid[50] and not on_grid[300] and on_grid.sum() == 397
    period = 20
    full = rolling_mean(x, period)
    for t in range(period - 1, len(x)):  # every value depends on its window alone
        assert full[t] == rolling_mean(x[t - period + 1 : t + 1], period)[-1]
    window = x[40:60]  # holds the off-grid values: the float64 sum left to right
    acc = 0.0
    for v in window:
        acc += v
    assert full[59] == acc / period
    assert full[20] == float(sum(Fraction(Decimal(repr(float(v)))) for v in x[1:21]) / period)


def test_nan_and_inf_windows_are_nan_or_inf_like_before() -> None:
    x = np.array([1.0, 2.0, np.nan, 4.0, 5.0, 6.0, np.inf])
    out = window_sum(x, 2)
    assert out[1] == 3.0 and np.isnan(out[2]) and np.isnan(out[3]) and out[4] == 9.0
    assert out[6] == np.inf


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(*[st.integers(1, 10**7)] * 4), min_size=1, max_size=30),
       st.integers(0, 6))  # fmt: skip
def test_derived_prices_are_exact_means(rows: list[tuple[int, ...]], places: int) -> None:
    cols = [np.array([float(Fraction(r[i], 10**places)) for r in rows]) for i in range(4)]
    expected = [float(Fraction(sum(r), 4 * 10**places)) for r in rows]
    np.testing.assert_array_equal(average(cols), np.array(expected))
    expected2 = [float(Fraction(r[1] + r[2], 2 * 10**places)) for r in rows]
    np.testing.assert_array_equal(average(cols[1:3]), np.array(expected2))


# ----------------------------------------------------------------------------- real candles


@functools.cache
def real_15m(pair: str) -> tuple[Candles, tuple[str, ...]]:
    """A Binance 15m file as Candles, and its close column as the CSV's own strings."""
    root = shared_data_dir()
    if root is None:
        pytest.skip("shared data folder (../shared/data) not found: real candles unavailable")
    frame = pd.read_csv(root / "candles" / f"binance_{pair}-USDT_15m.csv.gz", dtype=str)
    candles = Candles(
        "binance",
        f"{pair}/USDT",
        "15m",
        frame["timestamp"].to_numpy(np.int64),
        *(frame[c].to_numpy(np.float64) for c in ("open", "high", "low", "close", "volume")),
    )
    return candles, tuple(frame["close"])


def exact_cross_signs(closes: tuple[str, ...], fast: int, slow: int) -> np.ndarray:
    """sign(SMA_fast - SMA_slow) per bar from the CSV decimals (0 = tie; 2 during warm-up)."""
    values = [Fraction(Decimal(c)) for c in closes]
    total = [Fraction(0)]
    for v in values:
        total.append(total[-1] + v)
    out = np.full(len(values), 2, dtype=np.int64)
    for t in range(slow - 1, len(values)):
        mean_fast = (total[t + 1] - total[t + 1 - fast]) / fast
        diff = mean_fast - (total[t + 1] - total[t + 1 - slow]) / slow
        out[t] = (diff > 0) - (diff < 0)
    return out


@pytest.mark.parametrize("pair", ["AVAX", "OP", "NEAR"])
def test_ma_cross_on_real_candles_follows_the_exact_rule(pair: str) -> None:
    candles, closes = real_15m(pair)
    specs = [IndicatorSpec("sma_fast", "sma", {"period": 10}),
             IndicatorSpec("sma_slow", "sma", {"period": 30})]  # fmt: skip
    frame = build_frame(candles, specs, {})
    sign = exact_cross_signs(closes, 10, 30)
    assert int((sign == 0).sum()) >= 30  # exact ties do happen, dozens of times
    valid = sign != 2
    ours = np.sign(frame["sma_fast"].to_numpy() - frame["sma_slow"].to_numpy())
    np.testing.assert_array_equal(ours[valid], sign[valid])
    prev = np.concatenate(([2], sign[:-1]))
    entry = (sign == 1) & (prev != 2) & (prev <= 0)
    exit_ = (sign == -1) & (prev != 2) & (prev >= 0)
    signals = SETUPS.get("ma_cross")(frame, {"fast": "sma_fast", "slow": "sma_slow"})
    np.testing.assert_array_equal(signals.entry, entry)
    np.testing.assert_array_equal(signals.exit, exit_)


def test_the_incremental_calculator_decides_ties_like_the_backtest() -> None:
    candles, closes = real_15m("AVAX")
    sign = exact_cross_signs(closes, 10, 30)
    first_tie = int(np.flatnonzero(sign == 0)[0])
    start, stop = max(0, first_tie - 200), first_tie + 300
    span = candles.slice(start, stop)
    specs = [IndicatorSpec("f", "sma", {"period": 10}), IndicatorSpec("s", "sma", {"period": 30}),
             IndicatorSpec("m", "sma", {"period": 10}, source="hlc3")]  # fmt: skip
    frame = build_frame(span, specs, {})
    calc = IncrementalCalculator(specs, "15m")
    calc.seed(span.slice(0, 40))
    ties = 0
    for t in range(40, len(span)):
        row = calc.update(span.slice(t, t + 1))
        for column in ("f", "s", "m"):
            assert row[column] == frame[column].iat[t]
        ties += row["f"] == row["s"]
    assert ties == int((sign[start + 40 : stop] == 0).sum()) >= 1
