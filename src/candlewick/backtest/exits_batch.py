"""The exits of many candidate entries at once: :func:`plan_exit` for a whole array of entries.

The rules are exactly those of :mod:`candlewick.backtest.exits` (tests check both agree on
every candidate). Exits do not depend on the portfolio, so the engine plans the exit of every
entry *signal* of a pair up front when there are few of them compared with the bars (a
crossover strategy), and falls back to planning one taken entry at a time when signals are
dense (a level-triggered strategy, where most candidates are never taken).

The search runs in rounds over ragged windows: every unresolved candidate looks at its next
window of bars (64, then 4× longer each round), all candidates of a round in one set of numpy
operations. Work is bounded by about four times the sum of the candidates' holding periods.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from candlewick.core.types import F64, I64, BoolArr, ExitReason
from candlewick.risk.rules import ExitRules

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
I8 = npt.NDArray[np.int8]
_FIRST_WINDOW = 64
_GROWTH = 4


@dataclass(frozen=True, slots=True)
class PlannedExits:
    """Exit bar, reference price, reason code (see :data:`REASONS`) and at-open flag per entry."""

    bar: I64
    price: F64
    reason: I8
    at_open: BoolArr


def _levels(rules: ExitRules, entry: F64, atr: F64) -> tuple[F64, F64]:
    """Stop and take-profit levels per entry, with the same float operations as ExitRules."""
    stop = np.full(entry.shape[0], -np.inf)
    if rules.stop_loss_pct is not None:
        stop = np.maximum(stop, entry * (1.0 - rules.stop_loss_pct))
    if rules.stop_loss_atr is not None:
        by_atr = entry - rules.stop_loss_atr * atr
        stop = np.where(np.isfinite(atr), np.maximum(stop, by_atr), stop)
    take = np.full(entry.shape[0], np.inf)
    if rules.take_profit_pct is not None:
        take = np.minimum(take, entry * (1.0 + rules.take_profit_pct))
    if rules.take_profit_atr is not None:
        by_atr = entry + rules.take_profit_atr * atr
        take = np.where(np.isfinite(atr), np.minimum(take, by_atr), take)
    if rules.take_profit_rr is not None:
        by_rr = entry + rules.take_profit_rr * (entry - stop)
        take = np.where(np.isfinite(stop), np.minimum(take, by_rr), take)
    return stop, take


def _segmented_cummax(values: F64, seg: I64, longest: int) -> F64:
    """Running maximum restarting at each segment (exact: log-step doubling)."""
    out = values.copy()
    step = 1
    while step < longest:
        same = seg[step:] == seg[:-step]
        shifted = np.where(same, np.maximum(out[step:], out[:-step]), out[step:])
        out[step:] = shifted
        step *= 2
    return out


def plan_exits(
    open_: F64,
    high: F64,
    low: F64,
    close: F64,
    next_exit_signal: I64,
    entry_bars: I64,
    rules: ExitRules,
    signal_atr: F64 | None = None,
) -> PlannedExits:
    """Exits of long positions entered at the opens of ``entry_bars`` (see plan_exit)."""
    n = open_.shape[0]
    k = entry_bars.shape[0]
    e = entry_bars.astype(np.int64)
    entry = open_[e]
    atr = np.full(k, np.nan) if signal_atr is None else signal_atr
    stop, take = _levels(rules, entry, atr)

    end = np.full(k, n - 1, dtype=np.int64)
    reason = np.full(k, _END, dtype=np.int8)
    signal_bar = next_exit_signal[e] + 1
    by_signal = signal_bar <= n - 1
    end[by_signal], reason[by_signal] = signal_bar[by_signal], _SIGNAL
    if rules.time_stop_bars is not None:
        due = e + rules.time_stop_bars
        by_time = (due < end) | ((due == end) & (reason == _END))
        end[by_time], reason[by_time] = due[by_time], _TIME
    search_stop = np.where(reason == _END, n, end)

    bar = np.where(reason == _END, n - 1, end)
    price = np.where(reason == _END, close[n - 1], open_[np.minimum(end, n - 1)])
    at_open = reason != _END
    trail = rules.trailing_stop_pct
    if np.isfinite(stop).any() or np.isfinite(take).any() or trail is not None:
        _search(
            open_, high, low, e, search_stop, entry, stop, take, trail, bar, price, reason, at_open
        )
    return PlannedExits(bar, price, reason, at_open)


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
    bar: I64,
    price: F64,
    reason: I8,
    at_open: BoolArr,
) -> None:
    """Find the first stop/take-profit trigger of every candidate; write hits in place."""
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
        hit_stop = lows <= level
        hit = hit_stop | (highs >= take[active][seg])
        first = np.minimum.reduceat(np.where(hit, np.arange(total), total), starts)
        found = first < total
        if found.any():
            j = first[found]
            which = active[found]
            b = idx[j]
            is_stop = hit_stop[j]
            lvl = level[j]
            tk = take[which]
            bar[which] = b
            price[which] = np.where(is_stop, np.minimum(opens[j], lvl), np.maximum(opens[j], tk))
            at_open[which] = np.where(is_stop, opens[j] <= lvl, opens[j] >= tk)
            stop_reason = np.full(j.shape[0], _STOP, dtype=np.int8)
            if trail is not None:
                stop_reason[trail_level[j] > stop[which]] = _TRAIL
            reason[which] = np.where(is_stop, stop_reason, _TAKE)
        if trail is not None:
            highest[active] = np.maximum(highest[active], np.maximum.reduceat(highs, starts))
        pos[active] = hi
        keep = ~found & (hi < search_stop[active])
        active = active[keep]
        width *= _GROWTH
