"""The portfolio's clock and the equity curve's raw material, for the backtest engine.

The clock is the union of the pairs' bar times (the first pair's own array when all pairs share
one clock: no copy); per pair, the index of each bar on that clock and the close to mark open
positions with; the cash movements and position values the equity curve is summed from.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from candlewick.core.types import F64, I64

if TYPE_CHECKING:
    from candlewick.backtest.engine import PairData


@dataclass(slots=True)
class Book:
    """The portfolio's clock (union of bar times) and the curves built on it."""

    grid: I64
    pair_index: list[I64 | None]
    cash_delta: F64
    value: F64
    closes: list[F64]
    filled: int = 0
    running_cash: float = 0.0

    def grid_pos(self, pair: int, bar: int) -> int:
        """Index on the portfolio's clock of ``bar`` of ``pair``."""
        mapping = self.pair_index[pair]
        return bar if mapping is None else int(mapping[bar])


def build_book(pairs: Sequence[PairData]) -> Book:
    first = pairs[0].candles.timestamp
    if all(np.array_equal(p.candles.timestamp, first) for p in pairs[1:]):
        # One clock for all pairs (the usual case): no re-indexing, no copies.
        return Book(
            first,
            [None] * len(pairs),
            np.zeros(first.shape[0]),
            np.zeros(first.shape[0]),
            [p.candles.close for p in pairs],
        )
    ts = np.unique(np.concatenate([p.candles.timestamp for p in pairs]))
    index: list[I64 | None] = []
    closes = []
    for p in pairs:
        index.append(np.searchsorted(ts, p.candles.timestamp).astype(np.int64))
        last = np.searchsorted(p.candles.timestamp, ts, side="right") - 1
        marked = p.candles.close[np.maximum(last, 0)]
        closes.append(np.where(last >= 0, marked, np.nan))
    return Book(ts, index, np.zeros(ts.shape[0]), np.zeros(ts.shape[0]), closes)
