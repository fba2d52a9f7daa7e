"""The indicator library: against TA-Lib or hand-computed cases, warm-up, no lookahead, params."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest
import talib
from hypothesis import given, settings
from hypothesis import strategies as st

from candlewick.core.types import F64, Candles
from candlewick.data.csv_import import read_candle_csv
from candlewick.errors import IndicatorError
from candlewick.indicators import INDICATORS, Param, indicator, indicator_info
from candlewick.paths import shared_data_dir

HOUR = 3_600_000
DAY = 24 * HOUR
T0 = 1_704_067_200_000  # 2024-01-01 00:00 UTC
SMA: Any = 0  # TA-Lib MA_Type.SMA (the stubs call it an Enum, at run time it is 0)


@functools.cache
def btc_5m(rows: int = 3000) -> Candles:
    """The first ``rows`` bars of Binance BTC/USDT 5m (real data, no gaps)."""
    root = shared_data_dir()
    if root is None:
        pytest.skip("shared data folder (../shared/data) not found: real candles unavailable")
    path = root / "candles" / "binance_BTC-USDT_5m.csv.gz"
    return read_candle_csv(path, "binance", "BTC/USDT", "5m").candles.slice(0, rows)


def run(name: str, candles: Candles, **params: Any) -> tuple[F64, ...]:
    """Run a registered indicator on candles, the way the calculator feeds it."""
    info = indicator_info(name)
    columns = {"timestamp": candles.timestamp}
    columns.update({c: getattr(candles, c) for c in ("open", "high", "low", "close", "volume")})
    return info.compute([columns[i] for i in info.inputs], info.resolve(params))


def one(name: str, candles: Candles, **params: Any) -> F64:
    (out,) = run(name, candles, **params)
    return out


def series(close: Sequence[float], high: Sequence[float] | None = None,
           low: Sequence[float] | None = None, volume: Sequence[float] | None = None,
           ts: Sequence[int] | None = None) -> Candles:  # fmt: skip
    """A small hand-made series (5m bars from T0 unless ``ts`` is given)."""
    n = len(close)
    c = np.asarray(close, dtype=np.float64)
    return Candles(
        "test",
        "BTC/USDT",
        "5m",
        np.asarray(ts if ts is not None else [T0 + i * 300_000 for i in range(n)], np.int64),
        c.copy(),
        np.asarray(high if high is not None else close, dtype=np.float64),
        np.asarray(low if low is not None else close, dtype=np.float64),
        c,
        np.asarray(volume if volume is not None else [1.0] * n, dtype=np.float64),
    )


def same(actual: F64, expected: Any, rtol: float = 1e-12, atol: float = 0.0) -> None:
    np.testing.assert_allclose(actual, np.asarray(expected, dtype=np.float64), rtol, atol)


# ---- against TA-Lib -------------------------------------------------------------------------


def test_moving_averages_match_talib() -> None:
    c = btc_5m()
    same(one("sma", c, period=30), talib.SMA(c.close, 30))
    same(one("volume_sma", c, period=7), talib.SMA(c.volume, 7))
    same(one("wma", c, period=15), talib.WMA(c.close, 15))
    same(one("ema", c, period=50), talib.EMA(c.close, 50))
    upper, middle, lower = run("bbands", c, period=25, stddev=2.5)
    for mine, theirs in zip(
        (upper, middle, lower), talib.BBANDS(c.close, 25, 2.5, 2.5, SMA), strict=True
    ):
        same(mine, theirs, rtol=1e-10)


def test_oscillators_match_talib() -> None:
    c = btc_5m()
    h, lo, cl, v = c.high, c.low, c.close, c.volume
    same(one("rsi", c, period=21), talib.RSI(cl, 21))
    for mine, theirs in zip(
        run("macd", c, fast=8, slow=21, signal=5), talib.MACD(cl, 8, 21, 5), strict=True
    ):
        same(mine, theirs)
    same(one("roc", c, period=12), talib.ROC(cl, 12))
    same(one("willr", c, period=10), talib.WILLR(h, lo, cl, 10))
    same(one("highest", c, period=9), talib.MAX(h, 9))
    same(one("lowest", c, period=9), talib.MIN(lo, 9))
    same(one("cci", c, period=14), talib.CCI(h, lo, cl, 14), rtol=1e-9, atol=1e-9)
    same(one("mfi", c, period=10), talib.MFI(h, lo, cl, v, 10), rtol=1e-9, atol=1e-9)
    k, d = run("stoch", c, k_period=10, k_smooth=4, d_period=5)
    tk, td = talib.STOCH(h, lo, cl, 10, 4, SMA, 5, SMA)
    same(k, tk, rtol=1e-9, atol=1e-9)
    same(d, td, rtol=1e-9, atol=1e-9)


def test_stochrsi_matches_talib() -> None:
    cl = btc_5m().close
    # k_smooth=1 is TA-Lib's STOCHRSI (fast %K, %D = SMA of it) ...
    k, d = run("stochrsi", btc_5m(), period=14, k_period=10, k_smooth=1, d_period=3)
    tk, td = talib.STOCHRSI(cl, 14, 10, 3, SMA)
    same(k, tk, rtol=1e-9, atol=1e-9)
    same(d, td, rtol=1e-9, atol=1e-9)
    # ... the default smooths %K like TradingView: the slow stochastic of the RSI series.
    k, d = run("stochrsi", btc_5m(), period=14, k_period=14, k_smooth=3, d_period=3)
    r = talib.RSI(cl, 14)
    sk, sd = talib.STOCH(r, r, r, 14, 3, SMA, 3, SMA)
    same(k, sk, rtol=1e-9, atol=1e-9)
    same(d, sd, rtol=1e-9, atol=1e-9)


def test_trend_and_volume_indicators_match_talib() -> None:
    c = btc_5m()
    h, lo, cl, v = c.high, c.low, c.close, c.volume
    same(one("atr", c, period=20), talib.ATR(h, lo, cl, 20))
    same(one("adx", c, period=10), talib.ADX(h, lo, cl, 10))
    plus, minus = run("dmi", c, period=10)
    same(plus, talib.PLUS_DI(h, lo, cl, 10))
    same(minus, talib.MINUS_DI(h, lo, cl, 10))
    same(one("sar", c, acceleration=0.03, maximum=0.3), talib.SAR(h, lo, 0.03, 0.3))
    same(one("obv", c), talib.OBV(cl, v))
    upper, middle, lower = run("keltner", c, period=30, atr_period=7, multiplier=1.5)
    ema, atr = talib.EMA(cl, 30), talib.ATR(h, lo, cl, 7)
    same(middle, ema)
    same(upper, ema + 1.5 * atr)
    same(lower, ema - 1.5 * atr)


# ---- hand-computed cases --------------------------------------------------------------------


def test_donchian_by_hand() -> None:
    c = series([0] * 6, high=[5, 7, 6, 4, 8, 3], low=[2, 3, 1, 2, 4, 2])
    upper, middle, lower = run("donchian", c, period=3)
    nan = np.nan
    same(upper, [nan, nan, 7, 7, 8, 8])
    same(lower, [nan, nan, 1, 1, 1, 2])
    same(middle, [nan, nan, 4, 4, 4.5, 5])


def test_vwap_resets_at_each_utc_day() -> None:
    # Two bars late on day 1, three on day 2; high = low = close so the typical price is close.
    ts = [T0 + DAY - 2 * HOUR, T0 + DAY - HOUR, T0 + DAY, T0 + DAY + HOUR, T0 + DAY + 2 * HOUR]
    c = series([10, 20, 30, 40, 50], volume=[1, 3, 2, 0, 2], ts=ts)
    expected = [10, (10 + 60) / 4, 30, 30, (60 + 100) / 4]
    same(one("vwap", c), expected)
    # Weekly anchor: 2024-01-01 is a Monday, so all five bars are one session.
    total = np.cumsum([10, 60, 60, 0, 100]) / np.cumsum([1, 3, 2, 0, 2])
    same(one("vwap", c, anchor="1w"), total)


def test_vwap_is_nan_until_the_session_trades() -> None:
    c = series([10, 20, 30], volume=[0, 0, 2])
    out = one("vwap", c)
    assert np.isnan(out[:2]).all() and out[2] == 30


def test_vwap_matches_a_pandas_groupby_on_real_data() -> None:
    import pandas as pd

    c = btc_5m()
    tp = (c.high + c.low + c.close) / 3
    day = c.timestamp // DAY
    frame = pd.DataFrame({"pv": tp * c.volume, "v": c.volume, "day": day})
    grouped = frame.groupby("day")
    expected = grouped["pv"].cumsum() / grouped["v"].cumsum()
    same(one("vwap", c), expected.to_numpy(), rtol=1e-12)


def test_vwap_rolling_by_hand() -> None:
    c = series([10, 20, 30, 40], volume=[1, 1, 2, 0])
    same(one("vwap_rolling", c, period=2), [np.nan, 15, (20 + 60) / 3, 30])


def test_ichimoku_by_hand_without_lookahead() -> None:
    high = [10, 12, 11, 13, 15, 14, 16, 18]
    low = [8, 9, 7, 10, 12, 11, 13, 15]
    close = [9, 11, 10, 12, 14, 13, 15, 17]
    c = series(close, high=high, low=low)
    tk, kj, sa, sb, ch = run("ichimoku", c, tenkan=2, kijun=3, senkou_b=4, displacement=2)
    # Warm-up: the 4-bar span needs bars 0..3, shown 2 bars later -> first value at bar 5.
    nan = [np.nan] * 5
    # tenkan (2 bars) over t = 3..7: 10, 12.5, 13, 13.5, 15.5; kijun (3 bars): 10, 11, 12.5,
    # 13.5, 14.5; 4-bar midpoint over t = 3..5: 10, 11, 11.
    same(tk, [*nan, 13, 13.5, 15.5])
    same(kj, [*nan, 12.5, 13.5, 14.5])
    # The cloud under bar t was computed at t - 2 from bars <= t - 2 (t - 2 = 3, 4, 5).
    same(sa, [*nan, (10 + 10) / 2, (12.5 + 11) / 2, (13 + 12.5) / 2])
    same(sb, [*nan, 10, 11, 11])
    # chikou: close[t] - close[t - 2] = 13 - 12, 15 - 14, 17 - 13.
    same(ch, [*nan, 1, 1, 4])


def test_zscore_and_returns_by_hand() -> None:
    c = series([1, 2, 3, 5, 5, 5])
    z = one("zscore", c, period=3)
    std = np.std([2, 3, 5])
    same(z, [np.nan, np.nan, 1 / np.std([1, 2, 3]), (5 - 10 / 3) / std, (5 - 13 / 3) / np.std(
        [3, 5, 5]), 0.0])  # fmt: skip
    same(one("returns", c, period=2), [np.nan, np.nan, 2.0, 1.5, 2 / 3, 0.0])
    same(one("returns", c, period=1, log=True), np.log(c.close / np.r_[np.nan, c.close[:-1]]))


def supertrend_reference(c: Candles, period: int, mult: float) -> tuple[list[float], list[int]]:
    """TradingView's Pine v4 Supertrend, transcribed literally (nz() of the previous values)."""
    atr = talib.ATR(c.high, c.low, c.close, period)
    line: list[float] = []
    trend_out: list[int] = []
    up_prev = dn_prev = None
    trend = 1
    for t in range(len(c)):
        if np.isnan(atr[t]):
            line.append(np.nan)
            trend_out.append(0)
            continue
        src = (c.high[t] + c.low[t]) / 2
        up = src - mult * atr[t]
        up1 = up if up_prev is None else up_prev
        up = max(up, up1) if up_prev is not None and c.close[t - 1] > up1 else up
        dn = src + mult * atr[t]
        dn1 = dn if dn_prev is None else dn_prev
        dn = min(dn, dn1) if dn_prev is not None and c.close[t - 1] < dn1 else dn
        if trend == -1 and c.close[t] > dn1:
            trend = 1
        elif trend == 1 and c.close[t] < up1:
            trend = -1
        line.append(up if trend == 1 else dn)
        trend_out.append(trend)
        up_prev, dn_prev = up, dn
    return line, trend_out


