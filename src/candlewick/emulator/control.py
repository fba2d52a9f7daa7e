"""Control endpoints under ``/_emulator`` (not part of Binance's API; no weight, no faults).

* ``GET /_emulator/state``: replay and wall time, speed, prices, bans, faults (and accounts).
* ``POST /_emulator/step`` ``{"minutes": n}`` | ``{"seconds": n}`` | ``{"ms": n}`` |
  ``{"to": <replay ms>}``: move the replay clock forward (any speed) and process what happened.
* ``POST /_emulator/speed`` ``{"speed": 60}`` or ``{"speed": "step"}``.
* ``GET /_emulator/faults``, ``POST /_emulator/faults`` with the fields to change (see
  :mod:`candlewick.emulator.faults`).
* ``GET /_emulator/log?since=<seq>&limit=<n>``, ``DELETE /_emulator/log``: the request log.
* ``POST /_emulator/limits/reset``: forget request weights, bans and order counts.

Errors are ``{"error": "..."}`` with HTTP 400.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from candlewick.emulator.server import EMULATOR, json_response


def _bad(message: str) -> web.Response:
    return json_response({"error": message}, 400)


async def _body(request: web.Request) -> dict[str, Any] | None:
    if not request.can_read_body:
        return {}
    try:
        data = await request.json()
    except ValueError:
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
    if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
        return _bad(f"{key} must be a number >= 0, not {value!r}")
    emulator.advance()
    if key == "to":
        emulator.clock.jump_to(int(value))
    elif key in _UNITS:
        emulator.clock.advance(int(value * _UNITS[key]))
    else:
        return _bad(f"unknown unit {key!r}: use ms, seconds, minutes, hours or to")
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
    try:
        since = int(request.query.get("since", "0"))
        limit = int(request.query["limit"]) if "limit" in request.query else None
    except ValueError:
        return _bad("since and limit must be whole numbers")
    return json_response([e.to_json() for e in emulator.log.entries(since, limit)])


async def reset_limits(request: web.Request) -> web.Response:
    """POST /_emulator/limits/reset."""
    emulator = request.app[EMULATOR]
    emulator.limiter.reset()
    emulator.order_counter.reset()
    return json_response({})


def register(app: web.Application) -> None:
    """Add the control routes to ``app``."""
    app.router.add_get("/_emulator/state", state)
    app.router.add_post("/_emulator/step", step)
    app.router.add_post("/_emulator/speed", speed)
    app.router.add_route("GET", "/_emulator/faults", faults)
    app.router.add_route("POST", "/_emulator/faults", faults)
    app.router.add_route("GET", "/_emulator/log", log)
    app.router.add_route("DELETE", "/_emulator/log", log)
    app.router.add_post("/_emulator/limits/reset", reset_limits)
