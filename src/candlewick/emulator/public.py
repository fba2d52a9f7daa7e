"""Binance's public REST endpoints: ping, time, exchangeInfo, klines, tickers, depth, trades
(the tape of :mod:`candlewick.emulator.tape`), status.

Weights are Binance's current ones (``binance-spot-rules.md`` section 2).
"""

from __future__ import annotations

from typing import Any

from candlewick.emulator import errors
from candlewick.emulator.market import INTERVALS
from candlewick.emulator.params import int_param, is_whole, symbol_list, time_param
from candlewick.emulator.server import Call, Endpoint, fixed
from candlewick.emulator.tape import Tape
from candlewick.emulator.venue import Listing

MAX_KLINES = 1000
DEFAULT_KLINES = 500
MAX_DEPTH = 5000
DEFAULT_DEPTH = 100
MAX_TRADES = 1000
DEFAULT_TRADES = 500


def listing(call: Call, name: str = "symbol") -> Listing:
    """The listing named by the ``symbol`` parameter; -1102 when absent, -1121 when unknown."""
    symbol = call.params.get(name)
    if not symbol:
        raise errors.mandatory(name)
    found = call.emulator.venue.listing(symbol.upper())
    if found is None:
        raise errors.bad_symbol()
    return found


async def ping(call: Call) -> dict[str, Any]:
    """GET /api/v3/ping."""
    return {}


async def server_time(call: Call) -> dict[str, Any]:
    """GET /api/v3/time: the wall clock (see :mod:`candlewick.emulator.clock`)."""
    return {"serverTime": call.emulator.wall()}


async def system_status(call: Call) -> dict[str, Any]:
    """GET /sapi/v1/system/status."""
    return {"status": 0, "msg": "normal"}


def rate_limits(call: Call) -> list[dict[str, Any]]:
    """``rateLimits`` of exchangeInfo, from the configured limits."""
    limits = call.emulator.config.limits
    return [
        {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1,
         "limit": limits.request_weight_per_minute},
        {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10,
         "limit": limits.orders_per_10s},
        {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1,
         "limit": limits.orders_per_day},
        {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5,
         "limit": 300000},
    ]  # fmt: skip


async def exchange_info(call: Call) -> dict[str, Any]:
    """GET /api/v3/exchangeInfo (all symbols, or ``symbol`` / ``symbols``)."""
    venue = call.emulator.venue
    wanted = symbol_list(call.params)
    if "symbol" in call.params:
        wanted = [listing(call).rules.symbol]
    if wanted is not None and any(venue.listing(s) is None for s in wanted):
        raise errors.bad_symbol()
    names = wanted if wanted is not None else list(venue.listings)
    return {
        "timezone": "UTC",
        "serverTime": call.emulator.wall(),
        "rateLimits": rate_limits(call),
        "exchangeFilters": [],
        "symbols": [venue.listings[s].rules.exchange_info() for s in names],
    }


async def klines(call: Call) -> list[list[Any]]:
    """GET /api/v3/klines: Binance's selection rules, nothing after the replay clock."""
    found = listing(call)
    interval = call.params.get("interval")
    if not interval:
        raise errors.mandatory("interval")
    if interval not in INTERVALS:
        raise errors.bad_interval()
    limit = int_param(call.params, "limit", DEFAULT_KLINES)
    assert limit is not None
    if not 1 <= limit <= MAX_KLINES:
        raise errors.invalid_parameter("limit")
    start = time_param(call.params, "startTime")
    end = time_param(call.params, "endTime")
    if start is not None and end is not None and start > end:
        raise errors.invalid_parameter("startTime")
    return found.market.klines(interval, call.emulator.now(), start, end, limit)


def _ticker_weight(params: dict[str, str]) -> int:
    if "symbol" in params:
        return 2
    raw = params.get("symbols")
    if raw is None:
        return 80
    count = raw.count(",") + 1
    return 2 if count <= 20 else 40 if count <= 100 else 80


def _tickers(call: Call) -> tuple[list[str], bool]:
    """The symbols a ticker call asks for, and whether it asked for a single one."""
    venue = call.emulator.venue
    if "symbol" in call.params:
        return [listing(call).rules.symbol], True
    wanted = symbol_list(call.params)
    if wanted is None:
        return list(venue.listings), False
    if any(venue.listing(s) is None for s in wanted):
        raise errors.bad_symbol()
    return wanted, False


async def ticker_24hr(call: Call) -> Any:
    """GET /api/v3/ticker/24hr: one symbol, ``symbols``, or all; ``type`` FULL or MINI."""
    kind = call.params.get("type", "FULL")
    if kind not in ("FULL", "MINI"):
        raise errors.invalid_parameter("type")
    names, single = _tickers(call)
    venue = call.emulator.venue
    out = [venue.ticker(s, mini=kind == "MINI") for s in names]
    return out[0] if single else out


async def ticker_price(call: Call) -> Any:
    """GET /api/v3/ticker/price."""
    names, single = _tickers(call)
    venue = call.emulator.venue
    out = [{"symbol": s, "price": venue.ticker(s, mini=True)["lastPrice"]} for s in names]
    return out[0] if single else out