def test_supertrend_matches_a_literal_pine_transcription() -> None:
    c = btc_5m()
    line, direction = run("supertrend", c, period=7, multiplier=2.5)
    ref_line, ref_dir = supertrend_reference(c, 7, 2.5)
    same(line, ref_line)
    assert direction[7:].tolist() == ref_dir[7:]
    flips = np.flatnonzero(np.diff(direction[7:]) != 0)
    assert len(flips) > 20  # the data exercises both directions many times


def test_supertrend_flips_down_when_the_close_breaks_the_lower_band() -> None:
    # ATR(1) = true range; flat bars then a crash: the close falls through the lower band.
    close = [100.0, 100, 100, 100, 80]
    c = series(close, high=[101, 101, 101, 101, 100], low=[99, 99, 99, 99, 79])
    line, direction = run("supertrend", c, period=1, multiplier=1.0)
    # Bars 1-3: hl2 100, TR 2 -> lower band 98 (up-trend), bar 4 closes at 80 < 98 -> down,
    # the line jumps to the upper band: hl2 89.5 + TR 21 = 110.5, capped by the previous 102.
    same(direction, [np.nan, 1, 1, 1, -1])
    same(line, [np.nan, 98, 98, 98, 102])


# ---- warm-up, short inputs, no lookahead ------------------------------------------------------

