"""The exchange layer end to end: the real ccxt, built by ``connect()``, driven through the gateway
and the adapters against the in-process Binance emulator replaying stored candles."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np
import pytest

from candlewick.api.account import Account
from candlewick.api.ccxt_client import connect
from candlewick.api.clock import Clock, WallClock
from candlewick.api.gateway import Gateway
from candlewick.api.hub import ExchangeHub
from candlewick.api.market_data import MarketData
from candlewick.api.order_status import OrderStatusWatcher
from candlewick.api.orders import OrderRequest, Orders
from candlewick.api.retry import RetryPolicy
from candlewick.data.store import CandleStore
from candlewick.emulator.clock import wall_ms
from candlewick.emulator.config import EmulatorConfig
from candlewick.emulator.runtime import Emulator, open_emulator
from candlewick.emulator.testing import config_for, serve
from candlewick.errors import (
    AuthenticationError,
    InsufficientFundsError,
    OrderNotFoundError,
    OrderRejectedError,
    RateLimitError,
)
from candlewick.paths import shared_data_dir

SHARED = shared_data_dir()
pytestmark = pytest.mark.skipif(
    SHARED is None, reason="shared data folder ../shared/data (or $CANDLEWICK_SHARED_DATA) absent"
)
START = 1_774_396_800_000  # 2026-03-25 00:00 UTC
MINUTE, HOUR = 60_000, 3_600_000
KEY, SECRET = "alice-key", "alice-secret"
D = Decimal


def emulator_config(store_root: Path, **overrides: Any) -> EmulatorConfig:
    accounts = {
        "alice": {
            "api_key": KEY,
            "api_secret": SECRET,
            "balances": {"USDT": "100000", "BTC": "1"},
        }
    }
    settings: dict[str, Any] = {"speed": "step", "replay_start": "2026-03-25T00:00:00Z"}
    settings.update(overrides)
    return config_for(store_root, ["BTC/USDT", "ETH/USDT"], accounts=accounts, **settings)


class ShiftedClock:
    """The wall clock moved by ``offset_ms``: the emulator's and the gateway's shared time."""

    def __init__(self, offset_ms: int) -> None:
        self.offset_ms = offset_ms

    def now_ms(self) -> int:
        return wall_ms() + self.offset_ms

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


def clock_at_second(second: float) -> ShiftedClock:
    """A clock that reads ``second`` seconds past a whole minute now (windows start soon)."""
    return ShiftedClock(int(second * 1000) - wall_ms() % MINUTE)


@dataclass
class Session:
    emulator: Emulator
    url: str
    hub: ExchangeHub
    gateway: Gateway

    def connect_again(self) -> Gateway:
        """The gateway another bot of the same account gets from the hub."""
        return self.hub.gateway("binance", "alice", _never, host=self.url)

    async def step(self, **amount: float) -> None:
        async with (
            aiohttp.ClientSession() as http,
            http.post(f"{self.url}/_emulator/step", json=amount) as response,
        ):
            assert response.status == 200

    def statuses(self, path: str | None = None) -> list[int]:
        return [e.status for e in self.emulator.log.entries() if path in (None, e.path)]


def _never() -> Any:
    raise AssertionError("the hub must reuse the account's gateway")


@asynccontextmanager
async def session(
    config: EmulatorConfig,
    *,
    clock: Clock | None = None,
    secret: str = SECRET,
    timeout_ms: int = 10_000,
    **hub_kw: Any,
) -> AsyncIterator[Session]:
    wall: Callable[[], int] = clock.now_ms if clock is not None else wall_ms
    emulator = open_emulator(config, wall=wall)
    async with serve(config, emulator=emulator) as server:
        hub = ExchangeHub(clock or WallClock(), **hub_kw)
        options = {"adjustForTimeDifference": True} if clock is not None else None
        gateway = hub.gateway(
            "binance",
            "alice",
            lambda: connect(
                "binance",
                api_key=KEY,
                secret=secret,
                rest_url=server.url,
                timeout_ms=timeout_ms,
                options=options,
            ),
            host=server.url,
        )
        try:
            await gateway.load_markets()
            yield Session(emulator, server.url, hub, gateway)
        finally:
            await hub.close()


def test_candles_through_the_gateway_equal_the_stored_ones(
    store_root: Path, tmp_path: Path
) -> None:
    stored = CandleStore(store_root).read("binance", "BTC/USDT", "1m", START, START + 20 * HOUR - 1)

    async def scenario() -> None:
        async with session(emulator_config(store_root)) as s:
            await s.step(minutes=20 * 60)
            data = MarketData(s.gateway)
            candles, pages = await data.fetch_candles("BTC/USDT", "1m", START, START + 20 * HOUR)
            assert pages == 2 and len(candles) == 1200
            assert np.array_equal(candles.timestamp, stored.timestamp)
            for column in ("open", "high", "low", "close", "volume"):
                assert np.allclose(candles.column(column), stored.column(column), rtol=0, atol=1e-9)
            recent, _ = await data.fetch_candles("BTC/USDT", "1m", START + 19 * HOUR)
            assert recent.timestamp[-1] == START + 20 * HOUR - MINUTE  # the forming one is left out
            result = await data.backfill(
                CandleStore(tmp_path), "BTC/USDT", "1m", START, START + 5 * HOUR
            )
            assert (result.added, result.gaps_left) == (300, 0)
            ticker = await data.ticker("BTC/USDT")
            assert ticker.bid is not None and ticker.ask is not None and ticker.bid < ticker.ask
            book = await data.order_book("BTC/USDT", 5)
            assert len(book.bids) == 5 and book.bids[0][0] < book.asks[0][0]
            assert isinstance(book.bids[0][1], Decimal)
            used = dict(s.hub.book.items())[("binance", "REQUEST_WEIGHT_1M", s.url)]
            served = s.emulator.limiter.used("127.0.0.1", s.emulator.wall())
            assert used.used(s.emulator.wall()) == served  # corrected from X-MBX-USED-WEIGHT-1M

    asyncio.run(scenario())


def test_orders_account_and_watcher_through_the_gateway(store_root: Path) -> None:
    async def scenario() -> None:
        async with session(emulator_config(store_root)) as s:
            orders, account = Orders(s.gateway), Account(s.gateway)
            balances = await account.balances()
            assert balances["USDT"].free == D(100000) and balances["BTC"].free == D(1)
            last = (await MarketData(s.gateway).ticker("BTC/USDT")).last
            assert last is not None
            below = (last * D("0.5")).quantize(D("0.001"))  # off the 0.01 tick on purpose
            request = OrderRequest("BTC/USDT", "buy", "limit", D("0.0123456"), below, None, "gw-1")
            placed = await orders.place(request)
            assert placed.client_order_id == "gw-1" and placed.is_open
            assert placed.amount == D("0.01234") and placed.price == below.quantize(D("0.01"))
            stop = OrderRequest(
                "BTC/USDT", "sell", "stop_limit", D("0.01"), last * D("0.8"), last * D("0.9")
            )
            stop_order = await orders.place(stop)
            assert stop_order.is_open
            watcher = OrderStatusWatcher(orders)
            assert {o.client_order_id for o in await watcher.adopt("BTC/USDT")} == {
                "gw-1",
                stop.client_order_id,
            }
            assert await watcher.reconcile() == []
            found = await orders.fetch("BTC/USDT", client_order_id="gw-1")
            assert found.id == placed.id
            cancelled = await orders.cancel("BTC/USDT", placed.id)
            assert cancelled.status == "canceled"
            updates = await watcher.reconcile()
            assert [(u.order.client_order_id, u.order.status) for u in updates] == [
                ("gw-1", "canceled")
            ]
            with pytest.raises(OrderNotFoundError):
                await orders.cancel("BTC/USDT", placed.id)
            sent = len(s.statuses("/api/v3/order"))
            with pytest.raises(OrderRejectedError, match="minimum notional"):
                await orders.place(OrderRequest("BTC/USDT", "buy", "limit", D("0.00001"), below))
            assert len(s.statuses("/api/v3/order")) == sent  # refused before sending
            with pytest.raises(InsufficientFundsError):
                await orders.place(OrderRequest("BTC/USDT", "buy", "limit", D(5), below))

    asyncio.run(scenario())


def test_a_bad_secret_is_an_authentication_error(store_root: Path) -> None:
    async def scenario() -> None:
        async with session(emulator_config(store_root), secret="wrong") as s:
            with pytest.raises(AuthenticationError, match="INVALID_SIGNATURE"):
                await Account(s.gateway).balances()
            assert s.gateway.stats.calls == 2  # load_markets, then one try: no retry

    asyncio.run(scenario())


async def bot(gateway: Gateway, n: int) -> int:
    """A bot's replayed hour: candles every 10 minutes, its balance, one order placed and
    cancelled. About 34 weight; rate-limit refusals are counted, not fatal."""
    orders, account = Orders(gateway), Account(gateway)
    refused, placed = 0, None
    for round_ in range(6):
        try:
            rows = await gateway.fetch_ohlcv("BTC/USDT", "1m", None, 5)
            if round_ == 0:
                await account.balances()
            if round_ == 2:
                price = D(repr(rows[-1][4])) * D("0.5")
                placed = await orders.place(
                    OrderRequest("BTC/USDT", "buy", "limit", D("0.001"), price, None, f"bot{n}")
                )
            if round_ == 4 and placed is not None:
                await orders.cancel("BTC/USDT", placed.id)
        except RateLimitError:
            refused += 1
    return refused


def test_twenty_bots_share_one_account_without_a_429(store_root: Path) -> None:
    # The emulator allows 400 weight a minute; the bots need about 680 in their replayed hour.
    config = emulator_config(
        store_root, speed=3600.0, limits={"request_weight_per_minute": 400, "ban_after_429s": 1000}
    )
    overrides = {"binance": {"REQUEST_WEIGHT_1M": 400}}

    async def with_budgets() -> None:
        # Start 3.5 s before a whole minute of the shared clock: one window boundary to wait for.
        async with session(config, clock=clock_at_second(56.5), limit_overrides=overrides) as s:
            gateways = [s.gateway] + [s.connect_again() for _ in range(19)]
            assert all(g is s.gateway for g in gateways)
            refused = await asyncio.gather(*(bot(g, n) for n, g in enumerate(gateways)))
            assert refused == [0] * 20
            statuses = s.statuses()
            assert 429 not in statuses and 418 not in statuses
            assert s.gateway.stats.budget_waits > 0  # it did hold calls back
            minutes = {e.wall_ms // MINUTE for e in s.emulator.log.entries()}
            assert len(minutes) >= 2
            weight = sum(e.weight for e in s.emulator.log.entries())
            assert weight > 400  # more than one window's worth went through

    async def without_budgets() -> None:
        no_limits = {"binance": {"REQUEST_WEIGHT_1M": 10**9}}
        fail_fast = RetryPolicy(max_attempts=1, max_wait_s=1.0)
        async with session(
            config, clock=clock_at_second(5.0), limit_overrides=no_limits, policy=fail_fast
        ) as s:
            gateways = [s.gateway] + [s.connect_again() for _ in range(19)]
            refused = await asyncio.gather(*(bot(g, n) for n, g in enumerate(gateways)))
            assert sum(refused) > 0
            assert 429 in s.statuses()

    asyncio.run(with_budgets())
    asyncio.run(without_budgets())


def test_an_order_accepted_then_timed_out_is_found_by_its_client_id(store_root: Path) -> None:
    async def scenario() -> None:
        config = emulator_config(store_root)
        async with session(config, timeout_ms=1000, policy=RetryPolicy(base_s=0.2)) as s:
            s.emulator.faults.update(
                {"order_timeout_next": 1, "order_timeout_hold_seconds": 5}, s.emulator.wall()
            )
            last = (await MarketData(s.gateway).ticker("BTC/USDT")).last
            assert last is not None
            request = OrderRequest(
                "BTC/USDT", "buy", "limit", D("0.01"), last * D("0.5"), None, "to-1"
            )
            order = await Orders(s.gateway).place(request)
            assert order.client_order_id == "to-1" and order.is_open
            assert s.gateway.stats.lookups == 1
            posts = [e for e in s.emulator.log.entries() if e.method == "POST"]
            assert len(posts) == 1  # sent once, never again
            open_orders = await s.gateway.fetch_open_orders("BTC/USDT")
            assert [o["clientOrderId"] for o in open_orders] == ["to-1"]  # no duplicate

    asyncio.run(scenario())
