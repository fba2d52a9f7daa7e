"""Reports of a backtest: terminal summary (Rich), JSON, and one self-contained HTML file.

This package holds the layout shared by every report: which metrics are shown, in which
sections, with which label and number format, so that the terminal, the HTML page and
``runs show`` agree; the number and time formats themselves are :mod:`candlewick.fmt`'s.
Modules: :mod:`.terminal`, :mod:`.json_report`, :mod:`.html` (imports plotly lazily).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from candlewick.fmt import Kind, bars_window, format_value, time

if TYPE_CHECKING:
    from candlewick.core.types import BacktestResult, RunRecord

#: Headline metrics by section: (metric key, label, number format).
SECTIONS: tuple[tuple[str, tuple[tuple[str, str, Kind], ...]], ...] = (
    (
        "Returns",
        (
            ("total_return", "Total return", "pct"),
            ("cagr", "CAGR", "pct"),
            ("sharpe", "Sharpe", "ratio"),
            ("sortino", "Sortino", "ratio"),
            ("calmar", "Calmar", "ratio"),
            ("max_drawdown", "Max drawdown", "pct"),
            ("max_drawdown_duration_bars", "Max DD duration (bars)", "int"),
            ("max_drawdown_duration_days", "Max DD duration", "days"),
        ),
    ),
    (
        "Trades",
        (
            ("trade_count", "Trades", "int"),
            ("win_rate", "Win rate", "pct"),
            ("profit_factor", "Profit factor", "ratio"),
            ("expectancy", "Expectancy", "money"),
            ("expectancy_pct", "Expectancy (return)", "pct"),
            ("median_trade_return", "Median trade", "pct"),
            ("best_trade_return", "Best trade", "pct"),
            ("worst_trade_return", "Worst trade", "pct"),
            ("avg_bars_held", "Avg bars held", "num"),
        ),
    ),
    (
        "Account",
        (
            ("initial_cash", "Initial cash", "money"),
            ("final_equity", "Final equity", "money"),
            ("net_profit", "Net profit", "money"),
            ("fees_paid", "Fees paid", "money"),
            ("exposure", "Exposure (mean)", "pct"),
            ("time_in_market", "Time in market", "pct"),
            ("rejections", "Rejected signals", "int"),
            ("halted_at", "Halted at", "time"),
        ),
    ),
    (
        "Period",
        (
            ("start_ts", "Start (first open)", "time"),
            ("end_ts", "End (last close)", "time"),
            ("bars", "Bars", "int"),
            ("years", "Years", "num"),
        ),
    ),
)

#: Columns of the per-pair table: (key of a per_pair_metrics row, label, number format).
PAIR_COLUMNS: tuple[tuple[str, str, Kind], ...] = (
    ("pair", "Pair", "text"),
    ("trades", "Trades", "int"),
    ("win_rate", "Win rate", "pct"),
    ("net_pnl", "Net P&L", "money"),
    ("return_contribution", "Contribution", "pct"),
    ("fees", "Fees", "money"),
    ("avg_trade_return", "Avg trade", "pct"),
    ("best_trade_return", "Best", "pct"),
    ("worst_trade_return", "Worst", "pct"),
)


def headline_rows(metrics: Mapping[str, object]) -> list[tuple[str, list[tuple[str, str]]]]:
    """The headline metrics as (section, [(label, text)]) ready for a table."""
    return [
        (section, [(label, format_value(metrics.get(key), kind)) for key, label, kind in items])
        for section, items in SECTIONS
    ]


def result_window(result: BacktestResult) -> tuple[int | None, int | None]:
    """The window a result covers: its first bar's open and its last bar's close (ms UTC),
    (None, None) without bars. The same as the metrics' ``start_ts`` and ``end_ts``."""
    ts = result.timestamp
    if len(ts) == 0:
        return None, None
    return bars_window(int(ts[0]), int(ts[-1]), result.timeframe)


def record_window(record: RunRecord) -> tuple[int, int]:
    """The window of a stored run: its result's (:func:`result_window`), else the stored
    ``start_ts`` and ``end_ts`` (the open times of the first and the last bar) as a window."""
    start, end = result_window(record.result)
    if start is None or end is None:
        return bars_window(record.start_ts, record.end_ts, record.timeframe)
    return start, end


#: Colour of an exit marker per exit reason (all in the red/orange family, by severity).
EXIT_COLORS: dict[str, str] = {
    "signal": "#d62728",
    "stop_loss": "#7f0000",
    "trailing_stop": "#b2182b",
    "take_profit": "#ff7f0e",
    "time_stop": "#e377c2",
    "end_of_data": "#8c564b",
}


def _lookahead(checks: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    found = (checks or {}).get("lookahead")
    return found if isinstance(found, Mapping) else None


def status_banner(status: str, checks: Mapping[str, Any] | None) -> str | None:
    """The warning every view of a run that failed a check shows first (None for "ok")."""
    if status == "ok":
        return None
    lookahead = _lookahead(checks)
    if lookahead is not None and not lookahead.get("ok", True):
        pairs = [p for p, doc in lookahead.get("pairs", {}).items() if not doc.get("ok", True)]
        where = f" ({', '.join(pairs)})" if pairs else ""
        return (
            f"This run FAILED the lookahead check{where}: its signals change when the future "
            "is cut off, so these results could not have been achieved. Do not trust them; fix "
            "the strategy and check it again with `candlewick backtest --check-lookahead`."
        )
    return f"This run's status is {status!r}, not ok: do not trust its results."


def check_lines(checks: Mapping[str, Any] | None, limit: int = 5) -> list[str]:
    """What a run's checks found, one line per pair (verdict, cuts checked, seed) and its
    first ``limit`` differing signals indented below it; [] when nothing was checked."""
    lookahead = _lookahead(checks)
    if lookahead is None:
        return []
    # Imported here: the signals package (TA-Lib) is not needed to show unchecked runs.
    from candlewick.signals.lookahead import cuts_text, describe_difference

    lines = []
    for pair, doc in lookahead.get("pairs", {}).items():
        verdict = (
            "clean"
            if doc["ok"]
            else f"{doc['differences']} signal(s) change when the future is cut off"
        )
        cuts = cuts_text(doc["cuts_by_kind"], doc.get("seed"), bool(doc.get("repeated")))
        lines.append(f"lookahead check {pair}: {verdict}; {cuts}")
        for d in doc.get("first_differences", [])[:limit]:
            fields = (d["bar"], d["signal"], d["full"], d["truncated"], d["cut"], d["cut_kind"])
            lines.append("  " + describe_difference(*fields, when=time(d["timestamp"])))
        if doc["differences"] > limit:
            lines.append(f"  ... and {doc['differences'] - limit} more")
    return lines
