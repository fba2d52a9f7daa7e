"""Build the real ccxt client behind a gateway, optionally pointed at another server.

ccxt's own throttle is switched off (``enableRateLimit=False``): the gateway's budgets
replace it and know the exchange's real weights. ``rest_url``/``ws_url`` swap the origin of
every ccxt url and keep its path, which is how the Binance-compatible emulator is reached
(``http://127.0.0.1:PORT`` and ``ws://127.0.0.1:PORT``); see
``../shared/reference/ccxt-binance-spot-protocol.md``.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from candlewick.api.port import ExchangeClient
from candlewick.errors import ConfigError

#: ccxt options per exchange: spot only, no wallet or margin calls at load_markets.
CCXT_OPTIONS: Mapping[str, Mapping[str, Any]] = {
    "binance": {
        "defaultType": "spot",
        "fetchMarkets": {"types": ["spot"]},
        "fetchCurrencies": False,
        "fetchMargins": False,
    },
}


def connect(
    exchange_id: str,
    *,
    api_key: str | None = None,
    secret: str | None = None,
    rest_url: str | None = None,
    ws_url: str | None = None,
    timeout_ms: int = 10_000,
    options: Mapping[str, Any] | None = None,
    streaming: bool = False,
) -> ExchangeClient:
    """A ``ccxt.async_support`` (or, with ``streaming``, ``ccxt.pro``) client of ``exchange_id``.

    ``options`` are merged over :data:`CCXT_OPTIONS`. Against a server other than the
    exchange's own, the exchange's market-specific error codes are made global, since ccxt
    applies some only on the production host.
    """
    module = importlib.import_module("ccxt.pro" if streaming else "ccxt.async_support")
    klass = getattr(module, exchange_id.lower(), None)
    if klass is None:
        raise ConfigError(f"ccxt has no exchange {exchange_id!r} (see ccxt.exchanges)")
    config: dict[str, Any] = {
        "enableRateLimit": False,
        "timeout": timeout_ms,
        "options": {**CCXT_OPTIONS.get(exchange_id.lower(), {}), **(options or {})},
    }
    if api_key is not None:
        config["apiKey"] = api_key
    if secret is not None:
        config["secret"] = secret
    client = klass(config)
    if rest_url is not None or ws_url is not None:
        _redirect(client.urls["api"], rest_url, ws_url)
        _globalise_market_errors(client)
    exchange: ExchangeClient = client
    return exchange


def _redirect(urls: dict[str, Any], rest_url: str | None, ws_url: str | None) -> None:
    """Swap the origin of every url in ccxt's ``urls['api']`` tree in place."""
    for key, value in urls.items():
        if isinstance(value, dict):
            _redirect(value, rest_url, ws_url)
        elif isinstance(value, str):
            parts = urlsplit(value)
            path = value[len(f"{parts.scheme}://{parts.netloc}") :]
            if parts.scheme in ("https", "http") and rest_url is not None:
                urls[key] = rest_url.rstrip("/") + path
            elif parts.scheme in ("wss", "ws") and ws_url is not None:
                urls[key] = ws_url.rstrip("/") + path


def _globalise_market_errors(client: Any) -> None:
    """Make ccxt's spot-only error codes apply on any host (ccxt checks the url for them)."""
    exceptions = getattr(client, "exceptions", None)
    spot = exceptions.get("spot") if isinstance(exceptions, dict) else None
    if isinstance(exceptions, dict) and isinstance(spot, dict):
        for kind in ("exact", "broad"):
            merged = {**exceptions.get(kind, {}), **spot.get(kind, {})}  # spot first, as ccxt
            exceptions[kind] = merged
