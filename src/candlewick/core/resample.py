"""Aggregate candles to a higher timeframe on UTC boundaries, as the exchange would.

A bucket's candle takes the first open, the highest high, the lowest low, the last close and
the summed volume of the sub-bars inside it, and is stamped with the bucket's open time
(:func:`candlewick.core.timeframes.bucket_start`). A candle that has not closed is never
shown: when the series starts after the first sub-bar of its first bucket, or ends before the
last sub-bar of its last bucket, that edge bucket is dropped. A bucket with sub-bars missing
*inside* the series (minutes without trades) is kept, as exchanges do.

Resampling in steps (1m -> 5m -> 15m) gives the candles of resampling at once (1m -> 15m),
except next to a gap at an edge of the series: once the partial first 5m bucket is dropped, the
5m series cannot tell "no trades yet" from "before the data began", so the stepwise result may
hide one more candle at that edge. It never differs in the candles it shows.
"""

from __future__ import annotations

import numpy as np

from candlewick.core.timeframes import bucket_start, timeframe_ms
from candlewick.core.types import F64, I64, Candles
from candlewick.errors import DataError

# Volumes are decimals (the exchange's lot size); summing their float64 images drifts by an ULP
# in about a third of the buckets. When every volume has at most this many decimals, the sum is
# done exactly in integer units, which reproduces the exchange's own coarser candles bit for bit.
_MAX_DECIMALS = 10
_SAMPLE = 2048


def _timeframe_ms(timeframe: str) -> int:
    try:
        return timeframe_ms(timeframe)
    except ValueError as exc:
        raise DataError(str(exc)) from exc


def resample(candles: Candles, timeframe: str) -> Candles:
    """Candles of ``timeframe`` built from ``candles`` (a finer timeframe that divides it).

    Raises DataError when ``timeframe`` is not a whole multiple of the source timeframe or the
    source timestamps are not strictly increasing. Returns the input unchanged when the
    timeframes are equal.
    """
    source_ms = _timeframe_ms(candles.timeframe)
    target_ms = _timeframe_ms(timeframe)
    if target_ms == source_ms:
        return candles
    if target_ms < source_ms or target_ms % source_ms:
        raise DataError(
            f"cannot resample {candles.pair} {candles.timeframe} candles to {timeframe}: "
            f"{timeframe} is not a whole multiple of {candles.timeframe}; "
            "pick a target timeframe made of whole source candles"
        )
    ts = candles.timestamp
    if len(ts) == 0:
        return _empty(candles, timeframe)
    if len(ts) > 1 and not bool(np.all(ts[1:] > ts[:-1])):
        raise DataError(
            f"cannot resample {candles.pair} {candles.timeframe}: timestamps are not strictly "
            "increasing; validate and clean the series first"
        )

    buckets = bucket_start(ts, timeframe)
    starts = np.flatnonzero(np.concatenate(([True], buckets[1:] != buckets[:-1])))
    ends = np.concatenate((starts[1:], [len(ts)])) - 1
    keep_from = 1 if ts[0] != buckets[0] else 0
    last_sub_bar = buckets[-1] + target_ms - source_ms
    keep_to = len(starts) - (1 if ts[-1] != last_sub_bar else 0)
    if keep_to <= keep_from:
        return _empty(candles, timeframe)

    # Work only on the sub-bars of complete buckets, so the reductions skip the dropped edges.
    lo = int(starts[keep_from])
    hi = int(ends[keep_to - 1]) + 1
    starts = starts[keep_from:keep_to]
    local = starts - lo
    return Candles(
        candles.exchange,
        candles.pair,
        timeframe,
        buckets[starts],
        candles.open[starts],
        np.maximum.reduceat(candles.high[lo:hi], local),
        np.minimum.reduceat(candles.low[lo:hi], local),
        candles.close[ends[keep_from:keep_to]],
        _sum_volumes(candles.volume[lo:hi], local),
    )


def _empty(candles: Candles, timeframe: str) -> Candles:
    no_f: F64 = np.empty(0, dtype=np.float64)
    no_i: I64 = np.empty(0, dtype=np.int64)
    return Candles(candles.exchange, candles.pair, timeframe, no_i, no_f, no_f, no_f, no_f, no_f)


def _decimal_places(values: F64) -> int | None:
    """The fewest decimals (<= _MAX_DECIMALS) that every value has, or None (float artefacts)."""
    # A sample finds the likely answer cheaply; the whole array confirms it or needs more places.
    sample = values[:_SAMPLE]
    first = next((p for p in range(_MAX_DECIMALS + 1) if _has_places(sample, p)), None)
    if first is None:
        return None
    return next((p for p in range(first, _MAX_DECIMALS + 1) if _has_places(values, p)), None)


def _has_places(values: F64, places: int) -> bool:
    scaled = values * 10.0**places
    # 16 ULP absorbs the parse error of the decimal and the rounding of the multiplication.
    off = np.abs(scaled - np.rint(scaled)) <= 16 * np.spacing(np.abs(scaled))
    return bool(np.all(off))


def _sum_volumes(volume: F64, starts: I64) -> F64:
    """Per-bucket sums of ``volume``: exact decimal sums when possible, float sums otherwise."""
    places = _decimal_places(volume)
    if places is not None:
        scale = 10.0**places
        units = np.rint(volume * scale)
        # Integers and their sums stay exact in float64 below 2**53.
        if float(np.sum(np.abs(units))) < 2.0**53:
            sums: F64 = np.add.reduceat(units.astype(np.int64), starts).astype(np.float64) / scale
            return sums
    floats: F64 = np.add.reduceat(volume, starts)
    return floats