NAMES = INDICATORS.names()


@pytest.mark.parametrize("name", NAMES)
def test_warmup_is_exactly_the_lookback(name: str) -> None:
    info = indicator_info(name)
    c = btc_5m()
    for params in ({}, {k: v * 2 for k, v in info.defaults.items() if type(v) is int}):
        resolved = info.resolve(params)
        lookback = info.lookback(resolved)
        for output, values in zip(
            info.outputs, info.compute(_inputs(info, c), resolved), strict=True
        ):
            assert len(values) == len(c)
            assert np.isnan(values[:lookback]).all(), (name, output, params)
            assert not np.isnan(values[lookback:]).any(), (name, output, params)


def _inputs(info: Any, c: Candles) -> list[Any]:
    return [getattr(c, name) for name in info.inputs]


@pytest.mark.parametrize("name", NAMES)
def test_short_and_empty_inputs(name: str) -> None:
    info = indicator_info(name)
    params = info.resolve({})
    for n in (0, 1, min(info.lookback(params), 5)):
        for values in info.compute(_inputs(info, btc_5m().slice(0, n)), params):
            assert len(values) == n
            assert np.isnan(values[: info.lookback(params)]).all()


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_no_lookahead(name: str, data: st.DataObject) -> None:
    """The value at t computed on data[:t+1] equals the value at t computed on all the data."""
    info = indicator_info(name)
    params = info.resolve({})
    start = data.draw(st.integers(0, 2000), label="start")
    length = data.draw(st.integers(1, 600), label="length")
    c = btc_5m().slice(start, start + length)
    t = data.draw(st.integers(0, len(c) - 1), label="t")
    full = info.compute(_inputs(info, c), params)
    prefix = info.compute(_inputs(info, c.slice(0, t + 1)), params)
    for f, p in zip(full, prefix, strict=True):
        np.testing.assert_array_equal(p, f[: t + 1])


