"""The emulator's WebSockets: market streams and the WS-API user data stream, driven by the real
ccxt.pro (watch_ohlcv, watch_ticker, watch_order_book, watch_orders, watch_balance) and by a raw
aiohttp client for the protocol details (depth update-id sequencing, errors, faults)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from candlewick.data.store import CandleStore
from candlewick.emulator import auth
from candlewick.emulator.market import MINUTE
from candlewick.emulator.testing import Running, ccxt_client, config_for, serve
from candlewick.paths import shared_data_dir

SHARED = shared_data_dir()
pytestmark = pytest.mark.skipif(
    SHARED is None, reason="shared data folder ../shared/data (or $CANDLEWICK_SHARED_DATA) absent"
)
START = 1_774_396_800_000  # 2026-03-25 00:00 UTC
KEY, SECRET = "carol-key", "carol-secret"
WAIT = 5.0  # seconds any single stream message may take


@asynccontextmanager
async def emulator(store_root: Path) -> AsyncIterator[tuple[Running, aiohttp.ClientSession]]:
    config = config_for(
        store_root,
        ["BTC/USDT", "ETH/USDT"],
        speed="step",
        replay_start="2026-03-25T00:00:00Z",
        streams={"tick_ms": 20, "kline_ms": 50, "ticker_ms": 50},
        accounts={"carol": {"api_key": KEY, "api_secret": SECRET, "balances": {"USDT": "20000"}}},
    )
    async with serve(config) as server, aiohttp.ClientSession() as http:
        yield server, http


async def step(server: Running, http: aiohttp.ClientSession, **amount: float) -> None:
    async with http.post(f"{server.url}/_emulator/step", json=amount) as response:
        assert response.status == 200


def test_watch_ohlcv_streams_the_stored_candles(store_root: Path) -> None:
    stored = CandleStore(store_root).read("binance", "BTC/USDT", "1m", START, START + 3 * MINUTE)
    expected = {
        int(stored.timestamp[i]): [float(stored.column(n)[i]) for n in
                                   ("open", "high", "low", "close", "volume")]
        for i in range(len(stored))
    }  # fmt: skip

    async def scenario() -> dict[int, list[float]]:
        seen: dict[int, list[float]] = {}
        async with emulator(store_root) as (server, http):
            ex = ccxt_client(server.url, pro=True)
            try:
                await ex.load_markets()
                for _ in range(20):
                    for row in await asyncio.wait_for(ex.watch_ohlcv("BTC/USDT", "1m"), WAIT):
                        seen[int(row[0])] = [float(x) for x in row[1:]]
                    if START + MINUTE in seen and seen[START + MINUTE] == expected[START + MINUTE]:
                        break
                    await step(server, http, seconds=30)
            finally:
                await ex.close()
        return seen

    seen = asyncio.run(scenario())
    assert seen[START] == expected[START]  # the closed candle's final state
    assert seen[START + MINUTE] == expected[START + MINUTE]


def test_watch_ticker_and_order_book(store_root: Path) -> None:
    async def scenario() -> None:
        async with emulator(store_root) as (server, http):
            ex = ccxt_client(server.url, pro=True)
            rest = ccxt_client(server.url)
            try:
                await ex.load_markets()
                ticker = await asyncio.wait_for(ex.watch_ticker("ETH/USDT"), WAIT)
                assert ticker["last"] == (await rest.fetch_ticker("ETH/USDT"))["last"]
                book = await asyncio.wait_for(ex.watch_order_book("ETH/USDT"), WAIT)
                nonces = [book["nonce"]]
                for _ in range(5):
                    await step(server, http, seconds=7)
                    book = await asyncio.wait_for(ex.watch_order_book("ETH/USDT"), WAIT)
                    nonces.append(book["nonce"])
                snapshot = await rest.fetch_order_book("ETH/USDT", 1000)
                assert book["nonce"] == snapshot["nonce"]
                assert book["bids"][:50] == snapshot["bids"][:50]
                assert book["asks"][:50] == snapshot["asks"][:50]
                assert nonces == sorted(nonces) and nonces[-1] > nonces[0]
                await step(server, http, seconds=7)
                moved = await asyncio.wait_for(ex.watch_ticker("ETH/USDT"), WAIT)
                assert moved["timestamp"] > ticker["timestamp"]
            finally:
                await ex.close()
                await rest.close()

    asyncio.run(scenario())


def test_watch_orders_and_balance(store_root: Path) -> None:
    async def scenario() -> None:
        async with emulator(store_root) as (server, _):
            ex = ccxt_client(server.url, KEY, SECRET, pro=True)
            rest = ccxt_client(server.url, KEY, SECRET)
            try:
                await ex.load_markets()
                orders = asyncio.create_task(ex.watch_orders("BTC/USDT"))
                balance = asyncio.create_task(ex.watch_balance())
                for _ in range(100):  # until the user stream subscription is confirmed
                    if server.emulator.engine.listeners and any(
                        c.subscriptions for c in _user_connections(server)
                    ):
                        break
                    await asyncio.sleep(0.02)
                placed = await rest.create_order("BTC/USDT", "market", "buy", 0.02)
                got = await asyncio.wait_for(orders, WAIT)
                assert got[-1]["id"] == placed["id"]
                assert got[-1]["status"] == "closed" and got[-1]["filled"] == 0.02
                funds = await asyncio.wait_for(balance, WAIT)
                assert funds["BTC"]["free"] == pytest.approx(0.02 * 0.999)
                watching = asyncio.create_task(ex.watch_orders("BTC/USDT"))
                await asyncio.sleep(0)
                limit = await rest.create_order("BTC/USDT", "limit", "buy", 0.01, 50000)
                update = await asyncio.wait_for(watching, WAIT)
                assert update[-1]["id"] == limit["id"] and update[-1]["status"] == "open"
                watching = asyncio.create_task(ex.watch_orders("BTC/USDT"))
                balance = asyncio.create_task(ex.watch_balance())
                await asyncio.sleep(0)
                await rest.cancel_order(limit["id"], "BTC/USDT")
                update = await asyncio.wait_for(watching, WAIT)
                assert update[-1]["status"] == "canceled"
                funds = await asyncio.wait_for(balance, WAIT)
                assert funds["USDT"]["used"] == 0
            finally:
                await ex.close()
                await rest.close()

    asyncio.run(scenario())


def _user_connections(server: Running) -> list[Any]:
    from candlewick.emulator.wsapi import UserStreams

    hubs = [h for h in server.emulator.engine.listeners if hasattr(h, "__self__")]
    return [c for h in hubs if isinstance(h.__self__, UserStreams) for c in h.__self__.connections]


async def receive(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    message = await asyncio.wait_for(ws.receive(), WAIT)
    assert message.type == aiohttp.WSMsgType.TEXT, message
    data: dict[str, Any] = json.loads(message.data)
    return data


def test_depth_updates_continue_the_sequence(store_root: Path) -> None:
    async def scenario() -> None:
        async with (
            emulator(store_root) as (server, http),
            http.ws_connect(f"{server.ws_url}/ws/0") as ws,
        ):
            await ws.send_json({"method": "SUBSCRIBE", "params": ["btcusdt@depth@100ms"],
                                    "id": 1})  # fmt: skip
            assert await receive(ws) == {"result": None, "id": 1}
            async with http.get(f"{server.url}/api/v3/depth?symbol=BTCUSDT") as response:
                snapshot = await response.json()
            last = None
            for _ in range(8):
                await step(server, http, seconds=5)
                event = await receive(ws)
                assert event["e"] == "depthUpdate" and event["s"] == "BTCUSDT"
                if last is not None:
                    assert event["U"] == last + 1
                assert event["u"] >= event["U"]
                last = event["u"]
            assert last is not None and last > snapshot["lastUpdateId"]
            await ws.send_json({"method": "LIST_SUBSCRIPTIONS", "id": 2})
            assert await receive(ws) == {"result": ["btcusdt@depth@100ms"], "id": 2}
            await ws.send_json({"method": "SUBSCRIBE", "params": ["dogeusdt@ticker"], "id": 3})
            reply = await receive(ws)
            assert reply["id"] == 3 and reply["error"]["code"] == 2

    asyncio.run(scenario())


def test_combined_stream_and_faults(store_root: Path) -> None:
    async def scenario() -> None:
        async with emulator(store_root) as (server, http):
            url = f"{server.ws_url}/stream?streams=ethusdt@miniTicker/ethusdt@kline_5m"
            async with http.ws_connect(url) as ws:
                names = set()
                for _ in range(4):
                    message = await receive(ws)
                    names.add(message["stream"])
                    assert message["data"]["s"] == "ETHUSDT"
                    await step(server, http, seconds=1)
                assert names == {"ethusdt@miniTicker", "ethusdt@kline_5m"}
                async with http.post(f"{server.url}/_emulator/faults",
                                     json={"stale_streams_seconds": 60}) as response:  # fmt: skip
                    assert response.status == 200
                await step(server, http, minutes=1)
                with pytest.raises(asyncio.TimeoutError):
                    while True:  # drain what was sent before the fault took hold
                        await asyncio.wait_for(ws.receive(), 0.3)
                async with http.post(f"{server.url}/_emulator/faults",
                                     json={"drop_streams": True}) as response:  # fmt: skip
                    assert response.status == 200
                closing = await asyncio.wait_for(ws.receive(), WAIT)
                assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)

    asyncio.run(scenario())


def test_ws_api_refuses_bad_signatures_and_double_subscriptions(store_root: Path) -> None:
    def signed(secret: str, timestamp: int) -> dict[str, Any]:
        params: dict[str, Any] = {"apiKey": KEY, "timestamp": timestamp, "recvWindow": 10000}
        params["signature"] = auth.sign(secret, auth.ws_payload(params))
        return params

    async def scenario() -> None:
        async with (
            emulator(store_root) as (server, http),
            http.ws_connect(f"{server.ws_url}/ws-api/v3") as ws,
        ):
            now = server.emulator.wall()
            method = "userDataStream.subscribe.signature"
            await ws.send_json({"id": "a", "method": method, "params": signed("nope", now)})
            bad = await receive(ws)
            assert bad["status"] == 400 and bad["error"]["code"] == -1022
            await ws.send_json({"id": "b", "method": method, "params": signed(SECRET, now)})
            good = await receive(ws)
            assert good["status"] == 200 and good["result"] == {"subscriptionId": 0}
            await ws.send_json({"id": "c", "method": method, "params": signed(SECRET, now)})
            assert (await receive(ws))["error"]["code"] == -2035
            await ws.send_json({"id": "d", "method": "userDataStream.unsubscribe"})
            replies = [await receive(ws), await receive(ws)]
            assert {"id": "d", "status": 200} in [
                {k: r.get(k) for k in ("id", "status")} for r in replies
            ]
            assert any(r.get("event", {}).get("e") == "eventStreamTerminated" for r in replies)

    asyncio.run(scenario())


def test_malformed_websocket_messages_are_answered_not_fatal(store_root: Path) -> None:
    nested = "[" * 5000 + "]" * 5000

    async def scenario() -> tuple[list[Any], list[Any]]:
        async with emulator(store_root) as (server, http):
            market, api = [], []
            async with http.ws_connect(f"{server.ws_url}/ws") as ws:
                for text in (
                    nested,
                    '{"method": "SUBSCRIBE", "params": ["btcusdt@ticker\\n"], "id": 7}',
                    '{"method": "LIST_SUBSCRIPTIONS", "id": 8}',
                ):
                    await ws.send_str(text)
                    market.append(json.loads((await ws.receive(timeout=WAIT)).data))
            async with http.ws_connect(f"{server.ws_url}/ws-api/v3") as ws:
                for text in (nested, '{"id": "p", "method": "ping"}'):
                    await ws.send_str(text)
                    api.append(json.loads((await ws.receive(timeout=WAIT)).data))
            return market, api

    market, api = asyncio.run(scenario())
    assert market[0] == {"error": {"code": 3, "msg": "Invalid JSON"}, "id": None}
    assert market[1]["id"] == 7 and market[1]["error"]["code"] == 2  # a newline is no stream
    assert market[2] == {"result": [], "id": 8}
    assert api[0]["status"] == 400 and api[0]["error"]["code"] == -1102
    assert api[1]["id"] == "p" and api[1]["status"] == 200
