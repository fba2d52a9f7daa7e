"""Binance's WebSocket API at ``/ws-api/v3``: the user data stream as ccxt.pro uses it.

Requests are ``{"id", "method", "params"}``; answers ``{"id", "status", "result"}`` or
``{"id", "status", "error": {"code", "msg"}}``, with ``rateLimits``. Methods:

* ``userDataStream.subscribe.signature`` (``apiKey``, ``timestamp``, ``signature``, optional
  ``recvWindow``; signed over the params sorted by name): answers ``{"subscriptionId": n}``; the
  account's ``executionReport`` and ``outboundAccountPosition`` events then arrive as
  ``{"subscriptionId": n, "event": {...}}``. One subscription per account and connection
  (-2035 otherwise);
* ``userDataStream.unsubscribe`` (optional ``subscriptionId``): ends it, with an
  ``eventStreamTerminated`` event (-2036 when none is active);
* ``ping`` and ``time``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from candlewick.emulator import auth
from candlewick.emulator.errors import ApiError
from candlewick.emulator.runtime import Emulator
from candlewick.emulator.server import EMULATOR


@dataclass(slots=True, eq=False)  # hashed by identity, kept in sets
class UserConnection:
    """One WS-API connection: its subscriptions (account -> id) and its outgoing queue."""

    ws: web.WebSocketResponse
    ip: str
    queue: asyncio.Queue[str] = field(default_factory=asyncio.Queue)
    subscriptions: dict[str, int] = field(default_factory=dict)
    next_id: int = 0


class UserStreams:
    """Routes the engine's account events to the subscribed WS-API connections."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.connections: set[UserConnection] = set()
        emulator.engine.listeners.append(self.on_event)

    def on_event(self, account: str, event: dict[str, Any]) -> None:
        """An engine event: queue it for every connection subscribed to ``account``."""
        for conn in self.connections:
            sub = conn.subscriptions.get(account)
            if sub is not None:
                conn.queue.put_nowait(_dump({"subscriptionId": sub, "event": event}))

    def subscribe(self, conn: UserConnection, params: dict[str, Any]) -> dict[str, Any]:
        """``userDataStream.subscribe.signature``."""
        key = params.get("apiKey")
        account, secret = auth.api_key_account(self.emulator.keys, str(key) if key else None)
        signature = params.get("signature")
        auth.check_signature(secret, auth.ws_payload(params), str(signature) if signature else None)
        auth.check_timestamp(params, self.emulator.wall())
        if account in conn.subscriptions:
            raise ApiError(-2035, "User Data Stream subscription already active.")
        sub = conn.next_id
        conn.next_id += 1
        conn.subscriptions[account] = sub
        return {"subscriptionId": sub}

    def unsubscribe(self, conn: UserConnection, params: dict[str, Any]) -> dict[str, Any]:
        """``userDataStream.unsubscribe``."""
        wanted = params.get("subscriptionId")
        ended = [a for a, s in conn.subscriptions.items() if wanted is None or s == wanted]
        if not ended:
            raise ApiError(-2036, "User Data Stream subscription not active.")
        for account in ended:
            sub = conn.subscriptions.pop(account)
            event = {"e": "eventStreamTerminated", "E": self.emulator.now()}
            conn.queue.put_nowait(_dump({"subscriptionId": sub, "event": event}))
        return {}


def _dump(body: dict[str, Any]) -> str:
    return json.dumps(body, separators=(",", ":"))


USER_STREAMS: web.AppKey[UserStreams] = web.AppKey("user_streams", UserStreams)


async def _writer(conn: UserConnection) -> None:
    while True:
        text = await conn.queue.get()
        with contextlib.suppress(ConnectionError, RuntimeError):
            await conn.ws.send_str(text)


async def ws_api(request: web.Request) -> web.WebSocketResponse:
    """``/ws-api/v3``."""
    emulator = request.app[EMULATOR]
    hub = request.app[USER_STREAMS]
    ws = web.WebSocketResponse(heartbeat=None, autoping=True)
    await ws.prepare(request)
    conn = UserConnection(ws, request.remote or "unknown")
    hub.connections.add(conn)
    emulator.sockets.add(ws)
    writer = asyncio.create_task(_writer(conn))
    try:
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                conn.queue.put_nowait(_dump(_answer(hub, conn, message.data)))
    finally:
        hub.connections.discard(conn)
        emulator.sockets.discard(ws)
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await writer
    return ws


def _answer(hub: UserStreams, conn: UserConnection, text: str) -> dict[str, Any]:
    emulator = hub.emulator
    try:
        request = json.loads(text)
        ident = request.get("id")
        method = request.get("method")
        params = request.get("params") or {}
        if not isinstance(params, dict):
            raise ValueError("params")
    except (ValueError, AttributeError, RecursionError):
        return {"id": None, "status": 400, "error": {"code": -1102, "msg": "Malformed request."}}
    try:
        if method == "userDataStream.subscribe.signature":
            result = hub.subscribe(conn, params)
        elif method == "userDataStream.unsubscribe":
            result = hub.unsubscribe(conn, params)
        elif method == "ping":
            result = {}
        elif method == "time":
            result = {"serverTime": emulator.wall()}
        else:
            raise ApiError(-1020, "This operation is not supported.")
    except ApiError as exc:
        return {"id": ident, "status": exc.status, "error": exc.body()}
    weight = {
        "rateLimitType": "REQUEST_WEIGHT",
        "interval": "MINUTE",
        "intervalNum": 1,
        "limit": emulator.config.limits.request_weight_per_minute,
        "count": emulator.limiter.used(conn.ip, emulator.wall()),
    }
    return {"id": ident, "status": 200, "result": result, "rateLimits": [weight]}


def register(app: web.Application, emulator: Emulator) -> None:
    """Add the WS-API route."""
    app[USER_STREAMS] = UserStreams(emulator)
    app.router.add_get("/ws-api/v3", ws_api)
