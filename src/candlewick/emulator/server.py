"""The HTTP server (aiohttp.web): Binance's REST API, the control endpoints and the WebSockets.

Every Binance endpoint goes through :func:`_serve`, which does what Binance does around the
endpoint itself, in this order: added latency (fault), request weight per IP (429, then 418
bans), an injected 5xx (fault), the API key and signature of signed endpoints, then the
handler; every answer carries ``X-MBX-USED-WEIGHT-1M`` (and the legacy ``X-MBX-USED-WEIGHT``)
and is written to the request log. Errors are Binance's JSON ``{"code", "msg"}`` with its HTTP
status.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import LineTooLong
from aiohttp.web_protocol import RequestHandler

from candlewick.emulator import errors
from candlewick.emulator.errors import ApiError
from candlewick.emulator.params import parse_query
from candlewick.emulator.runtime import Emulator

EMULATOR: web.AppKey[Emulator] = web.AppKey("emulator", Emulator)
MAX_BODY = 1024**2  # bytes of a request body (aiohttp's default)
_log = logging.getLogger("candlewick.emulator")
_REASONS = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
            504: "Gateway Timeout"}  # fmt: skip


class DropConnection(Exception):  # noqa: N818 - not an error: the answer is silence
    """Raised by a handler that must leave the client without an answer (timeout fault)."""


@dataclass(slots=True)
class Call:
    """One API request as the handlers see it."""

    request: web.Request
    emulator: Emulator
    params: dict[str, str]
    query_raw: str
    body_raw: str
    ip: str
    account: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    free: bool = False  # a successful order costs no weight (Binance since 2026-04-02)


Handler = Callable[[Call], Awaitable[Any]]
Weigher = Callable[[dict[str, str]], int]


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A Binance endpoint: method, path, handler and request weight."""

    method: str
    path: str
    handler: Handler
    weight: Weigher
    signed: bool = False


def fixed(weight: int) -> Weigher:
    """A weight that does not depend on the parameters."""
    return lambda _params: weight


def json_response(
    body: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """A compact JSON response."""
    return web.Response(
        text=json.dumps(body, separators=(",", ":")),
        status=status,
        content_type="application/json",
        headers=headers,
    )


async def _read_params(call: Call) -> None:
    """Read the body and both parts' parameters (ApiError: -1101 for a repeated one)."""
    request = call.request
    call.body_raw = await request.text() if request.can_read_body else ""
    # Body first, then the query string, so that a parameter in both takes the query's value.
    for raw in (call.body_raw, call.query_raw):
        call.params.update(parse_query(raw))


def _serve(endpoint: Endpoint) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handle(request: web.Request) -> web.StreamResponse:
        emulator = request.app[EMULATOR]
        weight = 0
        code: int | None = None
        raw_path = request.raw_path
        query_raw = raw_path.split("?", 1)[1] if "?" in raw_path else ""
        call = Call(request, emulator, {}, query_raw, "", request.remote or "unknown")
        try:
            await _read_params(call)
            delay = emulator.faults.delay_seconds()
            if delay:
                await asyncio.sleep(delay)
            weight = endpoint.weight(call.params)
            emulator.limiter.charge(call.ip, weight, emulator.wall())
            if emulator.faults.server_error():
                status = emulator.faults.error_status
                response: web.StreamResponse = web.Response(status=status, text=_REASONS[status])
            else:
                if endpoint.signed:
                    call.account = emulator.authenticate(
                        call.request.headers, call.params, call.query_raw, call.body_raw
                    )
                emulator.advance()
                result = await endpoint.handler(call)
                if call.free:
                    emulator.limiter.refund(call.ip, weight, emulator.wall())
                    weight = 0
                response = json_response(result, headers=call.headers)
        except ApiError as exc:
            code = exc.code
            response = json_response(exc.body(), exc.status, exc.headers)
        except web.HTTPRequestEntityTooLarge:
            error = errors.too_many_parameters()
            code = error.code
            response = json_response(error.body(), error.status)
        except DropConnection:
            if request.transport is not None:
                request.transport.close()
            response = web.Response(status=504)
        except Exception:
            _log.exception("emulator: %s %s failed", request.method, request.path)
            error = errors.unknown()
            code = error.code
            response = json_response(error.body(), error.status)
        used = str(emulator.limiter.used(call.ip, emulator.wall()))
        response.headers["X-MBX-USED-WEIGHT-1M"] = used
        response.headers["X-MBX-USED-WEIGHT"] = used
        emulator.log.add(
            wall_ms=emulator.wall(),
            replay_ms=emulator.now(),
            ip=call.ip,
            method=request.method,
            path=request.path,
            params={k: v for k, v in call.params.items() if k != "signature"},
            status=response.status,
            code=code,
            weight=weight,
            account=call.account,
        )
        return response

    return handle


@web.middleware
async def _too_large(request: web.Request, handler: Any) -> web.StreamResponse:
    """A body over the size limit: JSON (Binance's -1101, or the control API's error)."""
    try:
        response: web.StreamResponse = await handler(request)
    except web.HTTPRequestEntityTooLarge:
        if request.path.startswith("/_emulator"):
            return json_response({"error": f"request body over {MAX_BODY} bytes"}, 413)
        error = errors.too_many_parameters()
        return json_response(error.body(), error.status)
    return response


class _JsonErrorHandler(RequestHandler):
    """aiohttp's connection handler, answering requests it cannot parse with Binance JSON."""

    __slots__ = ()

    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        """A request line or header too long (-1101), anything else unparseable (-1100)."""
        super().handle_error(request, status, exc, message)  # logs; refuses a started answer
        if isinstance(exc, LineTooLong):
            error = errors.too_many_parameters()
        elif status < 500:
            error = ApiError(-1100, "Illegal characters found in a parameter.")
        else:
            error = errors.unknown()
        response = json_response(error.body(), status)
        response.force_close()
        return response


class _JsonErrorServer(web.Server):
    def __call__(self) -> RequestHandler:
        return _JsonErrorHandler(self, loop=self._loop, **self._kwargs)


class EmulatorRunner(web.AppRunner):
    """The runner of the emulator's app: unparseable requests too get Binance's JSON."""

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        return _JsonErrorServer(
            server.request_handler,
            request_factory=server.request_factory,
            handler_cancellation=server.handler_cancellation,
            **self._kwargs,
        )


def make_runner(emulator: Emulator, shutdown_timeout: float = 2.0) -> web.AppRunner:
    """An aiohttp runner serving ``emulator`` (``await runner.setup()``, then a site)."""
    return EmulatorRunner(build_app(emulator), shutdown_timeout=shutdown_timeout)


def build_app(emulator: Emulator) -> web.Application:
    """The aiohttp application serving ``emulator``."""
    from candlewick.emulator import control, private, public, streams, wsapi

    app = web.Application(client_max_size=MAX_BODY, middlewares=[_too_large])
    app[EMULATOR] = emulator
    endpoints = [*public.ENDPOINTS, *private.ENDPOINTS]
    for endpoint in endpoints:
        app.router.add_route(endpoint.method, endpoint.path, _serve(endpoint))
    control.register(app)
    streams.register(app, emulator)
    wsapi.register(app, emulator)
    app.cleanup_ctx.append(_background)
    app.on_shutdown.append(_on_shutdown)
    return app


async def _background(app: web.Application) -> AsyncIterator[None]:
    task = asyncio.create_task(app[EMULATOR].run_background())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _on_shutdown(app: web.Application) -> None:
    app[EMULATOR].close()
