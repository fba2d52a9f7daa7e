"""ccxt's exceptions translated into the project's tree: every ccxt class, and the exchange's
error codes that refine what ccxt says."""

from __future__ import annotations

import inspect

import ccxt
import pytest

from candlewick import exchanges
from candlewick.api.translate import CCXT_TO_PROJECT, project_class, translate
from candlewick.errors import (
    AuthenticationError,
    ExchangeError,
    ExchangeUnavailableError,
    InsufficientFundsError,
    OrderNotFoundError,
    OrderRejectedError,
    RateLimitError,
    UnknownSymbolError,
)

BINANCE = exchanges.get("binance")
CCXT_CLASSES = sorted(
    (
        klass
        for _, klass in inspect.getmembers(ccxt, inspect.isclass)
        if issubclass(klass, ccxt.BaseError)
    ),
    key=lambda k: k.__name__,
)


def expected(klass: type[ccxt.BaseError]) -> type[ExchangeError]:
    """What each ccxt class should become, stated as rules (independently of the table)."""
    if issubclass(klass, ccxt.DDoSProtection | ccxt.RateLimitExceeded):
        return RateLimitError
    if issubclass(klass, ccxt.ChecksumError):
        return ExchangeUnavailableError  # an order-book stream out of sequence: resubscribe
    if issubclass(klass, ccxt.InvalidNonce | ccxt.AuthenticationError):
        return AuthenticationError  # fixing the clock or the key is needed; retrying is not
    if issubclass(klass, ccxt.OperationFailed):
        return ExchangeUnavailableError  # network, timeouts, 5xx, garbled answers
    if issubclass(klass, ccxt.InsufficientFunds):
        return InsufficientFundsError
    if issubclass(klass, ccxt.OrderNotFound | ccxt.OrderNotCached):
        return OrderNotFoundError
    if issubclass(klass, ccxt.InvalidOrder | ccxt.MarketClosed):
        return OrderRejectedError
    if issubclass(klass, ccxt.BadSymbol):
        return UnknownSymbolError
    return ExchangeError


def test_every_ccxt_exception_class_is_listed() -> None:
    assert len(CCXT_CLASSES) >= 41
    missing = [k.__name__ for k in CCXT_CLASSES if k not in CCXT_TO_PROJECT]
    assert missing == [], f"add these ccxt classes to CCXT_TO_PROJECT: {missing}"


@pytest.mark.parametrize("klass", CCXT_CLASSES, ids=lambda k: k.__name__)
def test_each_ccxt_class_translates_as_its_meaning(klass: type[ccxt.BaseError]) -> None:
    result = translate(klass("binance something went wrong"), BINANCE, "binance fetch_x")
    assert result is not None and result.code is None
    assert type(result.error) is expected(klass)
    assert str(result.error).startswith(f"binance fetch_x: {klass.__name__}: binance something")


def test_a_subclass_unknown_to_the_table_takes_its_nearest_ancestor() -> None:
    new_timeout = type("NewTimeout", (ccxt.RequestTimeout,), {})
    assert project_class(new_timeout) is ExchangeUnavailableError


def test_rate_limit_errors_carry_retry_after() -> None:
    exc = ccxt.DDoSProtection('binance 429 Too Many Requests {"code":-1003,"msg":"Too much"}')
    result = translate(exc, BINANCE, "binance fetch_balance", retry_after=12.0)
    assert result is not None and isinstance(result.error, RateLimitError)
    assert result.error.retry_after == 12.0 and result.code == "-1003"


@pytest.mark.parametrize(
    ("klass", "body", "project"),
    [
        (ccxt.BadRequest, '{"code":-1013,"msg":"Filter failure: NOTIONAL"}', OrderRejectedError),
        (
            ccxt.InvalidOrder,
            '{"code":-2010,"msg":"Account has insufficient balance for requested action."}',
            InsufficientFundsError,
        ),
        (ccxt.InvalidOrder, '{"code":-2010,"msg":"Market is closed."}', OrderRejectedError),
        (ccxt.OrderNotFound, '{"code":-2011,"msg":"Unknown order sent."}', OrderNotFoundError),
        (ccxt.OperationFailed, '{"code":-1007,"msg":"Timeout waiting"}', ExchangeUnavailableError),
        (ccxt.InvalidNonce, '{"code":-1021,"msg":"Timestamp outside"}', AuthenticationError),
        (ccxt.DDoSProtection, '{"code":-1015,"msg":"Too many new orders."}', RateLimitError),
        (ccxt.BadSymbol, '{"code":-1121,"msg":"Invalid symbol."}', UnknownSymbolError),
    ],
)
def test_binance_codes_refine_ccxt_classes(
    klass: type[ccxt.BaseError], body: str, project: type[ExchangeError]
) -> None:
    result = translate(klass(f"binance {body}"), BINANCE, "binance create_order BTC/USDC")
    assert result is not None and type(result.error) is project
    assert result.code == body.split(":")[1].split(",")[0]
    assert "[binance " in str(result.error)  # the code's name and meaning are quoted


# Where we knowingly differ from ccxt, and why.
DELIBERATE = {"-1112": "no orders on the book refuses the order: an at-once retry cannot help"}


def test_our_code_table_agrees_with_ccxt_on_what_may_be_retried() -> None:
    ccxt_exact = ccxt.binance().exceptions["exact"]
    checked = 0
    for entry in BINANCE.error_codes:
        ccxt_class = ccxt_exact.get(entry.code)
        if ccxt_class is None or entry.code in DELIBERATE:
            continue
        ours = issubclass(entry.error, ExchangeUnavailableError)
        theirs = issubclass(project_class(ccxt_class), ExchangeUnavailableError)
        assert ours == theirs, (entry.code, entry.error, ccxt_class)
        checked += 1
    assert checked >= 25


def test_transport_failures_outside_ccxt_are_unavailability() -> None:
    result = translate(TimeoutError(), BINANCE, "binance fetch_time")
    assert result is not None and isinstance(result.error, ExchangeUnavailableError)
    assert translate(ConnectionResetError(), BINANCE, "x") is not None


def test_programming_errors_and_project_errors_pass_through() -> None:
    assert translate(TypeError("bad argument"), BINANCE, "x") is None
    own = OrderRejectedError("already ours")
    result = translate(own, BINANCE, "x")
    assert result is not None and result.error is own
