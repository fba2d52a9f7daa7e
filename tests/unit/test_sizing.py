"""Sizing rules and the portfolio caps on what an entry may spend."""

from __future__ import annotations

from decimal import Decimal

import pytest

from candlewick.errors import RiskError
from candlewick.risk.limits import PortfolioLimits, cap_spend
from candlewick.risk.sizing import SIZING, SizingContext, kelly_fraction


def ctx(stop: float | None = None, returns: tuple[float, ...] = ()) -> SizingContext:
    return SizingContext(
        cash=Decimal(600),
        equity=Decimal(1000),
        price=50.0,
        stop_distance=stop,
        closed_returns=returns,
    )


def test_simple_rules() -> None:
    assert SIZING.get("all_in")(ctx(), {}) == Decimal(600)
    assert SIZING.get("fixed_quote")(ctx(), {"amount": 150}) == Decimal(150)
    assert SIZING.get("equity_fraction")(ctx(), {"fraction": 0.1}) == Decimal(100)


def test_risk_percent_sizes_by_stop_distance() -> None:
    # Risking 1 % of 1000 with a 2 % stop: spend 500, and losing 2 % of 500 is 10 = 1 %.
    assert SIZING.get("risk_percent")(ctx(stop=0.02), {"risk": 0.01}) == Decimal(500)
    with pytest.raises(RiskError, match="needs a stop"):
        SIZING.get("risk_percent")(ctx(), {"risk": 0.01})


def test_missing_parameter_names_it() -> None:
    with pytest.raises(RiskError, match=r"sizing.params.amount"):
        SIZING.get("fixed_quote")(ctx(), {})


def test_kelly_fraction_formula() -> None:
    # W = 0.6, R = 2/1: Kelly = 0.6 - 0.4 / 2 = 0.4
    assert kelly_fraction((0.02, 0.02, 0.02, -0.01, -0.01)) == pytest.approx(0.4)
    assert kelly_fraction((-0.01, -0.02)) == 0.0


def test_capped_kelly_uses_fallback_then_past_trades_only() -> None:
    kelly = SIZING.get("kelly")
    assert kelly(ctx(), {}) == Decimal(1000) * Decimal("0.05")
    returns = (0.02, 0.02, 0.02, -0.01, -0.01) * 4
    # half Kelly of 0.4 = 0.2 (under the 0.25 cap)
    assert float(kelly(ctx(returns=returns), {})) == pytest.approx(200.0)
    assert kelly(ctx(), {"win_rate": 0.9, "payoff": 3.0, "cap": 0.1}) == Decimal(1000) * Decimal(
        "0.1"
    )


def test_cap_spend() -> None:
    limits = PortfolioLimits(max_pair_exposure=0.3, max_total_exposure=0.5)
    # total room: 0.5 * 1000 - 400 = 100
    assert cap_spend(Decimal(800), Decimal(600), Decimal(1000), Decimal(400), limits) == Decimal(
        100
    )
    assert cap_spend(Decimal(800), Decimal(200), Decimal(1000), Decimal(0), limits) == Decimal(200)
    assert cap_spend(Decimal(800), Decimal(600), Decimal(1000), Decimal(0), limits) == Decimal(300)
    assert cap_spend(Decimal(10), Decimal(600), Decimal(1000), Decimal(900), limits) == Decimal(0)
