"""An account's history as Binance serves it (rest-api.md, myTrades and allOrders): a
startTime-endTime window of at most 24 hours (-1127), only the documented parameter
combinations (-1128), through the real ccxt."""

from __future__ import annotations

import asyncio
from pathlib import Path

import ccxt
import pytest

from candlewick.paths import shared_data_dir
from tests.integration.test_emulator_private import HOUR, START, make_emulator, session

SHARED = shared_data_dir()
pytestmark = pytest.mark.skipif(
    SHARED is None, reason="shared data folder ../shared/data (or $CANDLEWICK_SHARED_DATA) absent"
)
DAY = 24 * HOUR


def test_a_window_over_24_hours_is_refused(store_root: Path) -> None:
    async def scenario() -> None:
        async with session(make_emulator(store_root)) as s:
            await s.ex.create_order("BTC/USDT", "market", "buy", 0.01)
            await s.ex.create_order("BTC/USDT", "limit", "buy", 0.001, 60000)
            since = START - HOUR
            for fetch in (s.ex.fetch_my_trades, s.ex.fetch_orders):
                with pytest.raises(
                    ccxt.BadRequest, match=r"More than 24 hours between startTime and endTime\."
                ):
                    await fetch("BTC/USDT", since, None, {"until": since + 2 * DAY})
                with pytest.raises(ccxt.BadRequest, match="More than 24 hours"):
                    await fetch("BTC/USDT", since, None, {"until": since + DAY + 1})
                assert len(await fetch("BTC/USDT", since, None, {"until": since + DAY})) >= 1
                assert len(await fetch("BTC/USDT", since)) >= 1  # startTime alone: no bound
                assert await fetch("BTC/USDT", START + HOUR, None, {"until": START + DAY}) == []

    asyncio.run(scenario())


def test_only_binance_parameter_combinations(store_root: Path) -> None:
    async def scenario() -> None:
        async with session(make_emulator(store_root)) as s:
            order = await s.ex.create_order("BTC/USDT", "market", "buy", 0.01)
            trades = await s.ex.fetch_my_trades("BTC/USDT")
            first = int(trades[0]["id"])
            refused = (
                {"fromId": first, "startTime": START - HOUR},
                {"fromId": first, "endTime": START + HOUR},
                {"orderId": order["id"], "startTime": START - HOUR},
                {"orderId": order["id"], "endTime": START + HOUR},
            )
            for params in refused:
                with pytest.raises(
                    ccxt.BadRequest, match=r"Combination of optional parameters invalid\."
                ):
                    await s.ex.private_get_mytrades({"symbol": "BTCUSDT", **params})
            by_order = await s.ex.private_get_mytrades(
                {"symbol": "BTCUSDT", "orderId": order["id"], "fromId": first}
            )
            assert [int(t["id"]) for t in by_order] == [int(t["id"]) for t in trades]

    asyncio.run(scenario())
