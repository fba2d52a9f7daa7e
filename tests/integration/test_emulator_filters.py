"""Binance's other symbol filters, through the real ccxt: PERCENT_PRICE_BY_SIDE (a limit buy at
15 % of the price is refused), MARKET_LOT_SIZE, MAX_NUM_ORDERS and MAX_NUM_ALGO_ORDERS
(binance-spot-rules.md section 3: -1013 for the first two, -2010 for the account-state ones)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import ccxt
import pytest

from candlewick.emulator.testing import ccxt_client, serve
from candlewick.paths import shared_data_dir
from tests.integration.test_emulator_private import KEY, SECRET, make_emulator

SHARED = shared_data_dir()
pytestmark = pytest.mark.skipif(
    SHARED is None, reason="shared data folder ../shared/data (or $CANDLEWICK_SHARED_DATA) absent"
)


@asynccontextmanager
async def client(store_root: Path, **btc_rules: Any) -> AsyncIterator[Any]:
    emulator = make_emulator(store_root, pair_rules={"BTC/USDT": btc_rules})
    async with serve(emulator.config, emulator=emulator) as server:
        ex = ccxt_client(server.url, KEY, SECRET)
        try:
            await ex.load_markets()
            yield ex
        finally:
            await ex.close()


async def stop_order(ex: Any, kind: str = "STOP_LOSS_LIMIT", side: str = "sell") -> Any:
    """A stop-limit order on BTC/USDT (about 70,500 then) that does not trigger at once."""
    return await ex.create_order("BTC/USDT", kind, side, 0.001, 50000, {"stopPrice": 51000})


def filters_of(ex: Any, market: str) -> dict[str, dict[str, Any]]:
    return {f["filterType"]: f for f in ex.market(market)["info"]["filters"]}


def assert_count_filter(ex: Any, name: str, key: str, btc: int, eth_default: int) -> None:
    """BTC/USDT declares its configured count, ETH/USDT Binance's default."""
    assert filters_of(ex, "BTC/USDT")[name] == {"filterType": name, key: btc}
    assert filters_of(ex, "ETH/USDT")[name][key] == eth_default


def test_percent_price_by_side_refuses_prices_far_from_the_average(store_root: Path) -> None:
    async def scenario() -> None:
        async with client(store_root) as ex:
            rule = filters_of(ex, "BTC/USDT")["PERCENT_PRICE_BY_SIDE"]
            assert rule == {
                "filterType": "PERCENT_PRICE_BY_SIDE",
                "bidMultiplierUp": "5", "bidMultiplierDown": "0.2",
                "askMultiplierUp": "5", "askMultiplierDown": "0.2", "avgPriceMins": 5,
            }  # fmt: skip
            avg = float((await ex.public_get_avgprice({"symbol": "BTCUSDT"}))["price"])
            refused = [
                ("limit", "buy", round(avg * 0.15, 2), {}),
                ("limit", "buy", round(avg * 5.01, 2), {}),
                ("limit", "sell", round(avg * 0.19, 2), {}),
                ("limit", "sell", round(avg * 5.5, 2), {}),
                ("LIMIT_MAKER", "buy", round(avg * 0.1, 2), {}),
                (
                    "STOP_LOSS_LIMIT",
                    "sell",
                    round(avg * 0.1, 2),
                    {"stopPrice": round(avg * 0.9, 2)},
                ),
            ]
            for kind, side, price, params in refused:
                with pytest.raises(
                    ccxt.InvalidOrder, match="Filter failure: PERCENT_PRICE_BY_SIDE"
                ):
                    await ex.create_order("BTC/USDT", kind, side, 0.001, price, params)
            accepted = [
                await ex.create_order("BTC/USDT", "limit", "buy", 0.001, round(avg * 0.21, 2)),
                await ex.create_order("BTC/USDT", "limit", "sell", 0.001, round(avg * 4.9, 2)),
            ]
            assert [o["status"] for o in accepted] == ["open", "open"]
            # a market order has no price: the filter does not apply
            assert (await ex.create_order("BTC/USDT", "market", "buy", 0.001))["status"] == "closed"

    asyncio.run(scenario())


def test_market_lot_size_bounds_market_orders_only(store_root: Path) -> None:
    async def scenario() -> None:
        async with client(store_root, market_max_qty="0.5") as ex:
            rule = filters_of(ex, "BTC/USDT")["MARKET_LOT_SIZE"]
            assert rule == {"filterType": "MARKET_LOT_SIZE", "minQty": "0.00000000",
                            "maxQty": "0.50000000", "stepSize": "0.00000000"}  # fmt: skip
            assert ex.market("BTC/USDT")["limits"]["market"]["max"] == 0.5
            with pytest.raises(ccxt.InvalidOrder, match="Filter failure: MARKET_LOT_SIZE"):
                await ex.create_order("BTC/USDT", "market", "buy", 0.6)
            with pytest.raises(ccxt.InvalidOrder, match="Filter failure: MARKET_LOT_SIZE"):
                await ex.create_order("BTC/USDT", "market", "sell", 0.50001)
            sold = await ex.create_order("BTC/USDT", "market", "sell", 0.5)
            assert sold["status"] == "closed" and sold["filled"] == 0.5
            resting = await ex.create_order("BTC/USDT", "limit", "buy", 0.6, 60000)
            assert resting["status"] == "open"  # LOT_SIZE allows it; MARKET_LOT_SIZE is for markets
            # the default market maximum is the lot size's
            eth = filters_of(ex, "ETH/USDT")
            assert eth["MARKET_LOT_SIZE"]["maxQty"] == eth["LOT_SIZE"]["maxQty"]

    asyncio.run(scenario())


def test_max_num_orders_counts_the_open_orders_of_the_symbol(store_root: Path) -> None:
    async def scenario() -> None:
        async with client(store_root, max_num_orders=3) as ex:
            assert_count_filter(ex, "MAX_NUM_ORDERS", "maxNumOrders", 3, 200)
            placed = [
                await ex.create_order("BTC/USDT", "limit", "buy", 0.001, 60000 + i)
                for i in range(2)
            ]
            placed.append(await stop_order(ex))  # algo orders count too
            with pytest.raises(ccxt.InvalidOrder, match="Filter failure: MAX_NUM_ORDERS") as err:
                await ex.create_order("BTC/USDT", "limit", "buy", 0.001, 60000)
            assert '"code":-2010' in str(err.value)
            other = await ex.create_order("ETH/USDT", "limit", "buy", 0.01, 2000)
            assert other["status"] == "open"  # counted per symbol
            await ex.cancel_order(placed[0]["id"], "BTC/USDT")
            again = await ex.create_order("BTC/USDT", "limit", "buy", 0.001, 60000)
            assert again["status"] == "open"

    asyncio.run(scenario())


def test_max_num_algo_orders_counts_open_stop_orders(store_root: Path) -> None:
    async def scenario() -> None:
        async with client(store_root, max_num_algo_orders=2) as ex:
            assert_count_filter(ex, "MAX_NUM_ALGO_ORDERS", "maxNumAlgoOrders", 2, 5)
            stops = [await stop_order(ex), await stop_order(ex, "TAKE_PROFIT_LIMIT", "buy")]
            with pytest.raises(ccxt.InvalidOrder, match="Filter failure: MAX_NUM_ALGO_ORDERS"):
                await stop_order(ex)
            plain = await ex.create_order("BTC/USDT", "limit", "buy", 0.001, 60000)
            assert plain["status"] == "open"  # not an algo order
            await ex.cancel_order(stops[1]["id"], "BTC/USDT")
            assert (await stop_order(ex))["status"] == "open"

    asyncio.run(scenario())
