"""Binance's signed REST endpoints: orders, open orders, account, trades.

``myTrades`` and ``allOrders`` take at most 24 hours between ``startTime`` and ``endTime``
(-1127), and ``myTrades`` only Binance's parameter combinations (``orderId`` or ``fromId`` with
a time: -1128).

A successful ``POST``/``DELETE /api/v3/order`` costs no request weight (Binance since
2026-04-02); a refused one costs 1. Successful orders carry ``X-MBX-ORDER-COUNT-10S`` and
``X-MBX-ORDER-COUNT-1D``.
"""

from __future__ import annotations

import asyncio
import zlib
from decimal import Decimal
from typing import Any

from candlewick.emulator import errors
from candlewick.emulator.orders import Order, check_filters, parse_new_order
from candlewick.emulator.params import client_order_id, generated_client_id, int_param, time_param
from candlewick.emulator.public import listing
from candlewick.emulator.server import Call, DropConnection, Endpoint, fixed

MAX_ROWS = 1000
DEFAULT_ROWS = 500
MAX_WINDOW_MS = 24 * 3_600_000  # startTime to endTime of myTrades and allOrders


def _account(call: Call) -> str:
    assert call.account is not None  # signed endpoints are authenticated before the handler
    return call.account


def _order_ids(call: Call) -> tuple[int | None, str | None]:
    order_id = int_param(call.params, "orderId")
    client_id = call.params.get("origClientOrderId") or None
    if order_id is None and client_id is None:
        raise errors.one_of("origClientOrderId", "orderId")
    return order_id, client_id


def _limit(call: Call) -> int:
    limit = int_param(call.params, "limit", DEFAULT_ROWS)
    assert limit is not None
    if not 1 <= limit <= MAX_ROWS:
        raise errors.invalid_parameter("limit")
    return limit


async def _hold(call: Call) -> None:
    """The order timeout fault: keep the client waiting, then close without an answer."""
    emulator = call.emulator
    loop = asyncio.get_running_loop()
    deadline = loop.time() + emulator.faults.order_timeout_hold_seconds
    transport = call.request.transport
    while loop.time() < deadline and not emulator.closing:
        if transport is None or transport.is_closing():
            break
        await asyncio.sleep(0.05)
    raise DropConnection


async def new_order(call: Call) -> dict[str, Any]:
    """POST /api/v3/order."""
    found = listing(call)
    request = parse_new_order(call.params, found.rules)
    emulator = call.emulator
    order, fills = emulator.engine.place(_account(call), request)
    call.free = True
    short, day = emulator.order_counter.counts(order.account, emulator.wall())
    call.headers["X-MBX-ORDER-COUNT-10S"] = str(short)
    call.headers["X-MBX-ORDER-COUNT-1D"] = str(day)
    if emulator.faults.order_timeout():
        await _hold(call)
    return order.placed_json(request.resp_type, fills)


async def test_order(call: Call) -> dict[str, Any]:
    """POST /api/v3/order/test: checks the parameters and filters only."""
    found = listing(call)
    new = parse_new_order(call.params, found.rules)
    average = Decimal(repr(found.market.avg_price(call.emulator.now())))
    check_filters(new, found.rules, average)
    return {}


async def query_order(call: Call) -> dict[str, Any]:
    """GET /api/v3/order."""
    found = listing(call)
    order_id, client_id = _order_ids(call)
    order = call.emulator.engine.find(_account(call), found.rules.symbol, order_id, client_id)
    return order.query_json()


async def cancel_order(call: Call) -> dict[str, Any]:
    """DELETE /api/v3/order."""
    found = listing(call)
    order_id, client_id = _order_ids(call)
    cancel_id = client_order_id(call.params)
    order = call.emulator.engine.cancel(
        _account(call), found.rules.symbol, order_id, client_id, cancel_id
    )
    call.free = True
    return order.canceled_json()


async def open_orders(call: Call) -> list[dict[str, Any]]:
    """GET /api/v3/openOrders (one symbol or all)."""
    symbol = listing(call).rules.symbol if "symbol" in call.params else None
    return [o.query_json() for o in call.emulator.engine.open_orders(_account(call), symbol)]


