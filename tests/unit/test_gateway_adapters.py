"""API_CALLS adapters over the gateway and the fake exchange: order fitting before sending,
Decimal parsing, candle pagination and backfill into the store, balances, the order watcher."""

from __future__ import annotations

import random
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from candlewick.api.account import Account
from candlewick.api.hub import ExchangeHub
from candlewick.api.market_data import MarketData
from candlewick.api.order_status import OrderStatusWatcher
from candlewick.api.orders import OrderRequest, Orders, market_rules, parse_order, prepare
from candlewick.core.fills import Precision
from candlewick.data.store import CandleStore
from candlewick.errors import ConfigError, OrderRejectedError, UnknownSymbolError
from tests.unit.test_gateway_fakes import BTC_USDT_MARKET, START_MS, FakeExchange, VirtualClock, run

RULES = market_rules(BTC_USDT_MARKET)
D = Decimal


def setup(**fake_kw: Any) -> tuple[VirtualClock, FakeExchange, ExchangeHub]:
    clock = VirtualClock()
    fake = FakeExchange(clock, **fake_kw)
    hub = ExchangeHub(clock, rng=random.Random(3))
    hub.gateway("binance", "acct", lambda: fake)
    return clock, fake, hub


def test_market_rules_come_from_the_exchange_strings() -> None:
    assert RULES.precision == Precision(D("0.01"), D("0.00001"), D("5"))
    assert (RULES.min_amount, RULES.max_amount) == (D("0.00001"), D("9000"))
    assert RULES.max_notional == D("9000000")
    bare = market_rules({"symbol": "X/Y", "precision": {"price": 0.5, "amount": 0.1}, "limits": {}})
    assert bare.precision == Precision(D("0.5"), D("0.1"), D(0)) and bare.min_price is None


def test_limit_prices_keep_the_callers_limit_and_amounts_floor() -> None:
    buy = prepare(OrderRequest("BTC/USDT", "buy", "limit", D("0.123456"), D("50000.019")), RULES)
    assert (buy.amount, buy.price, buy.ccxt_type) == (D("0.12345"), D("50000.01"), "limit")
    sell = prepare(OrderRequest("BTC/USDT", "sell", "limit", D("0.1"), D("50000.011")), RULES)
    assert sell.price == D("50000.02")
    stop = prepare(
        OrderRequest("BTC/USDT", "sell", "stop_limit", D("0.1"), D("49000.001"), D("49100.004")),
        RULES,
    )
    assert (stop.stop_price, stop.params()) == (D("49100.01"), {"stopLossPrice": 49100.01})


@given(
    st.decimals(min_value=D("0.1"), max_value=D("100"), places=8),
    st.decimals(min_value=D("100"), max_value=D("90000"), places=4),
    st.sampled_from(["buy", "sell"]),
)
def test_prepared_orders_sit_on_the_grid_within_the_request(
    amount: Decimal, price: Decimal, side: str
) -> None:
    request = OrderRequest("BTC/USDT", side, "limit", amount, price)  # type: ignore[arg-type]
    ready = prepare(request, RULES)
    assert ready.amount <= amount and ready.amount % D("0.00001") == 0
    assert ready.price is not None and ready.price % D("0.01") == 0
    assert abs(ready.price - price) < D("0.01")
    assert ready.price <= price if side == "buy" else ready.price >= price


def test_min_notional_is_checked_before_sending_with_the_fix() -> None:
    tiny = OrderRequest("BTC/USDT", "buy", "limit", D("0.00005"), D("50000"))
    with pytest.raises(
        OrderRejectedError, match=r"worth 2\.5.*minimum notional 5.*at least 0\.0001"
    ):
        prepare(tiny, RULES)
    market = OrderRequest("BTC/USDT", "buy", "market", D("0.00005"))
    with pytest.raises(ConfigError, match="reference price"):
        prepare(market, RULES)
    with pytest.raises(OrderRejectedError, match="minimum notional"):
        prepare(market, RULES, reference_price=D("50000"))
    dust = OrderRequest("BTC/USDT", "sell", "market", D("0.000001"))
    with pytest.raises(OrderRejectedError, match=r"below the minimum 0\.00001"):
        prepare(dust, RULES, D("50000"))
    with pytest.raises(ConfigError, match="needs a price"):
        prepare(OrderRequest("BTC/USDT", "buy", "limit", D(1)), RULES)


def test_place_sends_the_fitted_order_under_its_client_id() -> None:
    clock, fake, hub = setup()
    orders = Orders(hub.gateways()[0])
    request = OrderRequest("BTC/USDT", "buy", "limit", D("0.0012345"), D("60000.005"), None, "my-1")
    (order,) = run(clock, orders.place(request))
    sent = fake.orders["my-1"]
    assert (sent["amount"], sent["price"], sent["params"]["clientOrderId"]) == (
        0.00123,
        60000.0,
        "my-1",
    )
    assert order.client_order_id == "my-1" and order.is_open


def test_place_refuses_locally_and_sends_nothing() -> None:
    clock, fake, hub = setup()
    orders = Orders(hub.gateways()[0])
    with pytest.raises(OrderRejectedError):
        run(clock, orders.place(OrderRequest("BTC/USDT", "buy", "market", D("0.00001"))))
    assert fake.count("fetch_ticker") == 1 and fake.count("create_order") == 0
    with pytest.raises(UnknownSymbolError):
        run(clock, orders.place(OrderRequest("DOGE/USDT", "buy", "market", D("1"))))


