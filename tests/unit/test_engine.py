"""The backtest engine: fill timing, fees, sizing, shared cash, limits and breakers."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from candlewick.backtest.engine import BacktestSettings, PairData, run_backtest
from candlewick.core.fills import Fees, Precision, Slippage, dec
from candlewick.core.types import Candles, ExitReason
from candlewick.errors import BacktestError
from candlewick.risk.limits import PortfolioLimits
from candlewick.risk.rules import ExitRules

MIN = 60_000
DAY = 86_400_000


def make_candles(
    close: Sequence[float] | np.ndarray,
    pair: str = "BTC/USDT",
    start: int = 1_700_000_000_000 // DAY * DAY,
    step: int = MIN,
    spread: float = 0.0,
) -> Candles:
    c = np.asarray(close, dtype=np.float64)
    o = np.concatenate(([c[0]], c[:-1]))
    ts = start + step * np.arange(c.shape[0], dtype=np.int64)
    high = np.maximum(o, c) * (1 + spread)
    low = np.minimum(o, c) * (1 - spread)
    return Candles("test", pair, "1m", ts, o, high, low, c, np.full(c.shape[0], 1e6))


def flags(n: int, *bars: int) -> np.ndarray:
    out = np.zeros(n, dtype=np.bool_)
    out[list(bars)] = True
    return out


def test_signal_fills_at_next_open_and_fees_come_from_what_is_received() -> None:
    candles = make_candles([100, 101, 102, 104, 103, 105])
    data = PairData(candles, flags(6, 1), flags(6, 3))
    result = run_backtest([data], BacktestSettings(initial_cash=Decimal(1000)))
    (trade,) = result.trades
    assert trade.signal_ts == candles.timestamp[1]
    assert trade.entry_ts == candles.timestamp[2]
    assert trade.entry_price == Decimal("101")  # open of bar 2 = close of bar 1
    assert trade.exit_ts == candles.timestamp[4]
    assert trade.exit_price == Decimal("104")
    qty = Decimal(1000) / Decimal(101)
    assert trade.qty == qty
    assert trade.entry_fee == qty * Decimal("0.001")  # in base
    assert trade.qty_net == qty * Decimal("0.999")
    gross = trade.qty_net * Decimal(104)
    assert trade.exit_fee == gross * Decimal("0.001")  # in quote
    assert result.final_cash == gross * Decimal("0.999")
    assert trade.exit_reason is ExitReason.SIGNAL


def test_open_position_closes_at_last_close_paying_the_fee() -> None:
    candles = make_candles([100, 101, 102, 110])
    result = run_backtest(
        [PairData(candles, flags(4, 0), flags(4))], BacktestSettings(initial_cash=Decimal(100))
    )
    (trade,) = result.trades
    assert trade.exit_reason is ExitReason.END_OF_DATA
    assert trade.exit_price == Decimal(110)
    assert result.final_cash == Decimal(100) / Decimal(100) * Decimal("0.999") * 110 * Decimal(
        "0.999"
    )
    assert result.equity[-1] == pytest.approx(float(result.final_cash))


def test_signal_on_last_bar_is_not_filled() -> None:
    candles = make_candles([100, 101, 102])
    result = run_backtest(
        [PairData(candles, flags(3, 2), flags(3))], BacktestSettings(initial_cash=Decimal(100))
    )
    assert result.trades == ()
    assert result.final_cash == Decimal(100)


def test_fixed_slippage_moves_both_fills_against_the_trader() -> None:
    candles = make_candles([100, 100, 100, 100])
    result = run_backtest(
        [PairData(candles, flags(4, 0), flags(4, 1))],
        BacktestSettings(
            initial_cash=Decimal(100),
            fees=Fees(Decimal(0), Decimal(0)),
            slippage=Slippage(Decimal(10)),
        ),
    )
    (trade,) = result.trades
    assert trade.entry_price == Decimal("100.1")
    assert trade.exit_price == Decimal("99.9")


def test_stop_loss_exit_uses_the_stop_level_and_reason() -> None:
    close = [100.0, 100.0, 100.0, 97.0, 99.0]
    candles = make_candles(close, spread=0.0)
    result = run_backtest(
        [PairData(candles, flags(5, 0), flags(5))],
        BacktestSettings(initial_cash=Decimal(100), exit_rules=ExitRules(stop_loss_pct=0.02)),
    )
    (trade,) = result.trades
    assert trade.exit_reason is ExitReason.STOP_LOSS
    assert trade.exit_price == dec(100.0 * 0.98)
    assert trade.exit_ts == candles.timestamp[3]


def test_shared_cash_across_pairs_and_max_open_positions() -> None:
    a = make_candles([10, 10, 11, 12, 12], pair="AAA/USDT")
    b = make_candles([20, 20, 21, 22, 22], pair="BBB/USDT")
    pairs = [PairData(a, flags(5, 0), flags(5)), PairData(b, flags(5, 0), flags(5))]
    all_in = run_backtest(pairs, BacktestSettings(initial_cash=Decimal(1000)))
    assert len(all_in.trades) == 1
    assert [r.reason for r in all_in.rejections] == ["no cash left"]

    half = BacktestSettings(
        initial_cash=Decimal(1000), sizing="equity_fraction", sizing_params={"fraction": 0.5}
    )
    both = run_backtest(pairs, half)
    assert len(both.trades) == 2
    first, second = both.trades
    assert first.cost == Decimal(500)
    # Equity at the second entry marks the first position (net of its fee) at the last close.
    assert second.cost == (Decimal(500) + first.qty_net * 10) / 2

    limited = BacktestSettings(
        initial_cash=Decimal(1000),
        sizing="equity_fraction",
        sizing_params={"fraction": 0.5},
        limits=PortfolioLimits(max_open_positions=1),
    )
    one = run_backtest(pairs, limited)
    assert len(one.trades) == 1
    assert [r.reason for r in one.rejections] == ["max open positions (1)"]


def test_exposure_caps_limit_the_spend() -> None:
    candles = make_candles([10, 10, 10, 10])
    result = run_backtest(
        [PairData(candles, flags(4, 0), flags(4))],
        BacktestSettings(
            initial_cash=Decimal(1000), limits=PortfolioLimits(max_pair_exposure=0.25)
        ),
    )
    assert result.trades[0].cost == Decimal(250)


def test_max_drawdown_breaker_halts_new_entries() -> None:
    close = [100, 100, 50, 50, 50, 60, 60, 60]
    candles = make_candles(close)
    entries = flags(8, 0, 4)
    exits = flags(8, 2)
    result = run_backtest(
        [PairData(candles, entries, exits)],
        BacktestSettings(initial_cash=Decimal(100), limits=PortfolioLimits(max_drawdown=0.3)),
    )
    assert len(result.trades) == 1
    assert result.halted_at == candles.timestamp[2] + MIN  # the close of the bar that tripped it
    assert result.rejections[0].reason.startswith("halted: max drawdown")


def test_daily_loss_limit_halts_until_the_next_utc_day() -> None:
    step = 3 * 3_600_000  # eight bars a day
    close = [100, 100, 80, 80, 80, 80, 80, 80, 80, 80, 80, 80]
    candles = make_candles(close, step=step)
    entries = flags(12, 0, 3, 5, 8)
    exits = flags(12, 2)
    result = run_backtest(
        [PairData(candles, entries, exits)],
        BacktestSettings(initial_cash=Decimal(100), limits=PortfolioLimits(daily_loss_limit=0.1)),
    )
    # The first position loses 20 % by bar 2's close (day 0): the signal of bar 3 is refused,
    # later signals of day 0 are skipped, and the signal of bar 8 fills on day 1 (bar 9).
    assert [t.entry_ts for t in result.trades] == [candles.timestamp[1], candles.timestamp[9]]
    assert len(result.rejections) == 1
    assert result.rejections[0].reason == "halted for the day: daily loss limit"


def test_precision_floors_the_amount_and_enforces_min_notional() -> None:
    candles = make_candles([3, 3, 3, 3])
    precision = Precision(
        price_tick=Decimal("0.01"), amount_step=Decimal("0.1"), min_notional=Decimal(5)
    )
    ok = run_backtest(
        [PairData(candles, flags(4, 0), flags(4, 1), precision=precision)],
        BacktestSettings(initial_cash=Decimal(10)),
    )
    assert ok.trades[0].qty == Decimal("3.3")
    assert ok.trades[0].cost == Decimal("9.9")
    too_small = run_backtest(
        [PairData(candles, flags(4, 0), flags(4, 1), precision=precision)],
        BacktestSettings(initial_cash=Decimal(4)),
    )
    assert too_small.trades == ()


def test_breaker_watch_does_not_change_the_equity_curve() -> None:
    rng = np.random.default_rng(7)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, 500)))
    candles = make_candles(close, step=3_600_000, spread=0.002)
    entries = rng.random(500) < 0.05
    exits = rng.random(500) < 0.05
    base = BacktestSettings(initial_cash=Decimal(1000), exit_rules=ExitRules(stop_loss_pct=0.03))
    watched = BacktestSettings(
        initial_cash=Decimal(1000),
        exit_rules=ExitRules(stop_loss_pct=0.03),
        limits=PortfolioLimits(max_drawdown=0.99, daily_loss_limit=0.99),
    )
    a = run_backtest([PairData(candles, entries, exits)], base)
    b = run_backtest([PairData(candles, entries, exits)], watched)
    assert a.trades == b.trades
    np.testing.assert_allclose(a.equity, b.equity, rtol=1e-12)


def test_mismatched_signal_length_is_a_clear_error() -> None:
    candles = make_candles([1, 2, 3])
    with pytest.raises(BacktestError, match="signal length"):
        run_backtest([PairData(candles, flags(2), flags(3))], BacktestSettings(Decimal(1)))


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    density=st.floats(0.01, 0.3),
    stop=st.one_of(st.none(), st.floats(0.005, 0.1)),
    trail=st.one_of(st.none(), st.floats(0.005, 0.1)),
    fraction=st.floats(0.1, 1.0),
    npairs=st.integers(1, 3),
)
def test_properties_no_fill_before_next_bar_and_never_negative(
    seed: int, density: float, stop: float | None, trail: float | None, fraction: float, npairs: int
) -> None:
    rng = np.random.default_rng(seed)
    pairs = []
    for k in range(npairs):
        n = int(rng.integers(20, 300))
        close = 100 * np.exp(np.cumsum(rng.normal(0, 0.02, n)))
        candles = make_candles(close, pair=f"P{k}/USDT", spread=0.01, start=k * 7 * MIN)
        pairs.append(PairData(candles, rng.random(n) < density, rng.random(n) < density))
    result = run_backtest(
        pairs,
        BacktestSettings(
            initial_cash=Decimal(1000),
            exit_rules=ExitRules(stop_loss_pct=stop, trailing_stop_pct=trail),
            sizing="equity_fraction",
            sizing_params={"fraction": fraction},
            slippage=Slippage(Decimal(5)),
        ),
    )
    by_pair = {p.candles.pair: p.candles for p in pairs}
    for trade in result.trades:
        ts = by_pair[trade.pair].timestamp
        signal_bar = int(np.searchsorted(ts, trade.signal_ts))
        assert trade.entry_ts == ts[signal_bar + 1]
        assert trade.exit_ts >= trade.entry_ts
        assert trade.cost > 0 and trade.proceeds >= 0
    assert result.final_cash >= 0
    assert (result.equity >= -1e-9).all()
    assert result.equity[-1] == pytest.approx(float(result.final_cash), rel=1e-9, abs=1e-9)
    assert float(result.final_cash) == pytest.approx(
        1000 + float(sum(t.pnl for t in result.trades)), rel=1e-9
    )


def test_take_profit_pays_the_maker_fee_and_time_stop_closes_at_the_open() -> None:
    candles = make_candles([100, 100, 100, 112, 112])
    fees = Fees(taker=Decimal("0.002"), maker=Decimal("0.001"))
    tp = run_backtest(
        [PairData(candles, flags(5, 0), flags(5))],
        BacktestSettings(Decimal(100), fees=fees, exit_rules=ExitRules(take_profit_pct=0.1)),
    )
    (trade,) = tp.trades
    assert trade.exit_reason is ExitReason.TAKE_PROFIT
    assert trade.exit_price == Decimal("110")  # the level's decimal value, not 100.0 * 1.1
    assert trade.exit_fee == trade.qty_net * trade.exit_price * Decimal("0.001")
    timed = run_backtest(
        [PairData(candles, flags(5, 0), flags(5))],
        BacktestSettings(Decimal(100), exit_rules=ExitRules(time_stop_bars=2)),
    )
    assert timed.trades[0].exit_reason is ExitReason.TIME_STOP
    assert timed.trades[0].exit_ts == candles.timestamp[3]


def test_trailing_stop_follows_the_highs_of_earlier_bars() -> None:
    close = [100, 100, 110, 120, 110, 100]
    candles = make_candles(close)
    result = run_backtest(
        [PairData(candles, flags(6, 0), flags(6))],
        BacktestSettings(Decimal(100), exit_rules=ExitRules(trailing_stop_pct=0.05)),
    )
    (trade,) = result.trades
    assert trade.exit_reason is ExitReason.TRAILING_STOP
    # Highest high before bar 4 is 120: the stop trails at 114 and bar 4 (120 -> 110) hits it.
    assert trade.exit_ts == candles.timestamp[4]
    assert trade.exit_price == dec(120.0 * 0.95)


def test_cooldown_skips_signals_right_after_an_exit() -> None:
    candles = make_candles([10.0] * 10)
    entries = flags(10, 0, 3, 6)
    exits = flags(10, 1, 4)
    plain = run_backtest([PairData(candles, entries, exits)], BacktestSettings(Decimal(100)))
    cooled = run_backtest(
        [PairData(candles, entries, exits)],
        BacktestSettings(Decimal(100), limits=PortfolioLimits(cooldown_bars=2)),
    )
    assert len(plain.trades) == 3
    # First exit fills at bar 2: signals before bar 4 are ignored, so bar 3's is skipped.
    assert [t.signal_ts for t in cooled.trades] == [candles.timestamp[0], candles.timestamp[6]]


def test_kelly_sizing_sees_only_trades_closed_before_the_entry() -> None:
    close = [10, 10, 11, 11, 12, 12, 11, 11, 11, 11]
    candles = make_candles(close)
    entries = flags(10, 0, 3, 6)
    exits = flags(10, 2, 5)
    result = run_backtest(
        [PairData(candles, entries, exits)],
        BacktestSettings(
            Decimal(1000), sizing="kelly", sizing_params={"min_trades": 2, "fallback": 0.1}
        ),
    )
    first, second, third = result.trades
    assert first.cost == Decimal(100)  # fallback: no closed trade yet
    assert second.cost == (Decimal(1000) + first.pnl) * Decimal("0.1")  # one closed: fallback
    # After two winners Kelly is 1; half Kelly capped at 0.25 of equity.
    assert float(third.cost) == pytest.approx(0.25 * float(result.equity[6]), rel=1e-9)


def test_risk_percent_with_an_atr_stop() -> None:
    candles = make_candles([100.0] * 6)
    atr = np.full(6, 2.0)
    result = run_backtest(
        [PairData(candles, flags(6, 0), flags(6), atr=atr)],
        BacktestSettings(
            Decimal(10_000),
            exit_rules=ExitRules(stop_loss_atr=2.0),
            sizing="risk_percent",
            sizing_params={"risk": 0.01},
        ),
    )
    # Stop 4 below 100 (4 %): risking 1 % of 10,000 means spending 100 / 0.04 = 2,500.
    assert float(result.trades[0].cost) == pytest.approx(2500.0)
