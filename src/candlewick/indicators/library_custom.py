"""Indicators computed here rather than by TA-Lib.

WMA, Bollinger Bands, Stochastic, Stochastic RSI, CCI and MFI exist in TA-Lib but keep running
sums there (see :mod:`candlewick.indicators.library`); VWAP, Donchian, Keltner, Supertrend,
Ichimoku, z-score and returns do not exist in it. Same conventions, same registry
(:data:`~candlewick.indicators.library.INDICATORS`); vectorised with numpy except the
Supertrend's band ratchet, a short loop over plain Python floats.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from candlewick.core.timeframes import bucket_start, timeframe_ms
from candlewick.core.types import F64, I64
from candlewick.indicators import talib_lazy as talib
from candlewick.indicators.library import (
    Param,
    Params,
    ema_settle,
    indicator,
    mask_warmup,
    nans,
    rolling_max,
    rolling_mean,
    rolling_mean_std,
    rolling_min,
    rolling_sum,
    shift,
    warmup_period,
    warmup_window,
    wilder_settle,
)

_HLC = ("high", "low", "close")


@indicator("wma", inputs=("close",), outputs=("wma",), lookback=warmup_window)
def wma(close: F64, *, period: int = 20) -> F64:
    """Linearly weighted moving average: weights 1..period, the newest bar weighs most."""
    out = nans(len(close))
    m = len(close) - period + 1
    if m > 0:
        acc = np.array(close[:m], dtype=np.float64)
        for j in range(1, period):
            acc += (j + 1) * close[j : j + m]
        out[period - 1 :] = acc / (period * (period + 1) / 2)
    return out


@indicator("bbands", inputs=("close",), outputs=("upper", "middle", "lower"),
           lookback=warmup_window)  # fmt: skip
def bbands(close: F64, *, period: int = 20, stddev: float = 2.0) -> tuple[F64, F64, F64]:
    """Bollinger Bands: SMA middle, +/- ``stddev`` population standard deviations."""
    mean, std = rolling_mean_std(close, period)
    return mean + stddev * std, mean, mean - stddev * std


@indicator("zscore", inputs=("close",), outputs=("zscore",), lookback=warmup_window)
def zscore(close: F64, *, period: int = 20) -> F64:
    """(value - rolling mean) / rolling population std; 0 where the window is flat."""
    mean, std = rolling_mean_std(close, period)
    with np.errstate(divide="ignore", invalid="ignore"):
        out: F64 = np.where(std > 0, (close - mean) / std, np.where(np.isnan(std), np.nan, 0.0))
    return out


@indicator("returns", inputs=("close",), outputs=("returns",), lookback=warmup_period)
def returns(close: F64, *, period: int = 1, log: bool = False) -> F64:
    """Return over ``period`` bars as a fraction (``log=True``: log return)."""
    before = shift(close, period)
    with np.errstate(divide="ignore", invalid="ignore"):
        out: F64 = np.log(close / before) if log else close / before - 1.0
    return out


def _stoch_k(close: F64, hh: F64, ll: F64) -> F64:
    # TA-Lib's arithmetic: (close - lowest) / ((highest - lowest) / 100), 0 on a flat window.
    diff = (hh - ll) / 100.0
    with np.errstate(divide="ignore", invalid="ignore"):
        out: F64 = np.where(diff != 0, (close - ll) / diff, np.where(np.isnan(diff), np.nan, 0.0))
    return out


def _stoch_lookback(p: Params) -> int:
    return int(p["k_period"]) + int(p["k_smooth"]) + int(p["d_period"]) - 3


@indicator("stoch", inputs=_HLC, outputs=("k", "d"), lookback=_stoch_lookback)
def stoch(
    high: F64, low: F64, close: F64, *, k_period: int = 14, k_smooth: int = 3, d_period: int = 3
) -> tuple[F64, F64]:
    """Slow stochastic: %K = SMA(k_smooth) of the raw %K over ``k_period``, %D = SMA of %K."""
    raw = _stoch_k(close, rolling_max(high, k_period), rolling_min(low, k_period))
    k = rolling_mean(raw, k_smooth)
    d = rolling_mean(k, d_period)
    mask_warmup(k_period + k_smooth + d_period - 3, k, d)
    return k, d


@indicator("stochrsi", inputs=("close",), outputs=("k", "d"),
           lookback=lambda p: warmup_period(p) + _stoch_lookback(p), memory="recursive",
           settle=lambda p: wilder_settle(warmup_period(p)),
           params={"period": Param(min=2)})  # fmt: skip
def stochrsi(
    close: F64, *, period: int = 14, k_period: int = 14, k_smooth: int = 3, d_period: int = 3
) -> tuple[F64, F64]:
    """Stochastic of the RSI: %K = SMA(k_smooth) of the RSI's place in its ``k_period`` range."""
    r = np.asarray(talib.RSI(close, timeperiod=period), dtype=np.float64)
    raw = _stoch_k(r, rolling_max(r, k_period), rolling_min(r, k_period))
    k = rolling_mean(raw, k_smooth)
    d = rolling_mean(k, d_period)
    mask_warmup(period + k_period + k_smooth + d_period - 3, k, d)
    return k, d


