"""The backtest engine: a multi-pair long-only spot portfolio with shared cash.

It walks *events* (entries and exits), not bars: each pair's next entry is the next entry
signal after it became flat, found with a precomputed index; each position's exit is planned
at entry by :func:`candlewick.backtest.exits.plan_exit` (a vectorised search). Events of all
pairs are merged in time order with a heap, so cash, open-position limits, exposure caps and
breakers see the portfolio exactly as it was at that moment. Account values are Decimal; the
equity curve (a float64 array for reports and breakers) is built from per-trade slices.

Events at the same timestamp run in this order: exits at the open, entries at the open,
intrabar exits (stops, take-profits), the end-of-data close.
"""

from __future__ import annotations

import gc
import heapq
import math
from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Context, Decimal, localcontext
from typing import Any

import numpy as np

from candlewick.backtest.book import build_book
from candlewick.backtest.exits import REASONS, PlannedExit, PlannedExits, plan_exits
from candlewick.core.fills import (
    ZERO,
    Fees,
    Precision,
    Slippage,
    dec,
    market_buy,
    market_sell_price,
    sell,
)
from candlewick.core.timeframes import timeframe_ms
from candlewick.core.types import (
    F64,
    I64,
    BacktestResult,
    BoolArr,
    Candles,
    ExitReason,
    Rejection,
    Trade,
)
from candlewick.errors import BacktestError
from candlewick.risk.limits import DAY_MS, Breakers, GateState, PortfolioLimits, cap_spend
from candlewick.risk.rules import ExitRules
from candlewick.risk.sizing import SIZING, SizingContext

_EXIT_AT_OPEN, _ENTRY, _EXIT_INTRABAR, _EXIT_AT_CLOSE = 0, 1, 2, 3
#: Plan the exits of all entry signals up front when there are at most this many bars per signal.
_BATCH_BELOW = 1 / 16


@dataclass(frozen=True, slots=True)
class PairData:
    """One pair's candles and the final entry/exit signals (decided at each bar's close)."""

    candles: Candles
    entry: BoolArr
    exit: BoolArr
    atr: F64 | None = None
    precision: Precision = field(default_factory=Precision)


@dataclass(frozen=True, slots=True)
class BacktestSettings:
    """Account, costs and risk of a backtest."""

    initial_cash: Decimal
    quote: str = "USDT"
    fees: Fees = field(default_factory=Fees)
    slippage: Slippage = field(default_factory=Slippage)
    exit_rules: ExitRules = field(default_factory=ExitRules)
    limits: PortfolioLimits = field(default_factory=PortfolioLimits)
    sizing: str = "all_in"
    sizing_params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class _Position:
    pair: int
    signal_bar: int
    entry_bar: int
    planned: PlannedExit
    qty: Decimal
    qty_net: Decimal
    cost: Decimal
    price: Decimal
    fee: Decimal
    qty_float: float


@dataclass(frozen=True, slots=True)
class _Planned:
    """Exits planned for every entry signal of a pair, in the order of ``signals`` (bars).

    Plain lists: the walk reads one entry per trade, and list items are several times
    cheaper to read than numpy scalars (about 30 bytes per value and signal).
    """

    signals: list[int]
    bar: list[int]
    price: list[float]
    reason: list[int]
    at_open: list[bool]
    stop: list[float]

    @classmethod
    def of(cls, signals: I64, plans: PlannedExits) -> _Planned:
        """Lists of the planned exits of the entries signalled at ``signals``."""
        return cls(
            signals.tolist(),
            plans.bar.tolist(),
            plans.price.tolist(),
            plans.reason.tolist(),
            plans.at_open.tolist(),
            plans.stop.tolist(),
        )

    def get(self, signal_bar: int) -> tuple[PlannedExit, float]:
        """The planned exit and the stop level of the entry signalled at ``signal_bar``."""
        k = bisect_left(self.signals, signal_bar)
        planned = PlannedExit(self.bar[k], self.price[k], REASONS[self.reason[k]], self.at_open[k])
        return planned, self.stop[k]


