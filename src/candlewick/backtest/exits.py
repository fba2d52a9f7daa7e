"""Where and why a position opened at a given bar will close: a vectorised search.

The search applies the fill model of :mod:`candlewick.core.fills` over whole windows of bars
at once (numpy), so the backtest costs a handful of array operations per *trade*, never a
Python step per bar. ``tests/unit/test_exits.py`` checks it against a bar-by-bar loop that
calls the scalar rules of the fill model directly.

Order of events inside one bar ``b`` of an open position:

1. at the open: an exit signal from the close of ``b-1`` or a time stop closes at the open;
2. the stop (fixed or trailing), if the low reaches it (at the open when the bar gapped
   below it);
3. the take-profit, if the high reaches it — only when the stop was not hit in the same bar
   (the worse outcome is assumed when both could have been hit);
4. after the last bar, a position still open closes at the last close.

The trailing stop's level in bar ``b`` is ``(1 - pct)`` times the highest of the entry price
and the highs of bars before ``b``: the high of the current bar is not used, since it may
have come after the low.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from candlewick.core.types import F64, I64, BoolArr, ExitReason
from candlewick.risk.rules import ExitRules

_FIRST_WINDOW = 64
_GROWTH = 4


class PlannedExit(NamedTuple):
    """The exit of a position: bar index, reference price (before slippage) and reason."""

    bar: int
    price: float
    reason: ExitReason
    at_open: bool


def next_true_index(flags: BoolArr) -> I64:
    """For each bar ``i``, the first ``j >= i`` with ``flags[j]``; ``len(flags)`` if none."""
    n = flags.shape[0]
    idx = np.where(flags, np.arange(n, dtype=np.int64), np.int64(n))
    return np.minimum.accumulate(idx[::-1])[::-1].copy()


def plan_exit(
    open_: F64,
    high: F64,
    low: F64,
    close: F64,
    next_exit_signal: I64,
    entry_bar: int,
    rules: ExitRules,
    signal_atr: float = math.nan,
) -> PlannedExit:
    """The exit of a long position entered at the open of ``entry_bar``.

    ``next_exit_signal`` is :func:`next_true_index` of the exit signals; ``signal_atr`` the
    ATR at the signal bar (for ATR-based rules).
    """
    n = open_.shape[0]
    e = entry_bar
    entry_price = float(open_[e])
    stop = rules.stop_level(entry_price, signal_atr)
    take = rules.take_profit_level(entry_price, signal_atr, stop)
    trail = rules.trailing_stop_pct

    # The earliest exit at an open: the bar after an exit signal, or the time stop.
    end, reason = n - 1, ExitReason.END_OF_DATA
    signal_bar = int(next_exit_signal[e]) + 1 if e < n else n + 1
    if signal_bar <= n - 1:
        end, reason = signal_bar, ExitReason.SIGNAL
    if rules.time_stop_bars is not None:
        due = e + rules.time_stop_bars
        if due < end or (due == end and reason is ExitReason.END_OF_DATA):
            end, reason = due, ExitReason.TIME_STOP
    # An exit at an open of bar `end` pre-empts that bar's intrabar triggers.
    search_stop = end if reason is not ExitReason.END_OF_DATA else n

    if math.isfinite(stop) or math.isfinite(take) or trail is not None:
        found = _first_trigger(open_, high, low, e, search_stop, entry_price, stop, take, trail)
        if found is not None:
            return found
    if reason is ExitReason.END_OF_DATA:
        return PlannedExit(n - 1, float(close[n - 1]), reason, at_open=False)
    return PlannedExit(end, float(open_[end]), reason, at_open=True)


def _first_trigger(
    open_: F64,
    high: F64,
    low: F64,
    start: int,
    stop_at: int,
    entry_price: float,
    stop: float,
    take: float,
    trail: float | None,
) -> PlannedExit | None:
    """The first bar in ``[start, stop_at)`` where the stop or take-profit triggers."""
    pos, width, highest = start, _FIRST_WINDOW, entry_price
    while pos < stop_at:
        hi = min(pos + width, stop_at)
        lows = low[pos:hi]
        if trail is not None:
            running = np.maximum.accumulate(high[pos:hi])
            before = np.empty(hi - pos)
            before[0] = highest
            np.maximum(running[:-1], highest, out=before[1:])
            trail_level = before * (1.0 - trail)
            level = np.maximum(trail_level, stop)
            hit_stop = lows <= level
        else:
            hit_stop = lows <= stop
        hit = hit_stop | (high[pos:hi] >= take) if math.isfinite(take) else hit_stop
        if hit.any():
            k = int(hit.argmax())
            b = pos + k
            if hit_stop[k]:
                if trail is not None:
                    lvl = float(level[k])
                    why = (
                        ExitReason.TRAILING_STOP if trail_level[k] > stop else ExitReason.STOP_LOSS
                    )
                else:
                    lvl, why = stop, ExitReason.STOP_LOSS
                return PlannedExit(b, min(float(open_[b]), lvl), why, at_open=bool(open_[b] <= lvl))
            return PlannedExit(
                b,
                max(float(open_[b]), take),
                ExitReason.TAKE_PROFIT,
                at_open=bool(open_[b] >= take),
            )
        if trail is not None:
            highest = max(highest, float(running[-1]))
        pos, width = hi, width * _GROWTH
    return None
