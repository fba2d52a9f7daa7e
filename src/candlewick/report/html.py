"""One self-contained HTML report of a backtest (plotly.js embedded inline, works offline).

The page holds: the headline metrics, the equity and drawdown curve, the per-pair table, one
candlestick chart per pair with entry and exit markers, the exit reasons, and every trade in a
sortable table. Long series are thinned for display only (the metrics use every bar):

* candles are resampled to the smallest coarser timeframe that keeps at most ``max_candles``
  per chart (the chart title says so);
* the equity curve is cut into equal buckets of bars and keeps, per bucket, the last point,
  the lowest equity and the deepest drawdown, so no trough disappears.

Plotly is imported inside the functions that need it, so importing this module stays cheap.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from candlewick import fmt
from candlewick.atomic import write_text_atomic
from candlewick.core.metrics import drawdown, equity_curve, exit_reason_stats
from candlewick.core.resample import resample
from candlewick.core.timeframes import SUPPORTED_TIMEFRAMES, bucket_start, is_multiple, timeframe_ms
from candlewick.core.types import F64, I64, BacktestResult, Candles, Trade
from candlewick.fmt import Kind
from candlewick.report import (
    EXIT_COLORS,
    PAIR_COLUMNS,
    check_lines,
    headline_rows,
    result_window,
    status_banner,
)

if TYPE_CHECKING:
    from plotly.graph_objects import Figure

MAX_CANDLES = 5_000
MAX_CURVE_POINTS = 6_000
_PLOT_CONFIG = {"responsive": True, "displaylogo": False, "scrollZoom": True}
_ENTRY_COLOR = "#2ca02c"

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#222}
h1{margin:0 0 4px}h2{margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
.sub{color:#666;margin:0 0 16px}.note{color:#666;font-size:90%}
.grid{display:flex;flex-wrap:wrap;gap:24px}
table{border-collapse:collapse;font-size:13px}
th,td{padding:3px 8px;border-bottom:1px solid #eee;text-align:right;white-space:nowrap}
th{background:#f4f4f4;position:sticky;top:0}td:first-child,th:first-child{text-align:left}
table.kv td:first-child{font-weight:600}caption{text-align:left;font-weight:700;padding:4px 0}
.pos{color:#1a7f37}.neg{color:#c62828}
table.sortable th{cursor:pointer;user-select:none}
.scroll{max-height:640px;overflow:auto;border:1px solid #eee}
.banner{background:#fdecea;border:3px solid #c62828;color:#7f0000;padding:12px 16px;
margin:0 0 16px;font-size:115%;font-weight:600}.banner pre{font-size:80%;font-weight:400}
pre{white-space:pre-wrap}
"""

# Click a header to sort by that column; numbers compare as numbers ("1,234.5", "12.3%").
_SORT_JS = """
document.querySelectorAll('table.sortable').forEach(function(t){
  t.querySelectorAll('th').forEach(function(th,i){th.addEventListener('click',function(){
    var b=t.tBodies[0],rows=Array.from(b.rows),asc=th.dataset.dir!=='asc';
    t.querySelectorAll('th').forEach(function(h){delete h.dataset.dir;});
    th.dataset.dir=asc?'asc':'desc';
    function v(r){var s=r.cells[i].textContent,n=parseFloat(s.replace(/,/g,''));
      return isNaN(n)||/^\\d{4}-/.test(s)?s:n;}
    rows.sort(function(x,y){var a=v(x),c=v(y),d=(typeof a===typeof c)?(a<c?-1:a>c?1:0)
      :(typeof a==='number'?-1:1);return asc?d:-d;});
    rows.forEach(function(r){b.appendChild(r);});});});});
"""


# ---- data thinning (pure) -------------------------------------------------------------------


def display_timeframe(candles: Candles, max_candles: int = MAX_CANDLES) -> str:
    """The timeframe to draw ``candles`` at: its own, or the smallest coarser supported
    timeframe (a whole multiple of it) that gives at most ``max_candles`` candles."""
    if len(candles) <= max_candles:
        return candles.timeframe
    coarser = [
        tf
        for tf in SUPPORTED_TIMEFRAMES
        if is_multiple(tf, candles.timeframe) and tf != candles.timeframe
    ]
    for tf in coarser:
        buckets = bucket_start(candles.timestamp, tf)
        if int(np.count_nonzero(np.diff(buckets))) + 1 <= max_candles:
            return tf
    return coarser[-1] if coarser else candles.timeframe


