"""``candlewick runs``: list, show and delete the runs stored in the database.

The database is ``$CANDLEWICK_DB_URL``, else SQLite in the data directory (``$CANDLEWICK_HOME``).
SQLAlchemy and the storage modules are imported inside the commands to keep start-up fast.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import typer
from rich import box
from rich.columns import Columns
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from candlewick import fmt

if TYPE_CHECKING:
    from candlewick.core.types import RunRecord, Trade
    from candlewick.storage.runs import RunRepository, RunSummary

app = typer.Typer(
    help="Stored runs: list, show and delete the backtests saved in the database.",
    no_args_is_help=True,
    add_completion=False,
)


@contextmanager
def _repository() -> Iterator[RunRepository]:
    from candlewick.storage.db import open_database
    from candlewick.storage.runs import RunRepository

    with open_database() as db:
        yield RunRepository(db)


def _check_mark(summary: RunSummary, named: bool) -> str:
    """``✗`` (``✗ lookahead`` when ``named``) for a run that failed that check, ``✓`` for one
    checked clean, ``-`` for one not checked."""
    if summary.failed:
        name = f" {summary.status.removesuffix('_failed')}" if named else ""
        return f"[bold red]✗{name}[/]"
    return "[green]✓[/]" if summary.checks else "-"


@app.command("list")
def list_runs(
    limit: int = typer.Option(20, "--limit", "-n", min=1, help="How many runs, newest first."),
    kind: str | None = typer.Option(None, "--kind", help="Only runs of this kind (backtest...)."),
    status: str | None = typer.Option(
        None, "--status", help="Only runs with this status: ok or lookahead_failed."
    ),
) -> None:
    """List the newest stored runs; a run that failed its lookahead check is marked ✗."""
    console = Console()
    with _repository() as repo:
        summaries = repo.list(limit=limit, kind=kind, status=status)
        where = repo.db.display_url
    if not summaries:
        console.print(
            f"No runs stored in {where} yet; `candlewick backtest` saves one.", soft_wrap=True
        )
        return
    # Columns by terminal width, most useful first: a wrapped table is unreadable. Figures
    # are formatted as in every other view (candlewick.fmt); times are UTC, said in the header.
    medium, wide, widest = (console.width >= w for w in (110, 150, 180))
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, collapse_padding=True)
    table.add_column("id", no_wrap=True, style="cyan")
    table.add_column("created (UTC)" if medium else "created", no_wrap=True)
    if widest:
        table.add_column("kind", no_wrap=True)
    # name and pairs are the only columns that wrap, so that ids and numbers are never cut.
    table.add_column("name", max_width=36)
    if medium:
        table.add_column("pairs", max_width=30)
    table.add_column("tf", no_wrap=True)
    table.add_column("check", no_wrap=True)
    if widest:
        table.add_column("window (UTC)", no_wrap=True)
    headers = ("total return", "max drawdown") if wide else ("return", "max DD")
    for header in ("trades", *headers, "sharpe"):
        table.add_column(header, justify="right", no_wrap=True)
    if wide:
        table.add_column("final equity", justify="right", no_wrap=True)
    for s in summaries:
        created = fmt.created(s.created_at)
        row = [s.id, created if medium else created[:10]]
        row += [s.kind] if widest else []
        row += [s.name]
        row += [", ".join(s.pairs)] if medium else []
        row += [s.timeframe, _check_mark(s, named=medium)]
        window = fmt.bars_window(s.start_ts, s.end_ts, s.timeframe)
        row += [fmt.window(*window, zone=False)] if widest else []
        row += [
            fmt.count(s.trade_count),
            fmt.pct(s.total_return),
            fmt.pct(s.max_drawdown),
            fmt.ratio(s.sharpe),
        ]
        row += [fmt.money(s.final_equity)] if wide else []
        table.add_row(*row)
    console.print(table)
    failed = [s.id for s in summaries if s.failed]
    if failed:
        one = len(failed) == 1
        console.print(
            f"[bold red]{len(failed)} run{'' if one else 's'} failed {'its' if one else 'their'} "
            f"lookahead check ({', '.join(failed)})[/]: the results are not achievable; "
            "`candlewick runs show ID` says why",
            soft_wrap=True,
        )
    console.print(f"[dim]{len(summaries)} newest runs in {where}[/]", soft_wrap=True)


@app.command("show")
def show_run(
    run_id: str = typer.Argument(..., help="Run id, or a unique prefix of at least 4 characters."),
    trades: int | None = typer.Option(
        None, "--trades", "-t", min=0, help="How many trades to show [default: 10, JSON: all]."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (amounts as exact strings)."),
) -> None:
    """Show one run: what was run, its status and checks, its metrics and its first trades."""
    from candlewick.report import record_window
    from candlewick.report.terminal import (
        headline_tables,
        pair_table,
        print_banner,
        print_checks,
    )

    with _repository() as repo:
        record = repo.get(run_id)
        summary = repo.summary(record.run_id)
    if as_json:
        n_json = len(record.result.trades) if trades is None else trades
        doc = _as_json(record, n_json) | {"status": summary.status, "checks": summary.checks}
        typer.echo(json.dumps(doc, indent=2))
        return
    console = Console()
    print_banner(console, summary.status, summary.checks)
    result = record.result
    start, end = record_window(record)
    label = fmt.run_label(record.name, record.kind)
    console.print(
        f"[bold]{escape(fmt.run_title(label, record.pairs, record.timeframe, start, end))}[/]",
        soft_wrap=True,
    )
    facts = [
        ("id", record.run_id),
        ("status", f"[bold red]{summary.status}[/]" if summary.failed else summary.status),
        ("created", f"{fmt.created(record.created_at)} UTC"),
        ("exchange", record.exchange),
        ("window", f"{fmt.window(start, end)} ({fmt.count(result.bars)} bars, "
                   f"{fmt.WINDOW_MEANING})"),
        ("quote", result.quote),
    ]  # fmt: skip
    if result.halted_at is not None:
        facts.append(("halted at", fmt.time_utc(result.halted_at)))
    console.print(_grid(facts))
    print_checks(console, summary.checks)

    metrics = record.metrics
    console.print(Columns(headline_tables(metrics), padding=(0, 2)))
    per_pair = metrics.get("per_pair")
    if isinstance(per_pair, list) and per_pair:
        console.print(pair_table(per_pair, result.quote, console.width))

    n_shown = 10 if trades is None else trades
    if n_shown and result.trades:
        console.print(_trades_table(result.trades[:n_shown], len(result.trades), console.width))


def _grid(items: list[tuple[str, str]]) -> Table:
    """Label/value pairs, one a line."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for label, text in items:
        grid.add_row(label, text)
    return grid


