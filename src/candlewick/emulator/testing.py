"""Helpers to run the emulator inside a test (or a script) and point the real ccxt at it.

``serve`` runs the emulator in-process on an ephemeral 127.0.0.1 port; ``ccxt_client`` builds
``ccxt.async_support.binance`` (or ``ccxt.pro.binance``) configured exactly as
``ccxt-binance-spot-protocol.md`` shows; ``import_march_2026`` fills a candle store with the
shared data's 30 days of BTC, ETH, SOL, XRP and BNB 1m candles against USDT.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from aiohttp import web

from candlewick.emulator.config import EmulatorConfig
from candlewick.emulator.runtime import Emulator, open_emulator
from candlewick.emulator.server import make_runner

#: The shared data files of one 30-day window (2026-03-23 .. 2026-04-22), by market.
MARCH_2026 = {
    "BTC/USDT": "binance_BTC-USDT_1m_2026-03.csv.gz",
    "ETH/USDT": "binance_ETH-USDT_1m_2026-03.csv.gz",
    "SOL/USDT": "binance_SOL-USDT_1m.csv.gz",
    "XRP/USDT": "binance_XRP-USDT_1m.csv.gz",
    "BNB/USDT": "binance_BNB-USDT_1m.csv.gz",
}

#: Binance's symbol rules of those markets (tick size, step size, minimum quantity).
MARCH_2026_RULES: dict[str, dict[str, Any]] = {
    "BTC/USDT": {"tick_size": "0.01", "step_size": "0.00001", "min_qty": "0.00001"},
    "ETH/USDT": {"tick_size": "0.01", "step_size": "0.0001", "min_qty": "0.0001"},
    "SOL/USDT": {"tick_size": "0.01", "step_size": "0.001", "min_qty": "0.001"},
    "XRP/USDT": {"tick_size": "0.0001", "step_size": "0.1", "min_qty": "0.1"},
    "BNB/USDT": {"tick_size": "0.01", "step_size": "0.001", "min_qty": "0.001"},
}


def import_march_2026(
    store_root: Path, shared_data: Path, markets: list[str] | None = None
) -> None:
    """Import the shared 1m candles of :data:`MARCH_2026` into the store at ``store_root``."""
    from candlewick.data.sources import import_file
    from candlewick.data.store import CandleStore

    store = CandleStore(store_root)
    for market in markets or list(MARCH_2026):
        path = shared_data / "candles" / MARCH_2026[market]
        import_file(store, path, exchange="binance", pair=market, timeframe="1m")


def config_for(
    store_root: Path,
    markets: list[str] | None = None,
    pair_rules: dict[str, dict[str, Any]] | None = None,
    **overrides: Any,
) -> EmulatorConfig:
    """An emulator configuration serving ``markets`` from ``store_root`` on an ephemeral port
    (``pair_rules``: extra pair settings by market, e.g. ``{"BTC/USDT": {"max_num_orders": 3}}``).
    """
    extra = pair_rules or {}
    pairs = [
        {"market": m, **MARCH_2026_RULES[m], **extra.get(m, {})}
        for m in (markets or list(MARCH_2026))
    ]
    data: dict[str, Any] = {"port": 0, "store": str(store_root), "pairs": pairs}
    data.update(overrides)
    return EmulatorConfig.model_validate(data)


@dataclass(frozen=True, slots=True)
class Running:
    """A served emulator: the object and its REST and WebSocket base urls."""

    emulator: Emulator
    url: str
    ws_url: str


@asynccontextmanager
async def serve(
    config: EmulatorConfig, store_root: Path | None = None, emulator: Emulator | None = None
) -> AsyncIterator[Running]:
    """Serve ``config`` on ``config.host`` (port 0: ephemeral) until the block ends."""
    emulator = emulator or open_emulator(config, store_root)
    runner = make_runner(emulator, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, config.host, config.port)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield Running(emulator, f"http://{host}:{port}", f"ws://{host}:{port}")
    finally:
        emulator.close()
        await runner.cleanup()


def ccxt_client(
    url: str,
    api_key: str | None = None,
    secret: str | None = None,
    *,
    pro: bool = False,
    options: dict[str, Any] | None = None,
    **settings: Any,
) -> Any:
    """ccxt's binance pointed at the emulator at ``url`` (``http://127.0.0.1:PORT``)."""
    if pro:
        import ccxt.pro as ccxt_module
    else:
        import ccxt.async_support as ccxt_module

    config: dict[str, Any] = {
        "enableRateLimit": False,
        "options": {
            "defaultType": "spot",
            "fetchMarkets": {"types": ["spot"]},
            "fetchCurrencies": False,
            "fetchMargins": False,
            **(options or {}),
        },
        **settings,
    }
    if api_key is not None:
        config["apiKey"], config["secret"] = api_key, secret
    exchange = ccxt_module.binance(config)
    for key, value in list(exchange.urls["api"].items()):
        if isinstance(value, str) and value.startswith("https://"):
            exchange.urls["api"][key] = url + "/" + value.split("/", 3)[3]
    if pro:
        ws_url = "ws://" + url.split("://", 1)[1]
        ws = exchange.urls["api"]["ws"]
        ws["spot"] = ws["margin"] = ws_url + "/ws"
        ws["ws-api"]["spot"] = ws_url + "/ws-api/v3"
    return exchange


def dec(value: Any) -> Decimal:
    """A Decimal from what ccxt returns (float or str)."""
    return Decimal(str(value))
