"""Metrics on tiny hand-computed cases, edge cases, and properties over random curves."""

from __future__ import annotations

import json
import math
import statistics
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from candlewick.core.metrics import (
    bar_returns,
    compute_metrics,
    drawdown,
    exit_reason_stats,
    max_drawdown_span,
    per_pair_metrics,
    periods_per_year,
)
from candlewick.core.types import BacktestResult, ExitReason, Trade
from candlewick.errors import BacktestError

DAY = 86_400_000
T0 = 1_700_006_400_000  # 2023-11-15T00:00:00Z


def trade(
    pnl: str,
    *,
    pair: str = "BTC/USDT",
    cost: str = "100",
    bars: int = 2,
    reason: ExitReason = ExitReason.SIGNAL,
    entry_fee: str = "0",
    exit_fee: str = "0",
) -> Trade:
    """A trade bought for ``cost`` at price 10 that made ``pnl`` quote net of fees."""
    c = Decimal(cost)
    qty = c / 10
    proceeds = c + Decimal(pnl)
    return Trade(
        pair=pair,
        signal_ts=T0,
        entry_ts=T0 + DAY,
        exit_ts=T0 + (1 + bars) * DAY,
        entry_price=Decimal(10),
        exit_price=proceeds / qty,
        qty=qty,
        qty_net=qty - Decimal(entry_fee),
        cost=c,
        proceeds=proceeds,
        entry_fee=Decimal(entry_fee),
        exit_fee=Decimal(exit_fee),
        exit_reason=reason,
        bars_held=bars,
    )


def result(
    equity: list[float],
    *,
    initial: str = "100",
    trades: tuple[Trade, ...] = (),
    exposure: list[float] | None = None,
    timeframe: str = "1d",
    pairs: tuple[str, ...] = ("BTC/USDT",),
) -> BacktestResult:
    step = {"1d": DAY, "5m": 300_000, "1h": 3_600_000}[timeframe]
    n = len(equity)
    return BacktestResult(
        pairs=pairs,
        timeframe=timeframe,
        quote="USDT",
        initial_cash=Decimal(initial),
        final_cash=Decimal(repr(equity[-1])) if equity else Decimal(initial),
        trades=trades,
        timestamp=T0 + step * np.arange(n, dtype=np.int64),
        equity=np.array(equity, dtype=np.float64),
        exposure=np.array(exposure if exposure is not None else [0.0] * n, dtype=np.float64),
        bars=n,
    )


# ---- the 5-bar curve: 100 (cash) -> 100, 110, 99, 105, 111 on daily bars -------------------

FIVE = [100.0, 110.0, 99.0, 105.0, 111.0]


def test_five_bar_curve_drawdown_and_duration() -> None:
    m = compute_metrics(result(FIVE))
    assert m["max_drawdown"] == pytest.approx(0.1)  # 110 -> 99
    # From the 110 high (close of bar 1) to the 111 recovery (close of bar 4): 3 bars, 3 days.
    assert m["max_drawdown_duration_bars"] == 3
    assert m["max_drawdown_duration_days"] == pytest.approx(3.0)


def test_five_bar_curve_returns_sharpe_sortino_cagr_calmar() -> None:
    m = compute_metrics(result(FIVE))
    rets = [0.0, 0.1, -0.1, 6 / 99, 6 / 105]
    assert m["total_return"] == pytest.approx(0.11)
    assert m["sharpe"] == pytest.approx(statistics.mean(rets) / statistics.stdev(rets) * 365**0.5)
    downside = math.sqrt(0.1**2 / 5)  # one losing bar, averaged over all five periods
    assert m["sortino"] == pytest.approx(statistics.mean(rets) / downside * 365**0.5)
    assert m["years"] == pytest.approx(5 / 365)
    assert m["cagr"] == pytest.approx(1.11 ** (365 / 5) - 1)
    assert m["calmar"] == pytest.approx((1.11 ** (365 / 5) - 1) / 0.1)


def test_time_range_and_bars() -> None:
    m = compute_metrics(result(FIVE))
    assert m["bars"] == 5
    assert m["start_ts"] == T0
    assert m["end_ts"] == T0 + 5 * DAY  # close of the last bar
    assert m["start"] == "2023-11-15T00:00:00Z"
    assert m["end"] == "2023-11-20T00:00:00Z"
    assert m["initial_cash"] == 100.0
    assert m["final_equity"] == 111.0
    assert m["net_profit"] == pytest.approx(11.0)