def _trades_table(trades: tuple[Trade, ...], total: int, width: int) -> Table:
    title = f"First {len(trades)} of {fmt.count(total)} trades" if len(trades) < total else "Trades"
    wide = width >= 110
    table = Table(
        title=title,
        title_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        collapse_padding=True,
    )
    if wide:
        table.add_column("#", justify="right", no_wrap=True)
    table.add_column("pair", no_wrap=True)
    table.add_column("entry (UTC)", no_wrap=True)
    for header in ("entry price", "exit price", *(("qty",) if wide else ()), "pnl", "return"):
        table.add_column(header, justify="right", no_wrap=True)
    if wide:
        table.add_column("bars", justify="right", no_wrap=True)
    table.add_column("exit")  # the one column that may wrap
    for i, t in enumerate(trades, start=1):
        row = [str(i)] if wide else []
        row += [t.pair, fmt.time(t.entry_ts), fmt.exact(t.entry_price), fmt.exact(t.exit_price)]
        row += [fmt.exact(t.qty)] if wide else []
        row += [fmt.money(t.pnl), fmt.pct(t.return_pct)]
        row += [str(t.bars_held)] if wide else []
        row += [str(t.exit_reason)]
        table.add_row(*row)
    return table


def _as_json(record: RunRecord, n_trades: int) -> dict[str, Any]:
    """The run for machines: times as ``*_ts`` (ms) and ``*_time`` (ISO 8601 UTC), the window
    from the first bar's open to the last bar's close, exact amounts as strings, trades as in
    the JSON report."""
    from candlewick.report import record_window
    from candlewick.report.json_report import stamp, trade_dict

    result = record.result
    start, end = record_window(record)
    return {
        "id": record.run_id,
        "kind": record.kind,
        "name": record.name,
        **stamp("created", record.created_at),
        "exchange": record.exchange,
        "pairs": list(record.pairs),
        "timeframe": record.timeframe,
        **stamp("start", start),
        **stamp("end", end),
        "quote": result.quote,
        "bars": result.bars,
        "initial_cash": str(result.initial_cash),
        "final_equity": str(result.final_equity),
        **stamp("halted_at", result.halted_at),
        "trade_count": len(result.trades),
        "metrics": record.metrics,
        "config": record.config,
        "trades": [trade_dict(i, t) for i, t in enumerate(result.trades[:n_trades], start=1)],
    }


@app.command("delete")
def delete_run(
    run_id: str = typer.Argument(..., help="Run id, or a unique prefix of at least 4 characters."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
) -> None:
    """Delete a stored run with its trades and series."""
    with _repository() as repo:
        run = repo.summary(run_id)
        if not yes:
            typer.confirm(
                f"Delete run {run.id} ({run.name!r}, {run.trade_count} trades)?", abort=True
            )
        repo.delete(run.id)
    Console().print(f"Deleted run {run.id}.")
