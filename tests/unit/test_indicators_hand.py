"""Indicators against hand computation: the textbook definitions in exact fractions.

tests/unit/test_indicators.py compares the TA-Lib-backed indicators with TA-Lib itself, which
only checks the wrapper. Here every indicator is checked against its published definition,
transcribed in plain Python over :class:`fractions.Fraction` (exact: no float, no numpy, no
TA-Lib, nothing of ours), on short series of prices with few decimals. Where a definition
leaves a choice open (how an average is seeded, population or sample deviation ...) the
comment says which convention Candlewick follows and the test pins it. A few values are also
written out as literal numbers worked out by hand (or as published).

The values must match to 1e-12 relative (plus 1e-12 of the price scale absolute, for outputs
that are differences of prices). Warm-up bars (None in a reference) must be NaN.

This module: averages, momentum, ranges and the oscillators built on them.
``test_indicators_hand_wilder.py``: Wilder's ATR, DMI/ADX, SAR and what builds on the ATR.
``test_indicators_hand_volume.py``: OBV, MFI, VWAP, Ichimoku.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from decimal import Context, Decimal
from fractions import Fraction
from typing import Any

import numpy as np

from candlewick.core.types import F64
from candlewick.indicators import indicator_info

Num = Fraction
Series = list[Fraction | None]

# Wilder's RSI example as StockCharts publishes it ("Relative Strength Index (RSI)",
# ChartSchool), closes of 33 days; RSI(14) from the 15th close on, rounded to 2 places. The
# published spreadsheet rounds its average gain and loss at every step, which moves the RSI by
# up to 0.07; an RSI smoothed any other way (an EMA's 2 / 15, Cutler's plain means) is 11
# points off on the same closes.
RSI_CLOSES = (
    "44.34 44.09 44.15 43.61 44.33 44.83 45.10 45.42 45.84 46.08 45.89 46.03 45.61 46.28 "
    "46.28 46.00 46.03 46.41 46.22 45.64 46.21 46.25 45.71 46.45 45.78 45.35 44.03 44.18 "
    "44.22 44.57 43.42 42.66 43.13"
)
RSI_PUBLISHED = (
    "70.53 66.32 66.55 69.41 66.36 57.97 62.93 63.26 56.06 62.38 54.71 50.42 39.99 41.46 "
    "41.87 45.46 37.30 33.08 37.77"
)

# A small OHLC series (prices with two decimals) used by several tests.
HIGHS = "10.40 10.70 10.90 10.60 10.80 11.30 11.50 11.20 11.00 11.40 11.90 12.10 11.80 11.60"
LOWS = "10.00 10.20 10.40 10.10 10.30 10.70 11.00 10.80 10.50 10.90 11.30 11.60 11.20 11.00"
CLOSES = "10.20 10.60 10.50 10.30 10.70 11.20 11.10 10.90 10.80 11.30 11.80 11.70 11.30 11.10"


def fr(text: str) -> list[Fraction]:
    """Numbers written out in a string, as exact fractions of their decimals."""
    return [Fraction(x) for x in text.split()]


def floats(xs: Sequence[Fraction]) -> F64:
    return np.array([float(x) for x in xs], dtype=np.float64)


def run(name: str, *inputs: Sequence[Fraction] | F64, **params: Any) -> tuple[F64, ...]:
    """Run a registered indicator on the inputs (as float64 arrays) with ``params``."""
    info = indicator_info(name)
    arrays = [x if isinstance(x, np.ndarray) else floats(x) for x in inputs]
    return info.compute(arrays, info.resolve(params))


def check(actual: F64, expected: Series, scale: float = 1.0) -> None:
    """``actual`` equals the exact ``expected`` to 1e-12 (NaN exactly where None)."""
    want = np.array([np.nan if v is None else float(v) for v in expected], dtype=np.float64)
    assert actual.shape == want.shape
    np.testing.assert_array_equal(np.isnan(actual), np.isnan(want), err_msg="warm-up differs")
    np.testing.assert_allclose(actual, want, rtol=1e-12, atol=1e-12 * scale)


def sqrt(x: Fraction) -> Fraction:
    """Square root to 40 significant digits (exact enough for a float64 comparison)."""
    ctx = Context(prec=40)
    root = ctx.sqrt(ctx.divide(Decimal(x.numerator), Decimal(x.denominator)))
    return Fraction(root)


# ---- exact references (plain Python, Fraction) ---------------------------------------------


def mean(xs: Sequence[Fraction]) -> Fraction:
    return sum(xs, Fraction(0)) / len(xs)


def windowed(xs: Sequence[Fraction], n: int, f: Callable[[list[Fraction]], Fraction]) -> Series:
    """``f`` of each full window of ``n`` values; None before the first full window."""
    return [None if t < n - 1 else f(list(xs[t - n + 1 : t + 1])) for t in range(len(xs))]


def windowed_series(xs: Series, n: int, f: Callable[[list[Fraction]], Fraction]) -> Series:
    """``f`` over windows of a series that starts with None: None until ``n`` values exist."""
    out: Series = []
    for t in range(len(xs)):
        window = xs[max(0, t - n + 1) : t + 1]
        full = len(window) == n and all(v is not None for v in window)
        out.append(f([v for v in window if v is not None]) if full else None)
    return out


def combine(f: Callable[..., Fraction], *series: Series) -> Series:
    """``f`` bar by bar over several series; None wherever one of them is None."""
    return [
        None if any(v is None for v in values) else f(*values)
        for values in zip(*series, strict=True)
    ]


def sma_ref(xs: Sequence[Fraction], n: int) -> Series:
    return windowed(xs, n, mean)


def ema_ref(xs: Series, n: int) -> Series:
    """EMA with alpha = 2 / (n + 1), seeded with the SMA of the first n values (TA-Lib's
    convention; textbooks also seed with the first value, which only shifts the start)."""
    alpha = Fraction(2, n + 1)
    out: Series = [None] * len(xs)
    first = next(i for i, v in enumerate(xs) if v is not None)
    values = [v for v in xs[first:] if v is not None]
    if len(values) < n:
        return out
    prev = mean(values[:n])
    out[first + n - 1] = prev
    for t in range(first + n, len(xs)):
        x = xs[t]
        assert x is not None
        prev = prev + alpha * (x - prev)
        out[t] = prev
    return out


def wilder_ref(xs: Sequence[Fraction], n: int, first: int) -> Series:
    """Wilder's smoothing of ``xs[first:]``: the mean of its first n values, then
    avg = (avg x (n - 1) + x) / n (Wilder 1978, "New Concepts in Technical Trading Systems")."""
    out: Series = [None] * len(xs)
    if len(xs) - first < n:
        return out
    avg = mean(xs[first : first + n])
    out[first + n - 1] = avg
    for t in range(first + n, len(xs)):
        avg = (avg * (n - 1) + xs[t]) / n
        out[t] = avg
    return out


def rsi_ref(closes: Sequence[Fraction], n: int) -> Series:
    """Wilder's RSI: 100 - 100 / (1 + RS), RS = smoothed gains / smoothed losses, smoothing
    seeded with the plain mean of the first n changes (bar n is the first value)."""
    change = [Fraction(0)] + [b - a for a, b in itertools.pairwise(closes)]
    gains = wilder_ref([max(d, Fraction(0)) for d in change], n, 1)
    losses = wilder_ref([max(-d, Fraction(0)) for d in change], n, 1)
    return combine(lambda g, loss: 100 * g / (g + loss), gains, losses)


def stoch_k(c: Fraction, hh: Fraction, ll: Fraction) -> Fraction:
    """Lane's raw %K; 0 on a flat window (TA-Lib's choice)."""
    return Fraction(0) if hh == ll else 100 * (c - ll) / (hh - ll)


# ---- averages ----------------------------------------------------------------------------------


def test_sma_and_volume_sma_are_the_window_means() -> None:
    closes = fr(CLOSES)
    check(run("sma", closes, period=4)[0], sma_ref(closes, 4), 12)
    # By hand: (10.20 + 10.60 + 10.50 + 10.30) / 4 = 10.4; then (10.60 + ... + 10.70) / 4 = 10.525
    assert run("sma", closes, period=4)[0][3:5].tolist() == [10.4, 10.525]
    volume = fr("120 80 100 0 300 50")
    check(run("volume_sma", volume, period=3)[0], sma_ref(volume, 3), 300)


def test_sma_is_the_exact_mean_rounded_once() -> None:
    # Deliberate ties: the float sum 0.1 + 0.2 + 0.3 is 0.6000000000000001, so a mean summed in
    # float would give 0.20000000000000004 and 0.30000000000000004; the exact means are 0.2
    # and 0.3 and an SMA must be them correctly rounded, bit for bit (docs/indicators.md).
    prices = fr("0.1 0.2 0.3 0.4 0.2 0.3 0.1 64123.45 64123.46 64123.47")
    for period in (2, 3, 4):
        got = run("sma", prices, period=period)[0]
        want = [float(v) for v in sma_ref(prices, period) if v is not None]
        assert got[period - 1 :].tolist() == want
    assert run("sma", prices, period=3)[0][2] == 0.2
    assert run("volume_sma", fr("0.1 0.2 0.3"), period=3)[0][2] == 0.2


def test_ema_is_seeded_with_the_sma_and_smoothed_with_two_over_n_plus_one() -> None:
    closes = fr(CLOSES)
    check(run("ema", closes, period=5)[0], ema_ref(list(closes), 5), 12)
    # By hand, period 3 (alpha 1/2): seed (10.20 + 10.60 + 10.50) / 3 = 10.4333..; then
    # 10.4333.. + (10.30 - 10.4333..) / 2 = 10.3666..; then (10.3666.. + 10.70) / 2 = 10.5333..
    got = run("ema", closes, period=3)[0]
    np.testing.assert_allclose(got[2:5], [31.3 / 3, 31.1 / 3, 31.6 / 3], rtol=1e-14)


def test_wma_weighs_the_newest_bar_most() -> None:
    closes = fr(CLOSES)

    def wma(w: list[Fraction]) -> Fraction:
        return sum((k * x for k, x in enumerate(w, 1)), Fraction(0)) / sum(range(len(w) + 1))

    check(run("wma", closes, period=4)[0], windowed(closes, 4, wma), 12)
    # By hand: (1 x 10.20 + 2 x 10.60 + 3 x 10.50 + 4 x 10.30) / 10 = 10.41
    assert abs(run("wma", closes, period=4)[0][3] - 10.41) < 1e-13


# ---- momentum ------------------------------------------------------------------------------------


def test_rsi_is_wilders_and_reproduces_the_published_example() -> None:
    closes = fr(RSI_CLOSES)
    got = run("rsi", closes, period=14)[0]
    check(got, rsi_ref(closes, 14), 100)
    published = [float(x) for x in RSI_PUBLISHED.split()]
    np.testing.assert_allclose(got[14:], published, rtol=0, atol=0.08)


def test_rsi_of_only_gains_is_100_and_of_only_losses_is_0() -> None:
    assert run("rsi", fr("1 2 3 4 5"), period=3)[0][3:].tolist() == [100.0, 100.0]
    assert run("rsi", fr("5 4 3 2 1"), period=3)[0][3:].tolist() == [0.0, 0.0]


def macd_ref(closes: Sequence[Fraction], fast: int, slow: int, signal: int) -> list[Series]:
    """Appel's MACD: EMA(fast) - EMA(slow), its EMA(signal), and their difference.

    Convention pinned (TA-Lib's MACD): both EMAs start at bar ``slow - 1``, the slow one
    seeded with the SMA of bars 0..slow-1, the fast one with the SMA of the ``fast`` bars
    ending there (not of bars 0..fast-1: a standalone EMA(fast) differs for a while); the
    signal EMA is seeded with the SMA of the first ``signal`` MACD values, and all three
    outputs start at bar ``slow + signal - 2``.
    """
    n = len(closes)
    fast_ema = ema_ref([None] * (slow - fast) + list(closes[slow - fast :]), fast)
    slow_ema = ema_ref(list(closes), slow)
    line: Series = [None] * n
    for t in range(slow - 1, n):
        f, s = fast_ema[t], slow_ema[t]
        assert f is not None and s is not None
        line[t] = f - s
    sig = ema_ref(line, signal)
    start = slow + signal - 2
    out_line: Series = [v if t >= start else None for t, v in enumerate(line)]
    return [out_line, sig, combine(lambda a, b: a - b, out_line, sig)]


def test_macd_line_signal_and_histogram() -> None:
    closes = fr(RSI_CLOSES)
    got = run("macd", closes, fast=3, slow=6, signal=4)
    for actual, expected in zip(got, macd_ref(closes, 3, 6, 4), strict=True):
        check(actual, expected, 50)


def test_roc_and_returns_over_n_bars() -> None:
    closes = fr(CLOSES)
    roc: Series = [None if t < 3 else 100 * (closes[t] / closes[t - 3] - 1) for t in range(14)]
    check(run("roc", closes, period=3)[0], roc, 100)
    # By hand: 100 x (10.30 / 10.20 - 1) = 0.98039..%
    assert abs(run("roc", closes, period=3)[0][3] - 100 * (10.3 / 10.2 - 1)) < 1e-12
    simple: Series = [None if t < 2 else closes[t] / closes[t - 2] - 1 for t in range(14)]
    check(run("returns", closes, period=2)[0], simple)
    logs = run("returns", closes, period=2, log=True)[0]
    np.testing.assert_allclose(logs[2:], np.log([float(1 + v) for v in simple[2:] if v]), 1e-12)


# ---- ranges and the oscillators built on them ---------------------------------------------------


def test_highest_lowest_and_donchian() -> None:
    high, low = fr(HIGHS), fr(LOWS)
    hh, ll = windowed(high, 5, max), windowed(low, 5, min)
    check(run("highest", high, period=5)[0], hh, 12)
    check(run("lowest", low, period=5)[0], ll, 12)
    upper, middle, lower = run("donchian", high, low, period=5)
    check(upper, hh, 12)
    check(lower, ll, 12)
    check(middle, combine(lambda a, b: (a + b) / 2, hh, ll), 12)
    # By hand: bars 0..4: highest 10.90, lowest 10.00, middle 10.45
    assert (upper[4], lower[4], middle[4]) == (10.9, 10.0, 10.45)


def test_williams_r() -> None:
    high, low, close = fr(HIGHS), fr(LOWS), fr(CLOSES)
    expected: Series = [None] * 14
    for t in range(4, 14):
        hh, ll = max(high[t - 4 : t + 1]), min(low[t - 4 : t + 1])
        expected[t] = -100 * (hh - close[t]) / (hh - ll)
    check(run("willr", high, low, close, period=5)[0], expected, 100)
    # By hand, bar 4: highest 10.90, lowest 10.00, close 10.70: -100 x 0.20 / 0.90 = -22.22..
    assert abs(run("willr", high, low, close, period=5)[0][4] + 200 / 9) < 1e-12


def test_slow_stochastic() -> None:
    """Lane's slow stochastic: raw %K over k_period, %K = its SMA(k_smooth), %D = SMA(%K)."""
    high, low, close = fr(HIGHS), fr(LOWS), fr(CLOSES)
    raw: Series = [None] * 14
    for t in range(3, 14):
        raw[t] = stoch_k(close[t], max(high[t - 3 : t + 1]), min(low[t - 3 : t + 1]))
    k = windowed_series(raw, 3, mean)
    d = windowed_series(k, 2, mean)
    got_k, got_d = run("stoch", high, low, close, k_period=4, k_smooth=3, d_period=2)
    # Both outputs share the warm-up k_period + k_smooth + d_period - 3 = 6 bars.
    check(got_k, [v if t >= 6 else None for t, v in enumerate(k)], 100)
    check(got_d, d, 100)


def test_stochastic_rsi() -> None:
    """Chande and Kroll's StochRSI on Wilder's RSI, as 0..100, smoothed like the slow
    stochastic (%K = SMA(k_smooth) of the raw value, %D = SMA(d_period) of %K)."""
    closes = fr(RSI_CLOSES)
    rsi = rsi_ref(closes, 5)

    def raw_of(w: list[Fraction]) -> Fraction:
        return stoch_k(w[-1], max(w), min(w))

    k = windowed_series(windowed_series(rsi, 4, raw_of), 2, mean)
    d = windowed_series(k, 3, mean)
    got_k, got_d = run("stochrsi", closes, period=5, k_period=4, k_smooth=2, d_period=3)
    lookback = 5 + 4 + 2 + 3 - 3
    check(got_k, [v if t >= lookback else None for t, v in enumerate(k)], 100)
    check(got_d, d, 100)


def test_cci() -> None:
    """Lambert's CCI: (TP - SMA(TP)) / (0.015 x mean absolute deviation of TP)."""
    high, low, close = fr(HIGHS), fr(LOWS), fr(CLOSES)
    tp = [(h + lo + c) / 3 for h, lo, c in zip(high, low, close, strict=True)]

    def cci(w: list[Fraction]) -> Fraction:
        m = mean(w)
        return (w[-1] - m) / (Fraction(15, 1000) * mean([abs(x - m) for x in w]))

    check(run("cci", high, low, close, period=5)[0], windowed(tp, 5, cci), 100)


def test_bollinger_bands_use_the_population_deviation() -> None:
    """Bollinger: SMA middle +/- k population standard deviations (divide by n, not n - 1)."""
    closes = fr(CLOSES)

    def sigma(w: list[Fraction]) -> Fraction:
        m = mean(w)
        return sqrt(mean([(x - m) ** 2 for x in w]))

    mid, sd = sma_ref(closes, 5), windowed(closes, 5, sigma)
    upper, middle, lower = run("bbands", closes, period=5, stddev=2.5)
    check(middle, mid, 12)
    check(upper, combine(lambda m, s: m + Fraction(5, 2) * s, mid, sd), 12)
    check(lower, combine(lambda m, s: m - Fraction(5, 2) * s, mid, sd), 12)
    # By hand, bars 0..4: mean 10.46, squared deviations .0676 .0196 .0016 .0256 .0576,
    # variance .0344, sigma .18547..; upper 10.46 + 2.5 x .18547.. = 10.92367..
    assert abs(upper[4] - (10.46 + 2.5 * 0.0344**0.5)) < 1e-12


def test_zscore() -> None:
    closes = fr(CLOSES)

    def z(w: list[Fraction]) -> Fraction:
        m = mean(w)
        return (w[-1] - m) / sqrt(mean([(x - m) ** 2 for x in w]))

    check(run("zscore", closes, period=5)[0], windowed(closes, 5, z), 10)
    # A flat window has no deviation: 0 by convention, not NaN or inf.
    assert run("zscore", fr("3 3 3 3"), period=3)[0][2:].tolist() == [0.0, 0.0]


# Indicators with hand cases in this module and the two beside it: a new indicator needs some.
HAND_CHECKED = {
    "sma", "volume_sma", "ema", "wma", "rsi", "macd", "roc", "returns", "highest", "lowest",
    "donchian", "willr", "stoch", "stochrsi", "cci", "bbands", "zscore",  # this module
    "atr", "dmi", "adx", "sar", "keltner", "supertrend",  # test_indicators_hand_wilder.py
    "obv", "mfi", "vwap", "vwap_rolling", "ichimoku",  # test_indicators_hand_volume.py
}  # fmt: skip


def test_every_built_in_indicator_has_hand_cases() -> None:
    from candlewick.indicators import INDICATORS

    # (other tests register user indicators in the same process: only ours count)
    names = INDICATORS.names()
    built_in = {n for n in names if indicator_info(n).func.__module__.startswith("candlewick.")}
    assert built_in == HAND_CHECKED