def test_drawdown_never_recovered_lasts_to_the_end() -> None:
    # cash 100 -> 90, 95, 100, 80: the 100 -> 80 fall never recovers but the first dip is longer
    c = np.array([100.0, 90.0, 95.0, 100.0, 80.0])
    assert drawdown(c) == pytest.approx([0.0, 0.1, 0.05, 0.0, 0.2])
    assert max_drawdown_span(c) == (0, 3)
    # cash 100 -> 120, 90, 100, 110: under water from the 120 high to the last bar
    m = compute_metrics(result([120.0, 90.0, 100.0, 110.0]))
    assert m["max_drawdown"] == pytest.approx(0.25)
    assert m["max_drawdown_duration_bars"] == 3
    assert m["max_drawdown_duration_days"] == pytest.approx(3.0)


def test_drawdown_before_the_first_bar_counts_from_initial_cash() -> None:
    m = compute_metrics(result([95.0, 100.0]))
    assert m["max_drawdown"] == pytest.approx(0.05)
    assert m["max_drawdown_duration_bars"] == 2


def test_bar_returns_zero_after_a_wipe_out() -> None:
    assert bar_returns(np.array([100.0, 0.0, 0.0])) == pytest.approx([-1.0, 0.0])


def test_total_loss() -> None:
    m = compute_metrics(result([50.0, 0.0]))
    assert m["total_return"] == -1.0
    assert m["cagr"] == -1.0
    assert m["max_drawdown"] == 1.0


# ---- trades -----------------------------------------------------------------------------


THREE = (
    trade("30", bars=4, reason=ExitReason.TAKE_PROFIT),
    trade("-10", bars=1, reason=ExitReason.STOP_LOSS, entry_fee="0.01", exit_fee="0.1"),
    trade("5", bars=1),
)


def test_three_trades() -> None:
    m = compute_metrics(result(FIVE, trades=THREE))
    assert m["trade_count"] == 3
    assert m["profit_factor"] == pytest.approx(35 / 10)
    assert m["gross_profit"] == 35.0
    assert m["gross_loss"] == 10.0
    assert m["win_rate"] == pytest.approx(2 / 3)
    assert m["expectancy"] == pytest.approx(25 / 3)
    assert m["expectancy_pct"] == pytest.approx((0.3 - 0.1 + 0.05) / 3)
    assert m["avg_trade_return"] == pytest.approx((0.3 - 0.1 + 0.05) / 3)
    assert m["median_trade_return"] == pytest.approx(0.05)
    assert m["best_trade_return"] == pytest.approx(0.3)
    assert m["worst_trade_return"] == pytest.approx(-0.1)
    assert m["avg_bars_held"] == pytest.approx(2.0)
    # buy fee 0.01 base at price 10 = 0.1 quote, plus the 0.1 quote sell fee
    assert m["fees_paid"] == pytest.approx(0.2)
    assert m["notes"] is None


def test_no_trades() -> None:
    m = compute_metrics(result(FIVE))
    assert m["trade_count"] == 0
    for key in ("win_rate", "profit_factor", "expectancy", "avg_trade_return", "avg_bars_held"):
        assert m[key] is None
    assert m["fees_paid"] == 0.0
    assert "no trades" in str(m["notes"])


def test_no_losing_trade_gives_no_profit_factor_and_a_note() -> None:
    m = compute_metrics(result(FIVE, trades=(trade("3"), trade("0"))))
    assert m["profit_factor"] is None
    assert "profit_factor" in str(m["notes"])
    assert m["win_rate"] == 0.5  # a break-even trade is not a win


def test_flat_equity() -> None:
    m = compute_metrics(result([100.0] * 4))
    assert m["sharpe"] is None
    assert m["sortino"] is None
    assert m["calmar"] is None
    assert m["max_drawdown"] == 0.0
    assert m["max_drawdown_duration_bars"] == 0
    assert m["total_return"] == 0.0
    assert m["cagr"] == 0.0


def test_no_bars() -> None:
    m = compute_metrics(result([]))
    assert m["bars"] == 0
    assert m["start"] is None
    assert m["cagr"] is None
    assert m["sharpe"] is None
    assert m["max_drawdown"] == 0.0


def test_cagr_overflow_is_none() -> None:
    m = compute_metrics(result([10_000.0], timeframe="5m"))
    assert m["cagr"] is None
    assert "cagr" in str(m["notes"])


def test_exposure() -> None:
    m = compute_metrics(result(FIVE, exposure=[0.0, 0.5, 1.0, 0.0, 0.0]))
    assert m["exposure"] == pytest.approx(0.3)
    assert m["time_in_market"] == pytest.approx(0.4)


