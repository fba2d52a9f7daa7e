"""Portfolio limits and circuit breakers: the risk gate on the command path (pure).

The gate's state is ACTIVE (entries allowed), HALTED_TODAY (the daily loss limit was hit:
no new entries until the next UTC day) or HALTED (the max-drawdown breaker tripped: no new
entries until a person resets it). Exits are never blocked.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

import numpy as np

from candlewick.core.types import F64, I64

DAY_MS = 86_400_000


class GateState(StrEnum):
    """What the risk gate currently lets through."""

    ACTIVE = "active"
    HALTED_TODAY = "halted_today"
    HALTED = "halted"


@dataclass(frozen=True, slots=True)
class PortfolioLimits:
    """Limits on the whole portfolio; ``None`` disables one.

    Exposures and losses are fractions of equity: ``max_pair_exposure=0.25`` keeps any one
    pair at or under 25 % of equity when it is bought.
    """

    max_open_positions: int | None = None
    max_pair_exposure: float | None = None
    max_total_exposure: float | None = None
    daily_loss_limit: float | None = None
    max_drawdown: float | None = None
    cooldown_bars: int = 0

    @property
    def needs_equity_path(self) -> bool:
        """Whether the breakers must watch the equity of every bar as it happens."""
        return self.daily_loss_limit is not None or self.max_drawdown is not None


def cap_spend(
    wanted: Decimal,
    cash: Decimal,
    equity: Decimal,
    exposure: Decimal,
    limits: PortfolioLimits,
) -> Decimal:
    """The quote amount an entry may spend: the sizing's wish within cash and exposure caps."""
    spend = min(wanted, cash)
    if limits.max_pair_exposure is not None:
        spend = min(spend, equity * Decimal(repr(limits.max_pair_exposure)))
    if limits.max_total_exposure is not None:
        room = equity * Decimal(repr(limits.max_total_exposure)) - exposure
        spend = min(spend, room)
    return max(spend, Decimal(0))


@dataclass(slots=True)
class Breakers:
    """Running state of the daily-loss and max-drawdown breakers.

    It is fed the equity at every bar close, a segment at a time (vectorised), in time order;
    ``ts`` are bar open times and ``bar_ms`` the bar length, so that ``halted_at`` is the time
    of the close that tripped the drawdown breaker.
    The daily loss is measured from the last close of the previous UTC day (or the initial
    equity on the first day); the drawdown from the highest close so far.
    """

    limits: PortfolioLimits
    initial_equity: float
    bar_ms: int = 0
    peak: float = 0.0
    day: int = -1
    day_start_equity: float = 0.0
    last_equity: float = 0.0
    halted_at: int | None = None
    halted_day: int | None = None

    def __post_init__(self) -> None:
        self.peak = self.initial_equity
        self.day_start_equity = self.initial_equity
        self.last_equity = self.initial_equity

    def observe(self, ts: I64, equity: F64) -> None:
        """Account for the equities at the closes of the bars opened at ``ts`` (ms)."""
        if ts.shape[0] == 0:
            return
        if self.limits.max_drawdown is not None and self.halted_at is None:
            running = np.maximum.accumulate(np.maximum(equity, self.peak))
            hit = np.flatnonzero(1.0 - equity / running >= self.limits.max_drawdown)
            if hit.shape[0]:
                self.halted_at = int(ts[hit[0]]) + self.bar_ms  # the close that tripped it
        self.peak = max(self.peak, float(equity.max()))
        days = ts // DAY_MS
        if self.limits.daily_loss_limit is not None:
            prev_day = np.concatenate(([self.day], days[:-1]))
            prev_eq = np.concatenate(([self.last_equity], equity[:-1]))
            new_day = days != prev_day
            starts = np.where(new_day, prev_eq, np.nan)
            starts[0] = prev_eq[0] if new_day[0] else self.day_start_equity
            idx = np.where(np.isnan(starts), 0, np.arange(starts.shape[0]))
            starts = starts[np.maximum.accumulate(idx)]
            hit = np.flatnonzero(1.0 - equity / starts >= self.limits.daily_loss_limit)
            if hit.shape[0]:
                self.halted_day = int(days[hit[-1]])
            self.day_start_equity = float(starts[-1])
        self.day = int(days[-1])
        self.last_equity = float(equity[-1])

    def state(self, ts: int) -> GateState:
        """The gate for an entry at ``ts``."""
        if self.halted_at is not None:
            return GateState.HALTED
        if self.halted_day is not None and ts // DAY_MS == self.halted_day:
            return GateState.HALTED_TODAY
        return GateState.ACTIVE