@indicator("cci", inputs=_HLC, outputs=("cci",), lookback=warmup_window,
           params={"period": Param(min=2)})  # fmt: skip
def cci(high: F64, low: F64, close: F64, *, period: int = 20) -> F64:
    """Commodity channel index: (tp - SMA(tp)) / (0.015 * mean deviation); 0 on a flat window."""
    tp = (high + low + close) / 3.0
    mean = rolling_mean(tp, period)
    out = nans(len(tp))
    m = len(tp) - period + 1
    if m > 0:
        centre = mean[period - 1 :]
        dev = np.abs(tp[:m] - centre)
        for j in range(1, period):
            dev += np.abs(tp[j : j + m] - centre)
        num = tp[period - 1 :] - centre
        with np.errstate(divide="ignore", invalid="ignore"):
            out[period - 1 :] = np.where(dev != 0, num / (0.015 * (dev / period)), 0.0)
    return out


@indicator("mfi", inputs=("high", "low", "close", "volume"), outputs=("mfi",),
           lookback=warmup_period)  # fmt: skip
def mfi(high: F64, low: F64, close: F64, volume: F64, *, period: int = 14) -> F64:
    """Money flow index, 0..100: volume-weighted RSI of the typical price; 0 without any flow."""
    tp = (high + low + close) / 3.0
    flow = tp * volume
    prev = shift(tp, 1)
    pos = rolling_sum(np.where(tp > prev, flow, 0.0), period)
    neg = rolling_sum(np.where(tp < prev, flow, 0.0), period)
    total = pos + neg
    with np.errstate(divide="ignore", invalid="ignore"):
        out: F64 = np.where(total != 0, 100.0 * (pos / total), 0.0)
    mask_warmup(period, out)
    return out


def _anchor_problem(p: Params) -> str | None:
    try:
        timeframe_ms(str(p["anchor"]))
    except ValueError:
        return f"parameter 'anchor' must be a timeframe such as '1d' or '1w', got {p['anchor']!r}"
    return None


def _session_cumsum(x: F64, starts: I64) -> F64:
    """Cumulative sum restarted at each index of ``starts`` (left to right in each session)."""
    out = np.empty_like(x)
    for a, b in itertools.pairwise([*starts.tolist(), len(x)]):
        np.cumsum(x[a:b], out=out[a:b])
    return out


@indicator(
    "vwap",
    inputs=("timestamp", "high", "low", "close", "volume"),
    outputs=("vwap",),
    lookback=lambda p: 0,
    # The newest value depends on the bars of the current session only.
    window=lambda p, bar_ms: math.ceil(timeframe_ms(str(p["anchor"])) / bar_ms),
    check=_anchor_problem,
)
def vwap(
    timestamp: I64, high: F64, low: F64, close: F64, volume: F64, *, anchor: str = "1d"
) -> F64:
    """Volume-weighted average typical price since the start of the UTC session (``anchor``).

    Resets at every ``anchor`` boundary (default: 00:00 UTC each day). NaN while the session
    has traded no volume yet.
    """
    if len(timestamp) == 0:
        return nans(0)
    session = bucket_start(timestamp, anchor)
    starts = np.flatnonzero(np.concatenate(([True], session[1:] != session[:-1])))
    tp = (high + low + close) / 3.0
    pv = _session_cumsum(tp * volume, starts)
    vol = _session_cumsum(np.asarray(volume, dtype=np.float64), starts)
    with np.errstate(divide="ignore", invalid="ignore"):
        out: F64 = np.where(vol > 0, pv / vol, np.nan)
    return out


@indicator("vwap_rolling", inputs=("high", "low", "close", "volume"), outputs=("vwap_rolling",),
           lookback=warmup_window)  # fmt: skip
def vwap_rolling(high: F64, low: F64, close: F64, volume: F64, *, period: int = 20) -> F64:
    """Volume-weighted average typical price of the last ``period`` bars; NaN without volume."""
    tp = (high + low + close) / 3.0
    pv = rolling_sum(tp * volume, period)
    vol = rolling_sum(volume, period)
    with np.errstate(divide="ignore", invalid="ignore"):
        out: F64 = np.where(vol > 0, pv / vol, np.nan)
    return out


@indicator("donchian", inputs=("high", "low"), outputs=("upper", "middle", "lower"),
           lookback=warmup_window)  # fmt: skip
def donchian(high: F64, low: F64, *, period: int = 20) -> tuple[F64, F64, F64]:
    """Donchian channel: highest high, lowest low of the last ``period`` bars, and their mean."""
    upper = rolling_max(high, period)
    lower = rolling_min(low, period)
    return upper, (upper + lower) / 2.0, lower


def _keltner_lookback(p: Params) -> int:
    return max(int(p["period"]) - 1, int(p["atr_period"]))