async def book_ticker(call: Call) -> Any:
    """GET /api/v3/ticker/bookTicker."""
    names, single = _tickers(call)
    venue = call.emulator.venue
    out = []
    for s in names:
        depth = venue.depth(s, 1)
        bid = depth["bids"][0] if depth["bids"] else ["0.00000000", "0.00000000"]
        ask = depth["asks"][0]
        out.append({"symbol": s, "bidPrice": bid[0], "bidQty": bid[1], "askPrice": ask[0],
                    "askQty": ask[1]})  # fmt: skip
    return out[0] if single else out


async def avg_price(call: Call) -> dict[str, Any]:
    """GET /api/v3/avgPrice: the 5-minute volume-weighted average."""
    found = listing(call)
    now = call.emulator.now()
    price = found.market.avg_price(now)
    return {"mins": 5, "price": f"{price:.8f}", "closeTime": now}


def _depth_weight(params: dict[str, str]) -> int:
    raw = params.get("limit", "")
    limit = min(int(raw), MAX_DEPTH + 1) if is_whole(raw) else DEFAULT_DEPTH
    return 5 if limit <= 100 else 25 if limit <= 500 else 50 if limit <= 1000 else 250


async def depth(call: Call) -> dict[str, Any]:
    """GET /api/v3/depth: the synthetic book (limit default 100, at most 5000)."""
    found = listing(call)
    limit = int_param(call.params, "limit", DEFAULT_DEPTH)
    assert limit is not None
    if limit < 1:
        raise errors.invalid_parameter("limit")
    return call.emulator.venue.depth(found.rules.symbol, min(limit, MAX_DEPTH))


def _tape(call: Call) -> tuple[Tape, int]:
    """The tape of the ``symbol`` parameter's pair and the ``limit`` (default 500, max 1000)."""
    found = listing(call)
    limit = int_param(call.params, "limit", DEFAULT_TRADES)
    assert limit is not None
    if not 1 <= limit <= MAX_TRADES:
        raise errors.invalid_parameter("limit")
    return Tape(found.market, found.rules.step), limit


async def recent_trades(call: Call) -> list[dict[str, Any]]:
    """GET /api/v3/trades: the most recent trades of the tape."""
    tape, limit = _tape(call)
    return [t.trade_json() for t in tape.backward(call.emulator.now(), limit)]


async def historical_trades(call: Call) -> list[dict[str, Any]]:
    """GET /api/v3/historicalTrades: from ``fromId`` on, else the most recent."""
    tape, limit = _tape(call)
    now = call.emulator.now()
    from_id = int_param(call.params, "fromId")
    trades = tape.backward(now, limit) if from_id is None else tape.forward(from_id, 0, now, limit)
    return [t.trade_json() for t in trades]


async def agg_trades(call: Call) -> list[dict[str, Any]]:
    """GET /api/v3/aggTrades: from ``fromId``, or from ``startTime`` (up to ``endTime``), or
    the most recent up to ``endTime``, or the most recent; ``fromId`` with a time is -1128."""
    tape, limit = _tape(call)
    now = call.emulator.now()
    from_id = int_param(call.params, "fromId")
    start = time_param(call.params, "startTime")
    end = time_param(call.params, "endTime")
    if from_id is not None and (start is not None or end is not None):
        raise errors.bad_combination()
    until = now if end is None else min(end, now)
    if from_id is not None:
        trades = tape.forward(from_id, 0, now, limit)
    elif start is not None:
        trades = tape.forward(0, start, until, limit)
    else:
        trades = tape.backward(until, limit)
    return [t.aggregate_json() for t in trades]


ENDPOINTS = (
    Endpoint("GET", "/api/v3/ping", ping, fixed(1)),
    Endpoint("GET", "/api/v3/time", server_time, fixed(1)),
    Endpoint("GET", "/api/v3/exchangeInfo", exchange_info, fixed(20)),
    Endpoint("GET", "/api/v3/klines", klines, fixed(2)),
    Endpoint("GET", "/api/v3/uiKlines", klines, fixed(2)),
    Endpoint("GET", "/api/v3/ticker/24hr", ticker_24hr, _ticker_weight),
    Endpoint("GET", "/api/v3/ticker/price", ticker_price,
             lambda p: 2 if "symbol" in p else 4),
    Endpoint("GET", "/api/v3/ticker/bookTicker", book_ticker,
             lambda p: 2 if "symbol" in p else 4),
    Endpoint("GET", "/api/v3/avgPrice", avg_price, fixed(2)),
    Endpoint("GET", "/api/v3/depth", depth, _depth_weight),
    Endpoint("GET", "/api/v3/trades", recent_trades, fixed(25)),
    Endpoint("GET", "/api/v3/historicalTrades", historical_trades, fixed(25)),
    Endpoint("GET", "/api/v3/aggTrades", agg_trades, fixed(4)),
    Endpoint("GET", "/sapi/v1/system/status", system_status, fixed(1)),
)  # fmt: skip
