"""Exchange-layer benchmark: the emulator's sustained request rate and the gateway's overhead.

Run as ``python -m bench.exchange`` (``python -m bench`` does): the emulator runs in its own
process (``candlewick emulator``) on 127.0.0.1, so server and client each have a core; the
last line printed is a JSON object with the figures. Every loop is bounded by a count.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp

REPO = Path(__file__).resolve().parents[1]
MARKETS = ["BTC/USDT", "ETH/USDT"]
CLIENTS = 16  # concurrent connections hammering the emulator
REQUESTS = 4000  # per endpoint, in total
CALLS = 400  # sequential calls per overhead measurement
FAKE_CALLS = 2_000  # 4,000 weight: inside one minute's budget (the gateway would wait, rightly)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _config(store: Path, port: int) -> str:
    from candlewick.emulator.testing import MARCH_2026_RULES

    pairs = "\n".join(
        f"  - {{market: {m}, tick_size: '{r['tick_size']}', step_size: '{r['step_size']}'}}"
        for m, r in MARCH_2026_RULES.items()
        if m in MARKETS
    )
    return (
        f"host: 127.0.0.1\nport: {port}\nstore: {store}\nspeed: step\n"
        "replay_start: '2026-04-01T00:00:00Z'\n"
        "limits: {request_weight_per_minute: 100000000}\n"
        f"pairs:\n{pairs}\n"
    )


async def _wait_up(url: str) -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(300):  # up to 30 s
            try:
                async with http.get(f"{url}/api/v3/ping") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("the emulator did not come up")


async def _hammer(url: str, path: str) -> dict[str, float]:
    """REQUESTS requests over CLIENTS connections; requests per second and latency."""
    latencies: list[float] = []
    remaining = [REQUESTS]
    connector = aiohttp.TCPConnector(limit=CLIENTS)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def worker() -> None:
            while remaining[0] > 0:
                remaining[0] -= 1
                started = time.perf_counter()
                async with http.get(url + path) as response:
                    await response.read()
                    if response.status != 200:
                        raise RuntimeError(f"{path}: HTTP {response.status}")
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CLIENTS)))
        wall = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": len(latencies),
        "per_s": len(latencies) / wall,
        "p50_ms": 1000 * latencies[len(latencies) // 2],
        "p99_ms": 1000 * latencies[int(len(latencies) * 0.99)],
    }


async def _overhead(url: str) -> dict[str, float]:
    """Mean latency of fetch_ticker straight through ccxt and through the gateway."""
    from candlewick.api.ccxt_client import connect
    from candlewick.api.hub import ExchangeHub

    hub = ExchangeHub()
    gateway = hub.gateway("binance", "bench", lambda: connect("binance", rest_url=url), host=url)
    raw = connect("binance", rest_url=url)
    try:
        await raw.load_markets()
        await gateway.fetch_ticker("BTC/USDT")
        direct, through = [], []
        for _ in range(CALLS):  # interleaved, so drift hits both alike
            started = time.perf_counter()
            await raw.fetch_ticker("BTC/USDT")
            direct.append(time.perf_counter() - started)
            started = time.perf_counter()
            await gateway.fetch_ticker("BTC/USDT")
            through.append(time.perf_counter() - started)
    finally:
        await raw.close()
        await hub.close()
    return {
        "calls": CALLS,
        "ccxt_ms": 1000 * statistics.median(direct),
        "gateway_ms": 1000 * statistics.median(through),
        "overhead_us": 1e6 * (statistics.median(through) - statistics.median(direct)),
    }


async def _gateway_alone() -> dict[str, float]:
    """The gateway's own cost per call, against an in-memory client that answers at once."""
    from candlewick.api.hub import ExchangeHub

    class Instant:
        """Our exchange port answering immediately (no network, no ccxt)."""

        id = "binance"
        last_response_headers: dict[str, str] = {}  # noqa: RUF012

        async def fetch_ticker(self, symbol: str, params: Any = None) -> dict[str, Any]:
            return {"symbol": symbol, "last": Decimal(1)}

        async def close(self) -> None:
            return None

        def __getattr__(self, name: str) -> Any:
            raise AttributeError(name)

    hub = ExchangeHub()
    gateway = hub.gateway("binance", "bench-fake", lambda: Instant(), host="fake")
    started = time.perf_counter()
    for _ in range(FAKE_CALLS):
        await gateway.fetch_ticker("BTC/USDT")
    per_call = (time.perf_counter() - started) / FAKE_CALLS
    return {"calls": FAKE_CALLS, "per_call_us": per_call * 1e6}


def main() -> None:
    """Start the emulator in a subprocess, measure, print one JSON line."""
    from candlewick.emulator.testing import import_march_2026
    from candlewick.paths import shared_data_dir

    shared = shared_data_dir()
    if shared is None:
        raise SystemExit("../shared/data is needed")
    with tempfile.TemporaryDirectory(prefix="candlewick-bench-exchange-") as tmp:
        store = Path(tmp) / "candles"
        import_march_2026(store, shared, MARKETS)
        port = _free_port()
        config = Path(tmp) / "emulator.yaml"
        config.write_text(_config(store, port))
        env = dict(os.environ, CANDLEWICK_HOME=tmp)
        server = subprocess.Popen(
            [sys.executable, "-m", "candlewick", "emulator", "--config", str(config)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            asyncio.run(_wait_up(url))
            # The gateway first: the load test below spends far more than Binance's weight
            # per minute, which the gateway would (rightly) wait out.
            out: dict[str, Any] = {
                "overhead": asyncio.run(_overhead(url)),
                "gateway_alone": asyncio.run(_gateway_alone()),
                "clients": CLIENTS,
            }
            for name, path in (
                ("ticker", "/api/v3/ticker/24hr?symbol=BTCUSDT"),
                ("klines", "/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=500"),
            ):
                out[name] = asyncio.run(_hammer(url, path))
        finally:
            server.terminate()
            server.wait(10)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
