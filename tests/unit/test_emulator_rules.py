"""The emulator's request checks: signatures (Binance's test vectors), timestamps, rate limits,
order parameters and symbol filters."""

from __future__ import annotations

from decimal import Decimal

import pytest

from candlewick.emulator import auth
from candlewick.emulator.config import LimitsConfig, PairConfig
from candlewick.emulator.errors import ApiError
from candlewick.emulator.limits import OrderCounter, WeightLimiter
from candlewick.emulator.orders import parse_new_order
from candlewick.emulator.rules import SymbolRules

SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
PAYLOAD = (
    "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1"
    "&recvWindow=5000&timestamp=1499827319559"
)
RULES = SymbolRules.from_config(
    PairConfig(market="BTC/USDT", tick_size=Decimal("0.01"), step_size=Decimal("0.00001"))
)


def code(exc: pytest.ExceptionInfo[ApiError]) -> int:
    return exc.value.code


def test_rest_signature_matches_binance_test_vector() -> None:
    expected = "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
    assert auth.sign(SECRET, PAYLOAD) == expected
    payload, signature = auth.rest_payload(PAYLOAD + "&signature=" + expected.upper(), "")
    assert payload == PAYLOAD
    auth.check_signature(SECRET, payload, signature)  # case-insensitive
    # query string and body are concatenated without a separator
    query, body = PAYLOAD[:37], PAYLOAD[37:] + "&signature=" + expected
    assert auth.rest_payload(query, body) == (PAYLOAD, expected)
    with pytest.raises(ApiError) as bad:
        auth.check_signature(SECRET, payload + "&x=1", expected)
    assert code(bad) == -1022


def test_ws_api_signature_matches_binance_example() -> None:
    # The signed order.place example of Binance's web-socket-api.md (params sorted by name).
    params = {
        "symbol": "BTCUSDT", "side": "SELL", "type": "LIMIT", "timeInForce": "GTC",
        "quantity": "0.01000000", "price": "52000.00", "newOrderRespType": "ACK",
        "recvWindow": 100, "timestamp": 1645423376532,
        "apiKey": "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A",
        "signature": "ignored",
    }  # fmt: skip
    expected = "cc15477742bd704c29492d96c7ead9414dfd8e0ec4a00f947bb5bb454ddbd08a"
    assert auth.sign(SECRET, auth.ws_payload(params)) == expected


def test_timestamp_window() -> None:
    auth.check_timestamp({"timestamp": "1000000", "recvWindow": "5000"}, 1_004_000)
    for params, now, expected in (
        ({"timestamp": "1000000"}, 1_006_000, -1021),
        ({"timestamp": "1000000", "recvWindow": "10000"}, 998_999, -1021),
        ({"timestamp": "1000000", "recvWindow": "70000"}, 1_000_000, -1131),
        ({}, 1_000_000, -1102),
    ):
        with pytest.raises(ApiError) as exc:
            auth.check_timestamp(params, now)
        assert code(exc) == expected


def test_api_key_lookup() -> None:
    keys = {"k": ("alice", "s")}
    assert auth.api_key_account(keys, "k") == ("alice", "s")
    for key, expected in ((None, -2014), ("other", -2015)):
        with pytest.raises(ApiError) as exc:
            auth.api_key_account(keys, key)
        assert code(exc) == expected and exc.value.status == 401


