"""Validation of candle series and the gap report."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from candlewick.core.types import Candles
from candlewick.core.validation import (
    EARLIEST_MS,
    LONE_MAX_BARS,
    MAX_LISTED,
    ZERO_VOLUME_MIN_BARS,
    Gap,
    count_gaps,
    find_gaps,
    find_lone_bars,
    format_ts,
    validate,
)
from candlewick.errors import DataError

MIN = 60_000
T0 = 1_704_067_200_000  # 2024-01-01 00:00 UTC


Edits = dict[str, list[tuple[int, float]]]


def series(n: int = 10, timeframe: str = "1m", changes: Edits | None = None) -> Candles:
    """A clean series of ``n`` bars; ``changes`` sets ``{column: [(row, value), ...]}``."""
    ts = T0 + MIN * np.arange(n, dtype=np.int64)
    cols = {
        "open": np.full(n, 10.0),
        "high": np.full(n, 12.0),
        "low": np.full(n, 9.0),
        "close": np.full(n, 11.0),
        "volume": np.full(n, 5.0),
    }
    for name, edits in (changes or {}).items():
        target = ts if name == "timestamp" else cols[name]
        for row, value in edits:
            target[row] = value
    return Candles("binance", "BTC/USDT", timeframe, ts, *cols.values())


def checks(candles: Candles) -> dict[str, tuple[int, ...]]:
    return {issue.check: issue.rows for issue in validate(candles).issues}


def test_clean_series_passes() -> None:
    report = validate(series())
    assert report.ok
    assert report.rows == 10
    assert report.summary() == "10 rows, no problem found"


def test_empty_series_passes() -> None:
    assert validate(series(0)).ok


def test_flat_zero_volume_bar_is_fine() -> None:
    candles = series(
        3,
        changes={
            "open": [(1, 12.0)],
            "low": [(1, 12.0)],
            "close": [(1, 12.0)],
            "volume": [(1, 0.0)],
        },
    )
    assert validate(candles).ok


@pytest.mark.parametrize(
    ("changes", "check", "rows"),
    [
        ({"high": [(3, 10.5)]}, "high", (3,)),  # below close 11
        ({"low": [(4, 10.5)]}, "low", (4,)),  # above open 10
        ({"open": [(2, -1.0)], "low": [(2, -2.0)]}, "price", (2,)),
        ({"open": [(5, 0.0)], "low": [(5, 0.0)]}, "price", (5,)),
        ({"volume": [(6, -0.5)]}, "volume", (6,)),
        ({"close": [(1, float("nan"))]}, "nan", (1,)),
        ({"timestamp": [(2, T0 + 2 * MIN + 1)]}, "misaligned", (2,)),
    ],
)
def test_each_rule_reports_its_rows(changes: Edits, check: str, rows: tuple[int, ...]) -> None:
    assert checks(series(changes=changes)) == {check: rows}


def test_low_above_high_is_reported_with_the_open_close_rules() -> None:
    found = checks(series(changes={"high": [(7, 8.0)]}))
    assert found["low_high"] == (7,)
    assert found["high"] == (7,)


def test_unsorted_and_duplicate_timestamps() -> None:
    candles = series(
        6, changes={"timestamp": [(2, T0 + 4 * MIN), (4, T0 + 2 * MIN), (5, T0 + 4 * MIN)]}
    )
    # timestamps 0 1 4 3 2 4: rows 3 and 4 go back in time, row 5 repeats row 2
    found = checks(candles)
    assert found["unsorted"] == (3, 4)
    assert found["duplicate"] == (5,)


def test_issue_lists_the_first_rows_and_counts_all() -> None:
    bad = [(i, 1.0) for i in range(0, 20, 2)]
    issue = validate(series(20, changes={"high": bad})).issues[0]
    assert issue.count == 10
    assert issue.rows == tuple(range(0, 2 * MAX_LISTED, 2))
    assert issue.timestamps == tuple(T0 + MIN * r for r in issue.rows)
    assert str(issue).startswith("10 row(s) have high below max(open, close): ")
    assert f"timestamp {T0}, 2024-01-01 00:00 UTC" in str(issue)
    assert "and 5 more. Fix: " in str(issue)


def test_timeframe_is_checked() -> None:
    with pytest.raises(DataError, match="unknown timeframe"):
        validate(series(timeframe="7x"))


def test_format_ts() -> None:
    assert format_ts(T0) == "2024-01-01 00:00"
    assert format_ts(T0 + 1500) == "2024-01-01 00:00:01"
    assert format_ts(10**20) == "out of the calendar's range"


def test_find_gaps_reports_runs() -> None:
    ts = T0 + MIN * np.array([0, 1, 3, 4, 8, 9, 10], dtype=np.int64)
    assert find_gaps(ts, "1m") == (
        Gap(T0 + 2 * MIN, T0 + 2 * MIN, 1),
        Gap(T0 + 5 * MIN, T0 + 7 * MIN, 3),
    )
    assert count_gaps(ts, "1m") == (2, 4)


def test_no_gaps_in_contiguous_or_tiny_series() -> None:
    assert find_gaps(T0 + MIN * np.arange(5, dtype=np.int64), "1m") == ()
    assert find_gaps(np.array([T0], dtype=np.int64), "1m") == ()
    assert find_gaps(np.array([], dtype=np.int64), "1h") == ()
    assert count_gaps(np.array([], dtype=np.int64), "1h") == (0, 0)


@settings(max_examples=200, deadline=None)
@given(st.sets(st.integers(0, 500), min_size=1, max_size=300), st.sampled_from(["1m", "1h"]))
def test_gaps_are_exactly_the_missing_bars(present: set[int], timeframe: str) -> None:
    step = MIN if timeframe == "1m" else 60 * MIN
    ts = T0 + step * np.array(sorted(present), dtype=np.int64)
    gaps = find_gaps(ts, timeframe)
    missing = {(gap.start_ts - T0) // step + k for gap in gaps for k in range(gap.missing)}
    assert missing == set(range(min(present), max(present) + 1)) - present
    for gap in gaps:
        assert gap.end_ts == gap.start_ts + (gap.missing - 1) * step
        assert gap.start_ts - step in ts and gap.end_ts + step in ts
    assert count_gaps(ts, timeframe) == (len(gaps), len(missing))


DAY = 1440 * MIN


@pytest.mark.parametrize(
    ("changes", "check", "rows", "detail"),
    [
        ({"high": [(3, float("inf"))]}, "infinite", (3,), "high = inf"),
        ({"low": [(2, float("-inf"))]}, "infinite", (2,), "low = -inf"),  # not also "price"
        ({"volume": [(4, float("inf"))]}, "infinite", (4,), "volume = inf"),
        ({"high": [(5, 1e308)], "close": [(5, 1e308)]}, "magnitude", (5,), "high = 1e+308"),
        ({"volume": [(1, 1e-320)]}, "magnitude", (1,), "volume = 1e-320"),
        ({"low": [(6, 1e-320)]}, "magnitude", (6,), "low = 1e-320"),
        ({"volume": [(7, 1e30)]}, "magnitude", (7,), "volume = 1e+30"),
    ],
)
def test_non_finite_and_absurd_values_are_reported_with_the_value(
    changes: Edits, check: str, rows: tuple[int, ...], detail: str
) -> None:
    report = validate(series(changes=changes))
    assert {issue.check: issue.rows for issue in report.issues} == {check: rows}
    (issue,) = report.issues
    assert issue.details[0].startswith(detail)
    assert detail in report.summary()


def test_real_extremes_are_plausible() -> None:
    # A satoshi-priced token, a BTC price in a weak currency, a meme coin's volume, dust volume.
    candles = series(
        4,
        changes={
            "open": [(0, 1e-8), (1, 2e9)],
            "low": [(0, 1e-8), (1, 2e9)],
            "high": [(0, 2e-8), (1, 3e9)],
            "close": [(0, 1e-8), (1, 2e9)],
            "volume": [(2, 5e14), (3, 1e-8)],
        },
    )
    assert validate(candles).ok


def test_timestamps_before_2009_are_refused() -> None:
    early = EARLIEST_MS - DAY
    candles = series(changes={"timestamp": [(0, early)]})
    assert {i.check: i.rows for i in validate(candles).issues} == {"before_2009": (0,)}
    assert format_ts(EARLIEST_MS) == "2009-01-01 00:00"


def test_future_bars_are_refused_only_against_the_clock_given() -> None:
    assert validate(series()).ok  # the core has no clock: without one, no future check
    now = T0 + 5 * MIN
    report = validate(series(), now_ms=now)
    assert {i.check: i.rows for i in report.issues} == {"future": (6, 7, 8, 9)}
    assert "2024-01-01 00:05" in report.summary()
    assert validate(series(), now_ms=T0 + 9 * MIN).ok  # a bar opening exactly now is fine


def test_zero_volume_everywhere_is_refused() -> None:
    n = ZERO_VOLUME_MIN_BARS
    silent = series(n, changes={"volume": [(i, 0.0) for i in range(n)]})
    (issue,) = validate(silent).issues
    assert (issue.check, issue.count) == ("zero_volume", n)
    assert "not market data" in str(issue)
    one_trade = series(n, changes={"volume": [(i, 0.0) for i in range(1, n)]})
    assert validate(one_trade).ok
    short = series(n - 1, changes={"volume": [(i, 0.0) for i in range(n - 1)]})
    assert validate(short).ok  # a few quiet bars can be real


def _with_lone(n: int, at: list[int]) -> Candles:
    """``n`` contiguous 1m bars plus bars at the given minute offsets."""
    candles = series(n + len(at))
    ts = candles.timestamp.copy()
    ts[n:] = T0 + MIN * np.array(at, dtype=np.int64)
    order = np.argsort(ts)
    cols = (candles.column(c)[order] for c in ("open", "high", "low", "close", "volume"))
    return Candles("binance", "BTC/USDT", "1m", ts[order], *cols)


def test_a_lone_bar_far_from_the_rest_is_reported() -> None:
    later = _with_lone(200, [200 + 60 * 1440])  # 60 days after the last bar
    assert find_lone_bars(later.timestamp, "1m").nonzero()[0].tolist() == [200]
    (issue,) = validate(later).issues
    assert (issue.check, issue.rows) == ("lone", (200,))
    assert "days from any other bar" in str(issue)
    earlier = _with_lone(200, [-45 * 1440, -45 * 1440 + 1])  # two bars 45 days before
    assert find_lone_bars(earlier.timestamp, "1m").nonzero()[0].tolist() == [0, 1]


def test_bars_are_not_lone_when_near_or_many() -> None:
    near = _with_lone(200, [200 + 10 * 1440])  # 10 days away: a long outage, not lone
    assert not find_lone_bars(near.timestamp, "1m").any()
    cluster = _with_lone(200, [200 + 60 * 1440 + k for k in range(LONE_MAX_BARS + 1)])
    assert not find_lone_bars(cluster.timestamp, "1m").any()  # a segment of its own
    halves = _with_lone(10, [60 * 1440 + k for k in range(10)])
    assert not find_lone_bars(halves.timestamp, "1m").any()  # no "rest" to be far from
    assert not find_lone_bars(np.array([T0], dtype=np.int64), "1m").any()


def test_a_lone_bar_before_2009_is_reported_once() -> None:
    candles = series(100, changes={"timestamp": [(0, EARLIEST_MS - 400 * DAY)]})
    assert [i.check for i in validate(candles).issues] == ["before_2009"]


def test_describe_names_rows_with_the_callers_labels() -> None:
    report = validate(series(changes={"high": [(3, float("inf"))]}))
    text = report.summary(lambda row: f"line {row + 2}")
    assert text.startswith("1 row(s) contain an infinite value: line 5 (timestamp ")
    assert "high = inf" in text and "Fix: " in text
