"""Checks of a candle series (order, grid, OHLC sanity, plausible values and times) and its gap
report. Pure and vectorised: the current time, when it matters, is passed in by the caller."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from candlewick.core.timeframes import bucket_start, timeframe_ms
from candlewick.core.types import F64, I64, BoolArr, Candles
from candlewick.errors import DataError

#: How many offending rows an :class:`Issue` lists.
MAX_LISTED = 5
#: No crypto market traded before 2009 (Bitcoin's genesis block): earlier bars are corrupt or in
#: the wrong unit. 2009-01-01 00:00 UTC.
EARLIEST_MS = 1_230_768_000_000
#: Plausible prices: from a satoshi-priced token (1e-8) with room below, to BTC quoted in the
#: weakest currencies (about 2e9) with room above. Outside, a value is a unit or parsing error.
MIN_PRICE, MAX_PRICE = 1e-12, 1e12
#: Plausible volumes (base units per bar): zero, or from dust to above any token's supply.
MIN_VOLUME, MAX_VOLUME = 1e-12, 1e18
#: A series of at least this many bars none of which traded is refused (a few quiet bars in a
#: row are real; a whole series without a trade is not market data).
ZERO_VOLUME_MIN_BARS = 10
#: A lone bar: a run of at most LONE_MAX_BARS bars (and at most 1/LONE_MAX_SHARE of the series)
#: separated from every other bar by at least LONE_MIN_GAP_MS and LONE_MIN_GAP_BARS bars.
LONE_MAX_BARS = 10
LONE_MAX_SHARE = 20
LONE_MIN_GAP_MS = 30 * 86_400_000
LONE_MIN_GAP_BARS = 100

_FIX = {
    "unsorted": "sort the rows by timestamp",
    "duplicate": "keep one row per timestamp",
    "misaligned": "timestamps are bar open times on the timeframe's grid: check the timeframe",
    "nan": "fill or remove those rows",
    "infinite": "replace the value with the exchange's figure or remove the row",
    "magnitude": (
        "no market trades at such a price or volume (a unit or parsing error?): correct or "
        "remove the row"
    ),
    "before_2009": (
        "no crypto market traded before 2009: check that timestamps are milliseconds since "
        "the epoch, or remove the row"
    ),
    "future": (
        "a bar cannot open after now: check that timestamps are milliseconds UTC (and the "
        "system clock), or remove the row"
    ),
    "zero_volume": (
        "check the volume column (is it the right column, in base units?) or take the "
        "candles from a source with volumes"
    ),
    "lone": (
        "it is set aside, not used: remove it, or if it is right, store it on its own or fill "
        "the time between"
    ),
}


@dataclass(frozen=True, slots=True)
class Issue:
    """One kind of problem found in a series: how many rows, and the first of them.

    ``rows`` are positions in the series as given, ``timestamps`` their timestamps and
    ``details`` (empty, or one per listed row) the offending values, e.g. ``high = inf``.
    """

    check: str
    description: str
    count: int
    rows: tuple[int, ...]
    timestamps: tuple[int, ...]
    details: tuple[str, ...] = ()

    @property
    def fix(self) -> str:
        """What to do about it, in a few words."""
        return _FIX.get(self.check, "correct or remove those rows")

    def describe(self, where: Callable[[int], str] | None = None) -> str:
        """The issue in one sentence with its fix; ``where(row)`` names a row (e.g. ``line 7``
        of the file it came from), else the row is named by its timestamp alone."""
        items = []
        for k, (row, ts) in enumerate(zip(self.rows, self.timestamps, strict=True)):
            item = f"timestamp {ts}, {format_ts(ts)} UTC"
            item = f"{where(row)} ({item})" if where is not None else item
            items.append(f"{item}: {self.details[k]}" if self.details else item)
        more = f" and {self.count - len(self.rows)} more" if self.count > len(self.rows) else ""
        return f"{self.count} row(s) {self.description}: {'; '.join(items)}{more}. Fix: {self.fix}."

    def __str__(self) -> str:
        return self.describe()


@dataclass(frozen=True, slots=True)
class ValidationReport:
    """What :func:`validate` found; ``ok`` when there is no issue."""

    rows: int
    issues: tuple[Issue, ...]

    @property
    def ok(self) -> bool:
        """True when the series passed every check."""
        return not self.issues

    def summary(self, where: Callable[[int], str] | None = None) -> str:
        """One sentence per issue, for error messages and the CLI (see :meth:`Issue.describe`)."""
        if self.ok:
            return f"{self.rows} rows, no problem found"
        return " ".join(issue.describe(where) for issue in self.issues)


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


def _issue(
    check: str,
    description: str,
    mask: BoolArr,
    ts: I64,
    cells: dict[str, tuple[F64, BoolArr]] | None = None,
) -> Issue | None:
    """The issue of the rows in ``mask``; ``cells`` maps a column name to its values and the
    mask of its offending values, which then become each listed row's details."""
    rows = np.flatnonzero(mask)
    if len(rows) == 0:
        return None
    first = rows[:MAX_LISTED].tolist()
    details = (
        tuple(
            ", ".join(
                f"{name} = {float(values[row])!r}"
                for name, (values, bad) in cells.items()
                if bad[row]
            )
            for row in first
        )
        if cells
        else ()
    )
    return Issue(
        check, description, len(rows), tuple(first), tuple(int(ts[r]) for r in first), details
    )


def _implausible(values: F64, low: float, high: float) -> BoolArr:
    """Finite values above ``high`` or strictly between 0 and ``low`` (subnormals included)."""
    size = np.abs(values)
    return np.isfinite(values) & ((size > high) | ((size > 0) & (size < low)))


