"""A backtest's summary in the terminal: headline metrics, per-pair table, exit reasons."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich import box
from rich.columns import Columns
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from candlewick import fmt
from candlewick.core.metrics import exit_reason_stats
from candlewick.core.types import BacktestResult
from candlewick.report import (
    PAIR_COLUMNS,
    check_lines,
    headline_rows,
    result_window,
    status_banner,
)


def _colour(text: str, value: object) -> str:
    """Green for a positive number, red for a negative one."""
    if isinstance(value, int | float) and value != 0:
        return f"[green]{text}[/]" if value > 0 else f"[red]{text}[/]"
    return text


def headline_tables(metrics: Mapping[str, object]) -> list[Table]:
    """One two-column table per section of the headline metrics."""
    tables = []
    for section, rows in headline_rows(metrics):
        table = Table(title=section, show_header=False, title_justify="left", min_width=34)
        table.add_column("metric", style="bold")
        table.add_column("value", justify="right")
        for label, text in rows:
            table.add_row(label, text)
        tables.append(table)
    return tables


def pair_table(per_pair: Sequence[Mapping[str, object]], quote: str, width: int = 200) -> Table:
    """The per-pair breakdown: one row per pair, or one row per metric when that is too wide
    for ``width`` columns (numbers are never cut short)."""
    title = f"Per pair (P&L in {quote})"
    plain = [
        [fmt.format_value(row.get(key), kind) for key, _, kind in PAIR_COLUMNS] for row in per_pair
    ]
    widths = [
        max(len(label), *(len(r[i]) for r in plain)) for i, (_, label, _) in enumerate(PAIR_COLUMNS)
    ]
    shown = [
        [
            _colour(escape(t), row.get(key)) if key == "net_pnl" else escape(t)
            for (key, _, _), t in zip(PAIR_COLUMNS, texts, strict=True)
        ]
        for row, texts in zip(per_pair, plain, strict=True)
    ]
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD)
    if sum(w + 3 for w in widths) + 1 <= width:  # padding 1 + 1 and a divider per column
        for i, (_, label, _) in enumerate(PAIR_COLUMNS):
            table.add_column(label, justify="right" if i else "left", min_width=widths[i])
        for texts in shown:
            table.add_row(*texts)
        return table
    table.add_column("")
    for texts in shown:
        table.add_column(texts[0], justify="right")
    for i, (_, label, _) in enumerate(PAIR_COLUMNS[1:], start=1):
        table.add_row(label, *(texts[i] for texts in shown))
    return table


def exit_reason_table(result: BacktestResult) -> Table:
    """Trades per exit reason with their share, net P&L and mean return."""
    table = Table(title="Exit reasons", title_justify="left", box=box.SIMPLE_HEAD)
    for label in ("Reason", "Trades", "Share", f"Net P&L ({result.quote})", "Avg trade", "Win"):
        table.add_column(label, justify="left" if label == "Reason" else "right", overflow="fold")
    for row in exit_reason_stats(result.trades):
        table.add_row(
            str(row["exit_reason"]),
            fmt.format_value(row["trades"], "int"),
            fmt.format_value(row["share"], "pct"),
            _colour(fmt.format_value(row["net_pnl"], "money"), row["net_pnl"]),
            fmt.format_value(row["avg_trade_return"], "pct"),
            fmt.format_value(row["win_rate"], "pct"),
        )
    return table


def print_banner(console: Console, status: str, checks: Mapping[str, Any] | None) -> None:
    """A red panel saying the run failed a check (nothing for an ok run)."""
    banner = status_banner(status, checks)
    if banner is not None:
        console.print(Panel(escape(banner), style="bold red", border_style="red"))


def print_checks(console: Console, checks: Mapping[str, Any] | None) -> None:
    """What the run's checks found: one line per pair and check, failures in red."""
    for line in check_lines(checks):
        style = None if line.startswith(" ") else "green" if ": clean;" in line else "bold red"
        console.print(escape(line), style=style, soft_wrap=True)


def print_summary(
    console: Console,
    result: BacktestResult,
    metrics: Mapping[str, object],
    per_pair: Sequence[Mapping[str, object]],
    run_id: str | None = None,
    *,
    status: str = "ok",
    checks: Mapping[str, Any] | None = None,
    label: str | None = None,
) -> None:
    """Print the summary of one backtest: a header line (the run's title, as
    :func:`candlewick.fmt.run_title` writes it with ``label``, e.g. ``sma_cross · backtest``),
    metrics, per pair, exit reasons; a run that failed a check (``status``) starts with a red
    banner and ends with ``checks``."""
    print_banner(console, status, checks)
    total = metrics.get("total_return")
    title = fmt.run_title(label, result.pairs, result.timeframe, *result_window(result))
    header = (
        f"[bold]{escape(title)}[/] · return {_colour(fmt.format_value(total, 'pct'), total)}"
        f" · final {fmt.money(result.final_equity)} {result.quote}"
    )
    if run_id:
        header = f"[bold cyan]run {escape(run_id)}[/] · " + header
    console.print(header, soft_wrap=True)
    console.print(Columns(headline_tables(metrics), padding=(0, 2)))
    console.print(pair_table(per_pair, result.quote, console.width))
    if result.trades:
        console.print(exit_reason_table(result))
    if result.halted_at is not None:
        console.print(
            f"[bold yellow]trading halted by a risk breaker at {fmt.time_utc(result.halted_at)}[/]"
        )
    if metrics.get("notes"):
        console.print(f"[dim]notes: {escape(str(metrics['notes']))}[/]")
    print_checks(console, checks)
    print_banner(console, status, checks)
