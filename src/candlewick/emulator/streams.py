"""Binance's market streams over WebSocket: ``/ws``, ``/ws/<anything>`` and ``/stream``.

A client subscribes with ``{"method": "SUBSCRIBE", "params": ["btcusdt@kline_1m"], "id": 1}``
(answer ``{"result": null, "id": 1}``), or names one stream in the path (``/ws/btcusdt@ticker``)
or several in ``/stream?streams=a/b`` (events then wrapped as ``{"stream", "data"}``).
Streams (symbols in lower case):

* ``<s>@kline_<interval>``: every ``streams.kline_ms`` while the replay moves; when a kline
  closes its final state is sent with ``x: true`` before the next one;
* ``<s>@miniTicker`` / ``<s>@ticker``: the rolling 24 h ticker every ``streams.ticker_ms``;
* ``<s>@depth`` / ``<s>@depth@100ms`` / ``@1000ms``: diffs of the synthetic book whose
  ``U``/``u`` continue the update ids of ``/api/v3/depth`` (each diff starts at the previous
  ``u + 1``); ``<s>@depth5|10|20[@100ms]``: partial book snapshots;
* ``<s>@bookTicker``: the best bid and ask when they change.

Event times ``E`` are replay times. While the ``stale_streams_seconds`` fault is on, nothing is
sent; ``drop_streams`` closes every connection.
"""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from candlewick.emulator.market import INTERVALS
from candlewick.emulator.rules import dstr
from candlewick.emulator.runtime import Emulator
from candlewick.emulator.server import EMULATOR

_SLACK_MS = 20  # a tick that comes a little early still sends
_STREAM = re.compile(
    r"(?P<symbol>[a-z0-9]+)@(?P<kind>kline_(?P<interval>\w+)|miniTicker|ticker|bookTicker"
    r"|depth(?P<levels>5|10|20)?(?:@(?P<speed>100ms|1000ms))?)"
)


@dataclass(slots=True)
class _Sub:
    symbol: str
    kind: str
    interval: str = ""
    levels: int = 0
    every_ms: int = 1000
    sent_wall: int = 0
    sent_now: int = -1
    last_open: int | None = None
    last_id: int = 0


@dataclass(slots=True, eq=False)  # hashed by identity, kept in sets
class MarketConnection:
    """One market-stream WebSocket and its subscriptions."""

    ws: web.WebSocketResponse
    combined: bool
    subs: dict[str, _Sub] = field(default_factory=dict)


def parse_stream(emulator: Emulator, name: str) -> _Sub | None:
    """The subscription a stream name asks for, None when it names nothing served."""
    match = _STREAM.fullmatch(name)
    if match is None:
        return None
    symbol = match["symbol"].upper()
    listing = emulator.venue.listing(symbol)
    if listing is None:
        return None
    streams = emulator.config.streams
    kind = match["kind"]
    if match["interval"] is not None:
        if match["interval"] not in INTERVALS:
            return None
        return _Sub(symbol, "kline", interval=match["interval"], every_ms=streams.kline_ms)
    if kind in ("miniTicker", "ticker"):
        return _Sub(symbol, kind, every_ms=streams.ticker_ms)
    if kind == "bookTicker":
        return _Sub(symbol, kind, every_ms=0, last_id=-1)
    every = 100 if match["speed"] == "100ms" else 1000
    levels = int(match["levels"]) if match["levels"] else 0
    emulator.venue.book(symbol)
    return _Sub(symbol, "depth", levels=levels, every_ms=every, last_id=listing.feed.update_id)


