"""The emulator's signed REST API driven by the real ccxt: balances, orders, fills, trades, and
the errors ccxt must raise (bad signature, insufficient balance, filters, unknown orders...)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import ccxt
import numpy as np
import pytest

from candlewick.data.store import CandleStore
from candlewick.emulator.runtime import Emulator, open_emulator
from candlewick.emulator.testing import ccxt_client, config_for, dec, serve
from candlewick.paths import shared_data_dir

SHARED = shared_data_dir()
pytestmark = pytest.mark.skipif(
    SHARED is None, reason="shared data folder ../shared/data (or $CANDLEWICK_SHARED_DATA) absent"
)
START = 1_774_396_800_000  # 2026-03-25 00:00 UTC
HOUR = 3_600_000
KEY, SECRET = "alice-key", "alice-secret"


def make_emulator(store_root: Path, **overrides: Any) -> Emulator:
    accounts = {
        "alice": {
            "api_key": KEY,
            "api_secret": SECRET,
            "balances": {"USDT": "100000", "BTC": "1", "ETH": "0"},
        }
    }
    config = config_for(
        store_root,
        ["BTC/USDT", "ETH/USDT"],
        speed="step",
        replay_start="2026-03-25T00:00:00Z",
        accounts=accounts,
        **overrides,
    )
    return open_emulator(config)


class Session:
    """A served emulator with a ccxt client and a control client."""

    def __init__(self, emulator: Emulator, url: str, ex: Any, http: aiohttp.ClientSession):
        self.emulator, self.url, self.ex, self.http = emulator, url, ex, http

    async def step(self, **amount: float) -> None:
        async with self.http.post(f"{self.url}/_emulator/step", json=amount) as response:
            assert response.status == 200

    async def balance(self, asset: str) -> tuple[Decimal, Decimal]:
        balance = await self.ex.fetch_balance()
        return dec(balance[asset]["free"]), dec(balance[asset]["used"])


@asynccontextmanager
async def session(emulator: Emulator, secret: str = SECRET) -> AsyncIterator[Session]:
    async with serve(emulator.config, emulator=emulator) as server:
        ex = ccxt_client(server.url, KEY, secret)
        try:
            async with aiohttp.ClientSession() as http:
                await ex.load_markets()
                yield Session(emulator, server.url, ex, http)
        finally:
            await ex.close()


def future_low(store_root: Path, hours: int) -> float:
    bars = CandleStore(store_root).read("binance", "BTC/USDT", "1m", START, START + hours * HOUR)
    return float(np.min(bars.low))


def test_market_buy_fills_at_the_book_with_the_fee_in_base(store_root: Path) -> None:
    async def scenario() -> None:
        async with session(make_emulator(store_root)) as s:
            ticker = await s.ex.fetch_ticker("BTC/USDT")
            order = await s.ex.create_order("BTC/USDT", "market", "buy", 0.05)
            assert order["status"] == "closed" and order["filled"] == 0.05
            assert order["average"] >= ticker["ask"]
            trades = order["trades"]
            cost = sum(dec(t["info"]["price"]) * dec(t["info"]["qty"]) for t in trades)
            fee = sum(dec(t["info"]["commission"]) for t in trades)
            assert {t["fee"]["currency"] for t in trades} == {"BTC"}
            assert fee == Decimal("0.00005000")  # 0.1 % of what was bought
            assert await s.balance("USDT") == (Decimal(100000) - cost, Decimal(0))
            assert await s.balance("BTC") == (Decimal("1.05") - fee, Decimal(0))
            sold = await s.ex.create_order("BTC/USDT", "market", "sell", 0.02)
            assert sold["fee"]["currency"] == "USDT"
            assert sold["average"] <= ticker["bid"] + 1

    asyncio.run(scenario())


def test_market_buy_for_a_quote_amount(store_root: Path) -> None:
    async def scenario() -> None:
        async with session(make_emulator(store_root)) as s:
            order = await s.ex.create_order(
                "BTC/USDT", "market", "buy", None, params={"quoteOrderQty": 250}
            )
            assert 0 < order["cost"] <= 250
            assert order["info"]["origQuoteOrderQty"] == "250.00000000"
            assert dec(order["info"]["executedQty"]) % Decimal("0.00001") == 0

    asyncio.run(scenario())


def test_limit_order_rests_then_fills_when_the_path_crosses_it(store_root: Path) -> None:
    limit = round(future_low(store_root, 12) + 50, 2)

    async def scenario() -> None:
        async with session(make_emulator(store_root)) as s:
            order = await s.ex.create_order(
                "BTC/USDT", "limit", "buy", 0.01, limit, {"clientOrderId": "my-order-1"}
            )
            assert order["status"] == "open" and order["clientOrderId"] == "my-order-1"
            reserved = Decimal(str(limit)) * Decimal("0.01")
            assert await s.balance("USDT") == (Decimal(100000) - reserved, reserved)
            assert [o["id"] for o in await s.ex.fetch_open_orders("BTC/USDT")] == [order["id"]]
            by_client = await s.ex.fetch_order(
                None, "BTC/USDT", {"origClientOrderId": "my-order-1"}
            )
            assert by_client["id"] == order["id"]
            await s.step(hours=12)
            done = await s.ex.fetch_order(order["id"], "BTC/USDT")
            assert done["status"] == "closed" and done["filled"] == 0.01
            assert done["average"] == limit
            trades = await s.ex.fetch_my_trades("BTC/USDT")
            assert {t["price"] for t in trades} == {limit}
            assert all(t["takerOrMaker"] == "maker" and t["order"] == order["id"] for t in trades)
            assert START < trades[0]["timestamp"] <= START + 12 * HOUR
            assert await s.ex.fetch_open_orders("BTC/USDT") == []
            assert (await s.balance("USDT"))[1] == 0
            assert (await s.balance("BTC"))[0] == Decimal("1.01") - Decimal("0.00001")

    asyncio.run(scenario())


def test_a_large_resting_order_fills_partially_against_the_volume(store_root: Path) -> None:
    limit = round(future_low(store_root, 12) + 2, 2)

    async def scenario() -> None:
        emulator = make_emulator(store_root, matching={"participation_rate": 0.01})
        async with session(emulator) as s:
            order = await s.ex.create_order("BTC/USDT", "limit", "buy", 1.0, limit)
            await s.step(hours=12)
            seen = await s.ex.fetch_order(order["id"], "BTC/USDT")
            assert seen["status"] == "open" and 0 < seen["filled"] < 1.0
            assert seen["info"]["status"] == "PARTIALLY_FILLED"
            canceled = await s.ex.cancel_order(order["id"], "BTC/USDT")
            assert canceled["status"] == "canceled"
            assert (await s.balance("USDT"))[1] == 0  # the rest of the reservation came back

    asyncio.run(scenario())


def test_stop_loss_limit_triggers_when_the_price_falls_to_it(store_root: Path) -> None:
    low = future_low(store_root, 12)
    stop = round(low + 100, 2)

    async def scenario() -> None:
        async with session(make_emulator(store_root)) as s:
            order = await s.ex.create_order(
                "BTC/USDT", "STOP_LOSS_LIMIT", "sell", 0.1, stop - 200, {"stopPrice": stop}
            )
            assert order["status"] == "open"
            waiting = await s.ex.fetch_order(order["id"], "BTC/USDT")
            assert waiting["info"]["isWorking"] is False
            assert await s.balance("BTC") == (Decimal("0.9"), Decimal("0.1"))
            await s.step(hours=12)
            done = await s.ex.fetch_order(order["id"], "BTC/USDT")
            assert done["status"] == "closed" and done["filled"] == 0.1
            assert stop - 200 <= done["average"] <= stop
            with pytest.raises(ccxt.InvalidOrder, match="Order would trigger immediately"):
                await s.ex.create_order(
                    "BTC/USDT", "STOP_LOSS_LIMIT", "sell", 0.1, 200_000, {"stopPrice": 200_000}
                )

    asyncio.run(scenario())


def test_bad_signature_and_unknown_key_are_authentication_errors(store_root: Path) -> None:
    async def scenario() -> None:
        emulator = make_emulator(store_root)
        async with session(emulator, secret="not-the-secret") as s:
            with pytest.raises(ccxt.AuthenticationError, match="Signature for this request"):
                await s.ex.fetch_balance()
            s.ex.apiKey = "nobody"
            with pytest.raises(ccxt.AuthenticationError, match="Invalid API-key"):
                await s.ex.fetch_balance()
        codes = [e.code for e in emulator.log.entries() if e.path == "/api/v3/account"]
        assert codes == [-1022, -2015]

    asyncio.run(scenario())


def test_stale_timestamp_is_an_invalid_nonce(store_root: Path) -> None:
    async def scenario() -> None:
        async with session(make_emulator(store_root)) as s:
            s.ex.options["timeDifference"] = 20_000  # the client's clock 20 s behind
            with pytest.raises(ccxt.InvalidNonce, match="recvWindow"):
                await s.ex.fetch_balance()

    asyncio.run(scenario())


def test_order_errors_map_to_ccxt_exceptions(store_root: Path) -> None:
    async def scenario() -> None:
        async with session(make_emulator(store_root)) as s:
            with pytest.raises(ccxt.InsufficientFunds):
                await s.ex.create_order("BTC/USDT", "market", "buy", 5.0)
            with pytest.raises(ccxt.InsufficientFunds):
                await s.ex.create_order("ETH/USDT", "limit", "sell", 1.0, 3000)
            with pytest.raises(ccxt.BadRequest, match="Filter failure: NOTIONAL"):
                await s.ex.create_order("BTC/USDT", "limit", "buy", 0.00002, 60000)
            with pytest.raises(ccxt.InvalidOrder, match="LOT_SIZE"):
                await s.ex.private_post_order(
                    {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
                     "quantity": "0.000015", "price": "60000"}
                )  # fmt: skip
            with pytest.raises(ccxt.OrderNotFound):
                await s.ex.fetch_order("987654", "BTC/USDT")
            with pytest.raises(ccxt.OrderNotFound):
                await s.ex.cancel_order("987654", "BTC/USDT")
            first = await s.ex.create_order(
                "BTC/USDT", "limit", "buy", 0.001, 60000, {"clientOrderId": "same-id"}
            )
            with pytest.raises(ccxt.InvalidOrder, match="Duplicate order sent"):
                await s.ex.create_order(
                    "BTC/USDT", "limit", "buy", 0.001, 60000, {"clientOrderId": "same-id"}
                )
            await s.ex.cancel_order(first["id"], "BTC/USDT")
            with pytest.raises(ccxt.OrderNotFound):  # no longer open
                await s.ex.cancel_order(first["id"], "BTC/USDT")
            with pytest.raises(ccxt.BadSymbol):
                await s.ex.private_get_openorders({"symbol": "DOGEUSDT"})
            # once closed, Binance accepts the client id again (unique among open orders)
            again = await s.ex.create_order(
                "BTC/USDT", "limit", "buy", 0.001, 60000, {"clientOrderId": "same-id"}
            )
            latest = await s.ex.fetch_order(None, "BTC/USDT", {"origClientOrderId": "same-id"})
            assert latest["id"] == again["id"] != first["id"]
            every = await s.ex.fetch_orders("BTC/USDT")
            assert [(o["id"], o["status"]) for o in every] == [
                (first["id"], "canceled"),
                (again["id"], "open"),
            ]

    asyncio.run(scenario())


def test_too_many_orders_is_refused_with_1015(store_root: Path) -> None:
    emulator = make_emulator(store_root, limits={"orders_per_10s": 3})
    emulator.engine.wall = lambda: START  # a frozen window for the order count

    async def scenario() -> None:
        async with session(emulator) as s:
            for _ in range(3):
                await s.ex.create_order("BTC/USDT", "limit", "buy", 0.001, 60000)
            with pytest.raises(ccxt.DDoSProtection):
                await s.ex.create_order("BTC/USDT", "limit", "buy", 0.001, 60000)
            await s.ex.cancel_all_orders("BTC/USDT")

    asyncio.run(scenario())
    refused = [e for e in emulator.log.entries() if e.status == 429]
    assert [(e.code, e.path) for e in refused] == [(-1015, "/api/v3/order")]
    assert len(emulator.engine.open_orders("alice", "BTCUSDT")) == 0


def test_order_counts_and_weights_in_headers(store_root: Path) -> None:
    async def scenario() -> None:
        async with session(make_emulator(store_root)) as s:
            await s.ex.create_order("BTC/USDT", "limit", "buy", 0.001, 60000)
            headers = s.ex.last_response_headers
            assert headers["X-MBX-ORDER-COUNT-10S"] == "1"
            assert headers["X-MBX-ORDER-COUNT-1D"] == "1"
            used = int(headers["X-MBX-USED-WEIGHT-1M"])
            await s.ex.fetch_balance()
            assert int(s.ex.last_response_headers["X-MBX-USED-WEIGHT-1M"]) == used + 20

    asyncio.run(scenario())


def test_resting_fills_do_not_depend_on_how_the_replay_is_stepped(store_root: Path) -> None:
    minutes = 10
    bars = CandleStore(store_root).read(
        "binance", "BTC/USDT", "1m", START, START + minutes * 60_000 - 1
    )
    limit = round(min(float(np.median(bars.close)), float(bars.open[0]) - 1), 2)

    async def fills(step_seconds: int) -> list[tuple[float, float, int]]:
        emulator = make_emulator(store_root)
        async with session(emulator) as s:
            order = await s.ex.create_order("BTC/USDT", "limit", "buy", 0.13, limit)
            for _ in range(minutes * 60 // step_seconds):
                await s.step(seconds=step_seconds)
            trades = await s.ex.fetch_my_trades("BTC/USDT")
            assert all(t["order"] == order["id"] for t in trades)
            return [(t["price"], t["amount"], t["timestamp"]) for t in trades]

    one_second, whole = asyncio.run(fills(1)), asyncio.run(fills(minutes * 60))
    assert one_second == whole  # the same fills whatever the tick
    assert 1 <= len(whole) <= 3 * minutes  # at most one per crossing move (three a minute)
    assert {p for p, _, _ in whole} == {limit}
