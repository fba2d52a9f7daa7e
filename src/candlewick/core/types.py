"""Domain types of the core: candles as arrays, trades, backtest results.

Market data and indicators are float64 arrays; every amount that touches an account
(cash, quantities, prices of fills, fees, P&L) is a :class:`~decimal.Decimal`.
All timestamps are integer milliseconds since the Unix epoch, UTC, and a candle's
timestamp is its **open** time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
BoolArr = npt.NDArray[np.bool_]

OHLCV_COLUMNS = ("open", "high", "low", "close", "volume")


@dataclass(frozen=True, slots=True)
class Candles:
    """One series of candles (one exchange, pair and timeframe) as parallel arrays.

    ``timestamp`` is the open time of each bar in ms UTC, strictly increasing.
    """

    exchange: str
    pair: str
    timeframe: str
    timestamp: I64
    open: F64
    high: F64
    low: F64
    close: F64
    volume: F64

    def __len__(self) -> int:
        return int(self.timestamp.shape[0])

    def slice(self, start: int, stop: int) -> Candles:
        """The bars ``[start, stop)`` as a new series sharing memory with this one."""
        return Candles(
            self.exchange,
            self.pair,
            self.timeframe,
            self.timestamp[start:stop],
            self.open[start:stop],
            self.high[start:stop],
            self.low[start:stop],
            self.close[start:stop],
            self.volume[start:stop],
        )

    def column(self, name: str) -> F64:
        """One of open, high, low, close, volume by name."""
        if name not in OHLCV_COLUMNS:
            raise KeyError(f"no candle column {name!r}; columns are {', '.join(OHLCV_COLUMNS)}")
        value: F64 = getattr(self, name)
        return value


class ExitReason(StrEnum):
    """Why a position was closed."""

    SIGNAL = "signal"
    STOP_LOSS = "stop_loss"
    TAKE_PROFIT = "take_profit"
    TRAILING_STOP = "trailing_stop"
    TIME_STOP = "time_stop"
    END_OF_DATA = "end_of_data"


@dataclass(frozen=True, slots=True)
class Trade:
    """One closed long position (spot: buy, then sell).

    Fees follow Binance spot: the buy's fee is taken from the base asset received, the sell's
    fee from the quote asset received. ``qty`` is the base amount bought before the fee,
    ``qty_net`` what was held and later sold.
    """

    pair: str
    signal_ts: int
    entry_ts: int
    exit_ts: int
    entry_price: Decimal
    exit_price: Decimal
    qty: Decimal
    qty_net: Decimal
    cost: Decimal
    proceeds: Decimal
    entry_fee: Decimal
    exit_fee: Decimal
    exit_reason: ExitReason
    bars_held: int

    @property
    def pnl(self) -> Decimal:
        """Net profit in quote units: what the sale brought in minus what the buy cost."""
        return self.proceeds - self.cost

    @property
    def return_pct(self) -> float:
        """Net return of the trade as a fraction of its cost."""
        return float(self.pnl / self.cost) if self.cost else 0.0

    @property
    def fees_quote(self) -> Decimal:
        """Both fees valued in quote units (the buy fee at the entry price)."""
        return self.entry_fee * self.entry_price + self.exit_fee


@dataclass(frozen=True, slots=True)
class Rejection:
    """An entry signal that did not become a trade, and why."""

    pair: str
    signal_ts: int
    reason: str


@dataclass(frozen=True, slots=True)
class BacktestResult:
    """Everything a backtest produced: trades, the equity curve and the account at the end.

    ``timestamp``/``equity``/``exposure`` are sampled at the close of every bar of the
    portfolio's clock (the union of the pairs' bars); ``equity`` marks open positions at
    that close, ``exposure`` is the fraction of equity held in positions. ``bars`` counts
    the bars of all pairs together (the work done); the clock's length is ``len(timestamp)``.
    ``halted_at`` is the time of the close at which the max-drawdown breaker tripped.
    """

    pairs: tuple[str, ...]
    timeframe: str
    quote: str
    initial_cash: Decimal
    final_cash: Decimal
    trades: tuple[Trade, ...]
    timestamp: I64
    equity: F64
    exposure: F64
    rejections: tuple[Rejection, ...] = ()
    halted_at: int | None = None
    bars: int = 0
    meta: dict[str, str] = field(default_factory=dict)

    @property
    def final_equity(self) -> Decimal:
        """Cash at the end; every position is closed on the last bar, so this is the equity."""
        return self.final_cash

    @property
    def fees_paid(self) -> Decimal:
        """All fees of all trades, in quote units."""
        return sum((t.fees_quote for t in self.trades), Decimal(0))


@dataclass(frozen=True, slots=True)
class RunRecord:
    """A stored run: what was run (config snapshot, data range) and what it produced.

    ``metrics`` is a JSON-able mapping (see ``candlewick.core.metrics``); ``result`` holds the
    trades and the equity curve.
    """

    run_id: str
    kind: str
    name: str
    created_at: int
    config: dict[str, Any]
    exchange: str
    pairs: tuple[str, ...]
    timeframe: str
    start_ts: int
    end_ts: int
    metrics: dict[str, Any]
    result: BacktestResult
