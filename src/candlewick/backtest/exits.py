"""Where and why positions close: the exit search of the backtest, vectorised over entries.

The per-bar rules are those of :mod:`candlewick.core.fills` (the paper simulator applies them
one bar at a time); this module applies them to whole windows of bars and many entries at
once, and ``tests/unit/test_exits.py`` checks it against a bar-by-bar loop over the scalar
rules. Order of events inside one bar ``b`` of an open position:

1. at the open: an exit signal from the close of ``b-1`` or a time stop closes at the open;
2. a bar opening at or below the stop (fixed or trailing) stops out at the open, one opening
   at or above the take-profit fills it at the open;
3. inside the bar: the stop if the low reaches it, else the take-profit if the high reaches
   it — when both could have been hit, the stop is assumed first (the worse outcome);
4. after the last bar, a position still open closes at the last close.

The trailing stop's level in bar ``b`` is ``(1 - pct)`` times the highest of the entry price
and the highs of bars before ``b``: the current bar's high may have come after its low.
A price equal to a level's decimal value reaches it (:func:`candlewick.core.fills.reaches_down`: a
level a few ULP off its decimal, 929.9999999999999 for 1000 x 0.93, is compared as 930).

The search runs in rounds over ragged windows: every unresolved entry looks at its next window
of bars (64, then 4× longer each round), all entries of a round in one set of numpy
operations, so the work is about four times the sum of the holding periods — a handful of array
operations per trade, never a Python step per bar.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from candlewick.core.fills import NEAR, protective_fill, reaches_down, reaches_up, snap
from candlewick.core.types import F64, I64, BoolArr, ExitReason
from candlewick.risk.rules import ExitRules

I8 = npt.NDArray[np.int8]

#: Reason codes of :class:`PlannedExits` (index into this tuple).
REASONS = (
    ExitReason.SIGNAL,
    ExitReason.STOP_LOSS,
    ExitReason.TAKE_PROFIT,
    ExitReason.TRAILING_STOP,
    ExitReason.TIME_STOP,
    ExitReason.END_OF_DATA,
)
_SIGNAL, _STOP, _TAKE, _TRAIL, _TIME, _END = range(6)
_FIRST_WINDOW = 64
_GROWTH = 4


class PlannedExit(NamedTuple):
    """The exit of one position: bar, reference price (before slippage), reason, at the open?"""

    bar: int
    price: float
    reason: ExitReason
    at_open: bool


class PlannedExits(NamedTuple):
    """Exits of many entries: arrays of bar, price, reason code (:data:`REASONS`), at-open,
    and the fixed stop level each entry was given (-inf without a stop)."""

    bar: I64
    price: F64
    reason: I8
    at_open: BoolArr
    stop: F64

    def one(self, k: int) -> PlannedExit:
        """The ``k``-th exit as a :class:`PlannedExit`."""
        return PlannedExit(
            int(self.bar[k]), float(self.price[k]), REASONS[self.reason[k]], bool(self.at_open[k])
        )


def next_signal(signal_bars: I64, at: I64, none: int) -> I64:
    """For each bar in ``at``, the first of the sorted ``signal_bars`` at or after it
    (``none`` where there is none)."""
    return np.append(signal_bars, none)[np.searchsorted(signal_bars, at)]


def plan_exits(
    open_: F64,
    high: F64,
    low: F64,
    close: F64,
    exit_bars: I64,
    entry_bars: I64,
    rules: ExitRules,
    signal_atr: F64 | None = None,
) -> PlannedExits:
    """Exits of long positions entered at the opens of ``entry_bars``.

    ``exit_bars`` are the bars with an exit signal, sorted; ``signal_atr`` the ATR at each
    entry's signal bar (for ATR-based rules).
    """
    n = open_.shape[0]
    e = np.asarray(entry_bars, dtype=np.int64)
    entry = open_[e]
    atr = np.full(e.shape[0], np.nan) if signal_atr is None else signal_atr
    stop = rules.stop_levels(entry, atr)
    take = rules.take_profit_levels(entry, atr, stop)

    # The earliest exit at an open: the bar after an exit signal, or the time stop.
    end = np.full(e.shape[0], n - 1, dtype=np.int64)
    reason = np.full(e.shape[0], _END, dtype=np.int8)
    signal_bar = next_signal(exit_bars, e, n) + 1
    by_signal = signal_bar <= n - 1
    end[by_signal], reason[by_signal] = signal_bar[by_signal], _SIGNAL
    if rules.time_stop_bars is not None:
        due = e + rules.time_stop_bars
        by_time = (due < end) | ((due == end) & (reason == _END))
        end[by_time], reason[by_time] = due[by_time], _TIME
    # An exit at the open of bar `end` pre-empts that bar's other triggers.
    search_stop = np.where(reason == _END, n, end)

    at_close = reason == _END
    bar = end.copy()
    price = np.where(at_close, close[n - 1], open_[end])
    at_open = ~at_close
    trail = rules.trailing_stop_pct
    if np.isfinite(stop).any() or np.isfinite(take).any() or trail is not None:
        found = _Found(bar, price, reason, at_open)
        _search(open_, high, low, e, search_stop, entry, stop, take, trail, found)
    return PlannedExits(bar, price, reason, at_open, stop)


def plan_exit(
    open_: F64,
    high: F64,
    low: F64,
    close: F64,
    exit_bars: I64,
    entry_bar: int,
    rules: ExitRules,
    signal_atr: float = np.nan,
) -> PlannedExit:
    """The exit of one long position entered at the open of ``entry_bar``."""
    plans = plan_exits(
        open_,
        high,
        low,
        close,
        exit_bars,
        np.array([entry_bar], dtype=np.int64),
        rules,
        np.array([signal_atr]),
    )
    return plans.one(0)


class _Found(NamedTuple):
    bar: I64
    price: F64
    reason: I8
    at_open: BoolArr


def _segmented_cummax(values: F64, seg: I64, longest: int) -> F64:
    """Running maximum restarting at each segment (exact: log-step doubling)."""
    out = values.copy()
    step = 1
    while step < longest:
        same = seg[step:] == seg[:-step]
        out[step:] = np.where(same, np.maximum(out[step:], out[:-step]), out[step:])
        step *= 2
    return out


def _reaches(prices: F64, levels: F64, down: bool) -> BoolArr:
    """:func:`candlewick.core.fills.reaches_down` (``up``) element-wise, with the same float
    operations; the few near ties take a Python step."""
    if down:
        out = prices <= levels
        near = ~out & (prices <= levels * (1.0 + NEAR))
    else:
        out = prices >= levels
        near = ~out & (prices >= levels * (1.0 - NEAR))
    if near.any():
        at = np.flatnonzero(near)
        decided = reaches_down if down else reaches_up
        out[at] = [
            decided(p, x) for p, x in zip(prices[at].tolist(), levels[at].tolist(), strict=True)
        ]
    return out


def _search(
    open_: F64,
    high: F64,
    low: F64,
    start: I64,
    search_stop: I64,
    entry: F64,
    stop: F64,
    take: F64,
    trail: float | None,
    found: _Found,
) -> None:
    """Find the first stop or take-profit trigger of every entry; write hits into ``found``."""
    active = np.flatnonzero(start < search_stop)
    pos = start.copy()
    highest = entry.copy()
    width = _FIRST_WINDOW
    while active.shape[0]:
        lo = pos[active]
        hi = np.minimum(lo + width, search_stop[active])
        lengths = hi - lo
        total = int(lengths.sum())
        starts = np.cumsum(lengths) - lengths
        seg = np.repeat(np.arange(active.shape[0], dtype=np.int64), lengths)
        idx = np.arange(total, dtype=np.int64) - starts[seg] + lo[seg]
        lows, highs, opens = low[idx], high[idx], open_[idx]
        fixed = stop[active][seg]
        if trail is not None:
            before = np.empty(total)
            before[starts] = highest[active]
            inner = np.ones(total, dtype=np.bool_)
            inner[starts] = False
            before[inner] = high[idx[inner] - 1]
            before = _segmented_cummax(before, seg, int(lengths.max()))
            trail_level = before * (1.0 - trail)
            level = np.maximum(trail_level, fixed)
        else:
            level = fixed
        targets = take[active][seg]
        gap_take = _reaches(opens, targets, down=False)
        hit_stop = _reaches(lows, level, down=True) & ~gap_take
        hit = hit_stop | _reaches(highs, targets, down=False)
        first = np.minimum.reduceat(np.where(hit, np.arange(total), total), starts)
        hits = first < total
        if hits.any():
            j = first[hits]
            which = active[hits]
            found.bar[which] = idx[j]
            # The hit bar of each entry (one per trade): the scalar rule of core/fills.py.
            for k, at in enumerate(j.tolist()):
                op, lvl, tk = float(opens[at]), float(level[at]), float(targets[at])
                filled = protective_fill(op, float(highs[at]), float(lows[at]), lvl, tk)
                assert filled is not None
                price, is_stop = filled
                w = int(which[k])
                found.price[w] = price
                found.at_open[w] = reaches_down(op, lvl) if is_stop else reaches_up(op, tk)
                reason = _STOP
                if trail is not None and snap(float(trail_level[at])) > snap(float(stop[w])):
                    reason = _TRAIL
                found.reason[w] = reason if is_stop else _TAKE
        if trail is not None:
            highest[active] = np.maximum(highest[active], np.maximum.reduceat(highs, starts))
        pos[active] = hi
        active = active[~hits & (hi < search_stop[active])]
        width *= _GROWTH
