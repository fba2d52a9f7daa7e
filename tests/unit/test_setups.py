"""Built-in setups on hand-made frames (exact bars), on real candles, and without lookahead."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import pytest
import talib
from hypothesis import given, settings
from hypothesis import strategies as st

from candlewick.core.types import BoolArr
from candlewick.errors import StrategyError
from candlewick.paths import shared_data_dir
from candlewick.signals import SETUPS, SetupSignals, column, setup

NAN = np.nan


def bars(signal: BoolArr) -> list[int]:
    return [int(i) for i in np.flatnonzero(signal)]


def run(name: str, frame: pd.DataFrame, params: Mapping[str, Any] | None = None) -> SetupSignals:
    return SETUPS.get(name)(frame, params)


# ------------------------------------------------------------------------------ hand-made


def test_ma_cross_exact_bars() -> None:
    frame = pd.DataFrame(
        {
            "sma_fast": [NAN, 1, 2, 3, 2, 1, 1, 2],
            "sma_slow": [NAN, 2, 2, 2, 2, 2, 1, 1],
        }
    )
    out = run("ma_cross", frame)
    # bar 2 touches (2 == 2) without crossing; bar 3 crosses; bar 7 crosses up from equality.
    assert bars(out.entry) == [3, 7]
    assert bars(out.exit) == [5]
    assert out.strength is None


def test_ma_cross_uses_the_columns_named_by_params() -> None:
    frame = pd.DataFrame({"ema_a": [1.0, 3.0, 1.0], "ema_b": [2.0, 2.0, 2.0]})
    out = run("ma_cross", frame, {"fast": "ema_a", "slow": "ema_b"})
    assert bars(out.entry) == [1]
    assert bars(out.exit) == [2]


RSI = [NAN, 35, 25, 28, 31, 55, 71, 65, 20, 30, 30.5]


@pytest.mark.parametrize(
    ("params", "entries", "exits"),
    [
        ({}, [4, 10], [6]),
        ({"entry": "below"}, [2, 3, 8], [6]),
        ({"exit_at": "mid"}, [4, 10], [5]),
        ({"lower": 20.0, "upper": 60.0}, [9], [6]),
    ],
)
def test_rsi_mean_reversion_exact_bars(
    params: dict[str, Any], entries: list[int], exits: list[int]
) -> None:
    out = run("rsi_mean_reversion", pd.DataFrame({"rsi": RSI}), params)
    assert bars(out.entry) == entries
    assert bars(out.exit) == exits


def test_macd_trend_exact_bars() -> None:
    frame = pd.DataFrame(
        {
            "macd_macd": [NAN, -1, -0.5, -0.2, 0.3, 0.5, 0.2, 0.6],
            "macd_signal": [NAN, -0.8, -0.6, -0.3, 0.1, 0.4, 0.4, 0.4],
        }
    )
    assert bars(run("macd_trend", frame).entry) == [2, 7]
    assert bars(run("macd_trend", frame).exit) == [6]
    assert bars(run("macd_trend", frame, {"require_positive": True}).entry) == [7]


def test_bollinger_breakout_exact_bars_and_strength() -> None:
    frame = pd.DataFrame(
        {
            "close": [1.0, 2, 3, 4, 3, 2, 5],
            "bb_upper": [NAN, 3, 3, 3.5, 3.5, 3.5, 4],
            "bb_middle": [NAN, 2, 2, 2.5, 2.5, 2.5, 3],
        }
    )
    out = run("bollinger_breakout", frame)
    assert bars(out.entry) == [3, 6]
    assert bars(out.exit) == [5]
    assert out.strength is not None
    assert out.strength[[3, 6]].tolist() == [0.5, 1.0]


DONCHIAN = pd.DataFrame(
    {
        "high": [10.0, 11, 12, 11, 10, 13, 9, 8],
        "low": [9.0, 10, 11, 10, 9, 12, 7, 6],
        "close": [9.5, 10.5, 11.5, 10.5, 9.5, 12.5, 8, 7],
    }
)


def test_donchian_compares_the_close_with_the_previous_channel() -> None:
    out = run("donchian_breakout", DONCHIAN, {"period": 3})
    # Bar 5 closes at 12.5: above the channel of bar 4 (12) but below its own (13, its high).
    assert bars(out.entry) == [5]
    assert bars(out.exit) == [4, 6]
    mid = run("donchian_breakout", DONCHIAN, {"period": 3, "exit_at": "middle"})
    assert bars(mid.exit) == [4, 6, 7]


def test_donchian_with_channel_columns_matches_computed_channel() -> None:
    frame = DONCHIAN.assign(
        dc_up=DONCHIAN["high"].rolling(3).max(), dc_low=DONCHIAN["low"].rolling(3).min()
    )
    a = run("donchian_breakout", frame, {"upper": "dc_up", "lower": "dc_low"})
    b = run("donchian_breakout", frame, {"period": 3})
    assert bars(a.entry) == bars(b.entry) == [5]
    assert bars(a.exit) == bars(b.exit)


MTF = pd.DataFrame(
    {
        "ema_fast_1h": [1.0, 1, 1, 1, 1, 0, 0, 0, 0],
        "ema_slow_1h": [0.0, 0, 0, 0, 0, 1, 1, 1, 1],
        "sma_fast": [NAN, 1, 2, 1, 2, 2, 1, 2, 2],
        "sma_slow": [1.5] * 9,
        "rsi": [NAN, 45, 38, 42, 60, 71, 39, 41, 50],
    }
)


def test_mtf_trend_follower_cross_trigger() -> None:
    out = run("mtf_trend_follower", MTF)
    assert bars(out.entry) == [2, 4]  # the cross at bar 7 comes after the 1h trend flipped
    assert bars(out.exit) == [3, 5, 6]  # crosses down at 3 and 6, trend flip at 5
    no_flip = run("mtf_trend_follower", MTF, {"exit_on_trend_flip": False})
    assert bars(no_flip.exit) == [3, 6]


def test_mtf_trend_follower_rsi_pullback_trigger() -> None:
    out = run("mtf_trend_follower", MTF, {"trigger": "rsi_pullback"})
    assert bars(out.entry) == [3]  # bar 7 also crosses 40 but the trend is down
    assert bars(out.exit) == [5]


def test_mtf_trend_follower_accepts_close_vs_ema_as_trend() -> None:
    frame = MTF.rename(columns={"ema_fast_1h": "close_1h", "ema_slow_1h": "ema_1h"})
    out = run("mtf_trend_follower", frame, {"trend_fast": "close_1h", "trend_slow": "ema_1h"})
    assert bars(out.entry) == [2, 4]


# ------------------------------------------------------------------------------ validation


def test_missing_column_error_names_everything_needed_to_fix_it() -> None:
    frame = pd.DataFrame({"close": [1.0], "sma_fast": [1.0]})
    with pytest.raises(StrategyError) as info:
        run("ma_cross", frame, {"slow": "sma_50"})
    msg = str(info.value)
    for part in ("'ma_cross'", "'slow'", "'sma_50'", "close, sma_fast", "moving average"):
        assert part in msg


def test_unknown_param_is_rejected_with_a_suggestion() -> None:
    with pytest.raises(StrategyError, match=r"no param 'fats'.*Did you mean 'fast'"):
        run("ma_cross", pd.DataFrame({"a": [1.0]}), {"fats": "a"})


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("rsi_mean_reversion", {"lower": "thirty"}),
        ("rsi_mean_reversion", {"lower": 80.0, "upper": 70.0}),
        ("rsi_mean_reversion", {"entry": "sometimes"}),
        ("donchian_breakout", {"period": 2.5}),
        ("donchian_breakout", {"period": 0}),
        ("donchian_breakout", {"period": 10**30}),  # too big for int64: refused, not a crash
        ("donchian_breakout", {"period": 1_000_001}),
        ("mtf_trend_follower", {"trigger": "moon"}),
    ],
)
def test_bad_param_values_are_rejected(name: str, params: dict[str, Any]) -> None:
    frame = pd.DataFrame({c: [1.0, 2.0] for c in ("rsi", "high", "low", "close")})
    frame = frame.assign(ema_fast_1h=1.0, ema_slow_1h=0.0)
    with pytest.raises(StrategyError, match=name):
        run(name, frame, params)


@setup("test_only_float_signals", defaults={})
def _float_signals(frame: pd.DataFrame, params: Mapping[str, Any]) -> SetupSignals:
    values = np.ones(len(frame))
    return SetupSignals(values, values)  # type: ignore[arg-type]


@setup("test_only_short", defaults={"col": "close"}, columns={"col": "a price"})
def _short(frame: pd.DataFrame, params: Mapping[str, Any]) -> SetupSignals:
    flags = column(frame, params, "col")[:-1] > 0
    return SetupSignals(flags, flags)


def test_malformed_setup_results_are_rejected() -> None:
    frame = pd.DataFrame({"close": [1.0, 2.0]})
    with pytest.raises(StrategyError, match="boolean array"):
        run("test_only_float_signals", frame)
    with pytest.raises(StrategyError, match=r"test_only_short.*shape \(1,\).*2 rows"):
        run("test_only_short", frame)


def test_a_taken_name_cannot_be_registered_again() -> None:
    with pytest.raises(ValueError, match="already registered"):
        setup("ma_cross")(_short)


# ------------------------------------------------------------------------------ real candles


def test_ma_cross_on_real_candles_matches_a_plain_loop() -> None:
    data = shared_data_dir()
    if data is None:
        pytest.skip("shared data folder (../shared/data) not found")
    candles = pd.read_csv(data / "candles" / "binance_XRP-USDT_5m.csv")
    close = candles["close"].to_numpy(dtype=np.float64)
    fast, slow = talib.SMA(close, timeperiod=10), talib.SMA(close, timeperiod=30)
    out = run("ma_cross", candles.assign(sma_fast=fast, sma_slow=slow))

    want_entry, want_exit = [], []
    for t in range(1, len(close)):
        f0, s0, f1, s1 = fast[t - 1], slow[t - 1], fast[t], slow[t]
        if any(np.isnan(v) for v in (f0, s0, f1, s1)):
            continue
        if f1 > s1 and f0 <= s0:
            want_entry.append(t)
        if f1 < s1 and f0 >= s0:
            want_exit.append(t)
    assert len(want_entry) > 20
    assert bars(out.entry) == want_entry
    assert bars(out.exit) == want_exit


# ------------------------------------------------------------------------------ no lookahead

#: Every built-in setup with the param variants that take different code paths.
VARIANTS: list[tuple[str, dict[str, Any]]] = [
    ("ma_cross", {}),
    ("rsi_mean_reversion", {}),
    ("rsi_mean_reversion", {"entry": "below", "exit_at": "mid"}),
    ("macd_trend", {"require_positive": True}),
    ("bollinger_breakout", {}),
    ("donchian_breakout", {"period": 3}),
    ("donchian_breakout", {"upper": "dc_up", "lower": "dc_low", "exit_at": "middle"}),
    ("mtf_trend_follower", {}),
    ("mtf_trend_follower", {"trigger": "rsi_pullback"}),
]
COLUMNS = [
    "open",
    "high",
    "low",
    "close",
    "volume",
    "sma_fast",
    "sma_slow",
    "rsi",
    "macd_macd",
    "macd_signal",
    "bb_upper",
    "bb_middle",
    "dc_up",
    "dc_low",
    "ema_fast_1h",
    "ema_slow_1h",
]


def random_frame(rng: np.random.Generator, n: int) -> pd.DataFrame:
    # A few repeated values and NaNs so that ties and warm-up gaps occur often.
    values = np.array([NAN, 1.0, 2.0, 3.0, 25.0, 50.0, 75.0])
    cols = {c: rng.choice(values, size=n) for c in COLUMNS}
    return pd.DataFrame({"timestamp": np.arange(n, dtype=np.int64) * 300_000, **cols})


def test_variants_cover_every_built_in_setup() -> None:
    builtin = {e.name for e in SETUPS if e.func.__module__ == "candlewick.signals.setups"}
    assert builtin == {name for name, _ in VARIANTS}


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 40), data=st.data())
def test_signals_up_to_t_ignore_bars_after_t(seed: int, n: int, data: st.DataObject) -> None:
    rng = np.random.default_rng(seed)
    t = data.draw(st.integers(0, n - 1), label="t")
    frame = random_frame(rng, n)
    changed = pd.concat([frame.iloc[: t + 1], random_frame(rng, n).iloc[t + 1 :]])
    for name, params in VARIANTS:
        a, b = run(name, frame, params), run(name, changed, params)
        assert bars(a.entry[: t + 1]) == bars(b.entry[: t + 1]), name
        assert bars(a.exit[: t + 1]) == bars(b.exit[: t + 1]), name
        if a.strength is not None and b.strength is not None:
            np.testing.assert_array_equal(a.strength[: t + 1], b.strength[: t + 1])
