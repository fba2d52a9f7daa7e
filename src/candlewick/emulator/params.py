"""Request parameters read as Binance reads them, refusing what Binance refuses.

* The query string and the form body are parsed separately; a parameter repeated inside one of
  them is -1101 "Duplicate values for a parameter detected." (one in both: the query's wins).
* Whole numbers (``LONG``/``INT``) must match ``^[0-9]{1,20}$`` exactly (-1100 naming the
  pattern); one above 2^63 - 1 is -1108 "Parameter '...' overflowed.". Times are then kept
  within year 9999 (Binance adjusts out-of-range ``startTime``/``endTime``).
* Decimals must match ``^([0-9]{1,20})(\\.[0-9]{1,20})?$`` (-1100).
* Client order ids must match ``^[\\.A-Z\\:/a-z0-9_-]{1,36}$`` (-1100); an empty one is -1118.
* ``symbols`` is a non-empty flat JSON array of names (-1130 otherwise).

Every pattern is matched in full (``re.fullmatch``): ``"7\\n"`` is not a number.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Mapping
from decimal import Decimal
from urllib.parse import parse_qsl

from candlewick.emulator import errors

INT64_MAX = 2**63 - 1
MAX_TIME_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z
_INT = re.compile(r"[0-9]{1,20}")
_DECIMAL = re.compile(r"([0-9]{1,20})(\.[0-9]{1,20})?")
_CLIENT_ID = re.compile(r"[.A-Z:/a-z0-9_-]{1,36}")


def parse_query(raw: str) -> dict[str, str]:
    """The parameters of a query string or form body; -1101 when one is repeated."""
    out: dict[str, str] = {}
    for key, value in parse_qsl(raw, keep_blank_values=True):
        if key in out:
            raise errors.duplicate_parameter()
        out[key] = value
    return out


def is_whole(raw: str) -> bool:
    """True when ``raw`` is a whole number as Binance writes one (``^[0-9]{1,20}$``)."""
    return _INT.fullmatch(raw) is not None


def int_param(params: Mapping[str, str], name: str, default: int | None = None) -> int | None:
    """A whole-number parameter, ``default`` when absent or empty; -1100 / -1108 when bad."""
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    if not is_whole(raw):
        raise errors.illegal_characters(name, "^[0-9]{1,20}$")
    value = int(raw)
    if value > INT64_MAX:
        raise errors.overflowed(name)
    return value


def time_param(params: Mapping[str, str], name: str) -> int | None:
    """A time parameter (ms), kept within year 9999; None when absent."""
    value = int_param(params, name)
    return None if value is None else min(value, MAX_TIME_MS)


def decimal_param(params: Mapping[str, str], name: str) -> Decimal | None:
    """A decimal parameter, None when absent or empty; -1100 unless a plain positive decimal."""
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    if _DECIMAL.fullmatch(raw) is None:
        raise errors.illegal_characters(name, "^([0-9]{1,20})(\\.[0-9]{1,20})?$")
    return Decimal(raw)


def client_order_id(params: Mapping[str, str], name: str = "newClientOrderId") -> str:
    """The client order id the request names, or a generated one when it names none."""
    raw = params.get(name)
    if raw is None:
        return generated_client_id()
    if raw == "":
        raise errors.ApiError(-1118, "New client order ID was empty.")
    if _CLIENT_ID.fullmatch(raw) is None:
        raise errors.illegal_characters(name, "^[\\.A-Z\\:/a-z0-9_-]{1,36}$")
    return raw


def generated_client_id() -> str:
    """A client order id as Binance generates one (22 characters)."""
    return secrets.token_urlsafe(16).replace("-", "x").replace("_", "y")[:22]


def symbol_list(params: Mapping[str, str]) -> list[str] | None:
    """The ``symbols`` parameter (a JSON array of names), None when absent; -1130 when bad."""
    raw = params.get("symbols")
    if raw is None:
        return None
    try:
        names = json.loads(raw)
    except (ValueError, RecursionError):
        raise errors.invalid_parameter("symbols") from None
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise errors.invalid_parameter("symbols")
    return [n.upper() for n in names]