async def cancel_open_orders(call: Call) -> list[dict[str, Any]]:
    """DELETE /api/v3/openOrders: cancel every open order of the symbol."""
    symbol = listing(call).rules.symbol
    engine = call.emulator.engine
    account = _account(call)
    orders = engine.open_orders(account, symbol)
    if not orders:
        raise errors.cancel_unknown()
    done = [engine.cancel(account, symbol, o.order_id, None, generated_client_id()) for o in orders]
    call.free = True
    return [o.canceled_json() for o in done]


def _window(call: Call, items: list[Any], key: str, id_key: str, id_param: str) -> list[Any]:
    """Binance's selection: ``fromId``/``orderId`` or the time range, then ``limit``."""
    limit = _limit(call)
    first_id = int_param(call.params, id_param)
    start = time_param(call.params, "startTime")
    end = time_param(call.params, "endTime")
    if start is not None and end is not None and end - start > MAX_WINDOW_MS:
        raise errors.more_than_hours(MAX_WINDOW_MS // 3_600_000)
    if first_id is not None:
        chosen = [x for x in items if getattr(x, id_key) >= first_id]
        return chosen[:limit]
    if start is not None:
        chosen = [x for x in items if getattr(x, key) >= start]
        if end is not None:
            chosen = [x for x in chosen if getattr(x, key) <= end]
        return chosen[:limit]
    if end is not None:
        items = [x for x in items if getattr(x, key) <= end]
    return items[-limit:]


async def all_orders(call: Call) -> list[dict[str, Any]]:
    """GET /api/v3/allOrders."""
    symbol = listing(call).rules.symbol
    orders: list[Order] = call.emulator.engine.all_orders(_account(call), symbol)
    return [o.query_json() for o in _window(call, orders, "time", "order_id", "orderId")]


async def account_info(call: Call) -> dict[str, Any]:
    """GET /api/v3/account."""
    emulator = call.emulator
    account = emulator.engine.accounts[_account(call)]
    fees = emulator.config.fees
    omit = call.params.get("omitZeroBalances", "false").lower() == "true"
    return {
        "makerCommission": int(fees.maker * 10_000),
        "takerCommission": int(fees.taker * 10_000),
        "buyerCommission": 0,
        "sellerCommission": 0,
        "commissionRates": {
            "maker": f"{fees.maker:.8f}",
            "taker": f"{fees.taker:.8f}",
            "buyer": "0.00000000",
            "seller": "0.00000000",
        },
        "canTrade": True,
        "canWithdraw": False,
        "canDeposit": False,
        "brokered": False,
        "requireSelfTradePrevention": False,
        "preventSor": False,
        "updateTime": account.update_time,
        "accountType": "SPOT",
        "balances": account.balances_json(omit),
        "permissions": ["SPOT"],
        "uid": zlib.crc32(account.name.encode()),
    }


async def my_trades(call: Call) -> list[dict[str, Any]]:
    """GET /api/v3/myTrades (``symbol`` required; ``orderId``, time range, ``fromId``: not
    ``orderId`` or ``fromId`` with a time, -1128)."""
    symbol = listing(call).rules.symbol
    by_id = call.params.keys() & {"orderId", "fromId"}
    if by_id and call.params.keys() & {"startTime", "endTime"}:
        raise errors.bad_combination()
    trades = call.emulator.engine.my_trades(_account(call), symbol)
    order_id = int_param(call.params, "orderId")
    if order_id is not None:
        trades = [t for t in trades if t.order_id == order_id]
    return [t.to_json() for t in _window(call, trades, "time", "trade_id", "fromId")]


ENDPOINTS = (
    Endpoint("POST", "/api/v3/order", new_order, fixed(1), signed=True),
    Endpoint("POST", "/api/v3/order/test", test_order, fixed(1), signed=True),
    Endpoint("GET", "/api/v3/order", query_order, fixed(4), signed=True),
    Endpoint("DELETE", "/api/v3/order", cancel_order, fixed(1), signed=True),
    Endpoint("GET", "/api/v3/openOrders", open_orders,
             lambda p: 6 if "symbol" in p else 80, signed=True),
    Endpoint("DELETE", "/api/v3/openOrders", cancel_open_orders, fixed(1), signed=True),
    Endpoint("GET", "/api/v3/allOrders", all_orders, fixed(20), signed=True),
    Endpoint("GET", "/api/v3/account", account_info, fixed(20), signed=True),
    Endpoint("GET", "/api/v3/myTrades", my_trades,
             lambda p: 5 if "orderId" in p else 20, signed=True),
)  # fmt: skip
