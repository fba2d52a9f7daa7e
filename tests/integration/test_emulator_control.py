"""The control endpoints (``/_emulator/*``) refuse out-of-range values with a JSON 400 and leave
the emulator as it was, and they require the control token when one is set (always set when the
emulator listens beyond the loopback)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from pydantic import ValidationError

from candlewick.emulator.app import exposure_warning
from candlewick.emulator.config import EmulatorConfig
from candlewick.emulator.runtime import open_emulator
from candlewick.emulator.testing import config_for, serve
from candlewick.paths import shared_data_dir

SHARED = shared_data_dir()
pytestmark = pytest.mark.skipif(
    SHARED is None, reason="shared data folder ../shared/data (or $CANDLEWICK_SHARED_DATA) absent"
)

BAD: list[tuple[str, str]] = [
    ("/_emulator/faults", '{"latency_ms": 1000000000000}'),
    ("/_emulator/faults", '{"latency_ms": 120001}'),
    ("/_emulator/faults", '{"latency_jitter_ms": -1}'),
    ("/_emulator/faults", '{"latency_ms": true}'),
    ("/_emulator/faults", '{"latency_ms": 1.5}'),
    ("/_emulator/faults", '{"error_rate": NaN}'),
    ("/_emulator/faults", '{"error_rate": true}'),
    ("/_emulator/faults", '{"error_rate": 1.5}'),
    ("/_emulator/faults", '{"error_status": 418}'),
    ("/_emulator/faults", '{"stale_streams_seconds": 1e300}'),
    ("/_emulator/faults", '{"stale_streams_seconds": Infinity}'),
    ("/_emulator/faults", '{"order_timeout_next": 1000000000000000000000000000000}'),
    ("/_emulator/faults", '{"order_timeout_hold_seconds": 0}'),
    ("/_emulator/faults", '{"drop_streams": "yes"}'),
    ("/_emulator/faults", '{"nonsense": 1}'),
    ("/_emulator/faults", "[1, 2]"),
    ("/_emulator/faults", "not json"),
    ("/_emulator/step", '{"minutes": 1e308}'),
    ("/_emulator/step", '{"ms": NaN}'),
    ("/_emulator/step", '{"to": Infinity}'),
    ("/_emulator/step", '{"to": 1e300}'),
    ("/_emulator/step", '{"hours": -1}'),
    ("/_emulator/step", '{"minutes": "5"}'),
    ("/_emulator/step", '{"minutes": 1, "seconds": 1}'),
    ("/_emulator/speed", '{"speed": Infinity}'),
    ("/_emulator/speed", '{"speed": NaN}'),
    ("/_emulator/speed", '{"speed": 0}'),
]


def make_config(store_root: Path, **overrides: Any) -> EmulatorConfig:
    return config_for(
        store_root, ["BTC/USDT"], speed="step", replay_start="2026-03-25T00:00:00Z", **overrides
    )


def test_out_of_range_control_values_are_refused_and_change_nothing(store_root: Path) -> None:
    async def scenario() -> tuple[list[tuple[str, str, int, Any]], Any, Any]:
        async with serve(make_config(store_root)) as server, aiohttp.ClientSession() as http:
            before = server.emulator.state()
            answers = []
            for path, body in BAD:
                async with http.post(f"{server.url}{path}", data=body) as response:
                    text = await response.text()
                    answers.append((path, body, response.status, json.loads(text)))
            for query in ("limit=-5", "since=abc", "limit=99999999999999999999999", "since=-1"):
                async with http.get(f"{server.url}/_emulator/log?{query}") as response:
                    answers.append(("log", query, response.status, await response.json()))
            after = server.emulator.state()
            async with http.get(f"{server.url}/api/v3/ping") as response:
                assert response.status == 200  # answered: no latency fault got through
            return answers, before, after

    answers, before, after = asyncio.run(scenario())
    for path, body, status, answer in answers:
        assert status == 400, (path, body, answer)
        assert isinstance(answer, dict) and answer["error"], (path, body, answer)
    assert {k: v for k, v in after.items() if k != "wallTime"} == {
        k: v for k, v in before.items() if k != "wallTime"
    }


def test_bounded_values_name_the_field_and_the_range(store_root: Path) -> None:
    async def scenario() -> tuple[dict[str, Any], dict[str, Any]]:
        async with serve(make_config(store_root)) as server, aiohttp.ClientSession() as http:
            async with http.post(
                f"{server.url}/_emulator/faults", json={"latency_ms": 10**12}
            ) as response:
                refused = await response.json()
            async with http.post(
                f"{server.url}/_emulator/faults", json={"latency_ms": 250, "error_rate": 0.5}
            ) as response:
                assert response.status == 200
                accepted = await response.json()
            return refused, accepted

    refused, accepted = asyncio.run(scenario())
    assert "latency_ms" in refused["error"] and "120000" in refused["error"]
    assert accepted["latency_ms"] == 250 and accepted["error_rate"] == 0.5


def test_the_control_token_is_required_when_set(store_root: Path) -> None:
    config = make_config(store_root, control_token="a-long-enough-token")

    async def scenario() -> list[tuple[str, int]]:
        seen = []
        async with serve(config) as server, aiohttp.ClientSession() as http:
            for headers in (
                {},
                {"Authorization": "Bearer wrong-token-value"},
                {"Authorization": "a-long-enough-token"},
                {"Authorization": "Bearer a-long-enough-token"},
            ):
                for method, path in (("GET", "/_emulator/state"), ("POST", "/_emulator/step")):
                    async with http.request(
                        method, f"{server.url}{path}", json={"minutes": 1}, headers=headers
                    ) as response:
                        seen.append((path, response.status))
            async with http.get(f"{server.url}/api/v3/ping") as response:
                seen.append(("ping", response.status))  # Binance's API needs no control token
        return seen

    seen = asyncio.run(scenario())
    assert [s for _, s in seen[:6]] == [401] * 6
    assert seen[6:] == [("/_emulator/state", 200), ("/_emulator/step", 200), ("ping", 200)]


def test_beyond_the_loopback_a_token_is_always_required(store_root: Path) -> None:
    exposed = make_config(store_root, host="0.0.0.0")
    emulator = open_emulator(exposed)
    token = emulator.control_token
    assert token is not None and len(token) >= 20  # generated, since none was configured
    warning = exposure_warning(exposed, emulator)
    assert warning is not None and "0.0.0.0" in warning and token in warning
    for loopback in ("127.0.0.1", "localhost", "::1", "127.0.0.2"):
        local = open_emulator(make_config(store_root, host=loopback))
        assert local.control_token is None and exposure_warning(local.config, local) is None
        local.close()
    chosen = open_emulator(make_config(store_root, host="10.1.2.3", control_token="x" * 24))
    assert chosen.control_token == "x" * 24
    warning = exposure_warning(chosen.config, chosen)
    assert warning is not None and "x" * 24 not in warning  # a chosen token is not printed

    async def scenario() -> list[int]:
        # serve the exposed emulator on the loopback only (tests talk to 127.0.0.1)
        local_site = exposed.model_copy(update={"host": "127.0.0.1"})
        async with serve(local_site, emulator=emulator) as server, aiohttp.ClientSession() as http:
            out = []
            for headers in ({}, {"Authorization": f"Bearer {token}"}):
                async with http.get(f"{server.url}/_emulator/state", headers=headers) as response:
                    out.append(response.status)
            return out

    assert asyncio.run(scenario()) == [401, 200]
    chosen.close()


def test_a_short_control_token_is_refused(store_root: Path) -> None:
    with pytest.raises(ValidationError, match="control_token"):
        make_config(store_root, control_token="short")
