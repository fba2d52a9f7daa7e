"""Streams of the exchange layer against the in-process emulator with the real ccxt.pro: closed
candles (in order, backfilled after a dropped connection, REST polling fallback) and order
status from the user data stream."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from candlewick.api.ccxt_client import connect
from candlewick.api.hub import ExchangeHub
from candlewick.api.market_data import MarketData
from candlewick.api.order_status import OrderUpdate
from candlewick.api.orders import OrderRequest, Orders
from candlewick.api.port import ExchangeClient
from candlewick.api.retry import RetryPolicy
from candlewick.api.streams import Candle, CandleStream, candles_of
from candlewick.api.user_stream import OrderStream, StreamedOrderWatcher
from candlewick.data.store import CandleStore
from candlewick.emulator.testing import Running, config_for, serve
from candlewick.paths import shared_data_dir

SHARED = shared_data_dir()
pytestmark = pytest.mark.skipif(
    SHARED is None, reason="shared data folder ../shared/data (or $CANDLEWICK_SHARED_DATA) absent"
)
START = 1_774_396_800_000  # 2026-03-25 00:00 UTC
MINUTE = 60_000
KEY, SECRET = "dave-key", "dave-secret"
DEADLINE = 15.0  # seconds a whole scenario may take before it is called stuck
FAST = RetryPolicy(base_s=0.05, cap_s=0.2)


def stored(store_root: Path, first: int, count: int) -> list[Candle]:
    rows = CandleStore(store_root).read(
        "binance", "BTC/USDT", "1m", first, first + count * MINUTE - 1
    )
    return candles_of(rows)


@dataclass
class Rig:
    server: Running
    http: aiohttp.ClientSession
    data: MarketData
    hub: ExchangeHub

    def pro(self, ws_url: str | None = None) -> ExchangeClient:
        return connect(
            "binance",
            api_key=KEY,
            secret=SECRET,
            rest_url=self.server.url,
            ws_url=ws_url or self.server.ws_url,
            streaming=True,
        )

    async def post(self, path: str, body: dict[str, Any]) -> None:
        async with self.http.post(f"{self.server.url}/_emulator/{path}", json=body) as response:
            assert response.status == 200


@asynccontextmanager
async def rig(store_root: Path) -> AsyncIterator[Rig]:
    config = config_for(
        store_root,
        ["BTC/USDT"],
        speed="step",
        replay_start="2026-03-25T00:00:30Z",
        streams={"tick_ms": 20, "kline_ms": 30, "ticker_ms": 50},
        accounts={"dave": {"api_key": KEY, "api_secret": SECRET, "balances": {"USDT": "20000"}}},
    )
    async with serve(config) as server, aiohttp.ClientSession() as http:
        hub = ExchangeHub()
        gateway = hub.gateway(
            "binance",
            "dave",
            lambda: connect("binance", api_key=KEY, secret=SECRET, rest_url=server.url),
            host=server.url,
        )
        try:
            await gateway.load_markets()
            yield Rig(server, http, MarketData(gateway), hub)
        finally:
            await hub.close()


async def collect(
    stream: CandleStream, rig: Rig, count: int, on: dict[int, dict[str, Any]] | None = None
) -> list[Candle]:
    """``count`` candles from ``stream`` while the replay is stepped 20 s at a time; ``on``
    posts a fault when that many candles have arrived."""
    got: list[Candle] = []
    actions = dict(on or {})

    async def consume() -> None:
        async for candle in stream:
            got.append(candle)
            if len(got) >= count:
                break

    task = asyncio.create_task(consume())
    try:
        async with asyncio.timeout(DEADLINE):
            while not task.done():
                if len(got) in actions:
                    await rig.post("faults", actions.pop(len(got)))
                    await rig.post("step", {"minutes": 3})
                await rig.post("step", {"seconds": 20})
                await asyncio.sleep(0.05)
            await task
    finally:
        task.cancel()
        await stream.close()
    return got


def test_stream_yields_the_stored_candles_in_order(store_root: Path) -> None:
    async def scenario() -> tuple[list[Candle], CandleStream]:
        async with rig(store_root) as r:
            stream = CandleStream(
                r.pro, r.data, "BTC/USDT", "1m", since_ms=START, backoff=FAST, rng=random.Random(1)
            )
            return await collect(stream, r, 5), stream

    got, stream = asyncio.run(scenario())
    assert got == stored(store_root, START, 5)
    assert stream.mode == "stream" and stream.polls == 0


def test_dropped_connection_is_backfilled_without_hole_or_duplicate(store_root: Path) -> None:
    async def scenario() -> tuple[list[Candle], CandleStream]:
        async with rig(store_root) as r:
            stream = CandleStream(
                r.pro, r.data, "BTC/USDT", "1m", since_ms=START, backoff=FAST, rng=random.Random(2)
            )
            return await collect(stream, r, 10, on={2: {"drop_streams": True}}), stream

    got, stream = asyncio.run(scenario())
    assert got == stored(store_root, START, 10)
    assert stream.reconnects >= 1 and stream.backfilled >= 1


def test_polling_fallback_yields_the_same_candles(store_root: Path) -> None:
    async def scenario() -> tuple[list[Candle], CandleStream]:
        async with rig(store_root) as r:
            stream = CandleStream(
                lambda: r.pro("ws://127.0.0.1:9"),  # nothing listens: streaming keeps failing
                r.data,
                "BTC/USDT",
                "1m",
                since_ms=START,
                backoff=FAST,
                max_failures=2,
                watch_timeout_s=2.0,
                poll_interval_s=0.05,
                rng=random.Random(3),
            )
            return await collect(stream, r, 5), stream

    got, stream = asyncio.run(scenario())
    assert got == stored(store_root, START, 5)
    assert stream.polls >= 1


def test_order_filled_on_the_emulator_shows_through_the_user_stream(store_root: Path) -> None:
    ahead = stored(store_root, START + MINUTE, 30)
    low = min(c.low for c in ahead)

    async def scenario() -> None:
        async with rig(store_root) as r:
            orders = Orders(r.data.gateway)
            watcher = StreamedOrderWatcher(orders)
            stream = OrderStream(watcher, r.pro, backoff=FAST, reconcile_every_s=30.0)
            price = (Decimal(str(low)) * Decimal("1.0005")).quantize(Decimal("0.01"))
            placed = await orders.place(
                OrderRequest("BTC/USDT", "buy", "limit", Decimal("0.01"), price, None, "st-1")
            )
            assert placed.is_open, "the limit sits under the price at the start"
            watcher.track(placed)
            updates = stream.updates()

            async def next_update() -> OrderUpdate:
                return await anext(updates)

            first = asyncio.create_task(next_update())
            for _ in range(100):  # until the user stream subscription is live
                if _subscribed(r.server):
                    break
                await asyncio.sleep(0.02)
            assert _subscribed(r.server)
            async with asyncio.timeout(DEADLINE):
                while not first.done():
                    await r.post("step", {"seconds": 30})
                    await asyncio.sleep(0.05)
                update = await first
                while update.order.is_open:
                    update = await anext(updates)
            await updates.aclose()
            await stream.close()
            assert update.order.client_order_id == "st-1"
            assert update.order.status == "closed" and update.order.filled == Decimal("0.01")
            assert stream.streamed >= 1 and watcher.tracked() == []

    asyncio.run(scenario())


def _subscribed(server: Running) -> bool:
    from candlewick.emulator.wsapi import UserStreams

    hubs = [h for h in server.emulator.engine.listeners if hasattr(h, "__self__")]
    return any(
        c.subscriptions
        for h in hubs
        if isinstance(h.__self__, UserStreams)
        for c in h.__self__.connections
    )


def test_stream_returns_from_polling_to_streaming(store_root: Path) -> None:
    built: list[int] = []

    async def scenario() -> tuple[list[Candle], CandleStream]:
        async with rig(store_root) as r:

            def factory() -> ExchangeClient:
                built.append(len(built))
                return r.pro("ws://127.0.0.1:9" if len(built) <= 2 else None)

            stream = CandleStream(
                factory,
                r.data,
                "BTC/USDT",
                "1m",
                since_ms=START,
                backoff=FAST,
                max_failures=2,
                watch_timeout_s=2.0,
                poll_interval_s=0.05,
                retry_stream_after_s=0.3,
                rng=random.Random(4),
            )
            return await collect(stream, r, 8), stream

    got, stream = asyncio.run(scenario())
    assert got == stored(store_root, START, 8)
    assert stream.polls >= 1 and len(built) >= 3 and stream.mode == "stream"


def test_user_stream_reconnects_and_reconciles(store_root: Path) -> None:
    ahead = stored(store_root, START + MINUTE, 30)
    low = min(c.low for c in ahead)

    async def scenario() -> None:
        async with rig(store_root) as r:
            orders = Orders(r.data.gateway)
            watcher = StreamedOrderWatcher(orders)
            stream = OrderStream(watcher, r.pro, backoff=FAST, reconcile_every_s=30.0)
            price = (Decimal(str(low)) * Decimal("1.0005")).quantize(Decimal("0.01"))
            placed = await orders.place(
                OrderRequest("BTC/USDT", "buy", "limit", Decimal("0.01"), price, None, "st-2")
            )
            watcher.track(placed)
            updates = stream.updates()

            async def next_update() -> OrderUpdate:
                return await anext(updates)

            first = asyncio.create_task(next_update())
            for _ in range(100):
                if _subscribed(r.server):
                    break
                await asyncio.sleep(0.02)
            await r.post("faults", {"drop_streams": True})
            async with asyncio.timeout(DEADLINE):
                while not first.done():
                    await r.post("step", {"seconds": 30})
                    await asyncio.sleep(0.05)
                update = await first
                while update.order.is_open:
                    update = await anext(updates)
            await updates.aclose()
            await stream.close()
            assert update.order.status == "closed" and update.order.filled == Decimal("0.01")
            assert stream.reconnects >= 1

    asyncio.run(scenario())
