"""Performance metrics of a backtest: pure functions of a :class:`BacktestResult`.

Every formula, unit and edge case is written out in ``docs/metrics.md``; the short version:

* The equity curve is ``initial_cash`` followed by ``result.equity`` (one value at the close of
  every bar), so the first bar's return is measured against the starting cash.
* Fractions are fractions (``0.05`` is 5 %), whatever the key's suffix says.
* Money (P&L, fees, cash) is summed as :class:`~decimal.Decimal` and reported as ``float``.
* Years have 365 days (crypto trades every day); a period is one bar of ``result.timeframe``.
* A metric that has no meaningful value is ``None`` (never ``inf`` or ``nan``: the dict must be
  JSON-safe), and ``notes`` says why.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from operator import attrgetter

import numpy as np

from candlewick.core.timeframes import timeframe_ms
from candlewick.core.types import F64, BacktestResult, Trade
from candlewick.errors import BacktestError

MetricValue = float | int | str | None
Metrics = dict[str, MetricValue]

DAY_MS = 86_400_000
YEAR_MS = 365 * DAY_MS


def iso_utc(ms: int) -> str:
    """``ms`` since the epoch as an ISO-8601 UTC string (``2024-01-02T03:04:05Z``)."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def periods_per_year(timeframe: str) -> float:
    """How many bars of ``timeframe`` fit in a 365-day year (105,120 for 5m)."""
    return YEAR_MS / timeframe_ms(timeframe)


def equity_curve(result: BacktestResult) -> F64:
    """The curve the metrics use: ``initial_cash`` then the equity at every bar close."""
    start = np.array([float(result.initial_cash)], dtype=np.float64)
    return np.concatenate([start, np.asarray(result.equity, dtype=np.float64)])


def bar_returns(curve: F64) -> F64:
    """Simple returns ``curve[i] / curve[i-1] - 1``; 0 where the previous value is not positive."""
    prev, cur = curve[:-1], curve[1:]
    out = np.zeros(prev.shape, dtype=np.float64)
    with np.errstate(over="ignore"):
        np.divide(cur, prev, out=out, where=prev > 0)
    return np.where(prev > 0, out - 1.0, 0.0)


def drawdown(curve: F64) -> F64:
    """Drawdown at every point: ``1 - value / running peak``, in [0, 1] (0 at a new high)."""
    if curve.size == 0:
        return np.zeros(0, dtype=np.float64)
    peak = np.maximum.accumulate(curve)
    dd = np.zeros(curve.shape, dtype=np.float64)
    np.divide(curve, peak, out=dd, where=peak > 0)
    return np.clip(np.where(peak > 0, 1.0 - dd, 0.0), 0.0, 1.0)


def max_drawdown_span(curve: F64) -> tuple[int, int]:
    """Longest time under water as ``(peak_index, end_index)`` into ``curve``.

    A span starts at a running high and ends at the first later point that is at least as
    high (the recovery), or at the last point if the curve never recovers. ``(0, 0)`` when
    the curve never falls below a previous high.
    """
    if curve.size < 2:
        return 0, 0
    below = curve < np.maximum.accumulate(curve)
    if not below.any():
        return 0, 0
    # Runs of consecutive points under water: [first, stop). The point before a run is a high
    # (curve[0] never is under water), so the span starts there; it ends at the recovery point
    # ``stop``, or at the last point when the run lasts to the end.
    edges = np.diff(np.concatenate([[0], below.astype(np.int8), [0]]))
    firsts = np.flatnonzero(edges == 1)
    stops = np.flatnonzero(edges == -1)
    ends = np.minimum(stops, curve.size - 1)
    lengths = ends - (firsts - 1)
    k = int(np.argmax(lengths))
    return int(firsts[k] - 1), int(ends[k])


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _sharpe(returns: F64, ppy: float) -> float | None:
    if returns.size < 2:
        return None
    with np.errstate(all="ignore"):
        mean, sd = float(np.mean(returns)), float(np.std(returns, ddof=1))
    if not math.isfinite(sd) or sd == 0.0:
        return None
    return _finite(mean / sd * math.sqrt(ppy))


def _sortino(returns: F64, ppy: float) -> float | None:
    if returns.size < 2:
        return None
    with np.errstate(all="ignore"):
        mean = float(np.mean(returns))
        downside = float(np.sqrt(np.mean(np.minimum(returns, 0.0) ** 2)))
    if not math.isfinite(downside) or downside == 0.0:
        return None
    return _finite(mean / downside * math.sqrt(ppy))


