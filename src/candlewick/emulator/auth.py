"""Signed requests as Binance checks them: API key, HMAC-SHA256 signature, timestamp window.

The signed payload is the raw query string followed, without a separator, by the raw form body,
both without their ``signature`` parameter; the signature is the hex HMAC-SHA256 of the payload
keyed by the account's secret (compared case-insensitively). The WS-API signs its ``params``
sorted by name and joined as ``k=v&...``. ``timestamp`` (whole ms) is checked against the
**wall clock** (the server time): refused when 1000 ms or more ahead of it, or older than
``recvWindow`` (ms with up to three decimals, default 5000, at most 60000); either written
otherwise is -1102.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping

from candlewick.emulator import errors

DEFAULT_RECV_WINDOW = 5000.0
MAX_RECV_WINDOW = 60000.0
_WHOLE = re.compile(r"[0-9]{1,20}")
_WINDOW = re.compile(r"[0-9]{1,20}(\.[0-9]{1,3})?")  # ms, up to three decimals (Binance)


def _without_signature(raw: str) -> tuple[str, str | None]:
    if not raw:
        return "", None
    kept: list[str] = []
    signature: str | None = None
    for part in raw.split("&"):
        if part.startswith("signature="):
            signature = part[len("signature=") :]
        else:
            kept.append(part)
    return "&".join(kept), signature


def sign(secret: str, payload: str) -> str:
    """The hex HMAC-SHA256 of ``payload``."""
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def rest_payload(query_raw: str, body_raw: str) -> tuple[str, str | None]:
    """The signed payload of a REST request and the signature it carries (None: none)."""
    query, query_sig = _without_signature(query_raw)
    body, body_sig = _without_signature(body_raw)
    return query + body, query_sig if query_sig is not None else body_sig


def ws_payload(params: Mapping[str, object]) -> str:
    """The signed payload of a WS-API request: params but ``signature``, sorted, ``k=v&...``."""
    return "&".join(f"{k}={_text(v)}" for k, v in sorted(params.items()) if k != "signature")


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def check_signature(secret: str, payload: str, signature: str | None) -> None:
    """Raise -1102 (missing) or -1022 (wrong) unless ``signature`` signs ``payload``."""
    if not signature:
        raise errors.mandatory("signature")
    if not hmac.compare_digest(sign(secret, payload), signature.lower()):
        raise errors.bad_signature()


def check_timestamp(params: Mapping[str, object], server_ms: int) -> None:
    """Raise -1102, -1131 or -1021 unless ``timestamp`` is inside ``recvWindow``."""
    raw_timestamp = str(params.get("timestamp", ""))
    if _WHOLE.fullmatch(raw_timestamp) is None:
        raise errors.mandatory("timestamp")
    timestamp = int(raw_timestamp)
    raw_window = str(params.get("recvWindow", DEFAULT_RECV_WINDOW))
    if _WINDOW.fullmatch(raw_window) is None:
        raise errors.mandatory("recvWindow")
    window = float(raw_window)
    if not 0 < window <= MAX_RECV_WINDOW:
        raise errors.bad_recv_window()
    if timestamp >= server_ms + 1000:
        raise errors.timestamp_ahead()
    if server_ms - timestamp > window:
        raise errors.timestamp_outside_window()


def api_key_account(keys: Mapping[str, tuple[str, str]], api_key: str | None) -> tuple[str, str]:
    """``(account, secret)`` of ``api_key``; -2014 when absent, -2015 when unknown."""
    if not api_key:
        raise errors.bad_key_format()
    found = keys.get(api_key)
    if found is None:
        raise errors.rejected_key()
    return found
