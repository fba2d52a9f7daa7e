"""Timeframe names and their lengths, UTC-aligned bucketing of millisecond timestamps."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import numpy as np
import numpy.typing as npt

MINUTE_MS = 60_000
_UNIT_MS = {"m": MINUTE_MS, "h": 60 * MINUTE_MS, "d": 1440 * MINUTE_MS, "w": 7 * 1440 * MINUTE_MS}
_PATTERN = re.compile(r"^(\d+)([mhdw])$")

#: Timeframes the project resamples to and validates against (Binance's spot intervals subset).
SUPPORTED_TIMEFRAMES = ("1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "12h", "1d", "1w")


def timeframe_ms(timeframe: str) -> int:
    """Length of one candle of ``timeframe`` ("1m", "5m", "1h", "1d" ...) in milliseconds.

    Raises ValueError with the accepted spellings when the name is not understood.
    """
    match = _PATTERN.match(timeframe)
    if match is None or int(match.group(1)) == 0:
        raise ValueError(
            f"unknown timeframe {timeframe!r}: use a number and a unit m/h/d/w, "
            f"one of {', '.join(SUPPORTED_TIMEFRAMES)}"
        )
    return int(match.group(1)) * _UNIT_MS[match.group(2)]


def bucket_start(timestamps_ms: npt.NDArray[np.int64], timeframe: str) -> npt.NDArray[np.int64]:
    """Open time of the ``timeframe`` bucket each timestamp falls into (UTC, epoch-aligned).

    Weekly buckets start on Monday 00:00 UTC, as Binance's 1w candles do (the epoch was a
    Thursday, hence the 4-day offset).
    """
    step = timeframe_ms(timeframe)
    offset = 4 * 1440 * MINUTE_MS if timeframe.endswith("w") else 0
    ts = np.asarray(timestamps_ms, dtype=np.int64)
    return ((ts - offset) // step) * step + offset


def is_multiple(higher: str, lower: str) -> bool:
    """True when candles of ``higher`` are made of a whole number of ``lower`` candles."""
    return timeframe_ms(higher) % timeframe_ms(lower) == 0 and timeframe_ms(higher) >= timeframe_ms(
        lower
    )


def last_closed_index(
    base_ts: npt.NDArray[np.int64],
    base_timeframe: str,
    info_ts: npt.NDArray[np.int64],
    info_timeframe: str,
) -> npt.NDArray[np.int64]:
    """For each base bar, the index of the newest informative bar already **closed** at its close.

    A decision is taken at the close of a base bar (open ``t``, length ``b``): an informative
    bar (open ``u``, length ``h``) is visible then only if ``u + h <= t + b``. The answer is
    -1 where no informative bar has closed yet. This is the one rule that keeps
    higher-timeframe data from leaking into the past.
    """
    base_close = np.asarray(base_ts, dtype=np.int64) + timeframe_ms(base_timeframe)
    info_close = np.asarray(info_ts, dtype=np.int64) + timeframe_ms(info_timeframe)
    return np.searchsorted(info_close, base_close, side="right").astype(np.int64) - 1


def day_ms(day: str | date | None) -> int | None:
    """Milliseconds of the start of a UTC day, given as ``YYYY-MM-DD`` or a date (None: None).

    Raises ValueError naming the expected form for a string that is no such day.
    """
    if day is None:
        return None
    if isinstance(day, str):
        try:
            day = date.fromisoformat(day)
        except ValueError:
            raise ValueError(f"bad date {day!r}: use YYYY-MM-DD") from None
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)
