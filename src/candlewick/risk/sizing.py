"""Position sizing rules: plain functions chosen by name from the config (pure).

A sizing rule answers "how many quote units should this entry spend?" from a
:class:`SizingContext`. The portfolio limits (:func:`candlewick.risk.limits.cap_spend`) then
cap the answer by cash and exposure. Add your own with ``@SIZING.register("name")``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

from candlewick.core.registry import Registry
from candlewick.errors import RiskError


@dataclass(frozen=True, slots=True)
class SizingContext:
    """What a sizing rule may look at when an entry is about to be sent.

    ``stop_distance`` is the fraction between the entry reference price and the stop
    (None without a stop). ``closed_returns`` are the net returns (fractions) of the trades
    closed so far in this run, oldest first: only the past, never the future. The engine
    keeps them only for rules registered with ``needs_history=True`` (empty otherwise).
    """

    cash: Decimal
    equity: Decimal
    price: float
    stop_distance: float | None
    closed_returns: Sequence[float]


SizingFn = Callable[[SizingContext, Mapping[str, Any]], Decimal]
SIZING: Registry[SizingFn] = Registry("sizing rule")


@dataclass(frozen=True, slots=True)
class Bound:
    """The values a sizing parameter may take: ``(low, high]`` (``[low, high]`` if closed)."""

    low: Decimal
    high: Decimal
    closed: bool = False
    integer: bool = False

    def __str__(self) -> str:
        return f"{'[' if self.closed else '('}{self.low}, {self.high}]"

    def holds(self, value: Decimal) -> bool:
        """True when ``value`` lies within the bound (and is whole, for an integer bound)."""
        above = value >= self.low if self.closed else value > self.low
        whole = not self.integer or value == value.to_integral_value()
        return above and value <= self.high and whole


#: A share of equity: more than all of it is leverage, which spot trading does not have.
FRACTION = Bound(Decimal(0), Decimal(1))
#: The loss per trade risk_percent aims at: above 10 % of equity a few stops ruin an account.
RISK = Bound(Decimal(0), Decimal("0.1"))
#: A quote amount (a trillion at most).
AMOUNT = Bound(Decimal(0), Decimal(10**12))
PROBABILITY = Bound(Decimal(0), Decimal(1), closed=True)
PAYOFF = Bound(Decimal(0), Decimal(1000))
TRADES = Bound(Decimal(1), Decimal(10_000), closed=True, integer=True)


def _param(
    params: Mapping[str, Any], name: str, rule: str, bound: Bound, default: Any = None
) -> Decimal:
    value = params.get(name, default)
    if value is None:
        raise RiskError(f"sizing {rule!r} needs the parameter {name!r} (sizing.params.{name})")
    result = _number(str(value), bound)
    if result is None or isinstance(value, bool):
        kind = "a whole number" if bound.integer else "a number"
        raise RiskError(f"sizing.params.{name} must be {kind} in {bound}, got {value!r}")
    return result


@lru_cache(maxsize=256)
def _number(text: str, bound: Bound) -> Decimal | None:
    """A finite Decimal from its text within ``bound``, or None (cached: called on every entry)."""
    try:
        result = Decimal(text)
    except ArithmeticError:
        return None
    return result if result.is_finite() and bound.holds(result) else None


@SIZING.register("all_in", defaults={})
def all_in(ctx: SizingContext, params: Mapping[str, Any]) -> Decimal:
    """Spend all available cash."""
    return ctx.cash


@SIZING.register("fixed_quote", defaults={"amount": None})
def fixed_quote(ctx: SizingContext, params: Mapping[str, Any]) -> Decimal:
    """Spend a fixed amount of quote currency (``amount``, in (0, 1e12])."""
    return _param(params, "amount", "fixed_quote", AMOUNT)


@SIZING.register("equity_fraction", defaults={"fraction": None})
def equity_fraction(ctx: SizingContext, params: Mapping[str, Any]) -> Decimal:
    """Spend a fraction of current equity (``fraction`` in (0, 1], e.g. 0.1)."""
    return ctx.equity * _param(params, "fraction", "equity_fraction", FRACTION)


@SIZING.register("risk_percent", defaults={"risk": None})
def risk_percent(ctx: SizingContext, params: Mapping[str, Any]) -> Decimal:
    """Size so that hitting the stop loses ``risk`` (fraction) of equity, before costs.

    spend = equity × risk / stop_distance, where the distance runs from the entry bar's open
    to the stop. Fees and slippage come on top (about 0.2 % of the spend per round trip at
    Binance's base fee): with tight stops, lower ``risk`` to leave room for them.
    Needs a stop-loss rule. ``risk`` lies in (0, 0.1]: 0.01 (1 %) is usual.
    """
    risk = _param(params, "risk", "risk_percent", RISK)
    if ctx.stop_distance is None or ctx.stop_distance <= 0:
        raise RiskError(
            "sizing 'risk_percent' needs a stop: set risk.stop_loss_pct or risk.stop_loss_atr"
        )
    return ctx.equity * risk / Decimal(repr(ctx.stop_distance))


def kelly_fraction(returns: Sequence[float]) -> float:
    """The Kelly fraction ``W - (1 - W) / R`` from past trade returns (0 when undefined).

    W is the share of winning trades, R the mean win over the mean loss.
    """
    wins = [r for r in returns if r > 0]
    losses = [-r for r in returns if r <= 0]
    if not wins:
        return 0.0
    if not losses or sum(losses) == 0:
        return 1.0
    win_rate = len(wins) / len(returns)
    payoff = (sum(wins) / len(wins)) / (sum(losses) / len(losses))
    return max(0.0, win_rate - (1.0 - win_rate) / payoff)


@SIZING.register(
    "kelly",
    needs_history=True,
    defaults={
        "cap": 0.25,
        "multiplier": 0.5,
        "min_trades": 20,
        "fallback": 0.05,
        "win_rate": None,
        "payoff": None,
    },
)
def capped_kelly(ctx: SizingContext, params: Mapping[str, Any]) -> Decimal:
    """Capped, scaled Kelly: equity × min(cap, multiplier × Kelly).

    Kelly is estimated from this run's closed trades (no lookahead) once ``min_trades`` have
    closed; before that ``fallback`` (fraction of equity) is used. Or give ``win_rate`` and
    ``payoff`` (both) to fix it. Defaults: multiplier 0.5 (half Kelly), cap 0.25, min_trades
    20, fallback 0.05. Bounds: cap, multiplier and fallback in (0, 1], min_trades 1 to
    10,000, win_rate in [0, 1], payoff in (0, 1000].
    """
    cap = float(_param(params, "cap", "kelly", FRACTION, 0.25))
    multiplier = float(_param(params, "multiplier", "kelly", FRACTION, 0.5))
    min_trades = int(_param(params, "min_trades", "kelly", TRADES, 20))
    fallback = _param(params, "fallback", "kelly", FRACTION, 0.05)
    if (params.get("win_rate") is None) != (params.get("payoff") is None):
        raise RiskError("give both sizing.params.win_rate and payoff, or neither")
    if params.get("win_rate") is not None:
        w = float(_param(params, "win_rate", "kelly", PROBABILITY))
        r = float(_param(params, "payoff", "kelly", PAYOFF))
        kelly = max(0.0, w - (1.0 - w) / r)
    elif len(ctx.closed_returns) >= min_trades:
        kelly = kelly_fraction(ctx.closed_returns)
    else:
        return ctx.equity * fallback
    return ctx.equity * Decimal(repr(min(cap, multiplier * kelly)))