def thin_curve(values: F64, depth: F64, max_points: int = MAX_CURVE_POINTS) -> tuple[I64, int]:
    """Indices of the points of an equity curve to draw, and the bucket size in points.

    The curve is cut into buckets of ``k`` consecutive points; each bucket keeps its last
    point, its lowest value and its deepest drawdown (``depth``), so at most 3 points a bucket
    and every trough survive. With ``len(values) <= max_points`` every point is kept (k = 1).
    """
    n = int(values.size)
    if n <= max_points:
        return np.arange(n, dtype=np.int64), 1
    k = math.ceil(n / max(1, max_points // 3))
    nb = math.ceil(n / k)
    pad = nb * k - n
    lows = np.concatenate([values, np.full(pad, np.inf)]).reshape(nb, k).argmin(axis=1)
    deep = np.concatenate([depth, np.full(pad, -np.inf)]).reshape(nb, k).argmax(axis=1)
    base = np.arange(nb, dtype=np.int64) * k
    last = np.minimum(base + k - 1, n - 1)
    idx = np.unique(np.concatenate([base + lows, base + deep, last, [0]]))
    return idx.astype(np.int64), k


# ---- figures ----------------------------------------------------------------------------------


def _ms_axis(values: I64 | Sequence[int]) -> F64:
    """Millisecond timestamps as float64 (plotly date axes read ms; compact binary encoding)."""
    return np.asarray(values, dtype=np.float64)


def equity_figure(result: BacktestResult, max_points: int = MAX_CURVE_POINTS) -> Figure:
    """Equity (top) and drawdown (bottom, in % below the running high: a positive number, as
    "Max drawdown" is, drawn downwards) over time, thinned to at most ``max_points``."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    curve = equity_curve(result)
    depth = drawdown(curve)
    ts = np.asarray(result.timestamp, dtype=np.int64)
    step = timeframe_ms(result.timeframe)
    close_ts = np.concatenate([ts[:1], ts + step]) if ts.size else np.zeros(1, dtype=np.int64)
    idx, k = thin_curve(curve, depth, max_points)
    title = "Equity and drawdown"
    if k > 1:
        title += (
            f" — {curve.size:,} points thinned to {idx.size:,} for display"
            f" (per {k} bars: last value, lowest equity, deepest drawdown)"
        )
    fig = make_subplots(
        rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.04, row_heights=[0.7, 0.3]
    )
    x = _ms_axis(close_ts[idx])
    fig.add_trace(
        go.Scatter(
            x=x,
            y=curve[idx],
            name=f"equity ({result.quote})",
            mode="lines",
            line={"color": "#1f77b4", "width": 1.5},
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=100.0 * depth[idx],
            name="drawdown (%)",
            mode="lines",
            fill="tozeroy",
            line={"color": "#c62828", "width": 1},
        ),
        row=2,
        col=1,
    )
    fig.update_layout(
        title=title,
        height=560,
        template="plotly_white",
        hovermode="x unified",
        margin={"l": 60, "r": 20, "t": 60, "b": 40},
    )
    fig.update_xaxes(type="date")
    fig.update_yaxes(title_text=result.quote, row=1, col=1)
    fig.update_yaxes(title_text="drawdown %", autorange="reversed", row=2, col=1)
    return fig


def _trade_marks(numbered: Sequence[tuple[int, Trade]]) -> dict[str, Any]:
    """Entry and exit marker coordinates and hover texts of some trades."""
    entries = {
        "x": _ms_axis([t.entry_ts for _, t in numbered]),
        "y": np.array([float(t.entry_price) for _, t in numbered], dtype=np.float64),
        "text": [
            f"#{n} buy {fmt.exact(t.entry_price)} · qty {fmt.exact(t.qty)}" for n, t in numbered
        ],
    }
    exits: dict[str, dict[str, Any]] = {}
    for n, t in numbered:
        group = exits.setdefault(str(t.exit_reason), {"x": [], "y": [], "text": []})
        group["x"].append(t.exit_ts)
        group["y"].append(float(t.exit_price))
        group["text"].append(
            f"#{n} {t.exit_reason} {fmt.exact(t.exit_price)} · "
            f"{fmt.pct(t.return_pct)} · P&L {fmt.money(t.pnl)}"
        )
    order = list(EXIT_COLORS)
    ranked = sorted(exits, key=lambda r: order.index(r) if r in order else len(order))
    return {"entries": entries, "exits": {reason: exits[reason] for reason in ranked}}


def candle_figure(
    candles: Candles, numbered: Sequence[tuple[int, Trade]], max_candles: int = MAX_CANDLES
) -> Figure:
    """Candlesticks of one pair with green entry and red-family exit markers (one per reason)."""
    import plotly.graph_objects as go

    tf = display_timeframe(candles, max_candles)
    shown = resample(candles, tf) if tf != candles.timeframe else candles
    title = f"{candles.pair} {candles.timeframe} ({len(candles):,} candles)"
    if tf != candles.timeframe:
        title = (
            f"{candles.pair} — {len(candles):,} {candles.timeframe} candles resampled to "
            f"{tf} for display ({len(shown):,} candles); markers at exact trade times"
        )
    fig = go.Figure(
        go.Candlestick(
            x=_ms_axis(shown.timestamp),
            open=shown.open,
            high=shown.high,
            low=shown.low,
            close=shown.close,
            name=f"{candles.pair} {tf}",
            increasing_line_color="#26a69a",
            decreasing_line_color="#8d6e63",
        )
    )
    marks = _trade_marks(numbered)
    if numbered:
        fig.add_trace(
            go.Scatter(
                **marks["entries"],
                mode="markers",
                name="entry",
                hoverinfo="text",
                marker={
                    "symbol": "triangle-up",
                    "size": 10,
                    "color": _ENTRY_COLOR,
                    "line": {"width": 1, "color": "#0b5d1e"},
                },
            )
        )
    for reason, group in marks["exits"].items():
        fig.add_trace(
            go.Scatter(
                x=_ms_axis(group["x"]),
                y=np.array(group["y"]),
                text=group["text"],
                mode="markers",
                name=f"exit: {reason}",
                hoverinfo="text",
                marker={
                    "symbol": "triangle-down",
                    "size": 10,
                    "color": EXIT_COLORS.get(reason, "#d62728"),
                    "line": {"width": 1, "color": "#400"},
                },
            )
        )
    fig.update_layout(
        title=title,
        height=560,
        template="plotly_white",
        xaxis={"type": "date", "rangeslider": {"visible": False}},
        margin={"l": 60, "r": 20, "t": 60, "b": 40},
        legend={"orientation": "h", "y": -0.08},
    )
    return fig


# ---- HTML pieces ------------------------------------------------------------------------------


def _cls(value: object) -> str:
    if isinstance(value, int | float | Decimal) and value != 0:
        return ' class="pos"' if value > 0 else ' class="neg"'
    return ""


def _metrics_html(metrics: Mapping[str, object]) -> str:
    tables = []
    for section, rows in headline_rows(metrics):
        body = "".join(
            f"<tr><td>{html.escape(label)}</td><td>{html.escape(text)}</td></tr>"
            for label, text in rows
        )
        tables.append(f'<table class="kv"><caption>{section}</caption>{body}</table>')
    notes = metrics.get("notes")
    note = f'<p class="note">Notes: {html.escape(str(notes))}</p>' if notes else ""
    return f'<div class="grid">{"".join(tables)}</div>{note}'


def _table(
    rows: Sequence[Mapping[str, object]],
    columns: Sequence[tuple[str, str, Kind]],
    signed: str = "net_pnl",
) -> str:
    head = "".join(f"<th>{html.escape(label)}</th>" for _, label, _ in columns)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td{_cls(row.get(key)) if key == signed else ''}>"
            f"{html.escape(fmt.format_value(row.get(key), kind))}</td>"
            for key, _, kind in columns
        )
        + "</tr>"
        for row in rows
    )
    return f'<table class="sortable"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


_REASON_COLUMNS: tuple[tuple[str, str, Kind], ...] = (
    ("exit_reason", "Reason", "text"),
    ("trades", "Trades", "int"),
    ("share", "Share", "pct"),
    ("net_pnl", "Net P&L", "money"),
    ("avg_trade_return", "Avg trade", "pct"),
    ("win_rate", "Win rate", "pct"),
)

_TRADE_HEAD = (
    "#",
    "Pair",
    "Signal",
    "Entry",
    "Exit",
    "Bars",
    "Entry price",
    "Exit price",
    "Qty",
    "Cost",
    "Proceeds",
    "P&L",
    "Return",
    "Fees",
    "Reason",
)


def _trades_html(trades: Sequence[Trade]) -> str:
    esc = html.escape
    head = "".join(f"<th>{esc(h)}</th>" for h in _TRADE_HEAD)
    rows = []
    for n, t in enumerate(trades, start=1):
        cls = _cls(t.pnl)
        cells = [
            str(n),
            esc(t.pair),
            *(fmt.time(ms) for ms in (t.signal_ts, t.entry_ts, t.exit_ts)),
            str(t.bars_held),
            *(fmt.exact(d) for d in (t.entry_price, t.exit_price, t.qty)),
            *(fmt.money(d) for d in (t.cost, t.proceeds)),
        ]
        rows.append(
            f'<tr id="t{n}"><td>{"</td><td>".join(cells)}</td>'
            f"<td{cls}>{fmt.money(t.pnl)}</td><td{cls}>{fmt.pct(t.return_pct)}</td>"
            f"<td>{fmt.money(t.fees_quote)}</td><td>{esc(str(t.exit_reason))}</td></tr>"
        )
    return (
        f'<div class="scroll"><table class="sortable" id="trades"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def _figure_html(fig: Figure, include_plotlyjs: bool) -> str:
    out: str = fig.to_html(full_html=False, include_plotlyjs=include_plotlyjs, config=_PLOT_CONFIG)
    return out


def write_html(
    path: Path,
    result: BacktestResult,
    metrics: Mapping[str, object],
    per_pair: Sequence[Mapping[str, object]],
    candles: Mapping[str, Candles],
    title: str,
    *,
    run_id: str | None = None,
    max_candles: int = MAX_CANDLES,
    max_points: int = MAX_CURVE_POINTS,
    status: str = "ok",
    checks: Mapping[str, Any] | None = None,
) -> Path:
    """Write the report to ``path`` as one self-contained HTML file and return the path.

    ``title`` names the run as :func:`candlewick.fmt.run_label` does (``sma_cross · backtest``);
    the page's title and heading add the pairs, timeframe and window
    (:func:`candlewick.fmt.run_title`), as every other view names the run.
    ``candles`` maps each pair to its candles (a pair without candles gets no chart). A run
    whose ``status`` is not ok gets a red banner above everything; ``checks`` (what was
    checked and found) are listed under it, or in a note for a clean run.
    The file embeds plotly.js (~4.8 MB) and needs no network to open. The write is atomic:
    a reader (or a crash) sees the previous file or the whole new one.
    """
    esc = html.escape
    numbered = list(enumerate(result.trades, start=1))
    # The first figure carries the plotly.js bundle inline; later ones reuse it.
    parts = [_figure_html(equity_figure(result, max_points), include_plotlyjs=True)]
    parts.append(f"<h2>Per pair</h2>{_table(per_pair, PAIR_COLUMNS)}")
    for pair in result.pairs:
        series = candles.get(pair)
        if series is None or len(series) == 0:
            parts.append(f'<p class="note">No candles given for {esc(pair)}: chart skipped.</p>')
            continue
        trades = [(n, t) for n, t in numbered if t.pair == pair]
        parts.append(_figure_html(candle_figure(series, trades, max_candles), False))
    if result.trades:
        reasons = _table(exit_reason_stats(result.trades), _REASON_COLUMNS)
        parts.append(f"<h2>Exit reasons</h2>{reasons}")
    parts.append(
        f"<h2>Trades ({len(result.trades):,})</h2>"
        '<p class="note">Click a column header to sort. Amounts in '
        f"{esc(result.quote)}; times UTC (bar open).</p>{_trades_html(result.trades)}"
    )
    start, end = result_window(result)
    heading = fmt.run_title(title, result.pairs, result.timeframe, start, end)
    sub = f"{fmt.count(len(result.timestamp))} bars · window: {fmt.WINDOW_MEANING}, UTC"
    if run_id:
        sub = f"run {run_id} · {sub}"
    banner = status_banner(status, checks)
    found = esc("\n".join(check_lines(checks, limit=20)))
    top, note = "", f'<pre class="note">Checks:\n{found}</pre>' if found else ""
    if banner is not None:
        heading = f"FAILED · {heading}"
        top, note = f'<div class="banner">⚠ {esc(banner)}<pre>{found}</pre></div>', ""
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{esc(heading)}</title><style>{_CSS}</style></head><body>"
        f'{top}<h1>{esc(heading)}</h1><p class="sub">{esc(sub)}</p>{note}'
        f"<h2>Metrics</h2>{_metrics_html(metrics)}<h2>Equity</h2>"
        + "\n".join(parts)
        + f"<script>{_SORT_JS}</script></body></html>\n"
    )
    return write_text_atomic(Path(path), page)
