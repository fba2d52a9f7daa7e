"""Bad input is refused as Binance refuses it: never an HTTP 500, never aiohttp's plain text.

Non-numeric, negative, fractional and overflowing numbers, client order ids with a trailing
newline, duplicated parameters and oversized requests all get Binance's JSON ``{"code", "msg"}``
(rules.md section 5: -1100 with the legal pattern, -1108 overflow, -1101 duplicates), and the
real ccxt raises BadRequest / InvalidOrder for them as against Binance.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import ccxt
import pytest
from yarl import URL

from candlewick.emulator.testing import ccxt_client, serve
from candlewick.paths import shared_data_dir
from tests.integration.test_emulator_private import KEY, SECRET, make_emulator

SHARED = shared_data_dir()
pytestmark = pytest.mark.skipif(
    SHARED is None, reason="shared data folder ../shared/data (or $CANDLEWICK_SHARED_DATA) absent"
)
INT_PATTERN = "Illegal characters found in parameter '{}'; legal range is '^[0-9]{{1,20}}$'."
NOT_WHOLE = ["abc", "-1", "--5", "1.5", "1e5", "0x10", " 7", "7 ", "1_000", "\u0663", "NaN", "7\n"]
OVERFLOWING = ["9223372036854775808", "99999999999999999999"]
TOO_LONG = ["999999999999999999999999"]
BAD_DECIMALS = [
    "abc",
    "-1",
    "1e-3",
    "0.001\n",
    " 0.001",
    "1,5",
    "\u0661",
    "inf",
    "NaN",
    "1." + "0" * 30,
]


async def call(
    http: aiohttp.ClientSession,
    url: str,
    method: str,
    path: str,
    params: dict[str, str],
    signed: bool = False,
) -> tuple[int, str, Any]:
    """One raw request (signed like ccxt when ``signed``): status, content type, parsed body."""
    query = urlencode(params)
    headers = {}
    if signed:
        if "timestamp" not in params:
            query += ("&" if query else "") + f"timestamp={int(time.time() * 1000)}"
        query += (
            "&signature=" + hmac.new(SECRET.encode(), query.encode(), hashlib.sha256).hexdigest()
        )
        headers["X-MBX-APIKEY"] = KEY
    target = URL(f"{url}{path}?{query}", encoded=True)  # sent exactly as signed
    async with http.request(method, target, headers=headers) as response:
        text = await response.text()
        body = await response.json(content_type=None) if text[:1] in "{[" else text
        return response.status, response.content_type, body


Request = tuple[str, str, dict[str, str], bool]  # method, path, params, signed


def answers(store_root: Path, requests: list[Request]) -> list[tuple[int, Any]]:
    """Status and body of each request, sent in order to one emulator."""

    async def scenario() -> list[tuple[int, Any]]:
        async with (
            serve(make_emulator(store_root).config) as server,
            aiohttp.ClientSession() as http,
        ):
            out = []
            for method, path, params, signed in requests:
                status, _, body = await call(http, server.url, method, path, params, signed)
                out.append((status, body))
            return out

    return asyncio.run(scenario())


ENDPOINTS: list[tuple[str, str, dict[str, str], list[str], bool]] = [
    ("GET", "/api/v3/klines", {"symbol": "BTCUSDT", "interval": "1m"},
     ["limit", "startTime", "endTime"], False),
    ("GET", "/api/v3/uiKlines", {"symbol": "BTCUSDT", "interval": "1h"}, ["startTime"], False),
    ("GET", "/api/v3/depth", {"symbol": "BTCUSDT"}, ["limit"], False),
    ("GET", "/api/v3/order", {"symbol": "BTCUSDT"}, ["orderId"], True),
    ("DELETE", "/api/v3/order", {"symbol": "BTCUSDT"}, ["orderId"], True),
    ("GET", "/api/v3/allOrders", {"symbol": "BTCUSDT"},
     ["limit", "startTime", "endTime", "orderId"], True),
    ("GET", "/api/v3/myTrades", {"symbol": "BTCUSDT"},
     ["limit", "startTime", "endTime", "fromId", "orderId"], True),
]  # fmt: skip


def test_whole_number_parameters_refuse_what_binance_refuses(store_root: Path) -> None:
    async def scenario() -> list[tuple[str, str, str, int, Any]]:
        seen: list[tuple[str, str, str, int, Any]] = []
        async with (
            serve(make_emulator(store_root).config) as server,
            aiohttp.ClientSession() as http,
        ):
            for method, path, base, names, signed in ENDPOINTS:
                for name in names:
                    for bad in NOT_WHOLE + OVERFLOWING + TOO_LONG:
                        status, kind, body = await call(
                            http, server.url, method, path, {**base, name: bad}, signed
                        )
                        assert kind == "application/json", (path, name, bad, body)
                        seen.append((path, name, bad, status, body))
        return seen

    for path, name, bad, status, body in asyncio.run(scenario()):
        where = f"{path} {name}={bad!r}"
        assert status == 400, f"{where}: {status} {body}"
        if bad in OVERFLOWING:
            assert body == {"code": -1108, "msg": f"Parameter '{name}' overflowed."}, where
        else:
            assert body == {"code": -1100, "msg": INT_PATTERN.format(name)}, where


def test_far_but_valid_times_are_adjusted_not_failed(store_root: Path) -> None:
    biggest = str(2**63 - 1)
    months = {"symbol": "BTCUSDT", "interval": "1M"}
    windows = ({"startTime": biggest}, {"endTime": biggest}, {"startTime": "0", "endTime": biggest})
    requests = [("GET", "/api/v3/klines", {**months, **w}, False) for w in windows]

    after, upto, everything = answers(store_root, requests)
    assert after == (200, [])
    assert upto[0] == everything[0] == 200
    assert len(upto[1]) == len(everything[1]) >= 1  # the months replayed so far


def test_decimal_parameters_refuse_what_binance_refuses(store_root: Path) -> None:
    pattern = "legal range is '^([0-9]{1,20})(\\.[0-9]{1,20})?$'."
    order = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
             "quantity": "0.001", "price": "60000"}  # fmt: skip

    async def scenario() -> list[tuple[str, str, int, Any]]:
        seen = []
        async with (
            serve(make_emulator(store_root).config) as server,
            aiohttp.ClientSession() as http,
        ):
            for name in ("quantity", "price"):
                for bad in BAD_DECIMALS:
                    status, _, body = await call(
                        http, server.url, "POST", "/api/v3/order", {**order, name: bad}, True
                    )
                    seen.append((name, bad, status, body))
        return seen

    for name, bad, status, body in asyncio.run(scenario()):
        assert status == 400, (name, bad, body)
        assert body["code"] == -1100 and f"parameter '{name}'" in body["msg"], (name, bad, body)
        assert body["msg"].endswith(pattern)


def test_client_order_id_must_match_binance_pattern_exactly(store_root: Path) -> None:
    order = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
             "quantity": "0.001", "price": "60000"}  # fmt: skip

    async def scenario() -> tuple[list[str], dict[str, Any], list[dict[str, Any]], Any]:
        refused: list[str] = []
        async with serve(make_emulator(store_root).config) as server:
            ex = ccxt_client(server.url, KEY, SECRET)
            try:
                await ex.load_markets()
                for bad in ("newline\n", "x" * 37, "space here", "émile"):
                    try:
                        await ex.private_post_order({**order, "newClientOrderId": bad})
                    except ccxt.BadRequest as exc:
                        refused.append(str(exc))
                good = "A.b:c/d_e-" + "9" * 26  # 36 characters, every legal kind
                placed = await ex.create_order(
                    "BTC/USDT", "limit", "buy", 0.001, 60000, {"clientOrderId": good}
                )
                canceled = []
                for cancel_id in ("cancel\n", "ok-cancel-id"):
                    try:
                        canceled.append(
                            await ex.private_delete_order(
                                {"symbol": "BTCUSDT", "orderId": placed["id"],
                                 "newClientOrderId": cancel_id}
                            )
                        )  # fmt: skip
                    except ccxt.BadRequest as exc:
                        refused.append(str(exc))
            finally:
                await ex.close()
            async with aiohttp.ClientSession() as http:  # ccxt replaces an empty id with its own
                empty = await call(
                    http, server.url, "POST", "/api/v3/order", {**order, "newClientOrderId": ""},
                    signed=True,
                )  # fmt: skip
        return refused, placed, canceled, empty

    refused, placed, canceled, empty = asyncio.run(scenario())
    pattern = "Illegal characters found in parameter 'newClientOrderId'"
    assert len(refused) == 5 and all(pattern in r for r in refused), refused
    assert placed["clientOrderId"] == "A.b:c/d_e-" + "9" * 26
    assert [c["clientOrderId"] for c in canceled] == ["ok-cancel-id"]
    assert empty[0] == 400 and empty[2] == {"code": -1118, "msg": "New client order ID was empty."}


def test_duplicate_parameters_are_refused(store_root: Path) -> None:
    async def scenario() -> tuple[int, Any, int, Any]:
        async with (
            serve(make_emulator(store_root).config) as server,
            aiohttp.ClientSession() as http,
        ):
            url = f"{server.url}/api/v3/depth?symbol=BTCUSDT&limit=5&limit=5000"
            async with http.get(url) as response:
                first = response.status, await response.json()
            url = f"{server.url}/api/v3/ticker/price?symbol=ETHUSDT&symbol=BTCUSDT"
            async with http.get(url) as response:
                return (*first, response.status, await response.json())

    status, body, status2, body2 = asyncio.run(scenario())
    duplicate = {"code": -1101, "msg": "Duplicate values for a parameter detected."}
    assert (status, body) == (status2, body2) == (400, duplicate)


def test_symbols_that_are_not_a_flat_json_list_are_refused(store_root: Path) -> None:
    nested = "[" * 1200 + "]" * 1200  # deeper than Python's json recursion allows

    async def scenario() -> list[tuple[int, Any]]:
        async with (
            serve(make_emulator(store_root).config) as server,
            aiohttp.ClientSession() as http,
        ):
            out = []
            for value in (nested, '["BTCUSDT",["ETHUSDT"]]', "BTCUSDT", "[]", '["BTCUSDT"'):
                for path in ("/api/v3/ticker/24hr", "/api/v3/ticker/price"):
                    status, _, body = await call(http, server.url, "GET", path,
                                                     {"symbols": value})  # fmt: skip
                    out.append((status, body))
            return out

    invalid = {"code": -1130, "msg": "Data sent for parameter 'symbols' is not valid."}
    assert asyncio.run(scenario()) == [(400, invalid)] * 10


def test_oversized_requests_get_binance_json(store_root: Path) -> None:
    async def scenario() -> list[tuple[int, str, Any]]:
        async with (
            serve(make_emulator(store_root).config) as server,
            aiohttp.ClientSession() as http,
        ):
            out = []
            big_body = "symbol=BTCUSDT&pad=" + "x" * (2 * 1024 * 1024)
            async with http.post(
                f"{server.url}/api/v3/order",
                data=big_body,
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            ) as response:
                out.append((response.status, response.content_type, await response.text()))
            long_url = f"{server.url}/api/v3/depth?symbol=BTCUSDT&pad={'x' * 20_000}"
            async with http.get(long_url) as response:
                out.append((response.status, response.content_type, await response.text()))
            async with http.get(
                f"{server.url}/api/v3/ping", headers={"X-Pad": "x" * 20_000}
            ) as response:
                out.append((response.status, response.content_type, await response.text()))
            async with http.post(
                f"{server.url}/_emulator/faults", data=b"{" + b" " * (2 * 1024 * 1024) + b"}"
            ) as response:
                out.append((response.status, response.content_type, await response.text()))
            return out

    import json

    body_too_big, url_too_long, header_too_long, control_too_big = asyncio.run(scenario())
    too_many = {"code": -1101, "msg": "Too many parameters sent for this endpoint."}
    for _, kind, text in (body_too_big, url_too_long, header_too_long):
        assert kind == "application/json", text[:200]
        assert json.loads(text) == too_many
    assert body_too_big[0] == 413
    assert url_too_long[0] == header_too_long[0] == 400  # refused by the HTTP parser
    assert control_too_big[0] == 413 and control_too_big[1] == "application/json"
    assert "error" in json.loads(control_too_big[2])


def test_timestamp_and_recv_window_are_plain_numbers(store_root: Path) -> None:
    now = str(int(time.time() * 1000))
    bad = [{"recvWindow": w} for w in ("\u0663", "5000\n", "1e3", "5000.1234", "-5", " 5000")]
    bad += [{"timestamp": t} for t in (" " + now, now[:4] + "_" + now[4:], "\u0661" + now[1:])]
    good = [{"recvWindow": "5000"}, {"recvWindow": "5000.5"}, {"timestamp": now}]
    got = answers(store_root, [("GET", "/api/v3/account", p, True) for p in bad + good])
    for params, (status, body) in zip(bad, got, strict=False):
        name = next(iter(params))
        assert status == 400, (params, body)
        assert body == {
            "code": -1102,
            "msg": f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.",
        }, params
    assert [status for status, _ in got[len(bad) :]] == [200, 200, 200]
