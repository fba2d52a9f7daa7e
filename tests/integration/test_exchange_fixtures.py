"""Real Binance REST payloads through the real ccxt, the gateway and Candlewick's adapters.

A tiny aiohttp server on 127.0.0.1 answers Binance's REST paths with the bytes of the payloads
kept in ``../shared/data/exchange_fixtures/binance`` (see ../shared/data/README.md): live
captures of Nautilus Trader's tests (spot market data of 2021-10-22, an account) and of
cryptofeed's session (the full spot ``exchangeInfo`` of 2021-10-11 and four 1,000-level depth
snapshots); the order and 24-hour ticker payloads are the Binance API documentation's own
examples (Nautilus's Rust test data). ccxt, built by :func:`candlewick.api.ccxt_client.connect`,
is pointed at the server as at the emulator; nothing of ccxt is mocked. Every expected value
is read from the payload itself with the json module and Decimal.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
from aiohttp import web

from candlewick.api.account import Account
from candlewick.api.ccxt_client import connect
from candlewick.api.gateway import Gateway
from candlewick.api.hub import ExchangeHub
from candlewick.api.market_data import MarketData
from candlewick.api.orders import MarketRules, Orders
from candlewick.core.fills import Fees, Precision
from candlewick.paths import shared_data_dir

Handler = Callable[[Mapping[str, str]], bytes | None]


def binance_fixtures() -> Path:
    """The folder of Binance payloads; a skip with the reason (a failure under CI) without it."""
    root = shared_data_dir()
    folder = None if root is None else root / "exchange_fixtures" / "binance"
    if folder is None or not folder.is_dir():
        reason = "../shared/data/exchange_fixtures/binance (real Binance payloads) not found"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; CI=true: these tests must run", pytrace=False)
        pytest.skip(reason)
    return folder


def nautilus(name: str) -> bytes:
    return (binance_fixtures() / "nautilus_http_responses" / name).read_bytes()


def docs_example(name: str) -> bytes:
    return (
        binance_fixtures() / "nautilus_rust_test_data" / "spot" / "http_json" / name
    ).read_bytes()


def cryptofeed(name: str) -> list[tuple[str, bytes]]:
    """A cryptofeed REST capture: one ``<url> -> <time>: <body>`` line per reply."""
    text = (binance_fixtures() / "cryptofeed" / name).read_text()
    replies = []
    for line in text.splitlines():
        if " -> " not in line:
            continue  # the feed's configuration, not a reply
        url, rest = line.split(" -> ", 1)
        replies.append((url, rest.split(": ", 1)[1].encode()))
    return replies


def dec(text: str) -> Decimal:
    return Decimal(text)


def positive(text: str | None) -> Decimal | None:
    return None if text is None or Decimal(text) <= 0 else Decimal(text)


@dataclass
class Served:
    """The fixture server: its url and the requests it answered (path, query)."""

    url: str
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)


@asynccontextmanager
async def binance(routes: Mapping[str, Handler]) -> AsyncIterator[tuple[Gateway, Served]]:
    """A gateway over the real ccxt, talking to a server that answers ``routes`` (path ->
    handler of the query string; None or a missing path answers Binance's error JSON)."""
    served = Served("")

    async def answer(request: web.Request) -> web.Response:
        query = dict(request.query.items())
        served.requests.append((request.path, query))
        handler = routes.get(request.path)
        body = None if handler is None else handler(query)
        if body is None:
            error = {"code": -1121, "msg": "Invalid symbol."}
            return web.json_response(error, status=400)
        return web.Response(body=body, content_type="application/json")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server = site._server
    assert server is not None
    port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
    served.url = f"http://127.0.0.1:{port}"
    hub = ExchangeHub()
    gateway = hub.gateway(
        "binance",
        "fixtures",
        lambda: connect("binance", api_key="key", secret="secret", rest_url=served.url),
        host=served.url,
    )
    try:
        yield gateway, served
    finally:
        await hub.close()
        await runner.cleanup()


def always(body: bytes) -> Handler:
    return lambda query: body


def expected_rules(symbol: dict[str, Any], pair: str) -> MarketRules:
    """A market's rules read straight from its exchangeInfo filters."""
    filters = {f["filterType"]: f for f in symbol["filters"]}
    price, lot = filters["PRICE_FILTER"], filters["LOT_SIZE"]
    return MarketRules(
        pair=pair,
        precision=Precision(
            price_tick=positive(price["tickSize"]),
            amount_step=positive(lot["stepSize"]),
            min_notional=dec(filters["MIN_NOTIONAL"]["minNotional"]),
        ),
        min_amount=dec(lot["minQty"]),
        max_amount=positive(lot["maxQty"]),
        min_price=positive(price["minPrice"]),
        max_price=positive(price["maxPrice"]),
    )


# ---- markets --------------------------------------------------------------------------------


@pytest.mark.parametrize("source", ["cryptofeed full exchangeInfo", "nautilus exchangeInfo"])
def test_markets_and_their_rules_from_exchange_info(source: str) -> None:
    if source.startswith("cryptofeed"):
        ((url, body),) = cryptofeed("BINANCE.0")
        assert urlsplit(url).path == "/api/v3/exchangeInfo"
    else:
        body = nautilus("http_spot_market_exchange_info.json")
    symbols = {s["symbol"]: s for s in json.loads(body)["symbols"]}

    async def scenario() -> None:
        async with binance({"/api/v3/exchangeInfo": always(body)}) as (gateway, served):
            markets = await gateway.load_markets()
            assert {m["id"] for m in markets.values()} == set(symbols)
            orders = Orders(gateway)
            for pair, market in markets.items():
                symbol = symbols[market["id"]]
                assert (market["spot"], market["active"]) == (True, symbol["status"] == "TRADING")
                assert orders.rules(pair) == expected_rules(symbol, pair)
            assert [path for path, _ in served.requests] == ["/api/v3/exchangeInfo"]

    asyncio.run(scenario())
    if source.startswith("cryptofeed"):
        assert len(symbols) == 1695  # every spot market Binance listed that day


def test_btc_usdt_rules_by_hand() -> None:
    # From the nautilus exchangeInfo: PRICE_FILTER tickSize "0.01000000", minPrice "0.01000000",
    # maxPrice "1000000.00000000"; LOT_SIZE stepSize/minQty "0.00001000", maxQty
    # "9000.00000000"; MIN_NOTIONAL minNotional "10.00000000".
    body = nautilus("http_spot_market_exchange_info.json")

    async def scenario() -> None:
        async with binance({"/api/v3/exchangeInfo": always(body)}) as (gateway, _):
            await gateway.load_markets()
            rules = Orders(gateway).rules("BTC/USDT")
            assert rules.precision == Precision(dec("0.01"), dec("0.00001"), dec("10"))
            assert (rules.min_amount, rules.max_amount) == (dec("0.00001"), dec("9000"))
            assert (rules.min_price, rules.max_price) == (dec("0.01"), dec("1000000"))

    asyncio.run(scenario())


# ---- candles, books, tickers ----------------------------------------------------------------


def test_klines_become_candles() -> None:
    info, klines = (
        nautilus("http_spot_market_exchange_info.json"),
        nautilus("http_spot_market_klines.json"),
    )
    rows = json.loads(klines)

    def klines_of(query: Mapping[str, str]) -> bytes | None:
        return klines if (query.get("symbol"), query.get("interval")) == ("BTCUSDT", "1m") else None

    routes = {"/api/v3/exchangeInfo": always(info), "/api/v3/klines": klines_of}
    first, last = int(rows[0][0]), int(rows[-1][0])

    async def scenario() -> None:
        async with binance(routes) as (gateway, served):
            await gateway.load_markets()
            candles, pages = await MarketData(gateway).fetch_candles(
                "BTC/USDT", "1m", first, last + 60_000
            )
            assert pages == 1 and len(candles) == len(rows) == 10
            assert candles.timestamp.tolist() == [int(r[0]) for r in rows]
            for k, column in enumerate(("open", "high", "low", "close", "volume"), start=1):
                want = np.array([float(r[k]) for r in rows])
                assert np.array_equal(candles.column(column), want), column
            # By hand: the first kline's open and volume strings
            assert (candles.open[0], candles.volume[0]) == (60685.22, 21.63272)
            path, query = served.requests[-1]
            assert path == "/api/v3/klines" and query["startTime"] == str(first)

    asyncio.run(scenario())


def book_levels(levels: list[list[str]]) -> tuple[tuple[Decimal, Decimal], ...]:
    return tuple((dec(price), dec(amount)) for price, amount in levels)


def test_order_books_keep_every_level_exactly() -> None:
    ((_, info),) = cryptofeed("BINANCE.0")
    snapshots = [
        (parse_qs(urlsplit(url).query)["symbol"][0], body)
        for url, body in cryptofeed("BINANCE.http.0.0")
    ]
    books = [*snapshots, ("BTCUSDT", nautilus("http_spot_market_depth.json"))]
    serving: dict[str, bytes] = {}

    def depth(query: Mapping[str, str]) -> bytes | None:
        return serving.get(query.get("symbol", ""))

    routes = {"/api/v3/exchangeInfo": always(info), "/api/v3/depth": depth}

    async def scenario() -> None:
        async with binance(routes) as (gateway, served):
            markets = await gateway.load_markets()
            pair_of = {m["id"]: pair for pair, m in markets.items()}
            data = MarketData(gateway)
            for symbol, body in books:
                serving.clear()
                serving[symbol] = body
                raw = json.loads(body)
                limit = 10 if symbol == "BTCUSDT" else 1000
                book = await data.order_book(pair_of[symbol], limit)
                assert served.requests[-1][1] == {"symbol": symbol, "limit": str(limit)}
                assert book.bids == book_levels(raw["bids"]), symbol
                assert book.asks == book_levels(raw["asks"]), symbol
                assert all(isinstance(x, Decimal) for level in book.bids for x in level)
                assert [p for p, _ in book.bids] == sorted((p for p, _ in book.bids), reverse=True)
                assert [p for p, _ in book.asks] == sorted(p for p, _ in book.asks)
            # By hand: BTCUSDT's best bid "60650.00000000" x "0.00213000", best ask
            # "60650.01000000" x "0.61982000".
            assert (book.bids[0], book.asks[0]) == (
                (dec("60650"), dec("0.00213")),
                (dec("60650.01"), dec("0.61982")),
            )

    asyncio.run(scenario())
    assert len(snapshots) == 4 and all(len(json.loads(b)["bids"]) > 100 for _, b in snapshots)


def test_ticker_prices_come_from_binances_strings() -> None:
    # The API documentation's example 24-hour ticker (BNBBTC).
    ((_, info),) = cryptofeed("BINANCE.0")
    body = docs_example("ticker_24hr_response.json")
    raw = json.loads(body)
    routes = {"/api/v3/exchangeInfo": always(info), "/api/v3/ticker/24hr": always(body)}

    async def scenario() -> None:
        async with binance(routes) as (gateway, _):
            await gateway.load_markets()
            ticker = await MarketData(gateway).ticker("BNB/BTC")
            assert ticker.pair == "BNB/BTC" and ticker.timestamp == raw["closeTime"]
            assert (ticker.bid, ticker.ask, ticker.last) == (
                dec(raw["bidPrice"]),
                dec(raw["askPrice"]),
                dec(raw["lastPrice"]),
            )
            assert ticker.base_volume == dec(raw["volume"])
            assert ticker.quote_volume == dec(raw["quoteVolume"])

    asyncio.run(scenario())


# ---- account and orders ---------------------------------------------------------------------


def test_balances_and_trading_fees() -> None:
    info = nautilus("http_spot_market_exchange_info.json")
    account_body, fees_body = (
        nautilus("http_spot_wallet_account.json"),
        nautilus("http_wallet_trading_fees.json"),
    )
    routes = {
        "/api/v3/exchangeInfo": always(info),
        "/api/v3/account": always(account_body),
        "/sapi/v1/asset/tradeFee": always(fees_body),
    }

    async def scenario() -> None:
        async with binance(routes) as (gateway, served):
            await gateway.load_markets()
            account = Account(gateway)
            balances = await account.balances(include_zero=True)
            rows = json.loads(account_body)["balances"]
            assert {a: (b.free, b.locked) for a, b in balances.items()} == {
                r["asset"]: (dec(r["free"]), dec(r["locked"])) for r in rows
            }
            # By hand: BTC free "4723846.89208129", locked "0.00000000"
            assert balances["BTC"].total == dec("4723846.89208129")
            fees = await account.trading_fees()
            assert fees == {
                f"{r['symbol'][:-4]}/USDT": Fees(
                    dec(r["takerCommission"]), dec(r["makerCommission"])
                )
                for r in json.loads(fees_body)
            }
            signed = [q for path, q in served.requests if path == "/api/v3/account"]
            assert signed and "signature" in signed[0]  # ccxt signed it as for Binance

    asyncio.run(scenario())


def test_orders_parse_binances_strings() -> None:
    # The API documentation's example orders (LTCBTC, a resting limit buy).
    ((_, info),) = cryptofeed("BINANCE.0")
    one, many = docs_example("order_response.json"), docs_example("open_orders_response.json")
    routes = {
        "/api/v3/exchangeInfo": always(info),
        "/api/v3/order": always(one),
        "/api/v3/openOrders": always(many),
    }

    async def scenario() -> None:
        async with binance(routes) as (gateway, _):
            await gateway.load_markets()
            orders = Orders(gateway)
            fetched = await orders.fetch("LTC/BTC", "1")
            (listed,) = await orders.open_orders("LTC/BTC")
            for order, raw in ((fetched, json.loads(one)), (listed, json.loads(many)[0])):
                assert (order.id, order.client_order_id, order.pair) == (
                    str(raw["orderId"]),
                    raw["clientOrderId"],
                    "LTC/BTC",
                )
                assert (order.side, order.type, order.raw_status) == ("buy", "limit", "NEW")
                assert (order.amount, order.filled, order.price) == (
                    dec(raw["origQty"]),
                    dec(raw["executedQty"]),
                    dec(raw["price"]),
                )
                assert order.stop_price is None  # "0.0": no stop
                assert order.is_open and order.remaining == dec("1")

    asyncio.run(scenario())
