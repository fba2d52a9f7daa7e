"""Control endpoints under ``/_emulator`` (not part of Binance's API; no weight, no faults).

* ``GET /_emulator/state``: replay and wall time, speed, prices, bans, faults (and accounts).
* ``POST /_emulator/step`` ``{"minutes": n}`` | ``{"seconds": n}`` | ``{"ms": n}`` |
  ``{"to": <replay ms>}``: move the replay clock forward (any speed) and process what happened.
* ``POST /_emulator/speed`` ``{"speed": 60}`` or ``{"speed": "step"}``.
* ``GET /_emulator/faults``, ``POST /_emulator/faults`` with the fields to change (see
  :mod:`candlewick.emulator.faults`).
* ``GET /_emulator/log?since=<seq>&limit=<n>``, ``DELETE /_emulator/log``: the request log.
* ``POST /_emulator/limits/reset``: forget request weights, bans and order counts.

Errors are ``{"error": "..."}`` with HTTP 400. Values are bounded (a fault's as in the
configuration file; a step at most 100 years; a replay time within year 9999), and a refused
request changes nothing. When the emulator has a control token (configured, or generated
because it listens beyond the loopback), every control request must carry it as
``Authorization: Bearer <token>`` (else HTTP 401).
"""

from __future__ import annotations

import hmac
import math
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from candlewick.emulator.params import MAX_TIME_MS, is_whole
from candlewick.emulator.server import EMULATOR, json_response

MAX_STEP_MS = 100 * 366 * 86_400_000
ControlHandler = Callable[[web.Request], Awaitable[web.Response]]


def _bad(message: str) -> web.Response:
    return json_response({"error": message}, 400)


def _guarded(handler: ControlHandler) -> ControlHandler:
    """``handler`` behind the control token, when the emulator has one."""

    async def guarded(request: web.Request) -> web.Response:
        token = request.app[EMULATOR].control_token
        if token is not None:
            sent = request.headers.get("Authorization", "")
            if not hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
                return json_response(
                    {"error": "send the control token: Authorization: Bearer <token>"}, 401
                )
        return await handler(request)

    return guarded


async def _body(request: web.Request) -> dict[str, Any] | None:
    if not request.can_read_body:
        return {}
    try:
        data = await request.json()
    except (ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


async def state(request: web.Request) -> web.Response:
    """GET /_emulator/state."""
    emulator = request.app[EMULATOR]
    emulator.advance()
    return json_response(emulator.state())


_UNITS = {"ms": 1, "seconds": 1000, "minutes": 60_000, "hours": 3_600_000}


async def step(request: web.Request) -> web.Response:
    """POST /_emulator/step."""
    emulator = request.app[EMULATOR]
    body = await _body(request)
    if body is None or len(body) != 1:
        return _bad('send one of {"ms": n}, {"seconds": n}, {"minutes": n}, {"to": <replay ms>}')
    ((key, value),) = body.items()
    if key != "to" and key not in _UNITS:
        return _bad(f"unknown unit {key!r}: use ms, seconds, minutes, hours or to")
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if not number or not math.isfinite(value) or value < 0:
        return _bad(f"{key} must be a finite number >= 0, not {value!r}")
    if key == "to" and value > MAX_TIME_MS:
        return _bad(f"to must be a replay time in ms up to {MAX_TIME_MS}, not {value!r}")
    if key != "to" and value * _UNITS[key] > MAX_STEP_MS:
        return _bad(f"{key}: a step is at most 100 years ({MAX_STEP_MS} ms), not {value!r}")
    emulator.advance()
    if key == "to":
        emulator.clock.jump_to(int(value))
    else:
        emulator.clock.advance(int(value * _UNITS[key]))
    emulator.advance()
    return json_response(emulator.state())


async def speed(request: web.Request) -> web.Response:
    """POST /_emulator/speed."""
    emulator = request.app[EMULATOR]
    body = await _body(request)
    value = None if body is None else body.get("speed")
    if value == "step":
        emulator.advance()
        emulator.clock.set_speed(None)
    elif isinstance(value, int | float) and not isinstance(value, bool) and 0 < value <= 100_000:
        emulator.advance()
        emulator.clock.set_speed(float(value))
    else:
        return _bad(f'speed must be a number above 0 (at most 100000) or "step", not {value!r}')
    return json_response(emulator.state())


async def faults(request: web.Request) -> web.Response:
    """GET or POST /_emulator/faults."""
    emulator = request.app[EMULATOR]
    if request.method == "POST":
        body = await _body(request)
        if body is None:
            return _bad("send a JSON object of fault settings")
        try:
            emulator.faults.update(body, emulator.wall())
        except ValueError as exc:
            return _bad(str(exc))
        if body.get("drop_streams"):
            await emulator.drop_streams()
    return json_response(emulator.faults.describe())


async def log(request: web.Request) -> web.Response:
    """GET or DELETE /_emulator/log."""
    emulator = request.app[EMULATOR]
    if request.method == "DELETE":
        emulator.log.clear()
        return json_response({})
    since, limit = request.query.get("since", "0"), request.query.get("limit")
    if not is_whole(since) or (limit is not None and not is_whole(limit)):
        return _bad("since and limit must be whole numbers of at most 20 digits")
    entries = emulator.log.entries(int(since), None if limit is None else int(limit))
    return json_response([e.to_json() for e in entries])


async def reset_limits(request: web.Request) -> web.Response:
    """POST /_emulator/limits/reset."""
    emulator = request.app[EMULATOR]
    emulator.limiter.reset()
    emulator.order_counter.reset()
    return json_response({})


def register(app: web.Application) -> None:
    """Add the control routes to ``app`` (behind the control token, when there is one)."""
    app.router.add_get("/_emulator/state", _guarded(state))
    app.router.add_post("/_emulator/step", _guarded(step))
    app.router.add_post("/_emulator/speed", _guarded(speed))
    app.router.add_route("GET", "/_emulator/faults", _guarded(faults))
    app.router.add_route("POST", "/_emulator/faults", _guarded(faults))
    app.router.add_route("GET", "/_emulator/log", _guarded(log))
    app.router.add_route("DELETE", "/_emulator/log", _guarded(log))
    app.router.add_post("/_emulator/limits/reset", _guarded(reset_limits))
