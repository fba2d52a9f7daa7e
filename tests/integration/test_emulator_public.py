"""The emulator's public REST API driven by the real ccxt (no mocks): markets, time, candles,
tickers, order book, errors, and the request-weight limits (429, then 418)."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

import aiohttp
import ccxt
import numpy as np
import pytest

from candlewick.data.store import CandleStore
from candlewick.emulator.market import MINUTE
from candlewick.emulator.runtime import open_emulator
from candlewick.emulator.testing import ccxt_client, config_for, import_march_2026, serve
from candlewick.paths import shared_data_dir

SHARED = shared_data_dir()
pytestmark = pytest.mark.skipif(
    SHARED is None, reason="shared data folder ../shared/data (or $CANDLEWICK_SHARED_DATA) absent"
)
START = 1_774_396_800_000  # 2026-03-25 00:00 UTC
FIRST = 1_774_267_740_000  # first stored minute of the 30 days


@pytest.fixture(scope="module")
def store_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    assert SHARED is not None
    root = tmp_path_factory.mktemp("candles")
    import_march_2026(root, SHARED)
    return root


def test_load_markets_lists_the_pairs_with_their_rules(store_root: Path) -> None:
    async def scenario() -> None:
        async with serve(config_for(store_root, speed="step")) as server:
            ex = ccxt_client(server.url)
            try:
                markets = await ex.load_markets()
            finally:
                await ex.close()
        assert sorted(markets) == ["BNB/USDT", "BTC/USDT", "ETH/USDT", "SOL/USDT", "XRP/USDT"]
        btc = markets["BTC/USDT"]
        assert btc["active"] and btc["spot"] and btc["id"] == "BTCUSDT"
        assert btc["precision"] == {"amount": 1e-05, "price": 0.01, "base": 1e-08, "quote": 1e-08}
        assert btc["limits"]["amount"]["min"] == 1e-05
        assert btc["limits"]["cost"]["min"] == 5.0
        assert markets["XRP/USDT"]["precision"]["price"] == 0.0001

    asyncio.run(scenario())


def test_fetch_time_is_the_wall_clock(store_root: Path) -> None:
    async def scenario() -> tuple[int, int]:
        async with serve(config_for(store_root, speed="step")) as server:
            ex = ccxt_client(server.url)
            try:
                return await ex.fetch_time(), ex.milliseconds()
            finally:
                await ex.close()

    server_time, local = asyncio.run(scenario())
    assert abs(local - server_time) < 5_000


def test_fetch_ohlcv_returns_the_stored_candles(store_root: Path) -> None:
    store = CandleStore(store_root)
    now = START + 6 * 3_600_000

    async def scenario() -> dict[str, list[list[float]]]:
        config = config_for(store_root, speed="step", replay_start="2026-03-25T06:00:00Z")
        out: dict[str, list[list[float]]] = {}
        async with serve(config) as server:
            ex = ccxt_client(server.url)
            try:
                for market in ("BTC/USDT", "XRP/USDT"):
                    rows: list[list[float]] = []
                    since = FIRST
                    for _ in range(10):  # ccxt-style pagination, bounded
                        page = await ex.fetch_ohlcv(market, "1m", since=since, limit=1000)
                        if not page:
                            break
                        rows += page
                        since = int(page[-1][0]) + MINUTE
                    out[market] = rows
                out["ETH/USDT 1h"] = await ex.fetch_ohlcv("ETH/USDT", "1h", since=FIRST, limit=1000)
            finally:
                await ex.close()
        return out

    fetched = asyncio.run(scenario())
    for market in ("BTC/USDT", "XRP/USDT"):
        stored = store.read("binance", market, "1m", end_ms=now - MINUTE)
        got = np.array(fetched[market][:-1])  # the last row is the candle opening at `now`
        assert len(got) == len(stored) > 2000
        assert np.array_equal(got[:, 0].astype(np.int64), stored.timestamp)
        for k, name in enumerate(("open", "high", "low", "close", "volume"), start=1):
            assert np.array_equal(got[:, k], stored.column(name)), name
        assert fetched[market][-1][0] == now
    hourly = store.read("binance", "ETH/USDT", "1h", end_ms=now - 3_600_000)
    got = np.array(fetched["ETH/USDT 1h"][:-1])
    assert np.array_equal(got[:, 0].astype(np.int64), hourly.timestamp)
    for k, name in enumerate(("open", "high", "low", "close"), start=1):
        assert np.array_equal(got[:, k], hourly.column(name)), name
    assert np.allclose(got[:, 5], hourly.volume, rtol=0, atol=1e-8)


def test_the_open_candle_follows_the_documented_path(store_root: Path) -> None:
    store = CandleStore(store_root)
    bar = store.read("binance", "BTC/USDT", "1m", START, START)
    o, h, low, _c = (float(bar.column(n)[0]) for n in ("open", "high", "low", "close"))
    first, second = (h, low) if h - o < o - low else (low, h)

    async def scenario() -> list[list[list[float]]]:
        config = config_for(store_root, speed="step", replay_start="2026-03-25T00:00:00Z")
        seen = []
        async with serve(config) as server:
            ex = ccxt_client(server.url)
            try:
                async with aiohttp.ClientSession() as http:
                    for step in (20, 10, 10, 20, 0):  # seen at 0, 20, 30, 40 and 60 s
                        seen.append(await ex.fetch_ohlcv("BTC/USDT", "1m", limit=2))
                        await http.post(f"{server.url}/_emulator/step", json={"seconds": step})
            finally:
                await ex.close()
        return seen

    at0, at20, at30, at40, at60 = (rows[-1] for rows in asyncio.run(scenario()))
    assert at0[1:] == [o, o, o, o, 0.0]
    assert at20[0] == START and at20[4] == first
    assert max(at20[2], at20[3]) == max(o, first) and min(at20[2], at20[3]) == min(o, first)
    halfway = round((first + (second - first) / 2) / 0.01) * 0.01
    assert at30[4] == pytest.approx(halfway, abs=0.011)
    assert at40[2:5] == [max(h, o), min(low, o), second]
    assert at60[0] == START + MINUTE  # the stored candle has closed; the next one opened
    assert at60[1] == float(store.read("binance", "BTC/USDT", "1m", START + MINUTE).open[0])


def test_tickers_and_order_book(store_root: Path) -> None:
    async def scenario() -> None:
        config = config_for(store_root, speed="step", replay_start="2026-03-25T00:00:10Z")
        async with serve(config) as server:
            ex = ccxt_client(server.url)
            try:
                ticker = await ex.fetch_ticker("ETH/USDT")
                some = await ex.fetch_tickers(["BTC/USDT", "SOL/USDT"])
                every = await ex.fetch_tickers()
                book = await ex.fetch_order_book("ETH/USDT", limit=50)
                again = await ex.fetch_order_book("ETH/USDT", limit=50)
                async with aiohttp.ClientSession() as http:
                    await http.post(f"{server.url}/_emulator/step", json={"minutes": 3})
                moved = await ex.fetch_order_book("ETH/USDT", limit=50)
            finally:
                await ex.close()
        assert sorted(some) == ["BTC/USDT", "SOL/USDT"]
        assert len(every) == 5
        assert ticker["bid"] < ticker["last"] + 1e-9 and ticker["ask"] > ticker["last"]
        assert ticker["baseVolume"] > 0 and ticker["high"] >= ticker["low"]
        bids, asks = book["bids"], book["asks"]
        assert len(bids) == len(asks) == 50
        assert bids[0][0] < asks[0][0]
        assert all(a[0] > b[0] for a, b in itertools.pairwise(bids))
        assert all(a[0] < b[0] for a, b in itertools.pairwise(asks))
        assert bids[0][0] == ticker["bid"] and asks[0][0] == ticker["ask"]
        assert again["nonce"] == book["nonce"]  # nothing moved in step mode
        assert moved["nonce"] > book["nonce"]

    asyncio.run(scenario())


def test_bad_symbol_and_interval_raise_ccxt_errors(store_root: Path) -> None:
    async def scenario() -> None:
        async with serve(config_for(store_root, speed="step")) as server:
            ex = ccxt_client(server.url)
            try:
                await ex.load_markets()
                with pytest.raises(ccxt.BadSymbol):
                    await ex.public_get_ticker_24hr({"symbol": "DOGEUSDT"})
                with pytest.raises(ccxt.BadRequest):
                    await ex.public_get_klines({"symbol": "BTCUSDT", "interval": "7m"})
            finally:
                await ex.close()

    asyncio.run(scenario())


def test_too_much_weight_gets_429_then_a_418_ban(store_root: Path) -> None:
    frozen = START + 123  # a wall clock that does not cross a minute during the test
    config = config_for(
        store_root,
        ["BTC/USDT"],
        speed="step",
        limits={"request_weight_per_minute": 30, "ban_after_429s": 2, "ban_seconds": 120},
    )
    emulator = open_emulator(config, wall=lambda: frozen)

    async def scenario() -> list[tuple[int, str | None, int]]:
        answers: list[tuple[int, str | None, int]] = []
        async with serve(config, emulator=emulator) as server, aiohttp.ClientSession() as http:

            async def ping() -> None:
                async with http.get(f"{server.url}/api/v3/ping") as response:
                    body = await response.json()
                    answers.append(
                        (response.status, response.headers.get("Retry-After"), body.get("code", 0))
                    )

            ex = ccxt_client(server.url)
            try:
                for _ in range(30):
                    await ex.fetch_time()
                with pytest.raises(ccxt.DDoSProtection, match="429"):
                    await ex.fetch_time()
                await ping()
                with pytest.raises(ccxt.DDoSProtection, match="418"):
                    await ex.fetch_time()
                await ping()
            finally:
                await ex.close()
        return answers

    assert asyncio.run(scenario()) == [(429, "60", -1003), (418, "120", -1003)]
    statuses = [e.status for e in emulator.log.entries()]
    assert statuses == [200] * 30 + [429, 429, 418, 418]
    assert emulator.limiter.bans(frozen) == {"127.0.0.1": frozen + 120_000}


def test_deep_order_book_up_to_5000_levels_at_weight_250(store_root: Path) -> None:
    async def scenario() -> None:
        config = config_for(store_root, ["BTC/USDT"], speed="step")
        async with serve(config) as server:
            ex = ccxt_client(server.url)
            try:
                await ex.load_markets()
                top = await ex.fetch_order_book("BTC/USDT", limit=100)
                used = int(ex.last_response_headers["X-MBX-USED-WEIGHT-1M"])
                deep = await ex.fetch_order_book("BTC/USDT", limit=5000)
                assert int(ex.last_response_headers["X-MBX-USED-WEIGHT-1M"]) == used + 250
                beyond = await ex.public_get_depth({"symbol": "BTCUSDT", "limit": 6000})
            finally:
                await ex.close()
        assert len(deep["bids"]) == len(deep["asks"]) == 5000
        assert len(beyond["bids"]) == len(beyond["asks"]) == 5000  # truncated to 5000
        assert deep["nonce"] == top["nonce"]  # the same book, only deeper
        assert deep["bids"][:100] == top["bids"] and deep["asks"][:100] == top["asks"]
        assert all(a[0] > b[0] for a, b in itertools.pairwise(deep["bids"]))
        assert all(a[0] < b[0] for a, b in itertools.pairwise(deep["asks"]))

    asyncio.run(scenario())
