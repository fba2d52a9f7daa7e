"""The EXCHANGE data package: static facts per exchange, looked up by exchange id.

``get("binance")`` returns the frozen :class:`ExchangeFacts` of Binance spot. The table is
read-only data (not shared mutable state), so every bot and process may read it freely. To add
an exchange, write a module like ``kraken.py`` that builds one ``ExchangeFacts`` and list it in
``_ALL`` below (see docs/exchange-layer.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from candlewick.errors import ConfigError
from candlewick.exchanges.binance import BINANCE
from candlewick.exchanges.kraken import KRAKEN
from candlewick.exchanges.model import (
    Endpoint,
    ErrorCode,
    ExchangeFacts,
    FeeSchedule,
    FeeTier,
    RateLimit,
    Route,
    Stablecoin,
    Urls,
    WeightBand,
    WeightRule,
)

__all__ = [
    "BINANCE_ID",
    "EXCHANGES",
    "Endpoint",
    "ErrorCode",
    "ExchangeFacts",
    "FeeSchedule",
    "FeeTier",
    "RateLimit",
    "Route",
    "Stablecoin",
    "Urls",
    "WeightBand",
    "WeightRule",
    "exchange_ids",
    "get",
]

_ALL = (BINANCE, KRAKEN)

#: The exchange the emulator speaks and the project trades on first.
BINANCE_ID = BINANCE.id

#: Every known exchange's facts by ccxt id (read-only).
EXCHANGES: Mapping[str, ExchangeFacts] = MappingProxyType({facts.id: facts for facts in _ALL})


def get(exchange_id: str) -> ExchangeFacts:
    """The facts of ``exchange_id`` (a ccxt id such as "binance"); ConfigError if unknown."""
    try:
        return EXCHANGES[exchange_id.lower()]
    except KeyError:
        raise ConfigError(
            f"unknown exchange {exchange_id!r}: the exchange data package knows "
            f"{', '.join(sorted(EXCHANGES))}; add a module to candlewick/exchanges/ for another"
        ) from None


def exchange_ids() -> list[str]:
    """The ids of all exchanges with facts, sorted."""
    return sorted(EXCHANGES)