def run_backtest(pairs: Sequence[PairData], settings: BacktestSettings) -> BacktestResult:
    """Run the portfolio over all pairs and return trades, equity curve and final account."""
    if not pairs:
        raise BacktestError("no pairs to backtest")
    timeframes = {p.candles.timeframe for p in pairs}
    if len(timeframes) > 1:
        raise BacktestError(
            f"all pairs must share one timeframe, got {', '.join(sorted(timeframes))}"
        )
    for p in pairs:
        n, name = len(p.candles), p.candles.pair
        if n < 2:
            raise BacktestError(f"{name}: need at least 2 bars, got {n}")
        if p.entry.shape[0] != n or p.exit.shape[0] != n:
            raise BacktestError(f"{name}: signal length differs from the candles")
        if p.atr is not None and p.atr.shape[0] != n:
            raise BacktestError(f"{name}: ATR length differs from the candles")
        if settings.exit_rules.needs_atr and p.atr is None:
            raise BacktestError(f"{name}: ATR-based exits need an ATR column")
        if not (np.diff(p.candles.timestamp) > 0).all():
            raise BacktestError(f"{name}: timestamps must strictly increase")
    # Account values must not depend on a caller's (or a plugin's) decimal context.
    # The walk allocates many small acyclic objects (trades, decimals): the cyclic garbage
    # collector would only rescan them over and over, so it is paused for the walk.
    collecting = gc.isenabled()
    gc.disable()
    try:
        with localcontext(Context(prec=28, rounding=ROUND_HALF_EVEN)):
            return _Walk(pairs, settings).run()
    finally:
        if collecting:
            gc.enable()


