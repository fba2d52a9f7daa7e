"""Test doubles of the gateway's ports (a virtual clock, a small in-memory exchange) and their
own checks. Other gateway tests import them from here.

``FakeExchange`` implements :class:`candlewick.api.port.ExchangeClient` the way ccxt behaves
against Binance: it counts request weight per UTC minute and order counts per 10 s like the
real exchange, answers with ``X-MBX-USED-WEIGHT-1M`` headers, refuses with a 429 (ccxt's
``DDoSProtection`` carrying Binance's JSON body, ``Retry-After`` in the headers) when over
the real limit, and can be told to fail a call before or after it takes effect.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

import ccxt
import pytest

from candlewick import exchanges
from candlewick.api.port import Json

START_MS = 1_767_225_600_000  # 2026-01-01 00:00:00 UTC, on every window boundary

#: ccxt's market structure for BTC/USDT as load_markets builds it from Binance's exchangeInfo.
BTC_USDT_MARKET: Json = {
    "symbol": "BTC/USDT",
    "precision": {"price": 0.01, "amount": 1e-05},
    "limits": {"amount": {"min": 1e-05, "max": 9000.0}, "cost": {"min": 5.0}},
    "info": {
        "symbol": "BTCUSDT",
        "filters": [
            {
                "filterType": "PRICE_FILTER",
                "minPrice": "0.01000000",
                "maxPrice": "1000000.00000000",
                "tickSize": "0.01000000",
            },
            {
                "filterType": "LOT_SIZE",
                "minQty": "0.00001000",
                "maxQty": "9000.00000000",
                "stepSize": "0.00001000",
            },
            {
                "filterType": "NOTIONAL",
                "minNotional": "5.00000000",
                "maxNotional": "9000000.00000000",
            },
        ],
    },
}


class VirtualClock:
    """Virtual time: ``sleep`` parks the caller until :meth:`drive` advances the clock to its
    wake-up time, so concurrent sleepers wake in order without real waiting."""

    def __init__(self, start_ms: int = START_MS) -> None:
        self._now = start_ms
        self._sleepers: list[tuple[int, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()
        self.slept: list[float] = []

    def now_ms(self) -> int:
        return self._now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        wake = self._now + max(1, round(seconds * 1000))
        heapq.heappush(self._sleepers, (wake, next(self._seq), future))
        await future

    async def drive(
        self, *coros: Coroutine[Any, Any, Any], max_steps: int = 1_000_000
    ) -> list[Any]:
        """Run ``coros`` to completion, advancing time whenever all of them are asleep."""
        tasks = [asyncio.ensure_future(c) for c in coros]
        for _ in range(max_steps):
            for _ in range(20):  # let every runnable task reach its next sleep
                await asyncio.sleep(0)
            if all(t.done() for t in tasks):
                return [t.result() for t in tasks]
            if not self._sleepers:
                continue
            self._now = max(self._now, self._sleepers[0][0])
            while self._sleepers and self._sleepers[0][0] <= self._now:
                heapq.heappop(self._sleepers)[2].set_result(None)
        raise AssertionError("virtual clock: tasks did not finish within max_steps")


def run(clock: VirtualClock, *coros: Coroutine[Any, Any, Any]) -> list[Any]:
    """Drive ``coros`` on a fresh event loop under ``clock``."""
    return asyncio.run(clock.drive(*coros))


@dataclass
class FakeExchange:
    """A small Binance-like exchange behind the ExchangeClient port (see module docstring)."""

    clock: VirtualClock
    weight_limit: int = 6000
    orders_10s_limit: int = 100
    other_weight: int = 0  # weight used by someone else on the same IP this minute
    id: str = "binance"
    last_response_headers: dict[str, str] | None = None
    requests: list[tuple[str, int]] = field(default_factory=list)
    refusals: int = 0
    orders: dict[str, Json] = field(default_factory=dict)
    fail_before: dict[str, list[BaseException]] = field(default_factory=dict)
    fail_after: dict[str, list[BaseException]] = field(default_factory=dict)
    retry_after_s: int = 5
    candles: list[list[Any]] = field(default_factory=list)  # [open ms, o, h, l, c, v] rows
    markets: dict[str, Json] = field(default_factory=lambda: {"BTC/USDT": BTC_USDT_MARKET})
    _window: int = -1
    _used: int = 0
    _order_window: int = -1
    _order_count: int = 0
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        self.facts = exchanges.get(self.id)

    # the port

    async def load_markets(self, reload: bool = False, params: Json | None = None) -> Json:
        await self._serve("load_markets", {})
        return self.markets

    async def fetch_time(self, params: Json | None = None) -> int:
        await self._serve("fetch_time", {})
        return self.clock.now_ms()

    async def fetch_ohlcv(
        self,
        symbol: str,
        timeframe: str = "1m",
        since: int | None = None,
        limit: int | None = None,
        params: Json | None = None,
    ) -> list[list[Any]]:
        await self._serve("fetch_ohlcv", {"limit": limit})
        if not self.candles:
            return [[self.clock.now_ms() - 60_000, 1.0, 2.0, 0.5, 1.5, 10.0]]
        until = (params or {}).get("until")
        rows = [
            r
            for r in self.candles
            if (since is None or r[0] >= since) and (until is None or r[0] <= until)
        ]
        return [list(r) for r in rows[: limit or 500]]

    async def fetch_ticker(self, symbol: str, params: Json | None = None) -> Json:
        await self._serve("fetch_ticker", {"symbol": symbol})
        info = {"bidPrice": "1.49000000", "askPrice": "1.51000000", "lastPrice": "1.50000000"}
        return {"symbol": symbol, "last": 1.5, "bid": 1.49, "ask": 1.51, "info": info}

    async def fetch_tickers(
        self, symbols: list[str] | None = None, params: Json | None = None
    ) -> Json:
        await self._serve("fetch_tickers", {"symbols": symbols})
        return {}

    async def fetch_order_book(
        self, symbol: str, limit: int | None = None, params: Json | None = None
    ) -> Json:
        await self._serve("fetch_order_book", {"limit": limit})
        return {"bids": [[1.4, 1.0]], "asks": [[1.6, 1.0]]}

    async def fetch_balance(self, params: Json | None = None) -> Json:
        await self._serve("fetch_balance", {})
        return {"info": {"balances": [{"asset": "USDT", "free": "100.5", "locked": "0"}]}}

    async def fetch_trading_fees(self, params: Json | None = None) -> Json:
        await self._serve("fetch_trading_fees", {})
        return {}

    async def create_order(
        self,
        symbol: str,
        type: str,
        side: str,
        amount: float,
        price: float | None = None,
        params: Json | None = None,
    ) -> Json:
        await self._serve("create_order", {"symbol": symbol}, orders=1)
        cid = (params or {}).get("clientOrderId") or f"auto{next(self._ids)}"
        order: Json = {
            "id": str(next(self._ids)),
            "clientOrderId": cid,
            "symbol": symbol,
            "type": type,
            "side": side,
            "amount": amount,
            "price": price,
            "status": "open",
            "filled": 0.0,
            "params": dict(params or {}),
        }
        self.orders[cid] = order
        self._after("create_order")
        return dict(order)

    async def cancel_order(
        self, id: str, symbol: str | None = None, params: Json | None = None
    ) -> Json:
        await self._serve("cancel_order", {"symbol": symbol})
        order = self._by_id(id)
        if order is None or order["status"] != "open":
            raise ccxt.OrderNotFound('binance {"code":-2011,"msg":"Unknown order sent."}')
        order["status"] = "canceled"
        self._after("cancel_order")
        return dict(order)

    async def fetch_order(
        self, id: str | None, symbol: str | None = None, params: Json | None = None
    ) -> Json:
        await self._serve("fetch_order", {"symbol": symbol})
        cid = (params or {}).get("clientOrderId")
        order = self.orders.get(cid) if cid else self._by_id(id)
        if order is None:
            raise ccxt.OrderNotFound('binance {"code":-2013,"msg":"Order does not exist."}')
        return dict(order)

    async def fetch_open_orders(
        self,
        symbol: str | None = None,
        since: int | None = None,
        limit: int | None = None,
        params: Json | None = None,
    ) -> list[Json]:
        await self._serve("fetch_open_orders", {"symbol": symbol})
        return [dict(o) for o in self.orders.values() if o["status"] == "open"]

    async def fetch_my_trades(
        self,
        symbol: str | None = None,
        since: int | None = None,
        limit: int | None = None,
        params: Json | None = None,
    ) -> list[Json]:
        await self._serve("fetch_my_trades", {"symbol": symbol})
        return []

    async def fetch_deposits(
        self,
        code: str | None = None,
        since: int | None = None,
        limit: int | None = None,
        params: Json | None = None,
    ) -> list[Json]:
        await self._serve("fetch_deposits", {})
        return []

    async def fetch_withdrawals(
        self,
        code: str | None = None,
        since: int | None = None,
        limit: int | None = None,
        params: Json | None = None,
    ) -> list[Json]:
        await self._serve("fetch_withdrawals", {})
        return []

    async def fetch_status(self, params: Json | None = None) -> Json:
        await self._serve("fetch_status", {})
        return {"status": "ok"}

    async def close(self) -> None:
        return None

    # the exchange's side

    def count(self, method: str) -> int:
        """How many requests of ``method`` reached the exchange."""
        return sum(1 for m, _ in self.requests if m == method)

    def _by_id(self, order_id: str | None) -> Json | None:
        return next((o for o in self.orders.values() if o["id"] == order_id), None)

    def _after(self, method: str) -> None:
        failures = self.fail_after.get(method)
        if failures:
            raise failures.pop(0)

    async def _serve(self, method: str, request: Json, orders: int = 0) -> None:
        await asyncio.sleep(0)  # a network round trip, in virtual time: none
        failures = self.fail_before.get(method)
        if failures:
            raise failures.pop(0)
        now = self.clock.now_ms()
        if now // 60_000 != self._window:
            self._window, self._used = now // 60_000, self.other_weight
        if now // 10_000 != self._order_window:
            self._order_window, self._order_count = now // 10_000, 0
        endpoint = self.facts.endpoint(self.facts.route(method).endpoint)
        self._used += endpoint.weight_for({k: v for k, v in request.items() if v is not None})
        self.requests.append((method, now))
        headers = {"X-MBX-USED-WEIGHT-1M": str(self._used)}
        if self._used > self.weight_limit:
            self._refuse(headers, -1003, "Too much request weight used; current limit is 6000.")
        if orders:
            self._order_count += orders
            if self._order_count > self.orders_10s_limit:
                self._refuse(
                    headers,
                    -1015,
                    "Too many new orders; current limit is 100 orders per 10 SECOND.",
                )
            headers["X-MBX-ORDER-COUNT-10S"] = str(self._order_count)
        self.last_response_headers = headers

    def _refuse(self, headers: dict[str, str], code: int, msg: str) -> None:
        self.refusals += 1
        self.last_response_headers = {**headers, "Retry-After": str(self.retry_after_s)}
        raise ccxt.DDoSProtection(f'binance 429 Too Many Requests {{"code":{code},"msg":"{msg}"}}')


def test_fake_exchange_refuses_over_the_real_limit() -> None:
    clock = VirtualClock()
    fake = FakeExchange(clock, weight_limit=10)

    async def hammer() -> int:
        refused = 0
        for _ in range(8):
            try:
                await fake.fetch_ohlcv("BTC/USDT")  # weight 2
            except ccxt.DDoSProtection:
                refused += 1
        return refused

    assert run(clock, hammer()) == [3]
    assert fake.last_response_headers is not None
    assert fake.last_response_headers["Retry-After"] == "5"


def test_virtual_clock_wakes_sleepers_in_order() -> None:
    clock = VirtualClock()
    woke: list[tuple[str, int]] = []

    async def sleeper(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        woke.append((name, clock.now_ms() - START_MS))

    run(clock, sleeper("late", 2.0), sleeper("early", 1.0), sleeper("later", 2.5))
    assert woke == [("early", 1000), ("late", 2000), ("later", 2500)]


def test_failures_can_be_injected_after_the_effect() -> None:
    clock = VirtualClock()
    fake = FakeExchange(clock, fail_after={"create_order": [ccxt.RequestTimeout("timed out")]})

    async def place() -> None:
        await fake.create_order("BTC/USDT", "limit", "buy", 1.0, 1.0, {"clientOrderId": "a1"})

    with pytest.raises(ccxt.RequestTimeout):
        run(clock, place())
    assert list(fake.orders) == ["a1"]
