"""The window a loaded series covers, and which stored series its bars came from.

:class:`Coverage` is what a caller prints for each pair it loads (``describe()``), and
:func:`coverage_warning` says when the pairs of one run cover different windows, which a
portfolio backtest must not hide.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from candlewick import fmt
from candlewick.core.timeframes import timeframe_ms
from candlewick.core.types import Candles


@dataclass(frozen=True, slots=True)
class Coverage:
    """The bars of one loaded series: how many, the open times of the first and the last
    (None when there is none), and the stored timeframe they were read from:
    ``source_timeframe == timeframe`` for the stored candles themselves, else the finer stored
    timeframe they were resampled from."""

    exchange: str
    pair: str
    timeframe: str
    source_timeframe: str
    bars: int
    first_ts: int | None
    last_ts: int | None

    @property
    def resampled(self) -> bool:
        """True when the bars were built from a finer stored timeframe."""
        return self.source_timeframe != self.timeframe

    @property
    def end_ts(self) -> int | None:
        """When the last bar closes (ms UTC), None without bars."""
        return None if self.last_ts is None else self.last_ts + timeframe_ms(self.timeframe)

    def window(self) -> str:
        """``2023-04-01 00:00 → 2024-04-09 23:45 UTC`` (the first bar's open to the last bar's
        close, as every view shows a window: :func:`candlewick.fmt.window`), or
        ``no complete bar``."""
        if self.first_ts is None:
            return "no complete bar"
        return fmt.window(self.first_ts, self.end_ts)

    def describe(self) -> str:
        """One line for the user: pair, bar count, the window, and the source."""
        head = f"{self.exchange} {self.pair} {self.timeframe}: "
        if self.first_ts is None or self.last_ts is None:
            return f"{head}no complete bar"
        source = (
            f"resampled from {self.source_timeframe} candles"
            if self.resampled
            else f"native {self.timeframe} candles"
        )
        return f"{head}{fmt.count(self.bars)} bars, {self.window()}, {source}"


def coverage_of(candles: Candles, source_timeframe: str) -> Coverage:
    """The coverage of ``candles`` (e.g. after slicing them), read from ``source_timeframe``."""
    first = int(candles.timestamp[0]) if len(candles) else None
    last = int(candles.timestamp[-1]) if len(candles) else None
    return Coverage(
        candles.exchange,
        candles.pair,
        candles.timeframe,
        source_timeframe,
        len(candles),
        first,
        last,
    )


def coverage_warning(coverages: Sequence[Coverage]) -> str | None:
    """None when every series covers the same window (same first and last bar); else a warning
    naming each pair's window and the period they all cover (or saying there is none)."""
    windows = {(c.first_ts, c.last_ts) for c in coverages}
    if len(windows) <= 1:
        return None
    listed = "; ".join(f"{c.pair} {c.window()}" for c in coverages)
    firsts = [c.first_ts for c in coverages if c.first_ts is not None]
    lasts = [c.last_ts for c in coverages if c.last_ts is not None]
    ends = [c.end_ts for c in coverages if c.end_ts is not None]
    if len(firsts) < len(coverages) or max(firsts) > min(lasts):
        common = "no period is covered by every pair"
    else:
        common = (
            f"they all cover {fmt.window(max(firsts), min(ends))}: set backtest.start and "
            "backtest.end inside it to compare like with like"
        )
    return f"the pairs cover different windows: {listed}; {common}"
