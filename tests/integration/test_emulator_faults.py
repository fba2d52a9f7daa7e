"""Injected faults seen through the real ccxt (5xx, latency, a timeout after the order was
accepted, dropped streams), and the emulator's state surviving a restart (SQLite)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import aiohttp
import ccxt
import pytest

from candlewick.emulator.config import EmulatorConfig
from candlewick.emulator.runtime import open_emulator
from candlewick.emulator.testing import ccxt_client, config_for, dec, serve
from candlewick.paths import shared_data_dir

SHARED = shared_data_dir()
pytestmark = pytest.mark.skipif(
    SHARED is None, reason="shared data folder ../shared/data (or $CANDLEWICK_SHARED_DATA) absent"
)
KEY, SECRET = "bob-key", "bob-secret"


def make_config(store_root: Path, **overrides: Any) -> EmulatorConfig:
    accounts = {"bob": {"api_key": KEY, "api_secret": SECRET, "balances": {"USDT": "50000"}}}
    return config_for(
        store_root,
        ["BTC/USDT"],
        speed="step",
        replay_start="2026-03-25T00:00:00Z",
        accounts=accounts,
        **overrides,
    )


async def set_faults(http: aiohttp.ClientSession, url: str, **faults: Any) -> dict[str, Any]:
    async with http.post(f"{url}/_emulator/faults", json=faults) as response:
        assert response.status == 200, await response.text()
        body: dict[str, Any] = await response.json()
        return body


def test_server_errors_from_the_control_endpoint(store_root: Path) -> None:
    async def scenario() -> None:
        async with serve(make_config(store_root)) as server, aiohttp.ClientSession() as http:
            ex = ccxt_client(server.url)
            try:
                await ex.fetch_time()
                await set_faults(http, server.url, error_rate=1.0, error_status=502)
                with pytest.raises(ccxt.ExchangeNotAvailable):
                    await ex.fetch_time()
                await set_faults(http, server.url, error_rate=0.0)
                await ex.fetch_time()
                async with http.post(f"{server.url}/_emulator/faults", json={"bogus": 1}) as bad:
                    assert bad.status == 400
            finally:
                await ex.close()
        assert [e.status for e in server.emulator.log.entries()] == [200, 502, 200]

    asyncio.run(scenario())


def test_error_rate_from_the_config_is_reproducible(store_root: Path) -> None:
    config = make_config(store_root, faults={"error_rate": 0.3, "seed": 7})

    async def statuses() -> list[int]:
        async with serve(config) as server, aiohttp.ClientSession() as http:
            for _ in range(40):
                async with http.get(f"{server.url}/api/v3/ping") as response:
                    await response.read()
            return [e.status for e in server.emulator.log.entries()]

    first, second = asyncio.run(statuses()), asyncio.run(statuses())
    assert first == second
    assert set(first) == {200, 503} and 5 <= first.count(503) <= 20


def test_added_latency(store_root: Path) -> None:
    async def scenario() -> float:
        config = make_config(store_root, faults={"latency_ms": 300})
        async with serve(config) as server:
            ex = ccxt_client(server.url)
            try:
                began = time.perf_counter()
                await ex.fetch_time()
                return time.perf_counter() - began
            finally:
                await ex.close()

    assert asyncio.run(scenario()) >= 0.3


def test_timeout_after_the_order_was_accepted(store_root: Path) -> None:
    async def scenario() -> None:
        config = make_config(store_root, faults={"order_timeout_hold_seconds": 20})
        async with serve(config) as server, aiohttp.ClientSession() as http:
            ex = ccxt_client(server.url, KEY, SECRET, timeout=1500)
            try:
                await ex.load_markets()
                await set_faults(http, server.url, order_timeout_next=1)
                with pytest.raises(ccxt.RequestTimeout):
                    await ex.create_order(
                        "BTC/USDT", "limit", "buy", 0.01, 60000, {"clientOrderId": "cw-1"}
                    )
                # the server notices the client giving up (it does not hold for the full 20 s)
                for _ in range(100):
                    if any(e.method == "POST" for e in server.emulator.log.entries()):
                        break
                    await asyncio.sleep(0.05)
                found = await ex.fetch_order(None, "BTC/USDT", {"origClientOrderId": "cw-1"})
                assert found["status"] == "open" and found["amount"] == 0.01
                assert len(await ex.fetch_open_orders("BTC/USDT")) == 1
                again = await ex.create_order("BTC/USDT", "limit", "buy", 0.01, 60000)
                assert again["status"] == "open"  # the next order is answered normally
            finally:
                await ex.close()
        orders = [e for e in server.emulator.log.entries() if e.path == "/api/v3/order"]
        assert orders[0].method == "POST" and orders[0].status == 504

    asyncio.run(scenario())


def test_state_survives_a_restart(store_root: Path, tmp_path: Path) -> None:
    config = make_config(store_root, state_file=str(tmp_path / "state" / "emulator.db"))

    async def first_life() -> dict[str, Any]:
        async with serve(config) as server, aiohttp.ClientSession() as http:
            ex = ccxt_client(server.url, KEY, SECRET)
            try:
                await ex.create_order("BTC/USDT", "market", "buy", 0.1)
                resting = await ex.create_order(
                    "BTC/USDT", "limit", "sell", 0.05, 90000, {"clientOrderId": "keep-me"}
                )
                async with http.post(f"{server.url}/_emulator/step", json={"minutes": 90}):
                    pass
                return {
                    "balance": (await ex.fetch_balance())["total"],
                    "trades": await ex.fetch_my_trades("BTC/USDT"),
                    "resting": resting["id"],
                    "now": server.emulator.now(),
                }
            finally:
                await ex.close()

    async def second_life() -> dict[str, Any]:
        async with serve(config) as server:
            ex = ccxt_client(server.url, KEY, SECRET)
            try:
                balance = await ex.fetch_balance()
                open_orders = await ex.fetch_open_orders("BTC/USDT")
                kept = await ex.fetch_order(None, "BTC/USDT", {"origClientOrderId": "keep-me"})
                trades = await ex.fetch_my_trades("BTC/USDT")
                newer = await ex.create_order("BTC/USDT", "limit", "sell", 0.01, 95000)
                return {
                    "balance": balance["total"],
                    "used": balance["BTC"]["used"],
                    "open": [o["id"] for o in open_orders],
                    "kept": kept["id"],
                    "trades": trades,
                    "newer": newer["id"],
                    "now": server.emulator.now(),
                }
            finally:
                await ex.close()

    before = asyncio.run(first_life())
    after = asyncio.run(second_life())
    assert after["balance"] == before["balance"]
    assert dec(after["used"]) == dec("0.05")
    assert after["open"] == [before["resting"]] and after["kept"] == before["resting"]
    assert [t["id"] for t in after["trades"]] == [t["id"] for t in before["trades"]]
    assert after["trades"][0]["price"] == before["trades"][0]["price"]
    assert int(after["newer"]) > int(before["resting"])
    assert after["now"] >= before["now"]  # the replay resumed where it stopped

    fresh = open_emulator(config.model_copy(update={"resume": False}))
    try:
        assert fresh.now() == config.start_ms()  # the clock restarts, the accounts stay
        assert len(fresh.engine.open_orders("bob", "BTCUSDT")) == 2
    finally:
        fresh.close()
