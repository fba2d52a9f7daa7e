"""Built-in filters on hand-made frames (exact verdicts and reasons) and without lookahead."""

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
from candlewick.signals import FILTERS, FilterVerdict
from candlewick.signals.filters import parse_hour_windows

NAN = np.nan
HOUR_MS = 3_600_000
DAY0 = 1_704_067_200_000  # 2024-01-01 00:00 UTC


def judge(
    name: str,
    frame: pd.DataFrame,
    params: Mapping[str, Any] | None = None,
    entries: BoolArr | None = None,
    exits: BoolArr | None = None,
) -> FilterVerdict:
    if entries is None:
        entries = np.ones(len(frame), dtype=np.bool_)
    return FILTERS.get(name)(frame, entries, params, exits=exits)


def kept(verdict: FilterVerdict) -> list[int]:
    return [int(i) for i in np.flatnonzero(verdict.keep)]


def test_volume_relative_to_its_moving_average() -> None:
    frame = pd.DataFrame({"volume": [10.0, 10, 10, 5, 20, 10]})
    out = judge("volume", frame, {"n": 3, "k": 1.0})
    assert kept(out) == [2, 4]
    assert out.reason[0] == "volume SMA(3) not available yet (warm-up)"
    assert out.reason[3] == "volume 5 < 1 x SMA(3) 8.333"
    assert out.reason[2] == ""


def test_volume_absolute_minimum() -> None:
    frame = pd.DataFrame({"volume": [10.0, 10, 10, 5, 20, 10]})
    out = judge("volume", frame, {"k": None, "min_volume": 12.0})
    assert kept(out) == [4]
    assert out.reason[0] == "volume 10 < minimum 12"
    with pytest.raises(StrategyError, match="set k, min_volume"):
        judge("volume", frame, {"k": None})


def test_reasons_are_written_for_rejected_entries_only() -> None:
    frame = pd.DataFrame({"volume": [10.0, 10, 10, 5, 20, 10]})
    entries = np.array([False, False, False, True, False, False])
    out = judge("volume", frame, {"n": 3, "k": 1.0}, entries)
    assert [i for i, r in enumerate(out.reason) if r] == [3]


def test_volatility_band_with_an_atr_column() -> None:
    frame = pd.DataFrame({"close": [100.0] * 4, "atr": [NAN, 1, 2, 5]})
    out = judge("volatility_band", frame, {"atr": "atr", "min_ratio": 0.015, "max_ratio": 0.04})
    assert kept(out) == [2]
    assert list(out.reason) == [
        "atr not available yet (warm-up)",
        "atr/close 0.01 < min 0.015",
        "",
        "atr/close 0.05 > max 0.04",
    ]


def test_volatility_band_computes_talib_atr_without_a_column() -> None:
    rng = np.random.default_rng(7)
    close = 100 + rng.normal(0, 1, 60).cumsum()
    frame = pd.DataFrame({"high": close + 1, "low": close - 1.5, "close": close})
    atr = talib.ATR(close + 1, close - 1.5, close, timeperiod=5)
    params = {"min_ratio": 0.02, "max_ratio": 0.03}
    computed = judge("volatility_band", frame, {**params, "period": 5})
    given_col = judge("volatility_band", frame.assign(atr5=atr), {**params, "atr": "atr5"})
    np.testing.assert_array_equal(computed.keep, given_col.keep)
    assert 0 < computed.keep.sum() < 55
    assert computed.reason[0] == "ATR(5) not available yet (warm-up)"


def test_htf_trend() -> None:
    frame = pd.DataFrame({"close_1h": [1.0, 2, 3, NAN], "ema_1h": [2.0, 2, 2, 2]})
    up = judge("htf_trend", frame)
    assert kept(up) == [2]
    assert up.reason[0] == "close_1h 1 <= ema_1h 2 (trend not up)"
    assert kept(judge("htf_trend", frame, {"direction": "down"})) == [0]
    with pytest.raises(StrategyError, match="direction"):
        judge("htf_trend", frame, {"direction": "sideways"})


def hourly(n: int = 24, start: int = DAY0) -> pd.DataFrame:
    return pd.DataFrame({"timestamp": start + np.arange(n, dtype=np.int64) * HOUR_MS})


@pytest.mark.parametrize(
    ("hours", "expected"),
    [
        ("08-20", list(range(8, 20))),
        ("22-04", [0, 1, 2, 3, 22, 23]),
        ("08-12,14-18", [8, 9, 10, 11, 14, 15, 16, 17]),
        (["08-12", "14-18"], [8, 9, 10, 11, 14, 15, 16, 17]),
        ("00-24", list(range(24))),
        ("23:30-00:30", [0]),
    ],
)
def test_time_of_day_windows(hours: str | list[str], expected: list[int]) -> None:
    assert kept(judge("time_of_day", hourly(), {"allowed_hours": hours})) == expected


def test_time_of_day_uses_the_bar_close_when_given_the_timeframe() -> None:
    out = judge("time_of_day", hourly(), {"allowed_hours": "08-20", "timeframe": "1h"})
    assert kept(out) == list(range(7, 19))  # the 07:00 bar closes at 08:00
    assert out.reason[19] == "20:00 UTC outside 08:00-20:00"