def test_weight_limiter_429_then_ban_that_grows() -> None:
    limiter = WeightLimiter(LimitsConfig(request_weight_per_minute=10, ban_after_429s=1,
                                         ban_seconds=120, max_ban_seconds=200))  # fmt: skip
    t = 60_000 * 100
    limiter.charge("ip", 10, t)
    with pytest.raises(ApiError) as first:
        limiter.charge("ip", 1, t + 30_000)
    assert first.value.status == 429 and first.value.headers == {"Retry-After": "30"}
    with pytest.raises(ApiError) as ban:
        limiter.charge("ip", 1, t + 30_000)
    assert ban.value.status == 418 and ban.value.headers == {"Retry-After": "120"}
    limiter.charge("other", 5, t + 30_000)  # per IP
    with pytest.raises(ApiError) as still:
        limiter.charge("ip", 1, t + 149_000)
    assert still.value.status == 418 and still.value.headers == {"Retry-After": "1"}
    limiter.charge("ip", 10, t + 150_000)  # ban over, a new window
    with pytest.raises(ApiError):
        limiter.charge("ip", 1, t + 150_000)
    with pytest.raises(ApiError) as second:
        limiter.charge("ip", 1, t + 150_000)
    assert second.value.headers == {"Retry-After": "200"}  # doubled, capped
    limiter.refund("other", 5, t + 30_000)
    assert limiter.used("other", t + 30_000) == 0


def test_order_counter_windows_and_first_fills() -> None:
    counter = OrderCounter(LimitsConfig(orders_per_10s=2, orders_per_day=3))
    t = 86_400_000 * 20_000
    counter.placed("a", t)
    counter.placed("a", t + 1)
    with pytest.raises(ApiError) as short:
        counter.check("a", t + 2)
    assert short.value.code == -1015 and short.value.status == 429
    counter.check("b", t)  # per account
    counter.check("a", t + 10_000)  # the next 10 s window
    counter.placed("a", t + 10_000)
    with pytest.raises(ApiError, match="1 DAY"):
        counter.check("a", t + 20_000)
    counter.first_fill("a", t + 20_000)
    counter.check("a", t + 20_000)
    assert counter.counts("a", t + 20_000) == (0, 2)


def test_new_order_parameters() -> None:
    base = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
            "quantity": "0.001", "price": "60000.01"}  # fmt: skip
    order = parse_new_order(base, RULES)
    assert (order.quantity, order.price, order.resp_type) == (
        Decimal("0.001"),
        Decimal("60000.01"),
        "FULL",
    )
    assert len(order.client_order_id) == 22
    cases = {
        "side": ({"side": "HOLD"}, -1117),
        "type": ({"type": "ICEBERG"}, -1116),
        "tif": ({"timeInForce": "GTD"}, -1115),
        "no tif": ({"timeInForce": ""}, -1102),
        "tick": ({"price": "60000.005"}, -1013),
        "step": ({"quantity": "0.000015"}, -1013),
        "chars": ({"quantity": "1e-3"}, -1100),
        "market price": ({"type": "MARKET", "timeInForce": ""}, -1106),
        "stop": ({"type": "STOP_LOSS_LIMIT"}, -1102),
        "client id": ({"newClientOrderId": "has space"}, -1100),
    }
    for name, (change, expected) in cases.items():
        with pytest.raises(ApiError) as exc:
            parse_new_order({**base, **change}, RULES)
        assert code(exc) == expected, name
    with pytest.raises(ApiError) as filt:
        parse_new_order({**base, "price": "60000.005"}, RULES)
    assert filt.value.msg == "Filter failure: PRICE_FILTER"
    market = {"symbol": "BTCUSDT", "side": "SELL", "type": "MARKET", "quoteOrderQty": "10"}
    assert parse_new_order(market, RULES).quote_qty == 10
    with pytest.raises(ApiError) as neither:
        parse_new_order({**market, "quoteOrderQty": ""}, RULES)
    assert (
        neither.value.msg
        == "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!"
    )


def test_symbol_filters_in_exchange_info() -> None:
    info = RULES.exchange_info()
    filters = {f["filterType"]: f for f in info["filters"]}
    assert filters["PRICE_FILTER"]["tickSize"] == "0.01000000"
    assert filters["LOT_SIZE"]["stepSize"] == "0.00001000"
    assert filters["NOTIONAL"]["minNotional"] == "5.00000000"
    RULES.check_notional(Decimal(5), market=False)
    with pytest.raises(ApiError, match="NOTIONAL"):
        RULES.check_notional(Decimal("4.99"), market=True)
    assert RULES.floor_qty(Decimal("0.123456")) == Decimal("0.12345")