def _cagr(total_growth: float, years: float) -> float | None:
    if years <= 0:
        return None
    if total_growth <= 0:
        return -1.0
    try:
        value = math.exp(math.log(total_growth) / years) - 1.0
    except OverflowError:
        return None
    return _finite(value)


def _money(value: Decimal) -> float:
    return float(value)


_PROCEEDS_COST = attrgetter("proceeds", "cost")
_FEES = attrgetter("entry_fee", "entry_price", "exit_fee")


def _pnls_returns(trades: Sequence[Trade]) -> tuple[list[Decimal], F64]:
    """Net P&L (exact) and return (float) of every trade: Trade.pnl and Trade.return_pct,
    computed in one tight pass (these run over hundreds of thousands of trades)."""
    pairs = list(map(_PROCEEDS_COST, trades))
    pnls = [proceeds - cost for proceeds, cost in pairs]
    returns = np.array(
        [float(p / c) if c else 0.0 for p, (_, c) in zip(pnls, pairs, strict=True)],
        dtype=np.float64,
    )
    return pnls, returns


def _fees(trades: Sequence[Trade]) -> Decimal:
    """All fees in quote units (Trade.fees_quote, summed exactly)."""
    return sum((fee * price + exit_fee for fee, price, exit_fee in map(_FEES, trades)), Decimal(0))


def _trade_stats(trades: Sequence[Trade], notes: list[str]) -> Metrics:
    """Metrics of the closed trades alone (independent of the equity curve)."""
    n = len(trades)
    out: Metrics = {"trade_count": n}
    keys = (
        "win_rate", "profit_factor", "expectancy", "expectancy_pct", "avg_trade_return",
        "median_trade_return", "best_trade_return", "worst_trade_return", "avg_bars_held",
    )  # fmt: skip
    if n == 0:
        out.update(dict.fromkeys(keys))
        out.update(gross_profit=0.0, gross_loss=0.0)
        notes.append("no trades: trade metrics are None")
        return out
    pnls, returns = _pnls_returns(trades)
    gross_profit = sum((p for p in pnls if p > 0), Decimal(0))
    gross_loss = -sum((p for p in pnls if p < 0), Decimal(0))
    if gross_loss > 0:
        profit_factor: float | None = float(gross_profit / gross_loss)
    else:
        profit_factor = None
        notes.append("profit_factor: no losing trade (gross loss is 0), so it is undefined")
    out.update(
        win_rate=sum(1 for p in pnls if p > 0) / n,
        profit_factor=profit_factor,
        gross_profit=_money(gross_profit),
        gross_loss=_money(gross_loss),
        expectancy=_money(sum(pnls, Decimal(0)) / n),
        expectancy_pct=float(np.mean(returns)),
        avg_trade_return=float(np.mean(returns)),
        median_trade_return=float(np.median(returns)),
        best_trade_return=float(np.max(returns)),
        worst_trade_return=float(np.min(returns)),
        avg_bars_held=float(np.mean([t.bars_held for t in trades])),
    )
    return out