@pytest.mark.parametrize("bad", ["25-03", "8", "08-08", "08:61-09", "abc", "08-25"])
def test_bad_hour_windows_are_rejected(bad: str) -> None:
    with pytest.raises(StrategyError, match="HH-HH"):
        parse_hour_windows(bad)


def test_cooldown_after_exit_signals() -> None:
    frame = pd.DataFrame({"close": np.ones(8)})
    exits = np.zeros(8, dtype=np.bool_)
    exits[2] = True
    out = judge("cooldown", frame, {"bars": 3}, exits=exits)
    assert kept(out) == [0, 1, 6, 7]
    assert out.reason[4] == "2 bars after the exit signal at bar 2 (cooldown 3)"
    from_column = judge("cooldown", frame.assign(x=exits), {"bars": 3, "exit_column": "x"})
    np.testing.assert_array_equal(out.keep, from_column.keep)
    with pytest.raises(StrategyError, match="needs exit signals"):
        judge("cooldown", frame)


def test_unknown_filter_param_and_missing_column() -> None:
    frame = pd.DataFrame({"close": [1.0]})
    with pytest.raises(StrategyError, match="no param 'window'"):
        judge("volume", frame, {"window": 3})
    with pytest.raises(StrategyError, match=r"'htf_trend'.*'close_1h'.*Columns: close"):
        judge("htf_trend", frame)


# ------------------------------------------------------------------------------ no lookahead

VARIANTS: list[tuple[str, dict[str, Any]]] = [
    ("volume", {"n": 3, "k": 1.0, "min_volume": 2.0}),
    ("volatility_band", {"period": 3, "min_ratio": 0.1, "max_ratio": 1.0}),
    ("volatility_band", {"atr": "atr", "max_ratio": 1.0}),
    ("htf_trend", {}),
    ("time_of_day", {"allowed_hours": "22-04,10-12", "timeframe": "1h"}),
    ("cooldown", {"bars": 2}),
]


def random_frame(rng: np.random.Generator, n: int) -> pd.DataFrame:
    close = rng.choice([1.0, 2.0, 3.0], size=n)
    gaps = rng.integers(1, 5, size=n).cumsum()
    return pd.DataFrame(
        {
            "timestamp": DAY0 + gaps.astype(np.int64) * HOUR_MS,
            "high": close + rng.choice([0.0, 0.5, 1.0], size=n),
            "low": close - rng.choice([0.0, 0.5], size=n),
            "close": close,
            "volume": rng.choice([NAN, 1.0, 2.0, 3.0], size=n),
            "atr": rng.choice([NAN, 0.5, 1.0, 2.0], size=n),
            "close_1h": rng.choice([NAN, 1.0, 2.0], size=n),
            "ema_1h": rng.choice([NAN, 1.0, 2.0], size=n),
        }
    )


def test_variants_cover_every_built_in_filter() -> None:
    builtin = {e.name for e in FILTERS if e.func.__module__ == "candlewick.signals.filters"}
    assert builtin == {name for name, _ in VARIANTS}


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 40), data=st.data())
def test_verdicts_up_to_t_ignore_bars_after_t(seed: int, n: int, data: st.DataObject) -> None:
    rng = np.random.default_rng(seed)
    t = data.draw(st.integers(0, n - 1), label="t")
    frame, other = random_frame(rng, n), random_frame(rng, n)
    # Keep the clock increasing after the cut.
    other["timestamp"] += frame["timestamp"].iloc[t] - other["timestamp"].iloc[0] + HOUR_MS
    changed = pd.concat([frame.iloc[: t + 1], other.iloc[t + 1 :]])
    entries, exits = rng.random(n) < 0.5, rng.random(n) < 0.3
    entries2, exits2 = entries.copy(), exits.copy()
    entries2[t + 1 :], exits2[t + 1 :] = rng.random(n - t - 1) < 0.5, rng.random(n - t - 1) < 0.5
    for name, params in VARIANTS:
        a = judge(name, frame, params, entries, exits)
        b = judge(name, changed, params, entries2, exits2)
        assert a.keep[: t + 1].tolist() == b.keep[: t + 1].tolist(), name
        assert a.reason[: t + 1].tolist() == b.reason[: t + 1].tolist(), name


def test_time_of_day_matches_the_close_when_the_frame_knows_its_timeframe() -> None:
    # An 1h bar opening at 19:00 closes at 20:00: outside "08-20" when judged at its close.
    hour = 3_600_000
    frame = pd.DataFrame({"timestamp": np.array([18, 19], dtype=np.int64) * hour})
    entries = np.array([True, True])
    by_open = FILTERS.get("time_of_day")(frame, entries, {"allowed_hours": "08-20"})
    assert by_open.keep.tolist() == [True, True]
    frame.attrs["timeframe"] = "1h"
    by_close = FILTERS.get("time_of_day")(frame, entries, {"allowed_hours": "08-20"})
    assert by_close.keep.tolist() == [True, False]
