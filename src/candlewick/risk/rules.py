"""Exit rules of a position: stop-loss, take-profit, trailing stop, time stop (pure)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from candlewick.core.types import F64


@dataclass(frozen=True, slots=True)
class ExitRules:
    """Protective exits attached to every position at entry.

    Distances are fractions of the entry reference price (the open of the entry bar) or
    multiples of the ATR known at the signal bar. ``take_profit_rr`` sets the take-profit at
    that multiple of the stop distance. ``time_stop_bars`` closes a position at the open
    ``N`` bars after entry. ``None`` disables a rule.
    """

    stop_loss_pct: float | None = None
    stop_loss_atr: float | None = None
    take_profit_pct: float | None = None
    take_profit_atr: float | None = None
    take_profit_rr: float | None = None
    trailing_stop_pct: float | None = None
    time_stop_bars: int | None = None

    @property
    def needs_atr(self) -> bool:
        """Whether a rule is expressed in ATR multiples."""
        return self.stop_loss_atr is not None or self.take_profit_atr is not None

    def stop_levels(self, entry: F64, atr: F64) -> F64:
        """The fixed stop level of entries at ``entry`` prices (-inf where no stop is set).

        With both a percent and an ATR stop, the tighter (higher) one applies. A NaN ATR
        (warm-up) disables the ATR stop for that entry.
        """
        stop = np.full(entry.shape[0], -np.inf)
        if self.stop_loss_pct is not None:
            stop = np.maximum(stop, entry * (1.0 - self.stop_loss_pct))
        if self.stop_loss_atr is not None:
            by_atr = entry - self.stop_loss_atr * atr
            stop = np.where(np.isfinite(atr), np.maximum(stop, by_atr), stop)
        return stop

    def take_profit_levels(self, entry: F64, atr: F64, stop: F64) -> F64:
        """The take-profit levels (+inf where none); with several rules the nearest applies."""
        take = np.full(entry.shape[0], np.inf)
        if self.take_profit_pct is not None:
            take = np.minimum(take, entry * (1.0 + self.take_profit_pct))
        if self.take_profit_atr is not None:
            by_atr = entry + self.take_profit_atr * atr
            take = np.where(np.isfinite(atr), np.minimum(take, by_atr), take)
        if self.take_profit_rr is not None:
            by_rr = entry + self.take_profit_rr * (entry - stop)
            take = np.where(np.isfinite(stop), np.minimum(take, by_rr), take)
        return take