class _Walk:
    """One run of the event walk (private: state lives only for the call)."""

    def __init__(self, pairs: Sequence[PairData], settings: BacktestSettings) -> None:
        self.pairs = pairs
        self.s = settings
        try:
            sizing = SIZING.entry(settings.sizing)
        except KeyError as exc:
            raise BacktestError(str(exc.args[0])) from None
        self.sizing = sizing.func
        self.keep_returns = bool(sizing.meta.get("needs_history"))
        # Signal positions only (not per-bar indexes): memory grows with signals, not bars.
        self.entry_bars = [np.flatnonzero(p.entry).tolist() for p in pairs]
        self.sizes = [len(p.candles) for p in pairs]
        self.exit_bars = [np.flatnonzero(p.exit) for p in pairs]
        self.book = build_book(pairs)
        self.book.running_cash = float(settings.initial_cash)
        self.cash = settings.initial_cash
        self.open: dict[int, _Position] = {}
        self.trades: list[Trade] = []
        self.rejections: list[Rejection] = []
        self.closed_returns: list[float] = []
        self.heap: list[tuple[int, int, int, int, int]] = []
        self.seq = 0
        self.dust: dict[str, Decimal] = {}
        self.watch = settings.limits.needs_equity_path
        self.breakers = Breakers(
            settings.limits,
            float(settings.initial_cash),
            bar_ms=timeframe_ms(pairs[0].candles.timeframe),
        )
        self.held: list[list[tuple[int, int, float]]] = [[] for _ in pairs]
        self.flows_at: list[int] = []
        self.flows: list[float] = []
        self.planned = [
            self._plan_all(p, exits) for p, exits in zip(pairs, self.exit_bars, strict=True)
        ]

    def _plan_all(self, data: PairData, exit_bars: I64) -> _Planned | None:
        """Exits of every entry signal at once, when signals are sparse (None when dense)."""
        n = len(data.candles)
        signals = np.flatnonzero(data.entry[: n - 1])
        if signals.shape[0] > n * _BATCH_BELOW:
            return None
        c = data.candles
        atr = None if data.atr is None else data.atr[signals]
        plans = plan_exits(
            c.open, c.high, c.low, c.close, exit_bars, signals + 1, self.s.exit_rules, atr
        )
        return _Planned.of(signals, plans)

    # -- event queue -------------------------------------------------------------------
    def _push(self, ts: int, phase: int, pair: int, bar: int) -> None:
        self.seq += 1
        heapq.heappush(self.heap, (ts, phase, self.seq, pair, bar))

    def _schedule_entry(self, pair: int, from_bar: int) -> None:
        n = self.sizes[pair]
        if from_bar >= n:
            return
        bars = self.entry_bars[pair]
        k = bisect_left(bars, from_bar)
        signal = bars[k] if k < len(bars) else n
        if signal <= n - 2:
            self.seq += 1
            ts = int(self.pairs[pair].candles.timestamp[signal + 1])
            heapq.heappush(self.heap, (ts, _ENTRY, self.seq, pair, signal))

    def run(self) -> BacktestResult:
        """Process every event in time order and build the result."""
        for pair in range(len(self.pairs)):
            self._schedule_entry(pair, 0)
        while self.heap:
            _ts, phase, _, pair, bar = heapq.heappop(self.heap)
            if self.watch:
                self._advance(self.book.grid_pos(pair, bar if phase != _ENTRY else bar + 1))
            if phase == _ENTRY:
                self._enter(pair, bar)
            else:
                self._exit(pair)
        if self.watch:
            self._advance(self.book.grid.shape[0])
        return self._result()

    # -- equity ----------------------------------------------------------------------------
    def _advance(self, upto: int) -> None:
        """Feed the breakers the equity of the closes before grid index ``upto`` (watch mode)."""
        book = self.book
        start = book.filled
        if upto <= start:
            return
        cash = book.running_cash + np.cumsum(book.cash_delta[start:upto])
        book.running_cash = float(cash[-1])
        self.breakers.observe(book.grid[start:upto], cash + book.value[start:upto])
        book.filled = upto

    def _cash_flow(self, at: int, amount: float) -> None:
        """Book a cash movement at grid index ``at`` for the equity curve."""
        if self.watch:  # the breakers read the curve as it is built
            self.book.cash_delta[at] += amount
        else:  # applied in one vectorised step at the end
            self.flows_at.append(at)
            self.flows.append(amount)

    def _marked_exposure(self, at: int) -> Decimal:
        """Open positions at the last close before grid index ``at``.

        A cap and sizing input, not an account value: summed in float, converted once.
        """
        if not self.open or at <= 0:
            return ZERO
        closes = self.book.closes
        total = 0.0
        for pos in self.open.values():
            mark = closes[pos.pair][at - 1]
            if mark == mark:  # not NaN: the pair has traded by then
                total += pos.qty_float * mark
        return Decimal(repr(float(total)))

    # -- entries ---------------------------------------------------------------------------
    def _reject(self, pair: int, signal_bar: int, reason: str) -> None:
        candles = self.pairs[pair].candles
        self.rejections.append(Rejection(candles.pair, int(candles.timestamp[signal_bar]), reason))

    def _enter(self, pair: int, signal_bar: int) -> None:
        data = self.pairs[pair]
        candles = data.candles
        e = signal_bar + 1
        ts = int(candles.timestamp[e])
        limits = self.s.limits
        gate = self.breakers.state(ts) if self.watch else GateState.ACTIVE
        if gate is GateState.HALTED:
            self._reject(pair, signal_bar, "halted: max drawdown breaker tripped")
            return  # no more entries for this pair in this run
        if gate is GateState.HALTED_TODAY:
            self._reject(pair, signal_bar, "halted for the day: daily loss limit")
            next_day = np.searchsorted(candles.timestamp, (ts // DAY_MS + 1) * DAY_MS)
            self._schedule_entry(pair, max(signal_bar + 1, int(next_day) - 1))
            return
        if limits.max_open_positions is not None and len(self.open) >= limits.max_open_positions:
            self._reject(pair, signal_bar, f"max open positions ({limits.max_open_positions})")
            self._schedule_entry(pair, signal_bar + 1)
            return
        g = self.book.grid_pos(pair, e)
        exposure = self._marked_exposure(g)
        equity = self.cash + exposure
        entry_ref = float(candles.open[e])
        planned, stop = self._plan(pair, signal_bar)
        ctx = SizingContext(
            cash=self.cash,
            equity=equity,
            price=entry_ref,
            stop_distance=(entry_ref - stop) / entry_ref if math.isfinite(stop) else None,
            closed_returns=self.closed_returns,
        )
        wanted = self.sizing(ctx, self.s.sizing_params)
        spend = cap_spend(wanted, self.cash, equity, exposure, limits)
        # Participation is measured against the signal bar's volume: the last one known.
        fill = (
            market_buy(
                spend,
                entry_ref,
                float(candles.volume[signal_bar]),
                self.s.fees,
                self.s.slippage,
                data.precision,
            )
            if spend > ZERO
            else None
        )
        if fill is None:
            self._reject(pair, signal_bar, self._why_no_fill(wanted, spend))
            self._schedule_entry(pair, signal_bar + 1)
            return
        self.cash -= fill.cost
        self.open[pair] = _Position(
            pair,
            signal_bar,
            e,
            planned,
            fill.qty,
            fill.qty_net,
            fill.cost,
            fill.price,
            fill.fee,
            float(fill.qty_net),
        )
        book = self.book
        gx = book.grid_pos(pair, planned.bar)
        self._cash_flow(g, -float(fill.cost))
        if self.watch:  # breakers need the marked value of this position bar by bar now
            book.value[g:gx] += float(fill.qty_net) * book.closes[pair][g:gx]
        else:
            self.held[pair].append((g, gx, float(fill.qty_net)))
        phase = _EXIT_AT_OPEN if planned.at_open else _EXIT_INTRABAR
        if planned.reason is ExitReason.END_OF_DATA:
            phase = _EXIT_AT_CLOSE
        self._push(int(candles.timestamp[planned.bar]), phase, pair, planned.bar)

    def _plan(self, pair: int, signal_bar: int) -> tuple[PlannedExit, float]:
        """The exit and stop level of an entry signalled at ``signal_bar``."""
        batch = self.planned[pair]
        if batch is not None:
            return batch.get(signal_bar)
        data = self.pairs[pair]
        c = data.candles
        atr = None if data.atr is None else data.atr[signal_bar : signal_bar + 1]
        entry = np.array([signal_bar + 1], dtype=np.int64)
        plans = plan_exits(
            c.open, c.high, c.low, c.close, self.exit_bars[pair], entry, self.s.exit_rules, atr
        )
        return plans.one(0), float(plans.stop[0])

    def _why_no_fill(self, wanted: Decimal, spend: Decimal) -> str:
        if self.cash <= ZERO:
            return "no cash left"
        if wanted <= ZERO:
            return "the sizing rule asked for nothing"
        if spend <= ZERO:
            return "exposure limit reached"
        return f"order of {spend:.2f} {self.s.quote} is below the market's minimum"

    # -- exits -----------------------------------------------------------------------------
    def _exit(self, pair: int) -> None:
        pos = self.open.pop(pair)
        data = self.pairs[pair]
        candles = data.candles
        planned = pos.planned
        b = planned.bar
        qty = data.precision.floor_amount(pos.qty_net)
        if qty != pos.qty_net:
            self.dust[candles.pair] = self.dust.get(candles.pair, ZERO) + pos.qty_net - qty
        if planned.reason is ExitReason.TAKE_PROFIT:
            price = data.precision.round_price(dec(planned.price), up=False)
            fill = sell(qty, price, self.s.fees.maker)
        else:
            # Participation against the last closed bar's volume (this bar's, at its close).
            known = b if planned.reason is ExitReason.END_OF_DATA else b - 1
            price = market_sell_price(
                Decimal(repr(planned.price)),
                float(qty),
                float(candles.volume[known]),
                self.s.slippage,
                data.precision,
            )
            fill = sell(qty, price, self.s.fees.taker)
        self.cash += fill.proceeds
        self._cash_flow(self.book.grid_pos(pair, b), float(fill.proceeds))
        trade = Trade(
            pair=candles.pair,
            signal_ts=int(candles.timestamp[pos.signal_bar]),
            entry_ts=int(candles.timestamp[pos.entry_bar]),
            exit_ts=int(candles.timestamp[b]),
            entry_price=pos.price,
            exit_price=fill.price,
            qty=pos.qty,
            qty_net=pos.qty_net,
            cost=pos.cost,
            proceeds=fill.proceeds,
            entry_fee=pos.fee,
            exit_fee=fill.fee,
            exit_reason=planned.reason,
            bars_held=b - pos.entry_bar,
        )
        self.trades.append(trade)
        if self.keep_returns:
            self.closed_returns.append(trade.return_pct)
        self._schedule_entry(pair, b + self.s.limits.cooldown_bars)

    # -- result ----------------------------------------------------------------------------
    def _add_held_values(self) -> None:
        """Mark every recorded holding interval [entry, exit) at the closes, vectorised."""
        book = self.book
        size = book.grid.shape[0]
        for pair, held in enumerate(self.held):
            if not held:
                continue
            starts, ends, qtys = (np.array(col) for col in zip(*held, strict=True))
            marks = np.bincount(starts, minlength=size + 1) - np.bincount(ends, minlength=size + 1)
            inside = np.cumsum(marks[:-1]) > 0
            latest = np.zeros(size + 1, dtype=np.int64)
            latest[starts] = 1
            which = np.cumsum(latest[:-1]) - 1
            qty = np.where(inside, qtys[np.maximum(which, 0)], 0.0)
            book.value += qty * np.nan_to_num(book.closes[pair])

    def _result(self) -> BacktestResult:
        book = self.book
        self._add_held_values()
        if self.flows:
            book.cash_delta += np.bincount(
                np.array(self.flows_at, dtype=np.int64),
                weights=self.flows,
                minlength=len(book.cash_delta),
            )
        cash_curve = float(self.s.initial_cash) + np.cumsum(book.cash_delta)
        equity = cash_curve + book.value
        with np.errstate(divide="ignore", invalid="ignore"):
            exposure = np.where(equity > 0, book.value / equity, 0.0)
        first = self.pairs[0].candles
        meta = {f"dust_{pair}": str(amount) for pair, amount in self.dust.items()}
        return BacktestResult(
            pairs=tuple(p.candles.pair for p in self.pairs),
            timeframe=first.timeframe,
            quote=self.s.quote,
            initial_cash=self.s.initial_cash,
            final_cash=self.cash,
            trades=tuple(sorted(self.trades, key=lambda t: (t.entry_ts, t.pair))),
            timestamp=book.grid,
            equity=equity,
            exposure=exposure,
            rejections=tuple(self.rejections),
            halted_at=self.breakers.halted_at,
            bars=int(sum(len(p.candles) for p in self.pairs)),
            meta=meta,
        )
