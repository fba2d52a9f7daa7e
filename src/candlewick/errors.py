"""The one exception tree of Candlewick.

Every error the project raises on purpose derives from :class:`CandlewickError`, so a caller
(the CLI, a bot supervisor) can catch the whole family in one place and show its message
without a traceback. Errors from libraries (ccxt, SQLAlchemy, pyarrow) are translated into
these classes where they enter the project.

```
CandlewickError
├── ConfigError            bad configuration: names the field, the value and the fix
├── DataError              market data missing, malformed or inconsistent
│   └── DataNotFoundError  nothing stored for the requested exchange/pair/timeframe
├── IndicatorError         unknown indicator, bad parameter, missing input column
├── StrategyError          unknown setup or filter, or one that returned a bad result
├── RiskError              a rule of the risk manager or sizing could not be applied
├── BacktestError          the backtest could not run (no bars, bad alignment)
├── StorageError           the database could not be reached or migrated
│   └── RunNotFoundError   no stored run with that id
└── ExchangeError          an exchange call failed (translated from ccxt where it enters)
    ├── ExchangeUnavailableError   network error, timeout, 5xx: the call may be retried if safe
    │   └── RateLimitError       429/418 or a local budget refusal; ``retry_after`` seconds
    ├── AuthenticationError  bad API key or signature, timestamp outside recvWindow
    ├── OrderRejectedError         the exchange refused the order (filters, parameters)
    │   └── InsufficientFundsError not enough free balance
    ├── OrderNotFoundError         no such order on the exchange
    ├── UnknownSymbolError         the exchange does not list the market
    └── OrderStatusUnknownError    a timeout after sending an order: look it up, never resend
```
"""

from __future__ import annotations


class CandlewickError(Exception):
    """Base class of every error Candlewick raises on purpose."""


class ConfigError(CandlewickError):
    """A configuration file or value is invalid; the message names the field and the fix."""


class DataError(CandlewickError):
    """Market data is missing, malformed or inconsistent."""


class DataNotFoundError(DataError):
    """Nothing is stored for the requested exchange, pair and timeframe."""


class IndicatorError(CandlewickError):
    """An indicator is unknown, has a bad parameter or lacks an input column."""


class StrategyError(CandlewickError):
    """A setup or filter is unknown, misconfigured, or returned a malformed result."""


class RiskError(CandlewickError):
    """A risk or sizing rule could not be applied."""


class BacktestError(CandlewickError):
    """The backtest could not run."""


class StorageError(CandlewickError):
    """The database could not be reached, read or migrated."""


class RunNotFoundError(StorageError):
    """No stored run has the requested id."""


class ExchangeError(CandlewickError):
    """An exchange call failed; subclasses say whether and how to go on."""


class ExchangeUnavailableError(ExchangeError):
    """The exchange could not be reached or answered with a server error (retry if safe)."""


class RateLimitError(ExchangeUnavailableError):
    """A rate limit was hit (HTTP 429/418) or a local budget refused the call."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class AuthenticationError(ExchangeError):
    """The API key, the signature or the request timestamp was refused."""


class OrderRejectedError(ExchangeError):
    """The exchange refused the order (a filter, a parameter, the market's state)."""


class InsufficientFundsError(OrderRejectedError):
    """The account's free balance does not cover the order."""


class OrderNotFoundError(ExchangeError):
    """The exchange has no such order."""


class UnknownSymbolError(ExchangeError):
    """The exchange does not list the market."""


class OrderStatusUnknownError(ExchangeError):
    """An order request timed out after it may have reached the exchange: look it up by its
    client order id, never send it again blindly."""