def test_orders_parse_the_exchange_strings_as_decimal() -> None:
    raw = {
        "id": "42",
        "clientOrderId": "c",
        "symbol": "BTC/USDT",
        "side": "buy",
        "type": "market",
        "status": "closed",
        "amount": 0.001,
        "filled": 0.001,
        "price": 0.0,
        "cost": 61.13099,
        "fees": [{"cost": 1e-06, "currency": "BTC"}, {"cost": 1e-06, "currency": "BTC"}],
        "info": {
            "origQty": "0.00100000",
            "executedQty": "0.00100000",
            "cummulativeQuoteQty": "61.13099000",
            "price": "0.00000000",
            "status": "FILLED",
        },
    }
    order = parse_order(raw, "binance")
    assert (order.amount, order.filled, order.cost) == (D("0.001"), D("0.001"), D("61.13099"))
    assert order.price is None and order.average == D("61130.99")
    assert order.fees == (("BTC", D("0.000002")),) and order.raw_status == "FILLED"
    assert order.remaining == 0 and not order.is_open


def rows(start: int, count: int, skip: range = range(0)) -> list[list[Any]]:
    return [
        [start + i * 60_000, 100.0 + i, 101.0 + i, 99.0 + i, 100.5 + i, 1.0]
        for i in range(count)
        if i not in skip
    ]


def test_candles_are_paginated_and_only_closed_ones_kept() -> None:
    clock, _fake, hub = setup(candles=rows(START_MS, 2500))
    data = MarketData(hub.gateways()[0])
    (result,) = run(clock, data.fetch_candles("btc/usdt", "1m", START_MS))
    candles, pages = result
    assert pages == 3 and len(candles) == 2499  # the newest row is the candle still forming
    assert candles.pair == "BTC/USDT" and candles.timestamp[0] == START_MS
    end = START_MS + 1500 * 60_000
    ((bounded, pages),) = run(clock, data.fetch_candles("BTC/USDT", "1m", START_MS, end))
    assert len(bounded) == 1500 and pages == 2 and bounded.timestamp[-1] == end - 60_000
    cut = START_MS + 10 * 60_000
    ((closed, _),) = run(
        clock, data.fetch_candles("BTC/USDT", "1m", START_MS, closed_before_ms=cut)
    )
    assert closed.timestamp[-1] == cut - 60_000
    with pytest.raises(ConfigError, match="no '7m' candles"):
        run(clock, data.fetch_candles("BTC/USDT", "7m", START_MS))


def test_backfill_resumes_fills_gaps_and_reports_what_the_exchange_lacks(tmp_path: Path) -> None:
    # The exchange itself lacks bars 1200-1209 (an outage).
    clock, _fake, hub = setup(candles=rows(START_MS, 3000, skip=range(1200, 1210)))
    data = MarketData(hub.gateways()[0])
    store = CandleStore(tmp_path)
    end = START_MS + 2000 * 60_000
    ((first,),) = [run(clock, data.backfill(store, "BTC/USDT", "1m", START_MS, end))]
    assert (first.added, first.pages, first.gaps_left) == (1990, 2, 10)
    ((again,),) = [run(clock, data.backfill(store, "BTC/USDT", "1m", START_MS, end))]
    assert again.added == 0 and again.gaps_left == 10  # only the outage is asked for again
    assert again.pages == 1
    # Extend the range: only the tail is fetched.
    longer = START_MS + 2500 * 60_000
    ((more,),) = [run(clock, data.backfill(store, "BTC/USDT", "1m", START_MS, longer))]
    assert more.added == 500
    entry = store.entry("binance", "BTC/USDT", "1m")
    assert entry is not None and entry.rows == 2490


def test_balances_and_fees_are_decimal() -> None:
    clock, _fake, hub = setup()
    account = Account(hub.gateways()[0])
    (balances,) = run(clock, account.balances())
    assert balances["USDT"].free == D("100.5") and balances["USDT"].total == D("100.5")
    fees = account.schedule_fees()
    assert (fees.maker, fees.taker) == (D("0.001"), D("0.001"))


def test_watcher_reports_fills_and_adopts_unknown_orders() -> None:
    clock, fake, hub = setup()
    orders = Orders(hub.gateways()[0])
    watcher = OrderStatusWatcher(orders)
    req = OrderRequest("BTC/USDT", "buy", "limit", D("0.001"), D("60000"), None, "w-1")
    (placed,) = run(clock, orders.place(req))
    watcher.track(placed)
    (nothing,) = run(clock, watcher.reconcile())
    assert nothing == [] and len(watcher.tracked()) == 1
    fake.orders["w-1"].update(status="closed", filled=0.001)
    (updates,) = run(clock, watcher.reconcile())
    assert [(u.order.status, u.order.filled, u.previous.status) for u in updates if u.previous] == [
        ("closed", D("0.001"), "open")
    ]
    assert watcher.tracked() == []
    other = OrderRequest("BTC/USDT", "sell", "limit", D("0.001"), D("70000"), None, "w-2")
    run(clock, orders.place(other))
    (adopted,) = run(clock, watcher.adopt("BTC/USDT"))
    assert [o.client_order_id for o in adopted] == ["w-2"]
    del fake.orders["w-2"]  # the exchange lost track of it
    (updates,) = run(clock, watcher.reconcile())
    assert updates == [] and watcher.unknown == {"w-2"} and len(watcher.tracked()) == 1
