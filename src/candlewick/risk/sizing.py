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


def _param(params: Mapping[str, Any], name: str, rule: str, default: Any = None) -> Decimal:
    value = params.get(name, default)
    if value is None:
        raise RiskError(f"sizing {rule!r} needs the parameter {name!r} (sizing.params.{name})")
    result = _number(str(value))
    if result is None:
        raise RiskError(f"sizing.params.{name} must be a finite number >= 0, got {value!r}")
    return result


@lru_cache(maxsize=256)
def _number(text: str) -> Decimal | None:
    """A non-negative finite Decimal from its text, or None (cached: called on every entry)."""
    try:
        result = Decimal(text)
    except ArithmeticError:
        return None
    return result if result.is_finite() and result >= 0 else None


@SIZING.register("all_in", defaults={})
def all_in(ctx: SizingContext, params: Mapping[str, Any]) -> Decimal:
    """Spend all available cash."""
    return ctx.cash


@SIZING.register("fixed_quote", defaults={"amount": None})
def fixed_quote(ctx: SizingContext, params: Mapping[str, Any]) -> Decimal:
    """Spend a fixed amount of quote currency (``amount``)."""
    return _param(params, "amount", "fixed_quote")


@SIZING.register("equity_fraction", defaults={"fraction": None})
def equity_fraction(ctx: SizingContext, params: Mapping[str, Any]) -> Decimal:
    """Spend a fraction of current equity (``fraction``, e.g. 0.1)."""
    return ctx.equity * _param(params, "fraction", "equity_fraction")


@SIZING.register("risk_percent", defaults={"risk": None})
def risk_percent(ctx: SizingContext, params: Mapping[str, Any]) -> Decimal:
    """Size so that hitting the stop loses ``risk`` (fraction) of equity, before costs.

    spend = equity × risk / stop_distance, where the distance runs from the entry bar's open
    to the stop. Fees and slippage come on top (about 0.2 % of the spend per round trip at
    Binance's base fee): with tight stops, lower ``risk`` to leave room for them.
    Needs a stop-loss rule.
    """
    risk = _param(params, "risk", "risk_percent")
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
    ``payoff`` to fix it. Defaults: multiplier 0.5 (half Kelly), cap 0.25, min_trades 20,
    fallback 0.05.
    """
    cap = float(_param(params, "cap", "kelly", 0.25))
    multiplier = float(_param(params, "multiplier", "kelly", 0.5))
    if params.get("win_rate") is not None and params.get("payoff") is not None:
        w = float(_param(params, "win_rate", "kelly"))
        r = float(_param(params, "payoff", "kelly"))
        kelly = max(0.0, w - (1.0 - w) / r) if r > 0 else 0.0
    elif len(ctx.closed_returns) >= int(_param(params, "min_trades", "kelly", 20)):
        kelly = kelly_fraction(ctx.closed_returns)
    else:
        return ctx.equity * _param(params, "fallback", "kelly", 0.05)
    return ctx.equity * Decimal(repr(min(cap, multiplier * kelly)))
