"""Binance's error answers, verbatim: ``{"code": ..., "msg": ...}`` with Binance's HTTP status.

ccxt maps the code (and for a few, the exact message) to its exception classes, so the texts
here are copied from Binance's ``errors.md`` character for character; do not reword them.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An answer the emulator sends instead of a result: Binance's code, message and status."""

    def __init__(
        self,
        code: int,
        msg: str,
        status: int = 400,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{code} {msg}")
        self.code = code
        self.msg = msg
        self.status = status
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        """The JSON body Binance sends."""
        return {"code": self.code, "msg": self.msg}


def unknown() -> ApiError:
    """-1000: an unexpected failure inside the emulator."""
    return ApiError(-1000, "An unknown error occurred while processing the request.", 500)


def too_much_weight(limit: int, retry_after: int) -> ApiError:
    """-1003 with HTTP 429: the IP used more request weight than the minute allows."""
    return ApiError(
        -1003,
        f"Too much request weight used; current limit is {limit} request weight per 1 MINUTE. "
        "Please use WebSocket Streams for live updates to avoid polling the API.",
        429,
        {"Retry-After": str(retry_after)},
    )


def banned(until_ms: int, retry_after: int) -> ApiError:
    """-1003 with HTTP 418: the IP kept going after 429s and is banned until ``until_ms``."""
    return ApiError(
        -1003,
        f"Way too much request weight used; IP banned until {until_ms}. "
        "Please use WebSocket Streams for live updates to avoid bans.",
        418,
        {"Retry-After": str(retry_after)},
    )


def too_many_orders(limit: int, interval: str) -> ApiError:
    """-1015 with HTTP 429: the account placed too many orders in the window."""
    return ApiError(
        -1015, f"Too many new orders; current limit is {limit} orders per {interval}.", 429
    )


def timestamp_outside_window() -> ApiError:
    """-1021: the request's timestamp is older than recvWindow."""
    return ApiError(-1021, "Timestamp for this request is outside of the recvWindow.")


def timestamp_ahead() -> ApiError:
    """-1021: the request's timestamp is 1 s or more ahead of the server's clock."""
    return ApiError(-1021, "Timestamp for this request was 1000ms ahead of the server's time.")


def bad_signature() -> ApiError:
    """-1022: the HMAC signature does not match the payload."""
    return ApiError(-1022, "Signature for this request is not valid.")


def illegal_characters(param: str, pattern: str) -> ApiError:
    """-1100: a parameter does not match its legal pattern."""
    return ApiError(
        -1100, f"Illegal characters found in parameter '{param}'; legal range is '{pattern}'."
    )


def too_many_parameters() -> ApiError:
    """-1101: the request is larger than the server reads (413: the body)."""
    return ApiError(-1101, "Too many parameters sent for this endpoint.", 413)


def duplicate_parameter() -> ApiError:
    """-1101: a parameter was sent twice."""
    return ApiError(-1101, "Duplicate values for a parameter detected.")


def overflowed(param: str) -> ApiError:
    """-1108: a whole number above what a 64-bit integer holds."""
    return ApiError(-1108, f"Parameter '{param}' overflowed.")


def mandatory(param: str) -> ApiError:
    """-1102: a required parameter is missing or malformed."""
    return ApiError(
        -1102, f"Mandatory parameter '{param}' was not sent, was empty/null, or malformed."
    )


def one_of(first: str, second: str) -> ApiError:
    """-1102: neither of two alternative parameters was sent."""
    return ApiError(-1102, f"Param '{first}' or '{second}' must be sent, but both were empty/null!")


def not_required(param: str) -> ApiError:
    """-1106: a parameter was sent that this order type does not take."""
    return ApiError(-1106, f"Parameter '{param}' sent when not required.")


def invalid_tif() -> ApiError:
    """-1115."""
    return ApiError(-1115, "Invalid timeInForce.")


def invalid_order_type() -> ApiError:
    """-1116."""
    return ApiError(-1116, "Invalid orderType.")


def invalid_side() -> ApiError:
    """-1117."""
    return ApiError(-1117, "Invalid side.")


def bad_interval() -> ApiError:
    """-1120."""
    return ApiError(-1120, "Invalid interval.")


def bad_symbol() -> ApiError:
    """-1121."""
    return ApiError(-1121, "Invalid symbol.")


def invalid_parameter(param: str) -> ApiError:
    """-1130: a parameter's value is out of range."""
    return ApiError(-1130, f"Data sent for parameter '{param}' is not valid.")


def more_than_hours(hours: int) -> ApiError:
    """-1127: the time range of a history query is too long."""
    return ApiError(-1127, f"More than {hours} hours between startTime and endTime.")


def bad_combination() -> ApiError:
    """-1128: optional parameters that may not be sent together."""
    return ApiError(-1128, "Combination of optional parameters invalid.")


def bad_recv_window() -> ApiError:
    """-1131 (from Binance's 2019 changelog): recvWindow above 60000."""
    return ApiError(-1131, "recvWindow must be less than 60000")


def filter_failure(name: str) -> ApiError:
    """-1013: an order failed one of the symbol's filters (PRICE_FILTER, LOT_SIZE, NOTIONAL)."""
    return ApiError(-1013, f"Filter failure: {name}")


def order_rejected(text: str) -> ApiError:
    """-2010 with one of the matching engine's texts."""
    return ApiError(-2010, text)


INSUFFICIENT_BALANCE = "Account has insufficient balance for requested action."
DUPLICATE_ORDER = "Duplicate order sent."
WOULD_TRIGGER = "Order would trigger immediately."
WOULD_TAKE = "Order would immediately match and take."


def cancel_unknown() -> ApiError:
    """-2011: cancel of an order that does not exist (or is no longer open)."""
    return ApiError(-2011, "Unknown order sent.")


def no_such_order() -> ApiError:
    """-2013: query of an order that does not exist."""
    return ApiError(-2013, "Order does not exist.")


def bad_key_format() -> ApiError:
    """-2014 (HTTP 401): no API key or a malformed one."""
    return ApiError(-2014, "API-key format invalid.", 401)


def rejected_key() -> ApiError:
    """-2015 (HTTP 401): the API key is unknown."""
    return ApiError(-2015, "Invalid API-key, IP, or permissions for action.", 401)
