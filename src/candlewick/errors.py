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
└── StorageError           the database could not be reached or migrated
    └── RunNotFoundError   no stored run with that id
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
