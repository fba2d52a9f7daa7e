"""The exchange data package: lookups, conditional weights, consistency, and agreement with ccxt."""

from __future__ import annotations

import dataclasses
import re
from decimal import Decimal

import ccxt
import pytest
from hypothesis import given
from hypothesis import strategies as st

from candlewick import exchanges
from candlewick.errors import (
    ConfigError,
    InsufficientFundsError,
    OrderNotFoundError,
    OrderRejectedError,
    RateLimitError,
)
from candlewick.exchanges import BINANCE_ID, ExchangeFacts

ALL = [exchanges.get(name) for name in exchanges.exchange_ids()]


def test_registry_is_keyed_by_ccxt_id() -> None:
    assert exchanges.exchange_ids() == ["binance", "kraken"]
    assert exchanges.get("Binance") is exchanges.get(BINANCE_ID)
    with pytest.raises(ConfigError, match=r"'bitstamp'.*binance, kraken"):
        exchanges.get("bitstamp")


def test_facts_are_frozen() -> None:
    facts = exchanges.get("binance")
    with pytest.raises(dataclasses.FrozenInstanceError):
        facts.name = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        facts.urls.rest["public"] = "http://elsewhere"  # type: ignore[index]


@pytest.mark.parametrize("facts", ALL, ids=lambda f: f.id)
def test_tables_are_consistent(facts: ExchangeFacts) -> None:
    keys = [e.key for e in facts.endpoints]
    assert len(keys) == len(set(keys)), "endpoint listed twice"
    for route in facts.routes:
        assert route.endpoint in keys, route
    groups = {e.group for e in facts.endpoints}
    for limit in facts.rate_limits:
        assert set(limit.groups) <= groups, limit.id
        if limit.model == "fixed_window":
            assert limit.interval_ms and limit.decay_per_s is None, limit.id
        else:
            assert limit.decay_per_s and limit.interval_ms is None, limit.id
    assert len({limit.id for limit in facts.rate_limits}) == len(facts.rate_limits)
    assert facts.fees.tiers[0].min_volume == 0
    assert [t.min_volume for t in facts.fees.tiers] == sorted(
        t.min_volume for t in facts.fees.tiers
    )


@pytest.mark.parametrize("facts", ALL, ids=lambda f: f.id)
def test_every_fact_names_a_known_source(facts: ExchangeFacts) -> None:
    items = [*facts.endpoints, *facts.rate_limits, facts.fees, *facts.stablecoins, facts.urls]
    sources: list[str] = [item.source for item in items]  # type: ignore[attr-defined]
    for source in sources:
        tags = re.findall(r"[A-Za-z.]+", source.split(";")[0].split(" (")[0])
        assert (tags and tags[0] in facts.sources) or source.startswith("http"), source
    for code in facts.error_codes:
        assert code.source.split(" ")[0] in facts.sources, code


def test_binance_depth_weight_follows_the_limit_bands() -> None:
    depth = exchanges.get("binance").endpoint("GET /api/v3/depth")
    assert depth.weight_for({}) == 5  # the default limit is 100
    assert [depth.weight_for({"limit": n}) for n in (1, 100, 101, 500, 501, 1000, 1001, 5000)] == [
        5, 5, 25, 25, 50, 50, 250, 250,
    ]  # fmt: skip


@given(st.integers(min_value=1, max_value=10_000))
def test_binance_depth_weight_is_monotonic(limit: int) -> None:
    depth = exchanges.get("binance").endpoint("GET /api/v3/depth")
    assert depth.weight_for({"limit": limit}) <= depth.weight_for({"limit": limit + 1})


def test_binance_ticker_weight_by_number_of_symbols() -> None:
    ticker = exchanges.get("binance").endpoint("GET /api/v3/ticker/24hr")
    assert ticker.weight_for({"symbol": "BTCUSDT"}) == 2
    assert ticker.weight_for({"symbols": ["BTCUSDT"] * 20}) == 2
    assert ticker.weight_for({"symbols": ["BTCUSDT"] * 21}) == 40
    assert ticker.weight_for({"symbols": ["BTCUSDT"] * 100}) == 40
    assert ticker.weight_for({"symbols": ["BTCUSDT"] * 101}) == 80
    assert ticker.weight_for({}) == 80


def test_binance_weights_that_depend_on_a_parameter() -> None:
    binance = exchanges.get("binance")
    open_orders = binance.endpoint("GET /api/v3/openOrders")
    assert (open_orders.weight_for({"symbol": "BTCUSDT"}), open_orders.weight_for({})) == (6, 80)
    my_trades = binance.endpoint("GET /api/v3/myTrades")
    assert (my_trades.weight_for({"orderId": 7}), my_trades.weight_for({"symbol": "X"})) == (5, 20)
    test_order = binance.endpoint("POST /api/v3/order/test")
    assert test_order.weight_for({"computeCommissionRates": True}) == 20


# ccxt 4.5.90 predates these documented weight changes (see the reference notes).
CCXT_OUTDATED = {"GET /api/v3/trades", "GET /api/v3/historicalTrades", "GET /api/v3/aggTrades"}


