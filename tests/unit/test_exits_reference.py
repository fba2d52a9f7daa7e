"""Exit rules checked against hand-computed trades, not against the code's own scalar rules.

Every case is a few hand-built bars and the trade the documented rules give
(docs/architecture.md, section 4 "Fill model"), worked out by hand in the comments and written
as literal Decimals: exit bar, exit price, reason, fees and P&L. Fees follow Binance spot: the
buy's fee is taken from the base bought, the sell's fee from the quote received. Unless a case
says otherwise: 1,000 USDT, all in, entry signal at the close of bar 0 (so the entry is at the
open of bar 1), taker and maker fee 0.1 %, no slippage, no tick or step.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from candlewick.backtest.engine import BacktestSettings, PairData, run_backtest
from candlewick.backtest.exits import PlannedExit, plan_exit
from candlewick.core.fills import Fees, Precision, Slippage
from candlewick.core.types import BacktestResult, Candles, ExitReason, Trade
from candlewick.paths import shared_data_dir
from candlewick.risk.rules import ExitRules

D = Decimal
T0 = 1_700_006_400_000  # 2023-11-15 00:00 UTC
MINUTE = 60_000
NO_EXITS = np.zeros(0, dtype=np.int64)


def bars(*rows: str) -> Candles:
    """1m candles from rows of "open high low close" (volume 1,000 each)."""
    table = np.array([[float(x) for x in row.split()] for row in rows], dtype=np.float64)
    n = table.shape[0]
    o, h, low, c = (table[:, k].copy() for k in range(4))
    ts = T0 + MINUTE * np.arange(n, dtype=np.int64)
    return Candles("test", "BTC/USDT", "1m", ts, o, h, low, c, np.full(n, 1000.0))


def flags(n: int, *at: int) -> np.ndarray:
    out = np.zeros(n, dtype=np.bool_)
    out[list(at)] = True
    return out


def backtest(
    candles: Candles,
    rules: ExitRules,
    *,
    exits: tuple[int, ...] = (),
    fees: Fees | None = None,
    slippage: Slippage | None = None,
    precision: Precision | None = None,
) -> BacktestResult:
    """One entry signalled at the close of bar 0, with 1,000 USDT all in."""
    n = len(candles)
    data = PairData(candles, flags(n, 0), flags(n, *exits), precision=precision or Precision())
    settings = BacktestSettings(
        initial_cash=D(1000),
        fees=fees or Fees(D("0.001"), D("0.001")),
        slippage=slippage or Slippage(),
        exit_rules=rules,
    )
    return run_backtest([data], settings)


def only_trade(result: BacktestResult) -> Trade:
    (trade,) = result.trades
    return trade


def exit_of(candles: Candles, rules: ExitRules, exits: tuple[int, ...] = ()) -> PlannedExit:
    """The planned exit of the position entered at the open of bar 1."""
    nxt = np.asarray(exits, dtype=np.int64) if exits else NO_EXITS
    return plan_exit(candles.open, candles.high, candles.low, candles.close, nxt, 1, rules)


# Bought at the open of bar 1 = 100 with 1,000: qty 10, fee 0.01 BTC, 9.99 BTC held.
QTY, HELD = D(10), D("9.99")


def assert_trade(
    trade: Trade, *, bar: int, price: str, reason: ExitReason, proceeds: str, exit_fee: str
) -> None:
    assert trade.entry_ts == T0 + MINUTE
    assert trade.entry_price == D(100)
    assert (trade.qty, trade.entry_fee, trade.qty_net, trade.cost) == (
        QTY,
        D("0.01"),
        HELD,
        D(1000),
    )
    assert trade.exit_ts == T0 + bar * MINUTE
    assert trade.bars_held == bar - 1
    assert trade.exit_reason is reason
    assert trade.exit_price == D(price)
    assert trade.exit_fee == D(exit_fee)
    assert trade.proceeds == D(proceeds)
    assert trade.pnl == D(proceeds) - D(1000)


# ---- fixed stop -----------------------------------------------------------------------------


def test_stop_inside_the_bar_fills_at_the_stop_level() -> None:
    # Stop 5 % under the entry bar's open: 95. Bar 2's low 94 reaches it.
    # 9.99 x 95 = 949.05; fee 0.94905; received 948.10095; P&L -51.89905.
    c = bars("100 100 100 100", "100 102 99 101", "101 101 94 96", "96 97 95 96")
    trade = only_trade(backtest(c, ExitRules(stop_loss_pct=0.05)))
    assert_trade(trade, bar=2, price="95", reason=ExitReason.STOP_LOSS,
                 proceeds="948.10095", exit_fee="0.94905")  # fmt: skip
    assert trade.pnl == D("-51.89905")
    assert exit_of(c, ExitRules(stop_loss_pct=0.05)).at_open is False


def test_a_gap_through_the_stop_fills_at_the_open() -> None:
    # Bar 2 opens at 90, under the 95 stop: sold at 90, not 95.
    # 9.99 x 90 = 899.1; fee 0.8991; received 898.2009.
    c = bars("100 100 100 100", "100 102 99 101", "90 92 88 91", "91 92 90 91")
    trade = only_trade(backtest(c, ExitRules(stop_loss_pct=0.05)))
    assert_trade(trade, bar=2, price="90", reason=ExitReason.STOP_LOSS,
                 proceeds="898.2009", exit_fee="0.8991")  # fmt: skip
    assert exit_of(c, ExitRules(stop_loss_pct=0.05)).at_open is True


def test_the_stop_can_fire_in_the_entry_bar_itself() -> None:
    # Entered at 100 at bar 1's open; the same bar trades down to 94: out at 95 in bar 1.
    c = bars("100 100 100 100", "100 101 94 97", "97 99 96 98")
    trade = only_trade(backtest(c, ExitRules(stop_loss_pct=0.05)))
    assert_trade(trade, bar=1, price="95", reason=ExitReason.STOP_LOSS,
                 proceeds="948.10095", exit_fee="0.94905")  # fmt: skip


def test_stop_first_when_stop_and_take_profit_share_a_bar() -> None:
    # Stop 95, take-profit 105; bar 2 trades 94..106: the worse outcome, the stop, is assumed.
    c = bars("100 100 100 100", "100 101 99 100", "100 106 94 100", "100 101 99 100")
    rules = ExitRules(stop_loss_pct=0.05, take_profit_pct=0.05)
    trade = only_trade(backtest(c, rules))
    assert_trade(trade, bar=2, price="95", reason=ExitReason.STOP_LOSS,
                 proceeds="948.10095", exit_fee="0.94905")  # fmt: skip


# ---- take-profit ------------------------------------------------------------------------------


def test_take_profit_fills_at_its_level_with_the_maker_fee() -> None:
    # Taker 0.2 %, maker 0.1 %. Bought 10 at 100, fee 0.02 BTC: 9.98 held.
    # Take-profit 5 %: 105, bar 2's high 106 reaches it (low 99 stays above the 95 stop).
    # 9.98 x 105 = 1047.9; maker fee 1.0479; received 1046.8521; P&L 46.8521.
    c = bars("100 100 100 100", "100 101 99 100", "100 106 99 104", "104 105 103 104")
    rules = ExitRules(stop_loss_pct=0.05, take_profit_pct=0.05)
    trade = only_trade(backtest(c, rules, fees=Fees(taker=D("0.002"), maker=D("0.001"))))
    assert (trade.qty, trade.entry_fee, trade.qty_net) == (D(10), D("0.02"), D("9.98"))
    assert (trade.exit_ts, trade.exit_reason) == (T0 + 2 * MINUTE, ExitReason.TAKE_PROFIT)
    assert (trade.exit_price, trade.exit_fee) == (D(105), D("1.0479"))
    assert (trade.proceeds, trade.pnl) == (D("1046.8521"), D("46.8521"))


def test_a_gap_above_the_take_profit_fills_it_at_the_open() -> None:
    # Bar 2 opens at 108, above the 105 take-profit: filled at 108 as a maker. Taker fee 0.2 %
    # on the buy: 9.98 held. 9.98 x 108 = 1077.84; maker fee 0.1 %: 1.07784.
    c = bars("100 100 100 100", "100 101 99 100", "108 109 90 95", "95 96 94 95")
    rules = ExitRules(stop_loss_pct=0.05, take_profit_pct=0.05)
    trade = only_trade(backtest(c, rules, fees=Fees(taker=D("0.002"), maker=D("0.001"))))
    assert (trade.exit_ts, trade.exit_reason) == (T0 + 2 * MINUTE, ExitReason.TAKE_PROFIT)
    assert (trade.exit_price, trade.exit_fee) == (D(108), D("1.07784"))
    assert trade.proceeds == D("1076.76216")
    assert exit_of(c, rules).at_open is True


def test_take_profit_at_a_multiple_of_the_stop_distance() -> None:
    # Stop 4 % = 96, so 1 R = 4 and 2.5 R = 10: take-profit at 110. Bar 3's high 111 reaches it.
    c = bars("100 100 100 100", "100 103 97 102", "102 108 101 107", "107 111 106 108")
    got = exit_of(c, ExitRules(stop_loss_pct=0.04, take_profit_rr=2.5))
    assert got == PlannedExit(3, 110.0, ExitReason.TAKE_PROFIT, at_open=False)


# ---- trailing stop ---------------------------------------------------------------------------


TRAIL_BARS = (
    "100 100 100 100",  # 0: signal
    "100 105 99 104",  # 1: entry at 100; trails 100 x 0.9 = 90
    "104 120 103 118",  # 2: trails max(100, 105) x 0.9 = 94.5
    "118 125 107 110",  # 3: trails max(100, 105, 120) x 0.9 = 108; the low 107 reaches it
    "110 111 100 101",
)


def test_trailing_stop_trails_the_highs_of_earlier_bars_only() -> None:
    # In bar 3 the stop is at 108: bar 3's own high (125, maybe after its low) does not count,
    # else the level would be 112.5. 9.99 x 108 = 1078.92; fee 1.07892; received 1077.84108.
    trade = only_trade(backtest(bars(*TRAIL_BARS), ExitRules(trailing_stop_pct=0.1)))
    assert_trade(trade, bar=3, price="108", reason=ExitReason.TRAILING_STOP,
                 proceeds="1077.84108", exit_fee="1.07892")  # fmt: skip


def test_trailing_stop_above_the_fixed_stop_gives_the_trailing_reason() -> None:
    got = exit_of(bars(*TRAIL_BARS), ExitRules(stop_loss_pct=0.05, trailing_stop_pct=0.1))
    assert got == PlannedExit(3, 108.0, ExitReason.TRAILING_STOP, at_open=False)


def test_fixed_stop_above_the_trailing_stop_gives_the_stop_reason() -> None:
    # Bar 2: trail max(100, 101) x 0.9 = 90.9, fixed stop 95 is higher; low 94 reaches 95.
    c = bars("100 100 100 100", "100 101 99 100", "100 100 94 96", "96 97 95 96")
    got = exit_of(c, ExitRules(stop_loss_pct=0.05, trailing_stop_pct=0.1))
    assert got == PlannedExit(2, 95.0, ExitReason.STOP_LOSS, at_open=False)


def test_a_gap_through_the_trailing_stop_fills_at_the_open() -> None:
    # Bar 3 trails at 108 and opens at 104: sold at the open.
    rows = (*TRAIL_BARS[:3], "104 106 103 105", TRAIL_BARS[4])
    got = exit_of(bars(*rows), ExitRules(trailing_stop_pct=0.1))
    assert got == PlannedExit(3, 104.0, ExitReason.TRAILING_STOP, at_open=True)


# ---- time stop, exit signal, end of data -------------------------------------------------------


def test_time_stop_closes_at_the_open_before_the_bar_can_stop_out() -> None:
    # Entered at bar 1, time stop 2 bars: closed at bar 3's open, 97, although bar 3's low (80)
    # is under the 95 stop. 9.99 x 97 = 969.03; fee 0.96903; received 968.06097.
    c = bars("100 100 100 100", "100 101 99 100", "100 101 98 99", "97 98 80 81", "81 82 80 81")
    trade = only_trade(backtest(c, ExitRules(stop_loss_pct=0.05, time_stop_bars=2)))
    assert_trade(trade, bar=3, price="97", reason=ExitReason.TIME_STOP,
                 proceeds="968.06097", exit_fee="0.96903")  # fmt: skip


def test_exit_signal_fills_at_the_next_open_before_that_bar_stops_out() -> None:
    # Exit signal at bar 2's close: sold at bar 3's open (99), whose low 80 no longer matters.
    # 9.99 x 99 = 989.01; fee 0.98901; received 988.02099.
    c = bars("100 100 100 100", "100 101 99 100", "100 101 98 99", "99 99 80 81", "81 82 80 81")
    trade = only_trade(backtest(c, ExitRules(stop_loss_pct=0.05), exits=(2,)))
    assert_trade(trade, bar=3, price="99", reason=ExitReason.SIGNAL,
                 proceeds="988.02099", exit_fee="0.98901")  # fmt: skip


def test_end_of_data_closes_at_the_last_close_paying_the_taker_fee() -> None:
    # An exit signal on the last bar is not filled; the position closes at the last close, 103,
    # paying the taker fee (0.2 %, not the maker 0.1 %). Bought 10, fee 0.02: 9.98 held.
    # 9.98 x 103 = 1027.94; fee 2.05588; received 1025.88412; cash at the end the same.
    c = bars("100 100 100 100", "100 101 99 100", "100 102 99 101", "101 104 100 103")
    result = backtest(c, ExitRules(), exits=(3,), fees=Fees(taker=D("0.002"), maker=D("0.001")))
    trade = only_trade(result)
    assert (trade.exit_ts, trade.exit_reason) == (T0 + 3 * MINUTE, ExitReason.END_OF_DATA)
    assert (trade.exit_price, trade.exit_fee, trade.proceeds) == (
        D(103),
        D("2.05588"),
        D("1025.88412"),
    )
    assert result.final_cash == D("1025.88412")
    assert result.equity[-1] == pytest.approx(1025.88412, rel=1e-12)


# ---- tick, step and slippage -------------------------------------------------------------------

TICKED = Precision(price_tick=D("0.01"), amount_step=D("0.001"))


def test_tick_and_step_rounding_against_the_trader() -> None:
    # Entry 123.45; 1000 / 123.45 = 8.10044.. floored to the step: 8.100, costing 999.945.
    # Fee 0.0081 BTC: 8.0919 held, 8.091 sellable (0.0009 dust). Stop 2 %: 120.981, floored to
    # the tick: 120.98. 8.091 x 120.98 = 978.84918; fee 0.97884918; received 977.87033082.
    c = bars("123.45 123.45 123.45 123.45", "123.45 124 123 123.5", "123.5 123.6 120 121")
    result = backtest(c, ExitRules(stop_loss_pct=0.02), precision=TICKED)
    trade = only_trade(result)
    assert (trade.qty, trade.cost, trade.entry_fee, trade.qty_net) == (
        D("8.100"),
        D("999.945"),
        D("0.0081"),
        D("8.0919"),
    )
    assert (trade.exit_price, trade.exit_fee, trade.proceeds) == (
        D("120.98"),
        D("0.97884918"),
        D("977.87033082"),
    )
    assert result.final_cash == D("977.92533082")  # 1000 - 999.945 + 977.87033082
    assert D(result.meta["dust_BTC/USDT"]) == D("0.0009")


def test_slippage_moves_fills_off_the_tick_against_the_trader_not_the_stop_distance() -> None:
    # 10 bps. Buy: 123.45 x 1.001 = 123.57345, up to the tick: 123.58; 1000 / 123.58 =
    # 8.09192.. -> 8.091, costing 999.88578. The stop stays 2 % under the open 123.45 (120.981),
    # not under the slipped fill; a market sell there: 120.981 x 0.999 = 120.860019 -> 120.86.
    # Held 8.091 x 0.999 = 8.082909 -> 8.082 sold; 8.082 x 120.86 = 976.79052; fee 0.97679052.
    c = bars("123.45 123.45 123.45 123.45", "123.45 124 123 123.5", "123.5 123.6 120 121")
    trade = only_trade(
        backtest(c, ExitRules(stop_loss_pct=0.02), precision=TICKED, slippage=Slippage(D(10)))
    )
    assert (trade.entry_price, trade.qty, trade.cost) == (D("123.58"), D("8.091"), D("999.88578"))
    assert trade.qty_net == D("8.082909")
    assert (trade.exit_price, trade.exit_fee) == (D("120.86"), D("0.97679052"))
    assert trade.proceeds == D("975.81372948")


# ---- levels that are short decimals are reached exactly ------------------------------------------
# Float arithmetic gives 1000 x (1 - 0.07) as 929.9999999999999 and 100 x (1 + 0.1) as
# 110.00000000000001; the documented levels are 930 and 110, and a bar whose low (high) is
# exactly there reaches them.


DROP = ("1000 1000 1000 1000", "1000 1000 999 1000")  # signal bar, entry bar at 1000


@pytest.mark.parametrize(
    ("rows", "rules", "expected"),
    [
        pytest.param(
            (*DROP, "1000 1000 930 950"), ExitRules(stop_loss_pct=0.07),
            PlannedExit(2, 930.0, ExitReason.STOP_LOSS, at_open=False), id="low-at-stop",
        ),
        pytest.param(
            (*DROP, "930 940 925 935"), ExitRules(stop_loss_pct=0.07),
            PlannedExit(2, 930.0, ExitReason.STOP_LOSS, at_open=True), id="open-at-stop",
        ),
        pytest.param(  # highest before bar 2: 1000 (entry and bar 1's high); 7 % under: 930
            (*DROP, "1000 1000 930 950"), ExitRules(trailing_stop_pct=0.07),
            PlannedExit(2, 930.0, ExitReason.TRAILING_STOP, at_open=False), id="low-at-trail",
        ),
        pytest.param(
            ("100 100 100 100", "100 101 99 100", "100 110 99 105"),
            ExitRules(take_profit_pct=0.1),
            PlannedExit(2, 110.0, ExitReason.TAKE_PROFIT, at_open=False), id="high-at-take",
        ),
        pytest.param(
            ("100 100 100 100", "100 101 99 100", "110 111 99 105"),
            ExitRules(take_profit_pct=0.1),
            PlannedExit(2, 110.0, ExitReason.TAKE_PROFIT, at_open=True), id="open-at-take",
        ),
    ],
)  # fmt: skip
def test_a_price_exactly_at_a_level_reaches_it(
    rows: tuple[str, ...], rules: ExitRules, expected: PlannedExit
) -> None:
    assert exit_of(bars(*rows, "950 951 949 950"), rules) == expected


def test_a_real_low_exactly_at_the_trailing_stop_reaches_it() -> None:
    # Binance BTC/USDT 5m, entered at the open of 2024-09-06 17:00 UTC (54074.00); highest high
    # since: 54435.00, so a 2 % trailing stop at 54435 x 0.98 = 53346.30 (float arithmetic:
    # 53346.299999999996). The bar of 19:00 has the low 53346.30: out there, not 7 bars later.
    root = shared_data_dir()
    if root is None:
        pytest.skip("../shared/data is not beside the checkout")
    frame = pd.read_csv(root / "candles" / "binance_BTC-USDT_5m.csv.gz", nrows=55_000)
    o, h, low, c = (frame[k].to_numpy(np.float64) for k in ("open", "high", "low", "close"))
    entry = int(np.searchsorted(frame["timestamp"].to_numpy(), 1_725_642_000_000))
    got = plan_exit(o, h, low, c, NO_EXITS, entry, ExitRules(trailing_stop_pct=0.02))
    assert (o[entry], frame["timestamp"][got.bar]) == (54074.0, 1_725_649_200_000)
    assert (got.price, got.reason, got.at_open) == (53346.3, ExitReason.TRAILING_STOP, False)


def test_a_stop_level_off_the_float_grid_fills_on_its_tick() -> None:
    # 1000 x 0.93 is 930.00 exactly; bar 2 trades through it (low 900). With a 0.01 tick the
    # sell fills at 930.00, not at 929.99 (the float 929.9999999999999 floored to the tick).
    c = bars("1000 1000 1000 1000", "1000 1001 999 1000", "1000 1000 900 950", "950 951 949 950")
    trade = only_trade(backtest(c, ExitRules(stop_loss_pct=0.07), precision=TICKED))
    assert (trade.exit_reason, trade.exit_price) == (ExitReason.STOP_LOSS, D("930.00"))


# ---- many random cases against a Decimal transcription of the documented rules -----------------


def decimal_exit(
    o: list[Decimal], h: list[Decimal], low: list[Decimal], c: list[Decimal],
    exits: list[bool], e: int, rules: ExitRules,
) -> tuple[int, Decimal, ExitReason]:  # fmt: skip
    """docs/architecture.md section 4 bar by bar in exact decimals (percent rules only).

    At the open: an exit signal of the previous close, then the time stop; then a gap through
    the stop (fixed, or trailing when that is higher), a gap above the take-profit; inside
    the bar the stop, else the take-profit. The trailing stop trails the highest of the entry
    and the earlier bars' highs; with both take-profit rules the nearer applies.
    """
    entry = o[e]
    pct = {k: None if v is None else Decimal(repr(v)) for k, v in (
        ("stop", rules.stop_loss_pct), ("take", rules.take_profit_pct),
        ("rr", rules.take_profit_rr), ("trail", rules.trailing_stop_pct))}  # fmt: skip
    stop = None if pct["stop"] is None else entry * (1 - pct["stop"])
    takes = [] if pct["take"] is None else [entry * (1 + pct["take"])]
    if pct["rr"] is not None and stop is not None:
        takes.append(entry + pct["rr"] * (entry - stop))
    take = min(takes) if takes else None
    highest = entry
    for b in range(e, len(o)):
        if b > e and exits[b - 1]:
            return b, o[b], ExitReason.SIGNAL
        if rules.time_stop_bars is not None and b == e + rules.time_stop_bars:
            return b, o[b], ExitReason.TIME_STOP
        level, why = stop, ExitReason.STOP_LOSS
        if pct["trail"] is not None:
            trailing = highest * (1 - pct["trail"])
            if stop is None or trailing > stop:
                level, why = trailing, ExitReason.TRAILING_STOP
        if level is not None and o[b] <= level:
            return b, o[b], why
        if take is not None and o[b] >= take:
            return b, o[b], ExitReason.TAKE_PROFIT
        if level is not None and low[b] <= level:
            return b, level, why
        if take is not None and h[b] >= take:
            return b, take, ExitReason.TAKE_PROFIT
        highest = max(highest, h[b])
    return len(o) - 1, c[-1], ExitReason.END_OF_DATA


percent = st.one_of(st.none(), st.integers(1, 12).map(lambda k: k / 100))
#: close-to-close move, then how far the high and the low reach beyond the body
BAR_MOVE = st.tuples(st.integers(-6, 6), st.integers(0, 4), st.integers(0, 4))


@settings(max_examples=300, deadline=None)
@given(
    moves=st.lists(BAR_MOVE, min_size=2, max_size=60),
    entry=st.integers(1, 59),
    exit_bars=st.sets(st.integers(0, 59), max_size=3),
    stop=percent,
    take=percent,
    trail=percent,
    rr=st.one_of(st.none(), st.sampled_from([1.0, 1.5, 2.0, 2.5])),
    time_stop=st.one_of(st.none(), st.integers(1, 30)),
)
def test_random_whole_number_bars_match_the_decimal_rules(
    moves: list[tuple[int, int, int]],
    entry: int,
    exit_bars: set[int],
    stop: float | None,
    take: float | None,
    trail: float | None,
    rr: float | None,
    time_stop: int | None,
) -> None:
    # Whole-number prices around 100 with percent rules in whole percents: levels land exactly
    # on prices all the time (100 x 0.95 = 95), the ties float arithmetic gets wrong.
    rows, close = [], 100
    for move, up, down in moves:
        op, close = close, max(20, close + move)
        rows.append(f"{op} {max(op, close) + up} {min(op, close) - down} {close}")
    c = bars(*rows)
    n = len(c)
    e = min(entry, n - 1)
    exits = [b in exit_bars for b in range(n)]
    rules = ExitRules(stop_loss_pct=stop, take_profit_pct=take, take_profit_rr=rr,
                      trailing_stop_pct=trail, time_stop_bars=time_stop)  # fmt: skip
    o, h, low, cl = ([Decimal(x.split()[k]) for x in rows] for k in range(4))
    bar, price, reason = decimal_exit(o, h, low, cl, exits, e, rules)
    nxt = np.flatnonzero(np.asarray(exits, dtype=np.bool_)).astype(np.int64)
    got = plan_exit(c.open, c.high, c.low, c.close, nxt, e, rules)
    assert (got.bar, got.reason) == (bar, reason)
    # A level passed through fills at its decimal value (fills.snap), exactly.
    assert Decimal(repr(got.price)) == price
