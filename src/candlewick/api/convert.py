"""Money crosses into the project as Decimal: from the exchange's own strings when ccxt kept
them (``info``), else from ccxt's floats by their shortest repr (exact for the short decimal
numbers exchanges send)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from candlewick.errors import ExchangeError


def to_decimal(value: Any) -> Decimal | None:
    """``value`` (str, int, float, Decimal or None) as a Decimal; None stays None."""
    if value is None or value == "":
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise ExchangeError(f"expected a number from the exchange, got the boolean {value!r}")
    try:
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value))
    except InvalidOperation:
        raise ExchangeError(f"expected a number from the exchange, got {value!r}") from None
    if not number.is_finite():
        raise ExchangeError(f"expected a finite number from the exchange, got {value!r}")
    return plain(number)


def plain(number: Decimal) -> Decimal:
    """``number`` without trailing zeros and without an exponent ("5.00000000" -> 5)."""
    reduced = number.normalize()
    exponent = reduced.as_tuple().exponent
    return reduced.quantize(Decimal(1)) if isinstance(exponent, int) and exponent > 0 else reduced


def pick(info: Mapping[str, Any] | None, key: str | None, fallback: Any) -> Decimal | None:
    """``info[key]`` (the exchange's string) when present, else ``fallback`` (ccxt's value)."""
    if info is not None and key is not None:
        raw = info.get(key)
        if raw is not None and raw != "":
            return to_decimal(raw)
    return to_decimal(fallback)