def compute_metrics(result: BacktestResult) -> Metrics:
    """All headline metrics of a backtest as a flat, JSON-safe dict.

    Keys (see ``docs/metrics.md`` for formulas): total_return, cagr, sharpe, sortino, calmar,
    max_drawdown, max_drawdown_duration_bars, max_drawdown_duration_days, profit_factor,
    win_rate, expectancy, expectancy_pct, exposure, time_in_market, trade_count,
    avg/median/best/worst_trade_return, avg_bars_held, gross_profit, gross_loss, net_profit,
    fees_paid, initial_cash, final_equity, bars, start_ts, end_ts, start, end, years,
    rejections, halted_at, notes.
    """
    notes: list[str] = []
    step = timeframe_ms(result.timeframe)
    ppy = periods_per_year(result.timeframe)
    ts = np.asarray(result.timestamp, dtype=np.int64)
    n_bars = int(ts.size)
    n_equity = int(np.asarray(result.equity).size)
    if n_equity != n_bars:
        raise BacktestError(
            f"result.equity has {n_equity} values but result.timestamp has {n_bars}: "
            "the backtest must sample equity once per bar"
        )
    curve = equity_curve(result)
    initial = result.initial_cash
    final = result.final_equity

    total_return = float(final / initial - 1) if initial > 0 else None
    if initial <= 0:
        notes.append("initial_cash is not positive: returns are undefined")
    start_ts = int(ts[0]) if n_bars else None
    end_ts = int(ts[-1]) + step if n_bars else None
    years = (end_ts - start_ts) / YEAR_MS if start_ts is not None and end_ts is not None else 0.0

    returns = bar_returns(curve)
    sharpe = _sharpe(returns, ppy)
    sortino = _sortino(returns, ppy)
    if sharpe is None:
        notes.append("sharpe: under 2 bars, zero volatility (flat equity) or non-finite")
    if sortino is None:
        notes.append("sortino: under 2 bars, no losing bar (zero downside) or non-finite")
    cagr = _cagr(float(final / initial), years) if initial > 0 else None
    if cagr is None and initial > 0:
        notes.append("cagr: no bars, or the annualised growth overflows (period far too short)")

    dd = drawdown(curve)
    max_dd = float(dd.max()) if dd.size else 0.0
    peak_i, end_i = max_drawdown_span(curve)
    # curve[k] is valued at the close of bar k-1; curve[0] (the initial cash) at the first open.
    close_ts = np.concatenate([ts[:1], ts + step]) if n_bars else ts
    dd_days = float(close_ts[end_i] - close_ts[peak_i]) / DAY_MS if end_i > peak_i else 0.0
    calmar = cagr / max_dd if cagr is not None and max_dd > 0 else None
    if max_dd == 0:
        notes.append("calmar: no drawdown, so it is undefined")

    exposure = np.asarray(result.exposure, dtype=np.float64)
    out: Metrics = {
        "total_return": total_return,
        "cagr": cagr,
        "sharpe": sharpe,
        "sortino": sortino,
        "calmar": calmar,
        "max_drawdown": max_dd,
        "max_drawdown_duration_bars": end_i - peak_i,
        "max_drawdown_duration_days": dd_days,
        "exposure": float(exposure.mean()) if exposure.size else 0.0,
        "time_in_market": float(np.mean(exposure > 0)) if exposure.size else 0.0,
    }
    out.update(_trade_stats(result.trades, notes))
    out.update(
        net_profit=_money(final - initial),
        fees_paid=_money(result.fees_paid),
        initial_cash=_money(initial),
        final_equity=_money(final),
        bars=n_bars,
        years=years,
        start_ts=start_ts,
        end_ts=end_ts,
        start=iso_utc(start_ts) if start_ts is not None else None,
        end=iso_utc(end_ts) if end_ts is not None else None,
        rejections=len(result.rejections),
        halted_at=iso_utc(result.halted_at) if result.halted_at is not None else None,
        notes="; ".join(notes) if notes else None,
    )
    return out


def per_pair_metrics(result: BacktestResult) -> list[Metrics]:
    """One row per pair (the result's pairs in order, then any other pair that traded).

    Keys: pair, trades, win_rate, net_pnl, return_contribution (net P&L / initial cash),
    fees, best_trade_return, worst_trade_return, avg_trade_return. Trade-based values are
    None for a pair without trades.
    """
    by_pair: dict[str, list[Trade]] = {pair: [] for pair in result.pairs}
    for trade in result.trades:
        by_pair.setdefault(trade.pair, []).append(trade)
    pairs = list(result.pairs) + sorted(set(by_pair) - set(result.pairs))
    rows: list[Metrics] = []
    for pair in pairs:
        trades = by_pair[pair]
        pnls, returns = _pnls_returns(trades)
        pnl = sum(pnls, Decimal(0))
        rows.append(
            {
                "pair": pair,
                "trades": len(trades),
                "win_rate": sum(1 for p in pnls if p > 0) / len(trades) if trades else None,
                "net_pnl": _money(pnl),
                "return_contribution": (
                    float(pnl / result.initial_cash) if result.initial_cash > 0 else None
                ),
                "fees": _money(_fees(trades)),
                "best_trade_return": float(returns.max()) if trades else None,
                "worst_trade_return": float(returns.min()) if trades else None,
                "avg_trade_return": float(np.mean(returns)) if trades else None,
            }
        )
    return rows


def exit_reason_stats(trades: Sequence[Trade]) -> list[Metrics]:
    """One row per exit reason, most frequent first.

    Keys: exit_reason, trades, share (of all trades), net_pnl (quote), avg_trade_return,
    win_rate.
    """
    groups: dict[str, list[Trade]] = {}
    for t in trades:
        groups.setdefault(str(t.exit_reason), []).append(t)
    rows: list[Metrics] = []
    for reason, group in groups.items():
        pnls, returns = _pnls_returns(group)
        rows.append(
            {
                "exit_reason": reason,
                "trades": len(group),
                "share": len(group) / len(trades),
                "net_pnl": _money(sum(pnls, Decimal(0))),
                "avg_trade_return": float(np.mean(returns)),
                "win_rate": sum(1 for p in pnls if p > 0) / len(group),
            }
        )
    return sorted(rows, key=lambda row: (-int(row["trades"] or 0), str(row["exit_reason"])))
