"""The emulator's matching engine on synthetic candles: fills, fees, locks, participation,
stop triggers and time-in-force rules, without a server."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from candlewick.core.types import Candles
from candlewick.emulator.accounts import Account, Balance
from candlewick.emulator.book import BookFeed, BookShape
from candlewick.emulator.clock import ReplayClock
from candlewick.emulator.config import EmulatorConfig, LimitsConfig
from candlewick.emulator.engine import Engine
from candlewick.emulator.errors import ApiError
from candlewick.emulator.limits import OrderCounter
from candlewick.emulator.market import MINUTE, PairMarket
from candlewick.emulator.orders import NewOrder, Order, Status
from candlewick.emulator.rules import SymbolRules
from candlewick.emulator.venue import Listing, Venue

T0 = 1_774_396_800_000
D = Decimal


def build(rows: Sequence[tuple[float, float, float, float, float]], participation: float = 0.1
          ) -> tuple[Engine, ReplayClock]:  # fmt: skip
    arr = np.array(rows, dtype=np.float64)
    ts = T0 + MINUTE * np.arange(len(rows), dtype=np.int64)
    candles = Candles("binance", "BTC/USDT", "1m", ts, *(arr[:, k].copy() for k in range(5)))
    config = EmulatorConfig.model_validate(
        {"pairs": [{"market": "BTC/USDT", "tick_size": "0.01", "step_size": "0.001"}],
         "book": {"spread_bps": 0, "levels": 5, "depth_fraction": 0.5}}
    )  # fmt: skip
    rules = SymbolRules.from_config(config.pairs[0])
    clock = ReplayClock(T0, None, T0 + len(rows) * MINUTE, wall=lambda: 1_000_000)
    listing = Listing(rules, PairMarket(candles, 0.01), BookFeed(BookShape(0.0, 5, 100)))
    venue = Venue(config, {"BTCUSDT": listing}, clock)
    account = Account("a", {"USDT": Balance(D(100_000)), "BTC": Balance(D(10))})
    engine = Engine(venue, config.fees, participation, {"a": account}, OrderCounter(LimitsConfig()))
    return engine, clock


def order(kind: str, side: str, qty: str, price: str = "0", **extra: str) -> NewOrder:
    return NewOrder(
        symbol="BTCUSDT",
        side=side,
        type=kind,
        time_in_force=extra.get("tif", "GTC"),
        quantity=D(qty),
        quote_qty=D(extra.get("quote", "0")),
        price=D(price),
        stop_price=D(extra.get("stop", "0")),
        client_order_id=extra.get("cid", f"c-{kind}-{side}-{qty}-{price}"),
        resp_type="FULL",
    )


FLAT = (100.0, 100.0, 100.0, 100.0, 10.0)


def status_of(placed: Order) -> Status:
    """The status read through a call, so that type checkers do not narrow it between steps."""
    return placed.status


def test_market_buy_walks_the_book_and_pays_the_fee_in_base() -> None:
    engine, _ = build([FLAT] * 5)
    placed, fills = engine.place("a", order("MARKET", "BUY", "8"))
    # unit = 0.5 x 10 = 5 BTC: best ask 100.01 holds 5, the next grid level 101.00 holds 7
    assert [(f.price, f.qty) for f in fills] == [(D("100.01"), D(5)), (D("101.00"), D(3))]
    assert placed.status == Status.FILLED and placed.cum_quote == D("803.05")
    assert sum(f.commission for f in fills) == D("0.008")
    usdt, btc = engine.accounts["a"].balance("USDT"), engine.accounts["a"].balance("BTC")
    assert (usdt.free, usdt.locked) == (D(100_000) - D("803.05"), D(0))
    assert btc.free == D(18) - D("0.008")


def test_limit_buy_locks_then_fills_by_participation() -> None:
    rows = [FLAT, (100, 100, 98, 99, 60), (99, 99, 99, 99, 60), (99, 101, 99, 101, 60)]
    engine, clock = build(rows, participation=0.1)
    placed, fills = engine.place("a", order("LIMIT", "BUY", "5", "99.50"))
    assert fills == [] and status_of(placed) == Status.NEW
    assert engine.accounts["a"].balance("USDT").locked == D("497.50")
    clock.advance(2 * MINUTE)  # through the dip of the second minute
    engine.advance(clock.now())
    # Minute 2 runs 100 -> 100 (the high, nearer) -> 98 -> 99 in 20 s legs: at or below 99.50
    # for 0 + 15 + 20 = 35 s of 60, i.e. 35 of its 60 volume; 10 % of that is 3.5.
    assert placed.executed_qty == D("3.5") and status_of(placed) == Status.PARTIALLY_FILLED
    clock.advance(MINUTE)
    engine.advance(clock.now())
    assert placed.status == Status.FILLED
    trades = engine.my_trades("a", "BTCUSDT")
    assert {t.price for t in trades} == {D("99.50")} and all(t.is_maker for t in trades)
    assert engine.accounts["a"].balance("USDT").locked == 0
    assert engine.accounts["a"].balance("USDT").free == D(100_000) - D("497.50")


def test_stop_loss_limit_triggers_on_the_way_down() -> None:
    rows = [FLAT, (100, 100, 95, 95, 60), (95, 95, 95, 95, 60)]
    engine, clock = build(rows)
    with pytest.raises(ApiError, match="Order would trigger immediately"):
        engine.place("a", order("STOP_LOSS_LIMIT", "SELL", "1", "96", stop="100.5"))
    placed, _ = engine.place("a", order("STOP_LOSS_LIMIT", "SELL", "1", "96", stop="97"))
    assert placed.working_time == -1 and engine.accounts["a"].balance("BTC").locked == 1
    clock.advance(MINUTE + 30_000)
    engine.advance(clock.now())
    assert placed.working_time == -1  # 100 -> 100 -> 95: at 30 s the path is at 97.50
    clock.advance(10_000)
    engine.advance(clock.now())
    assert placed.is_working and status_of(placed) == Status.FILLED
    assert placed.working_time == T0 + MINUTE + 32_000  # 3/5 of the way from 100 to 95
    assert placed.cum_quote >= D(96)  # sold at the book around the stop, not below the limit


def test_take_profit_sell_waits_for_a_rise() -> None:
    engine, clock = build([FLAT, (100, 104, 100, 104, 60)])
    placed, _ = engine.place("a", order("TAKE_PROFIT_LIMIT", "SELL", "1", "102", stop="102"))
    clock.advance(2 * MINUTE)
    engine.advance(clock.now())
    assert placed.status == Status.FILLED and placed.cum_quote >= D(102)


def test_time_in_force_and_limit_maker() -> None:
    engine, _ = build([FLAT] * 3)
    ioc, fills = engine.place("a", order("LIMIT", "BUY", "6", "100.50", tif="IOC"))
    assert ioc.status == Status.EXPIRED and ioc.executed_qty == 5 and len(fills) == 1
    fok, fills = engine.place("a", order("LIMIT", "BUY", "6", "100.50", tif="FOK"))
    assert fok.status == Status.EXPIRED and fok.executed_qty == 0 and fills == []
    assert engine.accounts["a"].balance("USDT").locked == 0
    with pytest.raises(ApiError, match="immediately match and take"):
        engine.place("a", order("LIMIT_MAKER", "BUY", "1", "100.01"))
    maker, _ = engine.place("a", order("LIMIT_MAKER", "BUY", "1", "99.99"))
    assert maker.status == Status.NEW


def test_refusals_change_nothing() -> None:
    engine, _ = build([FLAT] * 3)
    before = {a: (b.free, b.locked) for a, b in engine.accounts["a"].balances.items()}
    for bad, code in (
        (order("LIMIT", "BUY", "2000", "100"), -2010),  # 200,000 USDT > 100,000
        (order("MARKET", "SELL", "11"), -2010),
        (order("LIMIT", "BUY", "0.01", "100"), -1013),  # 1 USDT < min notional 5
        (order("MARKET", "BUY", "0", quote="0.05"), -1013),
    ):
        with pytest.raises(ApiError) as exc:
            engine.place("a", bad)
        assert exc.value.code == code
    after = {a: (b.free, b.locked) for a, b in engine.accounts["a"].balances.items()}
    assert after == before and engine.orders == {}


def test_events_announce_orders_and_balances() -> None:
    engine, _ = build([FLAT] * 3)
    events: list[tuple[str, str]] = []
    engine.listeners.append(lambda account, event: events.append((account, event["e"])))
    placed, _ = engine.place("a", order("LIMIT", "BUY", "1", "90"))
    engine.cancel("a", "BTCUSDT", placed.order_id, None, "cancel-1")
    kinds = [e for _, e in events]
    assert kinds == ["executionReport", "outboundAccountPosition"] * 2
    assert (
        placed.status == Status.CANCELED and placed.canceled_json()["clientOrderId"] == "cancel-1"
    )


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["MARKET", "LIMIT", "STOP_LOSS_LIMIT"]),
            st.sampled_from(["BUY", "SELL"]),
            st.integers(1, 9000),  # quantity in steps of 0.001
            st.integers(-300, 300),  # price offset from 100 in ticks
            st.integers(0, 90_000),  # replay ms to advance after the order
        ),
        max_size=25,
    )
)
def test_balances_are_conserved_and_locks_match_open_orders(
    actions: list[tuple[str, str, int, int, int]],
) -> None:
    rows = [(100 + i % 3, 101 + i % 3, 98 + i % 3, 100.5 + i % 3, 20) for i in range(40)]
    engine, clock = build(rows)
    account = engine.accounts["a"]
    for n, (kind, side, steps, offset, wait) in enumerate(actions):
        qty = str(D(steps) / 1000)
        price = str(D(10_000 + offset) / 100)
        extra = {
            "stop": str(D(10_000 + (-abs(offset) if side == "SELL" else abs(offset)) - 5) / 100)
        }
        new = order(kind, side, qty, "0" if kind == "MARKET" else price,
                    cid=f"c{n}", **(extra if kind == "STOP_LOSS_LIMIT" else {}))  # fmt: skip
        with contextlib.suppress(ApiError):
            engine.place("a", new)
        clock.advance(wait)
        engine.advance(clock.now())
    trades = engine.my_trades("a", "BTCUSDT")
    base = D(10) + sum((t.qty - t.commission if t.is_buyer else -t.qty) for t in trades)
    quote = D(100_000) + sum((-t.quote_qty if t.is_buyer else t.quote_qty - t.commission)
                             for t in trades)  # fmt: skip
    btc, usdt = account.balance("BTC"), account.balance("USDT")
    assert btc.free + btc.locked == base and usdt.free + usdt.locked == quote
    assert min(btc.free, btc.locked, usdt.free, usdt.locked) >= 0
    open_orders = engine.open_orders("a", "BTCUSDT")
    assert btc.locked == sum((o.locked for o in open_orders if o.side == "SELL"), D(0))
    assert usdt.locked == sum((o.locked for o in open_orders if o.side == "BUY"), D(0))
    for placed in engine.orders.values():
        assert placed.executed_qty == sum((t.qty for t in trades if t.order_id == placed.order_id),
                                          D(0))  # fmt: skip


def test_a_resting_order_fills_once_per_crossing_move_whatever_the_tick() -> None:
    rows = [FLAT, (100, 100, 98, 99, 60), (99, 101, 98, 100, 60), (100, 100, 99, 99.5, 60)]

    def trades_when_advanced_by(ms: int) -> list[tuple[Decimal, Decimal, int]]:
        engine, clock = build(rows, participation=0.05)
        engine.place("a", order("LIMIT", "BUY", "9", "99.50"))
        while clock.now() < T0 + len(rows) * MINUTE:
            clock.advance(ms)
            engine.advance(clock.now())
        return [(t.price, t.qty, t.time) for t in engine.my_trades("a", "BTCUSDT")]

    by_tick = trades_when_advanced_by(100)
    assert by_tick == trades_when_advanced_by(7_000) == trades_when_advanced_by(4 * MINUTE)
    # Minute 2 (100 -> 100 -> 98 -> 99): the fall crosses 99.50 at 25 s and trades 15 of its
    # 20 volume at or below it; the rise from 98 to 99 stays below: 20 more, from 40 s.
    minute2 = T0 + MINUTE
    assert by_tick[:2] == [
        (D("99.50"), D("0.75"), minute2 + 25_000),  # 5 % of 15
        (D("99.50"), D("1.0"), minute2 + 40_000),  # 5 % of 15 + 20, less what was filled
    ]
    assert len(by_tick) <= 3 * 3  # at most one fill per monotonic leg of the path