def test_binance_weights_agree_with_ccxt_where_ccxt_is_current() -> None:
    api = ccxt.binance().api
    checked = 0
    for endpoint in exchanges.get("binance").endpoints:
        if endpoint.group != "api" or endpoint.key in CCXT_OUTDATED:
            continue
        path = endpoint.path.removeprefix("/api/v3/")
        section = "public" if endpoint.security == "NONE" else "private"
        cost = api[section][endpoint.method.lower()][path]
        assert round(cost["cost"] * 5) == endpoint.weight_for({"symbol": "X"}), endpoint.key
        if "noSymbol" in cost:
            assert round(cost["noSymbol"] * 5) == endpoint.weight_for({}), endpoint.key
        for limit, by_limit in cost.get("byLimit", []):
            assert round(by_limit * 5) == endpoint.weight_for({"limit": limit}), endpoint.key
        checked += 1
    assert checked >= 20


def test_rate_limits_that_apply_to_an_endpoint() -> None:
    binance = exchanges.get("binance")
    order_limits = binance.limits_for(binance.endpoint("POST /api/v3/order"))
    assert {lim.id for lim in order_limits} == {
        "REQUEST_WEIGHT_1M",
        "ORDERS_10S",
        "ORDERS_1D",
        "RAW_REQUESTS_5M",
    }
    kline_limits = binance.limits_for(binance.endpoint("GET /api/v3/klines"))
    assert {lim.id for lim in kline_limits} == {"REQUEST_WEIGHT_1M", "RAW_REQUESTS_5M"}
    fee_limits = binance.limits_for(binance.endpoint("GET /sapi/v1/asset/tradeFee"))
    assert [lim.id for lim in fee_limits] == ["SAPI_IP_WEIGHT_1M"]
    kraken = exchanges.get("kraken")
    add = kraken.endpoint(kraken.route("create_order").endpoint)
    assert {lim.id for lim in kraken.limits_for(add)} == {"REST_COUNTER", "TRADING_COUNTER"}
    assert add.weight == 0  # orders do not touch Kraken's REST counter


def test_binance_limits_as_documented() -> None:
    limits = {lim.id: lim for lim in exchanges.get("binance").rate_limits}
    weight = limits["REQUEST_WEIGHT_1M"]
    assert (weight.limit, weight.interval_ms, weight.scope) == (6000, 60_000, "ip")
    assert weight.header == "x-mbx-used-weight-1m"
    assert (limits["ORDERS_10S"].scope, limits["ORDERS_10S"].interval_ms) == ("account", 10_000)
    assert limits["ORDERS_1D"].interval_ms == 86_400_000


def test_error_codes_are_found_in_ccxt_messages() -> None:
    binance = exchanges.get("binance")
    message = (
        'binance {"code":-2010,"msg":"Account has insufficient balance for requested action."}'
    )
    code = binance.error_code_in(message)
    assert code == "-2010"
    entry = binance.error_for(code, message)
    assert entry is not None and entry.error is InsufficientFundsError
    other = binance.error_for("-2010", "Order would immediately match and take.")
    assert other is not None and other.error is OrderRejectedError
    unknown = binance.error_for("-2011", '{"code":-2011,"msg":"Unknown order sent."}')
    assert unknown is not None and unknown.error is OrderNotFoundError
    assert binance.error_for("-9999", "") is None
    daily = binance.error_for("-1015", "Too many new orders; current limit is 1 orders per DAY.")
    ten_s = binance.error_for("-1015", "Too many new orders.")
    assert daily is not None and daily.limits == ("ORDERS_1D",)
    assert ten_s is not None and ten_s.limits == ("ORDERS_10S",)
    assert binance.error_code_in("binance GET http://x 503 Service Unavailable") is None
    kraken = exchanges.get("kraken")
    kraken_code = kraken.error_code_in('kraken {"error":["EOrder:Rate limit exceeded"]}')
    assert kraken_code == "EOrder:Rate limit exceeded"
    limit = kraken.error_for(kraken_code, "")
    assert limit is not None and limit.error is RateLimitError


def test_fee_tiers() -> None:
    binance = exchanges.get("binance").fees
    assert (binance.default.maker, binance.default.taker) == (Decimal("0.001"), Decimal("0.001"))
    assert binance.fee_side == "get"
    kraken = exchanges.get("kraken").fees
    assert kraken.tier_for(Decimal(0)).taker == Decimal("0.0026")
    assert kraken.tier_for(Decimal(75_000)).taker == Decimal("0.0024")
    assert kraken.tier_for(Decimal(10**9)).min_volume == 10_000_000


def test_stablecoins_and_fiat() -> None:
    binance = exchanges.get("binance")
    assert binance.is_stablecoin("usdc") and binance.is_stablecoin("FDUSD")
    assert not binance.is_stablecoin("BTC") and not binance.is_stablecoin("PAXG")
    assert binance.is_fiat("EUR") and not binance.is_fiat("USDT")
    assert {c.peg for c in binance.stablecoins} >= {"USD", "EUR"}
