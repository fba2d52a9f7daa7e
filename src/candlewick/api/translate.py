"""ccxt's exceptions translated into Candlewick's tree, where they enter the project.

Two tables decide, in this order:

1. the exchange's own error code quoted in ccxt's message (``{"code":-2010,...}`` on Binance),
   looked up in the exchange data package (it knows, e.g., that -1013 is a filter failure,
   an order rejection, where ccxt only says ``BadRequest``);
2. else :data:`CCXT_TO_PROJECT`, which lists **every** ccxt exception class explicitly (a
   test checks that none is missing, so a new ccxt class cannot slip through as a bare
   ``ExchangeError``).

Exceptions that are not ccxt's and not network errors (a ``TypeError``, a ``KeyError``) are
programming errors and are not translated.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass

import ccxt

from candlewick.errors import (
    AuthenticationError,
    CandlewickError,
    ExchangeError,
    ExchangeUnavailableError,
    InsufficientFundsError,
    OrderNotFoundError,
    OrderRejectedError,
    RateLimitError,
    UnknownSymbolError,
)
from candlewick.exchanges import ExchangeFacts

#: Every ccxt exception class and the project class it becomes.
CCXT_TO_PROJECT: Mapping[type[BaseException], type[ExchangeError]] = {
    # network: the call may be retried if it is safe to
    ccxt.DDoSProtection: RateLimitError,
    ccxt.RateLimitExceeded: RateLimitError,
    ccxt.RequestTimeout: ExchangeUnavailableError,
    ccxt.OnMaintenance: ExchangeUnavailableError,
    ccxt.ExchangeNotAvailable: ExchangeUnavailableError,
    ccxt.ChecksumError: ExchangeUnavailableError,
    ccxt.InvalidNonce: AuthenticationError,  # timestamp outside recvWindow / nonce
    ccxt.NetworkError: ExchangeUnavailableError,
    ccxt.NullResponse: ExchangeUnavailableError,
    ccxt.BadResponse: ExchangeUnavailableError,
    ccxt.CancelPending: ExchangeUnavailableError,
    ccxt.OperationFailed: ExchangeUnavailableError,
    # credentials and permissions
    ccxt.AccountNotEnabled: AuthenticationError,
    ccxt.PermissionDenied: AuthenticationError,
    ccxt.AccountSuspended: AuthenticationError,
    ccxt.AuthenticationError: AuthenticationError,
    # orders
    ccxt.InsufficientFunds: InsufficientFundsError,
    ccxt.OrderNotFound: OrderNotFoundError,
    ccxt.OrderNotCached: OrderNotFoundError,
    ccxt.OrderImmediatelyFillable: OrderRejectedError,
    ccxt.OrderNotFillable: OrderRejectedError,
    ccxt.DuplicateOrderId: OrderRejectedError,
    ccxt.ContractUnavailable: OrderRejectedError,
    ccxt.InvalidOrder: OrderRejectedError,
    ccxt.MarketClosed: OrderRejectedError,
    # markets
    ccxt.BadSymbol: UnknownSymbolError,
    # refused for another reason: not retryable, not an order rejection as such
    ccxt.BadRequest: ExchangeError,
    ccxt.ArgumentsRequired: ExchangeError,
    ccxt.NotSupported: ExchangeError,
    ccxt.NoChange: ExchangeError,
    ccxt.MarginModeAlreadySet: ExchangeError,
    ccxt.ManualInteractionNeeded: ExchangeError,
    ccxt.RestrictedLocation: ExchangeError,
    ccxt.OperationRejected: ExchangeError,
    ccxt.InvalidAddress: ExchangeError,
    ccxt.AddressPending: ExchangeError,
    ccxt.InvalidProxySettings: ExchangeError,
    ccxt.ExchangeClosedByUser: ExchangeError,
    ccxt.UnsubscribeError: ExchangeError,
    ccxt.ExchangeError: ExchangeError,
    ccxt.BaseError: ExchangeError,
}

# Failures below ccxt (it wraps most of them, but not every path does).
_TRANSPORT = (asyncio.TimeoutError, TimeoutError, ConnectionError)


@dataclass(frozen=True, slots=True)
class Translated:
    """A project exception and the exchange error code it was chosen by (None: by class)."""

    error: ExchangeError
    code: str | None


def project_class(exc_type: type[BaseException]) -> type[ExchangeError]:
    """The project class for a ccxt exception class (its nearest listed ancestor)."""
    for klass in exc_type.__mro__:
        mapped = CCXT_TO_PROJECT.get(klass)
        if mapped is not None:
            return mapped
    return ExchangeError


def translate(
    exc: BaseException,
    facts: ExchangeFacts,
    context: str,
    retry_after: float | None = None,
) -> Translated | None:
    """The project exception for ``exc`` raised by a call described by ``context``.

    ``retry_after`` (seconds, from the response's Retry-After header) is attached to rate
    limit errors. None when ``exc`` is not an exchange failure (a bug: let it propagate).
    """
    if isinstance(exc, CandlewickError):
        return Translated(exc, None) if isinstance(exc, ExchangeError) else None
    message = f"{context}: {type(exc).__name__}: {exc}".rstrip(": ")
    if isinstance(exc, ccxt.BaseError):
        code = facts.error_code_in(str(exc))
        entry = facts.error_for(code, str(exc)) if code is not None else None
        klass = entry.error if entry is not None else project_class(type(exc))
        if entry is not None:
            message += f" [{facts.id} {entry.name}: {entry.meaning}]"
    elif isinstance(exc, _TRANSPORT):
        code, klass = None, ExchangeUnavailableError
    else:
        return None
    if issubclass(klass, RateLimitError):
        return Translated(klass(message, retry_after=retry_after), code)
    return Translated(klass(message), code)