@indicator(
    "keltner",
    inputs=_HLC,
    outputs=("upper", "middle", "lower"),
    lookback=_keltner_lookback,
    memory="recursive",
    settle=lambda p: max(ema_settle(warmup_period(p)), wilder_settle(int(p["atr_period"]))),
)
def keltner(
    high: F64,
    low: F64,
    close: F64,
    *,
    period: int = 20,
    atr_period: int = 10,
    multiplier: float = 2.0,
) -> tuple[F64, F64, F64]:
    """Keltner channel: EMA(close) middle, +/- ``multiplier`` x ATR(``atr_period``) bands."""
    middle = np.asarray(talib.EMA(close, timeperiod=period), dtype=np.float64)
    width = multiplier * np.asarray(talib.ATR(high, low, close, timeperiod=atr_period))
    upper, lower = middle + width, middle - width
    mask_warmup(max(period - 1, atr_period), upper, middle, lower)
    return upper, middle, lower


@indicator(
    "supertrend",
    inputs=_HLC,
    outputs=("line", "direction"),
    lookback=warmup_period,
    memory="recursive",
    # ATR settles exponentially; the band ratchet and the direction agree again from the
    # first flip two runs share (like SAR: 1000 more bars, twice what was needed on BTC 5m).
    settle=lambda p: wilder_settle(warmup_period(p)) + 1000,
)
def supertrend(
    high: F64, low: F64, close: F64, *, period: int = 10, multiplier: float = 3.0
) -> tuple[F64, F64]:
    """Supertrend (TradingView's): the trailing band and the direction, +1 up / -1 down.

    Bands are hl2 -/+ ``multiplier`` x ATR(``period``) (Wilder, TA-Lib). The lower band only
    rises while the previous close stays above it, the upper band only falls while the
    previous close stays below it; the direction turns up when the close crosses the previous
    upper band and down when it crosses the previous lower band. ``line`` is the lower band
    in an up-trend, the upper band in a down-trend. The first direction is +1.
    """
    n = len(close)
    line, direction = nans(n), nans(n)
    if n <= period:
        return line, direction
    width = multiplier * np.asarray(talib.ATR(high, low, close, timeperiod=period))[period:]
    hl2 = ((high + low) / 2.0)[period:]
    lows: list[float] = (hl2 - width).tolist()
    highs: list[float] = (hl2 + width).tolist()
    closes: list[float] = close[period:].tolist()
    trends: list[float] = [1.0] * len(closes)
    lo, hi, trend, prev_close = lows[0], highs[0], 1.0, closes[0]
    # Plain floats in a tight loop: ~0.3 us per bar, 525,600 bars in well under a second.
    for i in range(1, len(closes)):
        new_lo, new_hi, c = lows[i], highs[i], closes[i]
        if prev_close > lo and lo > new_lo:
            new_lo = lo
        if prev_close < hi and hi < new_hi:
            new_hi = hi
        if trend < 0.0:
            if c > hi:
                trend = 1.0
        elif c < lo:
            trend = -1.0
        lows[i], highs[i], trends[i] = new_lo, new_hi, trend
        lo, hi, prev_close = new_lo, new_hi, c
    up = np.asarray(trends) > 0
    line[period:] = np.where(up, lows, highs)
    direction[period:] = trends
    return line, direction


def _midpoint(high: F64, low: F64, period: int) -> F64:
    out: F64 = (rolling_max(high, period) + rolling_min(low, period)) / 2.0
    return out


def _ichimoku_lookback(p: Params) -> int:
    periods = (int(p["tenkan"]), int(p["kijun"]), int(p["senkou_b"]))
    return max(periods) - 1 + int(p["displacement"])


@indicator(
    "ichimoku",
    inputs=_HLC,
    outputs=("tenkan", "kijun", "senkou_a", "senkou_b", "chikou"),
    lookback=_ichimoku_lookback,
)
def ichimoku(
    high: F64,
    low: F64,
    close: F64,
    *,
    tenkan: int = 9,
    kijun: int = 26,
    senkou_b: int = 52,
    displacement: int = 26,
) -> tuple[F64, F64, F64, F64, F64]:
    """Ichimoku cloud, every output known at the close of its bar (no lookahead).

    ``tenkan``/``kijun``: midpoints of the last 9/26 bars. ``senkou_a``/``senkou_b``: the cloud
    *under bar t*, i.e. the spans computed ``displacement`` bars earlier (chart convention of
    plotting them forward). ``chikou``: the chart draws today's close 26 bars back, which as a
    feature would read the future; here it is ``close[t] - close[t - displacement]``, the gap
    between the lagging span and the price it is drawn against (> 0: above it).
    """
    tk = _midpoint(high, low, tenkan)
    kj = _midpoint(high, low, kijun)
    span_a = shift((tk + kj) / 2.0, displacement)
    span_b = shift(_midpoint(high, low, senkou_b), displacement)
    chikou = close - shift(close, displacement)
    mask_warmup(max(tenkan, kijun, senkou_b) - 1 + displacement, tk, kj, span_a, span_b, chikou)
    return tk, kj, span_a, span_b, chikou
