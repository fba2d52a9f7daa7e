"""Checks of a candle series (order, grid, OHLC sanity) and its gap report. Pure and vectorised."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt

from candlewick.core.timeframes import bucket_start, timeframe_ms
from candlewick.core.types import I64, BoolArr, Candles
from candlewick.errors import DataError

#: How many offending rows an :class:`Issue` lists.
MAX_LISTED = 5


@dataclass(frozen=True, slots=True)
class Issue:
    """One kind of problem found in a series: how many rows, and the first of them.

    ``rows`` are positions in the series as given, ``timestamps`` their timestamps.
    """

    check: str
    description: str
    count: int
    rows: tuple[int, ...]
    timestamps: tuple[int, ...]

    def __str__(self) -> str:
        listed = ", ".join(f"{ts} ({format_ts(ts)})" for ts in self.timestamps)
        more = ", ..." if self.count > len(self.timestamps) else ""
        return f"{self.count} row(s) {self.description} (timestamps {listed}{more})"


@dataclass(frozen=True, slots=True)
class ValidationReport:
    """What :func:`validate` found; ``ok`` when there is no issue."""

    rows: int
    issues: tuple[Issue, ...]

    @property
    def ok(self) -> bool:
        """True when the series passed every check."""
        return not self.issues

    def summary(self) -> str:
        """One line per issue, for error messages and the CLI."""
        if self.ok:
            return f"{self.rows} rows, no problem found"
        return "; ".join(str(issue) for issue in self.issues)


@dataclass(frozen=True, slots=True)
class Gap:
    """A run of missing bars: open times of the first and the last missing bar, and how many."""

    start_ts: int
    end_ts: int
    missing: int


def format_ts(ms: int) -> str:
    """A millisecond UTC timestamp as ``YYYY-MM-DD HH:MM`` (seconds shown only when not zero)."""
    try:
        moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return "out of the calendar's range"
    fmt = "%Y-%m-%d %H:%M:%S" if moment.second or moment.microsecond else "%Y-%m-%d %H:%M"
    return moment.strftime(fmt)


def _issue(check: str, description: str, mask: BoolArr, ts: I64) -> Issue | None:
    rows = np.flatnonzero(mask)
    if len(rows) == 0:
        return None
    first = rows[:MAX_LISTED]
    return Issue(
        check,
        description,
        len(rows),
        tuple(int(r) for r in first),
        tuple(int(t) for t in ts[first]),
    )


def validate(candles: Candles) -> ValidationReport:
    """Check order, uniqueness and grid alignment of the timestamps and the OHLC sanity rules.

    The rules: timestamps strictly increasing and on the ``timeframe`` grid (UTC); no NaN;
    ``high >= max(open, close)``, ``low <= min(open, close)``, ``low <= high``; prices > 0;
    ``volume >= 0``. A NaN row is reported once, as NaN, not again by the comparisons.
    """
    ts = candles.timestamp
    o, h, lo, c, v = candles.open, candles.high, candles.low, candles.close, candles.volume
    nan = np.isnan(o) | np.isnan(h) | np.isnan(lo) | np.isnan(c) | np.isnan(v)
    try:
        misaligned = bucket_start(ts, candles.timeframe) != ts
    except ValueError as exc:
        raise DataError(str(exc)) from exc

    unsorted = np.zeros(len(ts), dtype=np.bool_)
    unsorted[1:] = ts[1:] < ts[:-1]
    # Duplicates are found in sorted order so that they are caught even in an unsorted series.
    order = np.argsort(ts, kind="stable")
    dup_sorted = np.zeros(len(ts), dtype=np.bool_)
    dup_sorted[1:] = ts[order][1:] == ts[order][:-1]
    duplicate = np.zeros(len(ts), dtype=np.bool_)
    duplicate[order[dup_sorted]] = True

    with np.errstate(invalid="ignore"):
        checks: list[tuple[str, str, npt.NDArray[np.bool_]]] = [
            ("unsorted", "have a timestamp earlier than the row before", unsorted),
            ("duplicate", "repeat the timestamp of an earlier row", duplicate),
            ("misaligned", f"are not on the {candles.timeframe} grid (UTC)", misaligned),
            ("nan", "contain NaN", nan),
            ("high", "have high below max(open, close)", h < np.maximum(o, c)),
            ("low", "have low above min(open, close)", lo > np.minimum(o, c)),
            ("low_high", "have low above high", lo > h),
            ("price", "have a price <= 0", (o <= 0) | (h <= 0) | (lo <= 0) | (c <= 0)),
            ("volume", "have a negative volume", v < 0),
        ]
    issues = tuple(
        issue
        for check, description, mask in checks
        if (issue := _issue(check, description, mask, ts)) is not None
    )
    return ValidationReport(len(ts), issues)


def find_gaps(timestamp: I64, timeframe: str) -> tuple[Gap, ...]:
    """Runs of missing bars in a sorted, grid-aligned series of open times.

    A gap is reported between two consecutive bars further apart than one ``timeframe``.
    """
    step = timeframe_ms(timeframe)
    ts = np.asarray(timestamp, dtype=np.int64)
    diff = np.diff(ts)
    at = np.flatnonzero(diff > step)
    starts = ts[at] + step
    ends = ts[at + 1] - step
    missing = diff[at] // step - 1
    return tuple(
        Gap(s, e, m)
        for s, e, m in zip(starts.tolist(), ends.tolist(), missing.tolist(), strict=True)
    )


def count_gaps(timestamp: I64, timeframe: str) -> tuple[int, int]:
    """Number of gap runs and of missing bars, without building :class:`Gap` objects."""
    step = timeframe_ms(timeframe)
    diff = np.diff(np.asarray(timestamp, dtype=np.int64))
    over = diff[diff > step]
    return len(over), int(np.sum(over // step - 1))