def _any(cells: dict[str, tuple[F64, BoolArr]]) -> BoolArr:
    masks = [bad for _, bad in cells.values()]
    return np.logical_or.reduce(masks) if masks else np.zeros(0, dtype=np.bool_)


def find_lone_bars(timestamp: I64, timeframe: str) -> BoolArr:
    """Bars far from the rest of a sorted series: runs of at most :data:`LONE_MAX_BARS` bars
    (and at most 1/:data:`LONE_MAX_SHARE` of the series) separated from every other bar by at
    least :data:`LONE_MIN_GAP_MS` and :data:`LONE_MIN_GAP_BARS` bars of ``timeframe``.

    Such a bar is almost always a stray row (a wrong date, a row of another file); a long
    exchange outage leaves a gap, not a lone bar, because the bars on both sides are many.
    """
    ts = np.asarray(timestamp, dtype=np.int64)
    far = max(LONE_MIN_GAP_MS, LONE_MIN_GAP_BARS * timeframe_ms(timeframe))
    starts = np.concatenate(([0], np.flatnonzero(np.diff(ts) >= far) + 1))
    if len(starts) < 2:
        return np.zeros(len(ts), dtype=np.bool_)
    sizes = np.diff(np.concatenate((starts, [len(ts)])))
    lone = (sizes <= LONE_MAX_BARS) & (sizes * LONE_MAX_SHARE <= len(ts))
    return np.repeat(lone, sizes)


def all_zero_volume(volume: F64) -> bool:
    """True when a series of at least :data:`ZERO_VOLUME_MIN_BARS` bars never traded."""
    return len(volume) >= ZERO_VOLUME_MIN_BARS and not bool(np.any(volume != 0))


def validate(candles: Candles, now_ms: int | None = None) -> ValidationReport:
    """Check the timestamps, the OHLC sanity rules and that values and times are plausible.

    The rules: timestamps strictly increasing and on the ``timeframe`` grid (UTC), not before
    :data:`EARLIEST_MS` (2009) and, when the caller passes the current time ``now_ms``, not
    opening after it; no NaN, no infinity; ``high >= max(open, close)``,
    ``low <= min(open, close)``, ``low <= high``; prices > 0 and within
    [:data:`MIN_PRICE`, :data:`MAX_PRICE`]; volume 0 or within
    [:data:`MIN_VOLUME`, :data:`MAX_VOLUME`]; not zero volume on every bar of a series of
    :data:`ZERO_VOLUME_MIN_BARS` or more (check ``zero_volume``); no lone bar far from the
    rest (check ``lone``, :func:`find_lone_bars`; a caller may set those bars aside rather
    than refuse the series). A NaN or infinite row is reported once as such, not again by the
    comparisons; a row before 2009 or in the future is not also reported as lone.
    """
    ts = candles.timestamp
    o, h, lo, c, v = candles.open, candles.high, candles.low, candles.close, candles.volume
    columns = {"open": o, "high": h, "low": lo, "close": c, "volume": v}
    nan = _any({name: (values, np.isnan(values)) for name, values in columns.items()})
    infinite = {name: (values, np.isinf(values)) for name, values in columns.items()}
    absurd = {
        name: (values, _implausible(values, MIN_PRICE, MAX_PRICE))
        for name, values in columns.items()
        if name != "volume"
    }
    absurd["volume"] = (v, _implausible(v, MIN_VOLUME, MAX_VOLUME))
    sane = ~(nan | _any(infinite))
    early = ts < EARLIEST_MS
    future = ts > now_ms if now_ms is not None else np.zeros(len(ts), dtype=np.bool_)
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
    lone = np.zeros(len(ts), dtype=np.bool_)
    in_time = ~(early | future)
    if not (unsorted.any() or duplicate.any()):
        lone[in_time] = find_lone_bars(ts[in_time], candles.timeframe)
    silent = np.full(len(ts), all_zero_volume(v), dtype=np.bool_)

    with np.errstate(invalid="ignore"):
        checks: list[tuple[str, str, BoolArr, dict[str, tuple[F64, BoolArr]] | None]] = [
            ("unsorted", "have a timestamp earlier than the row before", unsorted, None),
            ("duplicate", "repeat the timestamp of an earlier row", duplicate, None),
            ("misaligned", f"are not on the {candles.timeframe} grid (UTC)", misaligned, None),
            ("before_2009", "open before 2009", early, None),
            ("future", f"open after the current time, {format_ts(now_ms or 0)} UTC", future, None),
            ("nan", "contain NaN", nan, None),
            ("infinite", "contain an infinite value", _any(infinite), infinite),
            ("magnitude", "have an implausible price or volume", _any(absurd), absurd),
            ("high", "have high below max(open, close)", sane & (h < np.maximum(o, c)), None),
            ("low", "have low above min(open, close)", sane & (lo > np.minimum(o, c)), None),
            ("low_high", "have low above high", sane & (lo > h), None),
            (
                "price",
                "have a price <= 0",
                sane & ((o <= 0) | (h <= 0) | (lo <= 0) | (c <= 0)),
                None,
            ),
            ("volume", "have a negative volume", sane & (v < 0), None),
            (
                "zero_volume",
                "all have zero volume: a series without a single trade is not market data",
                silent,
                None,
            ),
            (
                "lone",
                f"lie at least {LONE_MIN_GAP_MS // 86_400_000} days from any other bar "
                f"(alone or with at most {LONE_MAX_BARS - 1} others)",
                lone,
                None,
            ),
        ]
    issues = tuple(
        issue
        for check, description, mask, cells in checks
        if (issue := _issue(check, description, mask, ts, cells)) is not None
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
