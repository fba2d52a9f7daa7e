"""The portfolio benchmark's data: 20 pairs of 525,600 consecutive 1m bars, chained from real files.

No single real 1m file is a year long, so each synthetic pair is made of whole real segments
laid end to end:

1. every 1m file of the shared data folder without a gap is one segment (files with gaps are
   skipped and listed);
2. pair ``k`` takes the segments in its own order, a permutation seeded with ``k`` (so no two
   pairs are copies of each other), until it has ``length`` bars; the last segment is cut;
3. each segment after the first is rescaled by one constant factor, so that its first open
   equals the previous segment's last close (prices stay continuous, returns inside a
   segment are the real ones); volumes are kept as they are;
4. the timestamps are laid again on one continuous 1m grid from ``start_ms``.

Nothing is written into the repository: the series go straight into a candle store in the
benchmark's temporary home.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from candlewick.core.types import F64, I64, Candles
from candlewick.data.store import CandleStore

MINUTE_MS = 60_000
YEAR_OF_MINUTES = 525_600
START_MS = 1_704_067_200_000  # 2024-01-01T00:00:00Z
_ONE_MINUTE_FILE = re.compile(r"^.+_1m(?:_\d{4}-\d{2})?\.csv(?:\.gz)?$")


@dataclass(frozen=True, slots=True)
class Segment:
    """A run of consecutive 1m bars from one real file."""

    name: str
    open: F64
    high: F64
    low: F64
    close: F64
    volume: F64

    def __len__(self) -> int:
        return int(self.open.shape[0])


@dataclass(frozen=True, slots=True)
class Part:
    """How much of a segment a chained series used, and the price factor applied to it."""

    name: str
    bars: int
    factor: float


@dataclass(frozen=True, slots=True)
class Chained:
    """A chained series: arrays on one 1m grid and the parts it is made of, in order."""

    timestamp: I64
    open: F64
    high: F64
    low: F64
    close: F64
    volume: F64
    parts: tuple[Part, ...]


def chain(
    segments: Sequence[Segment],
    length: int,
    start_ms: int = START_MS,
    step_ms: int = MINUTE_MS,
) -> Chained:
    """Lay ``segments`` end to end until there are ``length`` bars (the last one is cut).

    Every segment after the first is multiplied by the constant that makes its first open
    equal the previous segment's last (rescaled) close; volumes are unchanged. Timestamps are
    ``start_ms + i * step_ms``. Raises ValueError when the segments hold fewer than ``length``
    bars or a segment is empty or has a non-positive first open.
    """
    if length <= 0:
        raise ValueError(f"length must be positive, got {length}")
    columns: dict[str, list[F64]] = {k: [] for k in ("open", "high", "low", "close", "volume")}
    parts: list[Part] = []
    filled, last_close = 0, None
    for seg in segments:  # bounded: one pass over the given segments
        if filled == length:
            break
        if len(seg) == 0 or not seg.open[0] > 0:
            raise ValueError(f"segment {seg.name!r} is empty or its first open is not positive")
        take = min(len(seg), length - filled)
        factor = 1.0 if last_close is None else last_close / float(seg.open[0])
        for key in ("open", "high", "low", "close"):
            columns[key].append(getattr(seg, key)[:take] * factor)
        columns["volume"].append(seg.volume[:take])
        parts.append(Part(seg.name, take, factor))
        last_close = float(columns["close"][-1][-1])
        filled += take
    if filled < length:
        total = sum(len(s) for s in segments)
        raise ValueError(f"the segments hold {total:,} bars, fewer than the {length:,} asked for")
    timestamp = start_ms + np.arange(length, dtype=np.int64) * step_ms
    joined = {key: np.concatenate(arrays) for key, arrays in columns.items()}
    return Chained(
        timestamp,
        joined["open"],
        joined["high"],
        joined["low"],
        joined["close"],
        joined["volume"],
        tuple(parts),
    )


def load_segments(candles_dir: Path) -> tuple[list[Segment], list[str]]:
    """Every gap-free 1m file of ``candles_dir`` as a segment (sorted by file name), and a
    note for each 1m file skipped because it has gaps."""
    import pandas as pd

    segments, skipped = [], []
    for path in sorted(candles_dir.iterdir()):
        if _ONE_MINUTE_FILE.match(path.name) is None:
            continue
        frame = pd.read_csv(path)
        ts = frame["timestamp"].to_numpy(dtype=np.int64)
        steps = np.diff(ts)
        if ts.shape[0] < 2 or np.any(steps != MINUTE_MS):
            missing = int(np.sum(steps[steps > MINUTE_MS] // MINUTE_MS - 1))
            skipped.append(f"{path.name}: {missing:,} missing bars in {ts.shape[0]:,}")
            continue
        name = path.name.split(".csv")[0]
        o, h, lo, c, v = (
            frame[col].to_numpy(dtype=np.float64)
            for col in ("open", "high", "low", "close", "volume")
        )
        segments.append(Segment(name, o, h, lo, c, v))
    return segments, skipped


def pair_order(segments: Sequence[Segment], pair_index: int) -> list[Segment]:
    """The order in which pair ``pair_index`` uses the segments (a seeded permutation)."""
    order = list(segments)
    random.Random(pair_index).shuffle(order)
    return order


def pair_names(count: int, quote: str = "USDT") -> list[str]:
    """``SYN01/USDT`` ... the synthetic pairs' names (as in bench/configs/portfolio_20x1m.yaml)."""
    return [f"SYN{i:02d}/{quote}" for i in range(1, count + 1)]


def build_pairs(
    segments: Sequence[Segment], count: int, length: int = YEAR_OF_MINUTES
) -> Iterator[tuple[str, Chained]]:
    """The chained series of each synthetic pair, one at a time (to bound memory)."""
    for index, name in enumerate(pair_names(count)):
        yield name, chain(pair_order(segments, index), length)


def store_pair(store: CandleStore, exchange: str, pair: str, series: Chained) -> None:
    """Write one chained series into the candle store as ``exchange pair 1m``."""
    store.write(
        Candles(
            exchange,
            pair,
            "1m",
            series.timestamp,
            series.open,
            series.high,
            series.low,
            series.close,
            series.volume,
        )
    )
