"""Validation of candle series and the gap report."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from candlewick.core.types import Candles
from candlewick.core.validation import (
    MAX_LISTED,
    Gap,
    count_gaps,
    find_gaps,
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
    assert "10 row(s) have high below max(open, close)" in str(issue)
    assert f"{T0} (2024-01-01 00:00)" in str(issue)
    assert str(issue).endswith(", ...)")


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