def test_flat_prices_give_defined_values() -> None:
    c = series([5.0] * 40, volume=[0.0] * 40)
    assert (one("zscore", c) == 0)[19:].all()
    assert (one("cci", c) == 0)[19:].all()
    assert (one("mfi", c) == 0)[14:].all()
    k, d = run("stoch", c)
    assert (k[17:] == 0).all() and (d[17:] == 0).all()
    assert np.isnan(one("vwap", c)).all()  # no volume traded yet: no average price


# ---- parameters ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "params", "words"),
    [
        ("sma", {"period": 0}, ["'sma'", "'period'", "0", ">= 1"]),
        ("sma", {"period": 2.5}, ["'period'", "integer", "2.5"]),
        ("sma", {"period": True}, ["'period'", "integer", "True"]),
        ("rsi", {"period": 1}, ["'rsi'", ">= 2", "default 14"]),
        ("bbands", {"stddev": 0}, ["'stddev'", "> 0"]),
        ("bbands", {"stddev": float("nan")}, ["'stddev'", "a number"]),
        ("sma", {"length": 3}, ["no parameter 'length'", "period (default 20)"]),
        ("macd", {"fast": 30}, ["fast must be < slow"]),
        ("sar", {"acceleration": 0.5}, ["acceleration must be <= maximum"]),
        ("vwap", {"anchor": "day"}, ["'anchor'", "'1d'"]),
        ("returns", {"log": "yes"}, ["'log'", "true or false"]),
        ("sma", {"period": 10**30}, ["'period'", "<= 100000", "default 20"]),
        ("ema", {"period": 100_001}, ["'period'", "<= 100000"]),
        ("bbands", {"stddev": 1e300}, ["'stddev'", "<= 1e+06"]),
    ],
)
def test_bad_parameters_name_the_indicator_parameter_and_fix(
    name: str, params: dict[str, Any], words: list[str]
) -> None:
    with pytest.raises(IndicatorError) as err:
        indicator_info(name).resolve(params)
    for word in words:
        assert word in str(err.value)


