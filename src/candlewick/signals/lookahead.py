"""Lookahead check: do signals change when the future is cut off?

A decision at the close of bar t may use bars ``[0, t]`` only. So running the WHOLE pipeline
(indicators, informative merges, setups, filters) on ``candles[:end]`` must reproduce the
full-history signals on every bar before ``end``. :func:`check_lookahead` runs the pipeline on
a bounded set of truncated histories and reports every bar whose signal differs: a setup
reading ``shift(-1)``, a centred window, or a higher-timeframe candle merged before it closed.

Cut points: ``checkpoints`` evenly spaced ends, plus ``end = b + 1`` right after full-history
signal bars ``b`` (where a signal born of the future would vanish), at most
``max_signal_cuts`` of those, evenly sampled. Cost: one pipeline run per cut point.
Used by ``candlewick backtest --check-lookahead``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from candlewick.core.types import BoolArr
from candlewick.errors import StrategyError

__all__ = ["LookaheadDiff", "LookaheadReport", "check_lookahead", "cut_points", "truncating"]

#: ``signals_upto(end) -> (entry, exit)`` computed from ``candles[:end]`` only, each of length end.
SignalsUpTo = Callable[[int], tuple[BoolArr, BoolArr]]


@dataclass(frozen=True, slots=True)
class LookaheadDiff:
    """A bar whose ``signal`` ("entry"/"exit") differs between full and truncated history.

    ``cut`` is the length of the first truncated history that showed it.
    """

    bar: int
    timestamp: int | None
    signal: str
    full: bool
    truncated: bool
    cut: int


@dataclass(frozen=True, slots=True)
class LookaheadReport:
    """Outcome of :func:`check_lookahead`: the cut points tried and every difference found."""

    n_bars: int
    cuts: tuple[int, ...]
    differences: tuple[LookaheadDiff, ...]

    @property
    def ok(self) -> bool:
        """True when no truncated history changed any signal."""
        return not self.differences

    def summary(self, limit: int = 10) -> str:
        """A few human lines: the verdict and the first ``limit`` differences."""
        head = f"lookahead check over {self.n_bars} bars, {len(self.cuts)} truncated histories: "
        if self.ok:
            return head + "no signal changed (clean)"
        lines = [head + f"{len(self.differences)} signal(s) change when the future is cut off"]
        for d in self.differences[:limit]:
            when = "" if d.timestamp is None else f" ts {d.timestamp}"
            lines.append(
                f"  bar {d.bar}{when}: {d.signal} is {d.full} with full history, "
                f"{d.truncated} with history cut at bar {d.cut}"
            )
        if len(self.differences) > limit:
            lines.append(f"  ... and {len(self.differences) - limit} more")
        return "\n".join(lines)

    def to_frame(self) -> pd.DataFrame:
        """The differences as a table (bar, timestamp, signal, full, truncated, cut)."""
        cols = ["bar", "timestamp", "signal", "full", "truncated", "cut"]
        rows = [[getattr(d, c) for c in cols] for d in self.differences]
        return pd.DataFrame(rows, columns=cols)


def cut_points(
    full_entry: BoolArr,
    full_exit: BoolArr,
    *,
    checkpoints: int = 200,
    max_signal_cuts: int = 300,
    min_bars: int = 2,
) -> npt.NDArray[np.int64]:
    """Sorted truncation ends in ``[min_bars, n)``: evenly spaced + right after signal bars."""
    n = len(full_entry)
    if n <= min_bars:
        return np.zeros(0, dtype=np.int64)
    even = np.linspace(min_bars, n - 1, num=max(checkpoints, 0)).round().astype(np.int64)
    after = np.flatnonzero(full_entry | full_exit).astype(np.int64) + 1
    if len(after) > max_signal_cuts:
        pick = np.linspace(0, len(after) - 1, num=max_signal_cuts).round().astype(np.int64)
        after = after[pick]
    cuts = np.union1d(even, after)
    return cuts[(cuts >= min_bars) & (cuts < n)]


def _as_signal(values: object, end: int, what: str) -> BoolArr:
    arr = np.asarray(values)
    if arr.dtype != np.bool_ or arr.shape != (end,):
        raise StrategyError(
            f"signals_upto({end}) returned {what} of dtype {arr.dtype} and shape {arr.shape}; "
            f"expected a bool array of length {end} (one value per bar of candles[:{end}])"
        )
    return arr


def check_lookahead(
    signals_upto: SignalsUpTo,
    n_bars: int,
    *,
    timestamps: npt.NDArray[np.int64] | None = None,
    checkpoints: int = 200,
    max_signal_cuts: int = 300,
    min_bars: int = 2,
    tail: int | None = None,
) -> LookaheadReport:
    """Compare full-history signals with signals recomputed on truncated histories.

    ``signals_upto(end)`` must run the whole pipeline on ``candles[:end]`` only and return
    ``(entry, exit)`` of length ``end``. Each truncated run is compared with the full run on
    its last ``tail`` bars (None: on all its bars). Every differing (bar, signal) is reported
    once, with the first cut that showed it.
    """
    full_entry, full_exit = signals_upto(n_bars)
    full_entry = _as_signal(full_entry, n_bars, "entry")
    full_exit = _as_signal(full_exit, n_bars, "exit")
    cuts = cut_points(
        full_entry,
        full_exit,
        checkpoints=checkpoints,
        max_signal_cuts=max_signal_cuts,
        min_bars=min_bars,
    )
    found: dict[tuple[int, str], LookaheadDiff] = {}
    for end in cuts.tolist():
        entry, exit_ = signals_upto(end)
        start = 0 if tail is None else max(0, end - tail)
        pairs = (
            ("entry", full_entry, _as_signal(entry, end, "entry")),
            ("exit", full_exit, _as_signal(exit_, end, "exit")),
        )
        for name, full, cut in pairs:
            for i in np.flatnonzero(full[start:end] != cut[start:]) + start:
                key = (int(i), name)
                if key not in found:
                    ts = None if timestamps is None else int(timestamps[i])
                    found[key] = LookaheadDiff(int(i), ts, name, bool(full[i]), bool(cut[i]), end)
    diffs = tuple(sorted(found.values(), key=lambda d: (d.bar, d.signal)))
    return LookaheadReport(n_bars, tuple(cuts.tolist()), diffs)


def truncating(
    candles: pd.DataFrame, pipeline: Callable[[pd.DataFrame], tuple[BoolArr, BoolArr]]
) -> SignalsUpTo:
    """``signals_upto`` for a pipeline ``candles frame -> (entry, exit)``: runs it on the head.

    The pipeline gets a fresh copy of ``candles[:end]`` (RangeIndex), so it cannot see or
    mutate the rest.
    """

    def signals_upto(end: int) -> tuple[BoolArr, BoolArr]:
        return pipeline(candles.iloc[:end].reset_index(drop=True).copy())

    return signals_upto