def test_mismatched_arrays_are_rejected() -> None:
    r = result(FIVE)
    bad = BacktestResult(
        r.pairs, r.timeframe, r.quote, r.initial_cash, r.final_cash, (), r.timestamp,
        r.equity[:3], r.exposure,
    )  # fmt: skip
    with pytest.raises(BacktestError, match="equity has 3 values"):
        compute_metrics(bad)


def test_periods_per_year() -> None:
    assert periods_per_year("5m") == 105_120
    assert periods_per_year("1d") == 365
    assert periods_per_year("1h") == 8_760


def test_metrics_are_json_safe() -> None:
    for r in (result(FIVE, trades=THREE), result([]), result([100.0, 100.0])):
        json.dumps(compute_metrics(r), allow_nan=False)


# ---- per pair and exit reasons -----------------------------------------------------------


def test_per_pair_metrics() -> None:
    trades = (*THREE, trade("-4", pair="ETH/USDT", cost="200", exit_fee="1"))
    rows = per_pair_metrics(result(FIVE, trades=trades, pairs=("BTC/USDT", "SOL/USDT")))
    by_pair = {row["pair"]: row for row in rows}
    assert [row["pair"] for row in rows] == ["BTC/USDT", "SOL/USDT", "ETH/USDT"]
    btc = by_pair["BTC/USDT"]
    assert btc["trades"] == 3
    assert btc["net_pnl"] == 25.0
    assert btc["return_contribution"] == pytest.approx(0.25)
    assert btc["win_rate"] == pytest.approx(2 / 3)
    assert btc["fees"] == pytest.approx(0.2)
    assert btc["best_trade_return"] == pytest.approx(0.3)
    assert btc["worst_trade_return"] == pytest.approx(-0.1)
    eth = by_pair["ETH/USDT"]
    assert eth["net_pnl"] == -4.0
    assert eth["return_contribution"] == pytest.approx(-0.04)
    assert eth["worst_trade_return"] == pytest.approx(-0.02)
    sol = by_pair["SOL/USDT"]
    assert sol["trades"] == 0
    assert sol["win_rate"] is None
    assert sol["net_pnl"] == 0.0


def test_exit_reason_stats() -> None:
    trades = (*THREE, trade("1", reason=ExitReason.STOP_LOSS, cost="50"))
    rows = exit_reason_stats(trades)
    assert [r["exit_reason"] for r in rows] == ["stop_loss", "signal", "take_profit"]
    stop = rows[0]
    assert stop["trades"] == 2
    assert stop["share"] == 0.5
    assert stop["net_pnl"] == -9.0
    assert stop["avg_trade_return"] == pytest.approx((-0.1 + 0.02) / 2)
    assert stop["win_rate"] == 0.5
    assert exit_reason_stats(()) == []


# ---- properties ----------------------------------------------------------------------------

equities = st.lists(
    st.floats(min_value=0.0, max_value=1e9, allow_nan=False, allow_infinity=False),
    min_size=1,
    max_size=60,
)
pnls = st.lists(st.integers(min_value=-99, max_value=500), max_size=20)


@settings(max_examples=200, deadline=None)
@given(equity=equities, trade_pnls=pnls, initial=st.integers(min_value=1, max_value=10**6))
def test_properties(equity: list[float], trade_pnls: list[int], initial: int) -> None:
    trades = tuple(trade(str(p)) for p in trade_pnls)
    r = result(equity, initial=str(initial), trades=trades)
    m = compute_metrics(r)
    assert isinstance(m["max_drawdown"], float)
    assert 0.0 <= m["max_drawdown"] <= 1.0
    assert 0 <= int(m["max_drawdown_duration_bars"] or 0) <= len(equity)
    if trades:
        assert isinstance(m["win_rate"], float)
        assert 0.0 <= m["win_rate"] <= 1.0
    total = m["total_return"]
    assert isinstance(total, float)
    assert total >= -1.0
    assert (1 + total) * initial == pytest.approx(equity[-1], rel=1e-9, abs=1e-9)
    assert m["final_equity"] == equity[-1]
    json.dumps(m, allow_nan=False)
    dd = drawdown(np.concatenate([[float(initial)], np.array(equity)]))
    assert m["max_drawdown"] == pytest.approx(float(dd.max()))


@settings(max_examples=100, deadline=None)
@given(equity=equities)
def test_drawdown_is_zero_only_at_running_highs(equity: list[float]) -> None:
    curve = np.array(equity)
    dd = drawdown(curve)
    highs = curve >= np.maximum.accumulate(curve)
    assert np.all(dd[highs] == 0.0)
    assert np.all(dd[~highs] > 0.0)