def test_good_parameters_are_coerced() -> None:
    assert indicator_info("bbands").resolve({"stddev": 3}) == {"period": 20, "stddev": 3.0}
    assert indicator_info("sma").resolve({"period": np.int64(7)}) == {"period": 7}


def test_unknown_indicator_suggests_close_names() -> None:
    with pytest.raises(IndicatorError, match="Did you mean 'rsi'"):
        indicator_info("rsl")


def test_the_decorator_checks_the_function_against_its_declaration() -> None:
    with pytest.raises(IndicatorError, match="positionally"):

        @indicator("bad_inputs", inputs=("close",), outputs=("x",), lookback=lambda p: 0)
        def bad(high: F64) -> F64:
            return high

    with pytest.raises(IndicatorError, match="needs settle"):

        @indicator("bad_memory", inputs=("close",), outputs=("x",), lookback=lambda p: 0,
                   memory="recursive")  # fmt: skip
        def bad2(close: F64) -> F64:
            return close

    assert "bad_inputs" not in INDICATORS and "bad_memory" not in INDICATORS


def range_pct(high: F64, low: F64, close: F64, *, period: int = 10) -> F64:
    """Average high-low range of the last ``period`` bars, in percent of the close."""
    from candlewick.indicators.library import rolling_mean

    out: F64 = 100 * rolling_mean(high - low, period) / close
    return out


def test_a_user_indicator_in_one_decorator() -> None:
    """The example of docs/indicators.md: registered, validated, computed."""
    indicator("example_range_pct", inputs=("high", "low", "close"), outputs=("range_pct",),
              lookback=lambda p: int(p["period"]) - 1,
              params={"period": Param(min=2)})(range_pct)  # fmt: skip
    info = indicator_info("example_range_pct")
    assert info.defaults == {"period": 10} and info.window(info.resolve({}), 300_000) == 10
    assert info.description.startswith("Average high-low range")
    c = btc_5m()
    same(one("example_range_pct", c, period=5), 100 * talib.SMA(c.high - c.low, 5) / c.close)
    with pytest.raises(IndicatorError, match=">= 2"):
        info.resolve({"period": 1})
