"""Exit rules of a position: stop-loss, take-profit, trailing stop, time stop (pure)."""

from __future__ import annotations

import math
from dataclasses import dataclass


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

    def stop_level(self, entry_price: float, atr: float) -> float:
        """The fixed stop level for an entry at ``entry_price`` (-inf when no stop is set).

        With both a percent and an ATR stop, the tighter (higher) one applies. A NaN ATR
        (warm-up) disables the ATR stop for that position.
        """
        level = -math.inf
        if self.stop_loss_pct is not None:
            level = max(level, entry_price * (1.0 - self.stop_loss_pct))
        if self.stop_loss_atr is not None and math.isfinite(atr):
            level = max(level, entry_price - self.stop_loss_atr * atr)
        return level

    def take_profit_level(self, entry_price: float, atr: float, stop_level: float) -> float:
        """The take-profit level (+inf when none); with several rules the nearest applies."""
        level = math.inf
        if self.take_profit_pct is not None:
            level = min(level, entry_price * (1.0 + self.take_profit_pct))
        if self.take_profit_atr is not None and math.isfinite(atr):
            level = min(level, entry_price + self.take_profit_atr * atr)
        if self.take_profit_rr is not None and math.isfinite(stop_level):
            level = min(level, entry_price + self.take_profit_rr * (entry_price - stop_level))
        return level
