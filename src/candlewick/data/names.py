"""Names in the candle store: pairs (``BTC/USDT``, perpetuals ``BTC/USDT:USDT``), their file-system
slugs (``BTC-USDT``, ``BTC-USDT-PERP``), exchange ids and timeframes, checked and normalised."""

from __future__ import annotations

import re

from candlewick.core.timeframes import timeframe_ms
from candlewick.errors import DataError

_PAIR = re.compile(r"^([A-Z0-9]+)/([A-Z0-9]+)(?::([A-Z0-9]+))?$")
_EXCHANGE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


def normalise_pair(pair: str) -> str:
    """``BTC/USDT`` or ``BTC/USDT:USDT`` in upper case; slugs (``btc-usdt-perp``) are accepted."""
    text = pair.strip().upper()
    if "/" not in text:
        parsed = pair_from_slug(text)
        if parsed is not None:
            return parsed
    if _PAIR.match(text) is None:
        raise DataError(
            f"pair {pair!r} is not understood: write BASE/QUOTE (BTC/USDT) or, for a linear "
            "perpetual, BASE/QUOTE:QUOTE (BTC/USDT:USDT)"
        )
    return text


def pair_slug(pair: str) -> str:
    """The file-system name of a pair: ``BTC-USDT``; ``BTC-USDT-PERP`` for ``BTC/USDT:USDT``.

    A perpetual settled in another currency than its quote (inverse, ``BTC/USD:BTC``) becomes
    ``BTC-USD-PERP-BTC``.
    """
    match = _PAIR.match(normalise_pair(pair))
    assert match is not None  # normalise_pair raised otherwise
    base, quote, settle = match.groups()
    if settle is None:
        return f"{base}-{quote}"
    return f"{base}-{quote}-PERP" if settle == quote else f"{base}-{quote}-PERP-{settle}"


def pair_from_slug(slug: str) -> str | None:
    """The pair a slug names (inverse of :func:`pair_slug`), or None when it is not one."""
    parts = slug.upper().split("-")
    if not all(re.fullmatch(r"[A-Z0-9]+", part) for part in parts):
        return None
    if len(parts) == 2 and parts[1] != "PERP":  # "BTC-PERP" does not say its quote
        return f"{parts[0]}/{parts[1]}"
    if len(parts) == 3 and parts[2] == "PERP":
        return f"{parts[0]}/{parts[1]}:{parts[1]}"
    if len(parts) == 4 and parts[2] == "PERP":
        return f"{parts[0]}/{parts[1]}:{parts[3]}"
    return None


def normalise_exchange(exchange: str) -> str:
    """The exchange id in lower case; raises DataError when it is not a plain identifier."""
    text = exchange.strip().lower()
    if _EXCHANGE.match(text) is None:
        raise DataError(f"exchange {exchange!r} is not a plain id such as binance or kraken")
    return text


def check_timeframe(timeframe: str) -> str:
    """``timeframe`` itself when it is understood, else DataError naming the accepted ones."""
    try:
        timeframe_ms(timeframe)
    except ValueError as exc:
        raise DataError(str(exc)) from exc
    return timeframe
