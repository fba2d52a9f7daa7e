"""The replayed market of one pair: stored 1m candles, the price path inside a minute, klines.

**The price path.** Inside its minute a stored candle ``O H L C`` is replayed as a straight-line
path through four points: the open at 0 s, the extreme nearer to the open at 20 s, the other
extreme at 40 s, and the close at 60 s. When the high and the low are equally far from the
open, the low comes first if the candle closed at or above its open, the high first otherwise.
Prices on the path are rounded to the pair's tick size. The candle that is still open evolves
along this path: at a fraction ``f`` of its minute its close is the path price, its high and
low are the extremes of the path so far and its volume is ``f`` times the stored volume. A
minute without a stored candle (an exchange outage in the data) has no trading: the price
stays at the previous close.

**Klines** of any Binance interval (1m ... 1M) are aggregated from the 1m candles, on UTC
boundaries (weeks start on Monday, months on the 1st): open of the first minute, high and low
of all, close of the last, volumes summed. Only minutes that have started on the replay clock
are visible; the last kline may be the open one. Binance's other kline fields are filled as
follows: quote volume = sum of volume x (O+H+L+C)/4 per minute (the store has no trade prices),
trade count and taker volumes 0 (unknown).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from candlewick.core.timeframes import bucket_start, timeframe_ms
from candlewick.core.types import F64, I64, Candles

MINUTE = 60_000
DAY = 86_400_000
INTERVALS = (
    "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d", "1w", "1M",
)  # fmt: skip
_THIRD = MINUTE // 3


def fmt(value: float) -> str:
    """A number as Binance writes it: plain decimal, 8 places."""
    return f"{value:.8f}"


def buckets_of(ts: I64, interval: str) -> I64:
    """Open time of the ``interval`` kline each timestamp falls into (UTC)."""
    if interval == "1M":
        months = ts.astype("datetime64[ms]").astype("datetime64[M]")
        out: I64 = months.astype("datetime64[ms]").astype(np.int64)
        return out
    return bucket_start(ts, interval)


def bucket_end(open_ms: int, interval: str) -> int:
    """The (exclusive) end of the kline opening at ``open_ms``."""
    if interval == "1M":
        month = np.datetime64(open_ms, "ms").astype("datetime64[M]") + 1
        return int(month.astype("datetime64[ms]").astype(np.int64))
    return open_ms + timeframe_ms(interval)


def _bucket(t: int, interval: str) -> int:
    return int(buckets_of(np.array([t], dtype=np.int64), interval)[0])


def path_points(o: float, h: float, low: float, c: float) -> tuple[float, float, float, float]:
    """The four prices the path goes through (at 0, 20, 40 and 60 s of the minute)."""
    up, down = h - o, o - low
    high_first = up < down or (up == down and c < o)
    return (o, h, low, c) if high_first else (o, low, h, c)


@dataclass(frozen=True, slots=True)
class Piece:
    """A stretch of the price path on which the price moves one way (or not at all), with the
    volume traded on it (spread evenly over the time)."""

    start_ms: int
    end_ms: int
    start_price: float
    end_price: float
    volume: float

    def price_at(self, t: float) -> float:
        """The price at ``t`` (linear between the ends)."""
        span = self.end_ms - self.start_ms
        frac = (t - self.start_ms) / span if span else 0.0
        return self.start_price + (self.end_price - self.start_price) * frac

    def clip(self, t0: int, t1: int) -> Piece:
        """The part of the piece in ``[t0, t1)`` (empty when they do not overlap)."""
        a, b = max(self.start_ms, t0), min(self.end_ms, t1)
        span = self.end_ms - self.start_ms
        volume = self.volume * max(b - a, 0) / span if span else 0.0
        return Piece(a, max(a, b), self.price_at(a), self.price_at(max(a, b)), volume)

    def through(self, limit: float, buy: bool) -> tuple[int, float] | None:
        """When the piece first trades at or through ``limit`` (at or below it for a buy, at
        or above for a sell) and the volume it trades there; None when it never does, or only
        touches the level (no volume)."""
        pa, pb = (self.start_price, self.end_price) if buy else (-self.start_price, -self.end_price)
        level = limit if buy else -limit
        span = self.end_ms - self.start_ms
        if span <= 0 or min(pa, pb) > level:
            return None
        if max(pa, pb) <= level:
            return self.start_ms, self.volume
        share = (level - min(pa, pb)) / abs(pb - pa)  # of the time, and so of the volume
        if share <= 0.0:
            return None
        start = self.start_ms if pa <= level else self.start_ms + int(span * (1.0 - share))
        return start, self.volume * share


@dataclass(frozen=True, slots=True)
class Stats24h:
    """The rolling 24-hour statistics of ``/api/v3/ticker/24hr``."""

    open_time: int
    close_time: int
    open: float
    high: float
    low: float
    last: float
    volume: float
    quote_volume: float
    prev_close: float


class PairMarket:
    """One pair's stored 1m candles replayed along the documented path."""

    def __init__(self, candles: Candles, tick: float) -> None:
        if candles.timeframe != "1m":
            raise ValueError(f"the emulator replays 1m candles, not {candles.timeframe}")
        if len(candles) == 0:
            raise ValueError(f"no {candles.pair} candles to replay")
        self.ts: I64 = np.ascontiguousarray(candles.timestamp, dtype=np.int64)
        self.o: F64 = np.ascontiguousarray(candles.open, dtype=np.float64)
        self.h: F64 = np.ascontiguousarray(candles.high, dtype=np.float64)
        self.low: F64 = np.ascontiguousarray(candles.low, dtype=np.float64)
        self.c: F64 = np.ascontiguousarray(candles.close, dtype=np.float64)
        self.v: F64 = np.ascontiguousarray(candles.volume, dtype=np.float64)
        self.tick = tick
        self._vcum = np.concatenate(([0.0], np.cumsum(self.v)))
        typical = (self.o + self.h + self.low + self.c) / 4.0
        self._qcum = np.concatenate(([0.0], np.cumsum(self.v * typical)))

    @property
    def first_ms(self) -> int:
        """Open time of the first stored candle."""
        return int(self.ts[0])

    @property
    def end_ms(self) -> int:
        """Close time of the last stored candle (exclusive)."""
        return int(self.ts[-1]) + MINUTE

    def locate(self, t: int) -> int:
        """Index of the newest candle opened at or before ``t`` (-1 before the first)."""
        return int(np.searchsorted(self.ts, t, side="right")) - 1

    def _round(self, price: float) -> float:
        return round(price / self.tick) * self.tick

    def _points(self, i: int) -> tuple[float, float, float, float]:
        return path_points(float(self.o[i]), float(self.h[i]), float(self.low[i]), float(self.c[i]))

    def _path_price(self, i: int, f: float) -> float:
        points = self._points(i)
        k = min(int(f * 3), 2)
        local = f * 3 - k
        return points[k] + (points[k + 1] - points[k]) * local

    def price_at(self, t: int) -> float:
        """The replayed price at ``t``, rounded to the tick."""
        i = self.locate(t)
        if i < 0:
            return float(self.o[0])
        elapsed = t - int(self.ts[i])
        if elapsed >= MINUTE:
            return float(self.c[i])
        return self._round(self._path_price(i, elapsed / MINUTE))

    def partial(self, i: int, t: int) -> tuple[float, float, float, float, float]:
        """``(open, high, low, close, volume)`` of candle ``i`` as seen at ``t``."""
        f = min(max((t - int(self.ts[i])) / MINUTE, 0.0), 1.0)
        if f >= 1.0:
            return (
                float(self.o[i]),
                float(self.h[i]),
                float(self.low[i]),
                float(self.c[i]),
                float(self.v[i]),
            )
        points = self._points(i)
        now = self._round(self._path_price(i, f))
        seen = [*points[: min(int(f * 3), 2) + 1], now]
        return float(self.o[i]), max(seen), min(seen), now, float(self.v[i]) * f

    def visible(self, now: int) -> int:
        """How many candles have opened by ``now`` (the last of them may still be open)."""
        return int(np.searchsorted(self.ts, now, side="right"))

    def klines(
        self, interval: str, now: int, start: int | None, end: int | None, limit: int
    ) -> list[list[Any]]:
        """Binance's kline rows with open time in ``[start, end]``, none after ``now``.

        Without ``start`` the most recent ``limit`` klines; with it the oldest ``limit`` from it.
        """
        hi = self.visible(now)
        lo = 0
        if start is not None:
            first = _bucket(start, interval)
            lo = int(
                np.searchsorted(self.ts, first if first == start else bucket_end(first, interval))
            )
        if end is not None:
            hi = min(
                hi, int(np.searchsorted(self.ts, bucket_end(_bucket(end, interval), interval)))
            )
        if hi <= lo:
            return []
        opens = buckets_of(self.ts[lo:hi], interval)
        starts = np.flatnonzero(np.concatenate(([True], opens[1:] != opens[:-1])))
        starts = starts[:limit] if start is not None else starts[-limit:]
        first_row = int(starts[0])
        stop = int(starts[-1])
        stop = int(np.searchsorted(opens, opens[stop], side="right"))
        sl = slice(lo + first_row, lo + stop)
        o, h, low, c, v = (a[sl].copy() for a in (self.o, self.h, self.low, self.c, self.v))
        last = lo + stop - 1
        if int(self.ts[last]) + MINUTE > now:
            o[-1], h[-1], low[-1], c[-1], v[-1] = self.partial(last, now)
        local = starts - first_row
        qv = v * (o + h + low + c) / 4.0
        rows: list[list[Any]] = []
        k_open = np.maximum.reduceat(h, local), np.minimum.reduceat(low, local)
        vols, qvols = np.add.reduceat(v, local), np.add.reduceat(qv, local)
        ends = np.concatenate((local[1:], [len(o)])) - 1
        for j, s in enumerate(local):
            open_ms = int(opens[first_row + s])
            rows.append(
                [
                    open_ms,
                    fmt(o[s]),
                    fmt(k_open[0][j]),
                    fmt(k_open[1][j]),
                    fmt(c[ends[j]]),
                    fmt(vols[j]),
                    bucket_end(open_ms, interval) - 1,
                    fmt(qvols[j]),
                    0,
                    fmt(0.0),
                    fmt(0.0),
                    "0",
                ]
            )
        return rows

    def stats_24h(self, now: int) -> Stats24h:
        """Rolling 24 h statistics ending at ``now`` (the current candle as seen at ``now``)."""
        hi = self.visible(now)
        lo = int(np.searchsorted(self.ts, now - DAY, side="right"))
        last_price = self.price_at(now)
        if hi <= lo:
            return Stats24h(now - DAY, now, last_price, last_price, last_price, last_price, 0, 0,
                            last_price)  # fmt: skip
        o, h, low, c, v = self.partial(hi - 1, now)
        high = max(float(np.max(self.h[lo : hi - 1])) if hi - 1 > lo else h, h)
        low_ = min(float(np.min(self.low[lo : hi - 1])) if hi - 1 > lo else low, low)
        volume = float(self._vcum[hi - 1] - self._vcum[lo]) + v
        quote = float(self._qcum[hi - 1] - self._qcum[lo]) + v * (o + h + low + c) / 4.0
        prev = float(self.c[lo - 1]) if lo > 0 else float(self.o[lo])
        return Stats24h(
            int(self.ts[lo]), now, float(self.o[lo]), high, low_, c, volume, quote, prev
        )

    def avg_price(self, now: int, minutes: int = 5) -> float:
        """Volume-weighted average price of the closed minutes in the last ``minutes``."""
        hi = int(np.searchsorted(self.ts, now - MINUTE, side="right"))
        lo = int(np.searchsorted(self.ts, now - minutes * MINUTE, side="left"))
        volume = float(self._vcum[hi] - self._vcum[lo]) if hi > lo else 0.0
        if volume <= 0:
            return self.price_at(now)
        return float(self._qcum[hi] - self._qcum[lo]) / volume

    def unit_volume(self, now: int, window: int) -> float:
        """Mean volume per minute of the last ``window`` closed candles before ``now``."""
        closed = int(np.searchsorted(self.ts, now - MINUTE, side="right"))
        if closed == 0:
            return float(self.v[0])
        first = max(0, closed - window)
        return float(self._vcum[closed] - self._vcum[first]) / (closed - first)

    def stretches(self, t0: int, t1: int) -> Iterator[Piece]:
        """The whole monotonic stretches of the path (three a minute) that overlap
        ``[t0, t1)``, in time order."""
        if t1 <= t0:
            return
        i = max(self.locate(t0), 0)
        n = len(self.ts)
        while i < n:
            open_ms = int(self.ts[i])
            if open_ms >= t1:
                break
            points = self._points(i)
            third = float(self.v[i]) / 3
            for k in range(3):
                seg0 = open_ms + k * _THIRD
                seg1 = open_ms + MINUTE if k == 2 else seg0 + _THIRD
                if seg1 > t0 and seg0 < t1:
                    yield Piece(seg0, seg1, points[k], points[k + 1], third)
            i += 1

    def pieces(self, t0: int, t1: int) -> Iterator[Piece]:
        """The monotonic stretches of the path clipped to ``[t0, t1)``, in time order."""
        for stretch in self.stretches(t0, t1):
            yield stretch.clip(t0, t1)