class MarketStreams:
    """Every market-stream connection, and the publisher run on each background tick."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.connections: set[MarketConnection] = set()

    def subscribe(self, conn: MarketConnection, names: list[str]) -> bool:
        """Add ``names``; False (nothing added) when one of them is not a served stream."""
        parsed = {name: parse_stream(self.emulator, name) for name in names}
        if any(sub is None for sub in parsed.values()):
            return False
        for name, sub in parsed.items():
            if name not in conn.subs and sub is not None:
                conn.subs[name] = sub
        return True

    async def publish(self) -> None:
        """Send what is due on every connection."""
        emulator = self.emulator
        wall = emulator.wall()
        if wall < emulator.faults.stale_until_ms or not self.connections:
            return
        now = emulator.now()
        symbols = {s.symbol for c in self.connections for s in c.subs.values()}
        for symbol in symbols:
            emulator.venue.book(symbol)  # advance the update ids once per tick
        for conn in list(self.connections):
            for name, sub in list(conn.subs.items()):
                if wall - sub.sent_wall < sub.every_ms - _SLACK_MS:
                    continue
                for event in self._events(sub, now):
                    payload = {"stream": name, "data": event} if conn.combined else event
                    with contextlib.suppress(ConnectionError, RuntimeError):
                        await conn.ws.send_str(json.dumps(payload, separators=(",", ":")))
                sub.sent_wall = wall

    def _events(self, sub: _Sub, now: int) -> list[dict[str, Any]]:
        listing = self.emulator.venue.listings[sub.symbol]
        if sub.kind == "depth":
            if sub.levels:
                if sub.last_id == listing.feed.update_id and sub.sent_now >= 0:
                    return []
                sub.last_id, sub.sent_now = listing.feed.update_id, now
                return [self.emulator.venue.depth(sub.symbol, sub.levels)]
            diff = listing.feed.diff_since(sub.last_id)
            if diff is None:
                return []
            sub.last_id = diff.last_id
            rules = listing.rules
            return [{
                "e": "depthUpdate", "E": now, "s": sub.symbol, "U": diff.first_id,
                "u": diff.last_id,
                "b": [[dstr(rules.price_of(p)), dstr(rules.qty_of(q))] for p, q in diff.bids],
                "a": [[dstr(rules.price_of(p)), dstr(rules.qty_of(q))] for p, q in diff.asks],
            }]  # fmt: skip
        if sub.kind == "bookTicker":
            if sub.last_id == listing.feed.update_id:
                return []
            sub.last_id = listing.feed.update_id
            top = self.emulator.venue.depth(sub.symbol, 1)
            bid = top["bids"][0] if top["bids"] else ["0.00000000", "0.00000000"]
            return [{"u": sub.last_id, "s": sub.symbol, "b": bid[0], "B": bid[1],
                     "a": top["asks"][0][0], "A": top["asks"][0][1]}]  # fmt: skip
        if now == sub.sent_now:
            return []
        sub.sent_now = now
        if sub.kind == "kline":
            return self._klines(sub, now)
        return [self._ticker(sub, now)]

    def _klines(self, sub: _Sub, now: int) -> list[dict[str, Any]]:
        market = self.emulator.venue.listings[sub.symbol].market
        if sub.last_open is None:
            rows = market.klines(sub.interval, now, None, None, 1)
        else:
            rows = market.klines(sub.interval, now, sub.last_open, None, 1000)
        out = []
        for row in rows:
            sub.last_open = row[0]
            out.append({
                "e": "kline", "E": now, "s": sub.symbol,
                "k": {"t": row[0], "T": row[6], "s": sub.symbol, "i": sub.interval, "f": -1,
                      "L": -1, "o": row[1], "c": row[4], "h": row[2], "l": row[3], "v": row[5],
                      "n": row[8], "x": row[6] < now, "q": row[7], "V": row[9], "Q": row[10],
                      "B": "0"},
            })  # fmt: skip
        return out

    def _ticker(self, sub: _Sub, now: int) -> dict[str, Any]:
        t = self.emulator.venue.ticker(sub.symbol, mini=sub.kind == "miniTicker")
        common = {"E": now, "s": sub.symbol, "c": t["lastPrice"], "o": t["openPrice"],
                  "h": t["highPrice"], "l": t["lowPrice"], "v": t["volume"],
                  "q": t["quoteVolume"]}  # fmt: skip
        if sub.kind == "miniTicker":
            return {"e": "24hrMiniTicker", **common}
        return {"e": "24hrTicker", **common, "p": t["priceChange"], "P": t["priceChangePercent"],
                "w": t["weightedAvgPrice"], "x": t["prevClosePrice"], "Q": t["lastQty"],
                "b": t["bidPrice"], "B": t["bidQty"], "a": t["askPrice"], "A": t["askQty"],
                "O": t["openTime"], "C": t["closeTime"], "F": -1, "L": -1, "n": 0}  # fmt: skip


MARKET_STREAMS: web.AppKey[MarketStreams] = web.AppKey("market_streams", MarketStreams)


async def _reply(ws: web.WebSocketResponse, body: dict[str, Any]) -> None:
    await ws.send_str(json.dumps(body, separators=(",", ":")))


async def market_socket(request: web.Request) -> web.WebSocketResponse:
    """``/ws``, ``/ws/<name>`` and ``/stream?streams=...``."""
    emulator = request.app[EMULATOR]
    hub = request.app[MARKET_STREAMS]
    ws = web.WebSocketResponse(heartbeat=None, autoping=True)
    await ws.prepare(request)
    combined = request.path.startswith("/stream")
    conn = MarketConnection(ws, combined)
    initial = request.query.get("streams", "").split("/") if combined else []
    tail = request.match_info.get("tail", "")
    if "@" in tail:
        initial = [tail]
    if initial and initial != [""] and not hub.subscribe(conn, initial):
        await ws.close(message=b"invalid stream")
        return ws
    hub.connections.add(conn)
    emulator.sockets.add(ws)
    try:
        async for message in ws:
            if message.type != WSMsgType.TEXT:
                continue
            await _control(hub, conn, message.data)
    finally:
        hub.connections.discard(conn)
        emulator.sockets.discard(ws)
    return ws


async def _control(hub: MarketStreams, conn: MarketConnection, text: str) -> None:
    try:
        request = json.loads(text)
        method, ident = request.get("method"), request.get("id")
        params = request.get("params", [])
    except (ValueError, AttributeError, RecursionError):
        await _reply(conn.ws, {"error": {"code": 3, "msg": "Invalid JSON"}, "id": None})
        return
    if method == "SUBSCRIBE" and isinstance(params, list):
        if hub.subscribe(conn, [str(p) for p in params]):
            await _reply(conn.ws, {"result": None, "id": ident})
        else:
            await _reply(conn.ws, {"error": {"code": 2, "msg": "Invalid request: invalid stream"},
                                   "id": ident})  # fmt: skip
    elif method == "UNSUBSCRIBE" and isinstance(params, list):
        for name in params:
            conn.subs.pop(str(name), None)
        await _reply(conn.ws, {"result": None, "id": ident})
    elif method == "LIST_SUBSCRIPTIONS":
        await _reply(conn.ws, {"result": list(conn.subs), "id": ident})
    else:
        await _reply(conn.ws, {"error": {"code": 2, "msg": "Invalid request: unknown method"},
                               "id": ident})  # fmt: skip


def register(app: web.Application, emulator: Emulator) -> None:
    """Add the market-stream routes and the publisher."""
    hub = MarketStreams(emulator)
    app[MARKET_STREAMS] = hub
    emulator.tick_hooks.append(hub.publish)
    app.router.add_get("/ws", market_socket)
    app.router.add_get("/ws/{tail:.*}", market_socket)
    app.router.add_get("/stream", market_socket)
