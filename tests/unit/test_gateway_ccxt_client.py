"""Building the real ccxt client: no own throttle, spot-only options, urls pointed elsewhere."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from candlewick.api.ccxt_client import connect
from candlewick.errors import ConfigError


def _close(client: Any) -> None:
    asyncio.run(client.close())


def test_binance_client_defaults() -> None:
    client: Any = connect("binance", api_key="k", secret="s")
    try:
        assert client.enableRateLimit is False  # the gateway's budgets replace ccxt's throttle
        assert client.options["fetchMarkets"]["types"] == ["spot"]
        assert client.options["fetchCurrencies"] is False
        assert client.urls["api"]["public"] == "https://api.binance.com/api/v3"
    finally:
        _close(client)


def test_urls_point_at_another_server_keeping_their_paths() -> None:
    client: Any = connect(
        "binance", rest_url="http://127.0.0.1:8765/", ws_url="ws://127.0.0.1:8765", streaming=True
    )
    try:
        api = client.urls["api"]
        assert api["public"] == "http://127.0.0.1:8765/api/v3"
        assert api["sapi"] == "http://127.0.0.1:8765/sapi/v1"
        assert api["ws"]["spot"] == "ws://127.0.0.1:8765/ws"
        assert api["ws"]["ws-api"]["spot"] == "ws://127.0.0.1:8765/ws-api/v3"
        # ccxt applies Binance's spot-only error codes on api.binance.com only: made global
        assert "-2026" in client.exceptions["exact"]  # ORDER_ARCHIVED is spot-only in ccxt
    finally:
        _close(client)


def test_unknown_exchange() -> None:
    with pytest.raises(ConfigError, match="no exchange 'nope'"):
        connect("nope")
