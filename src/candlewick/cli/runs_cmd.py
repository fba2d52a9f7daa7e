"""``candlewick runs``: list, show and delete the runs stored in the database.

The database is ``$CANDLEWICK_DB_URL``, else SQLite in the data directory (``$CANDLEWICK_HOME``).
SQLAlchemy and the storage modules are imported inside the commands to keep start-up fast.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import typer
from rich import box
from rich.console import Console
from rich.table import Table

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


def _when(ms: int, *, seconds: bool = False) -> str:
    """A UTC time from epoch milliseconds, e.g. ``2024-03-01 14:05``."""
    fmt = "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M"
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime(fmt)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:+.2%}"


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


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
    # Columns by terminal width, most useful first: a wrapped table is unreadable.
    medium, wide = console.width >= 110, console.width >= 150
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, collapse_padding=True)
    table.add_column("id", no_wrap=True, style="cyan")
    table.add_column("created (UTC)" if medium else "created", no_wrap=True)
    if wide:
        table.add_column("kind", no_wrap=True)
    # name and pairs are the only columns that wrap, so that ids and numbers are never cut.
    table.add_column("name", max_width=36)
    if medium:
        table.add_column("pairs", max_width=30)
    table.add_column("tf", no_wrap=True)
    table.add_column("check", no_wrap=True)
    if wide:
        table.add_column("period", no_wrap=True)
    for header in ("trades", "return", "max DD", "sharpe"):
        table.add_column(header, justify="right", no_wrap=True)
    if wide:
        table.add_column("final equity", justify="right", no_wrap=True)
    for s in summaries:
        row = [s.id, _when(s.created_at) if medium else _when(s.created_at)[:10]]
        row += [s.kind] if wide else []
        row += [s.name]
        row += [", ".join(s.pairs)] if medium else []
        row += [s.timeframe, _check_mark(s, named=medium)]
        row += [f"{_when(s.start_ts)[:10]} → {_when(s.end_ts)[:10]}"] if wide else []
        row += [
            str(s.trade_count),
            _pct(s.total_return),
            _pct(None if s.max_drawdown is None else -abs(s.max_drawdown)),
            _num(s.sharpe),
        ]
        row += [f"{s.final_equity:,.2f}"] if wide else []
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
    from candlewick.report.terminal import print_banner, print_checks

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
    ret = result.final_equity / result.initial_cash - 1 if result.initial_cash else None
    facts = [
        ("id", record.run_id),
        ("name", record.name),
        ("kind", record.kind),
        ("status", f"[bold red]{summary.status}[/]" if summary.failed else summary.status),
        ("created", f"{_when(record.created_at, seconds=True)} UTC"),
        ("exchange", record.exchange),
        ("pairs", ", ".join(record.pairs)),
        ("timeframe", record.timeframe),
        ("period", f"{_when(record.start_ts)} → {_when(record.end_ts)} UTC ({result.bars} bars)"),
        ("initial cash", f"{result.initial_cash:,} {result.quote}"),
        ("final equity", f"{result.final_equity:,} {result.quote}"),
        ("return", _pct(None if ret is None else float(ret))),
        ("trades", str(len(result.trades))),
    ]
    if result.halted_at is not None:
        facts.append(("halted at", f"{_when(result.halted_at)} UTC"))
    console.print(_grid(facts, per_row=1))
    print_checks(console, summary.checks)

    scalars = [
        (key, _metric_text(value))
        for key, value in sorted(record.metrics.items())
        if not isinstance(value, dict | list)  # per-pair tables and the like: see the report
    ]
    if scalars:
        console.print()
        console.print("[bold]Metrics[/]")
        console.print(_grid(scalars, per_row=max(1, min(3, console.width // 45))))

    n_shown = 10 if trades is None else trades
    if n_shown and result.trades:
        console.print()
        console.print(_trades_table(result.trades[:n_shown], len(result.trades), console.width))


def _metric_text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if abs(value) >= 1000:  # money and counts: 12,345.67 rather than 1.235e+04
            return f"{value:,.2f}"
        return f"{value:.4g}"
    return str(value)


def _amount(value: Decimal) -> str:
    """An exact amount, shortened to 10 significant digits when it is long (tables only)."""
    text = f"{value:f}"
    return text if len(text) <= 14 else f"{value:.10g}"


def _grid(items: list[tuple[str, str]], per_row: int) -> Table:
    """Label/value pairs, ``per_row`` pairs side by side."""
    grid = Table.grid(padding=(0, 2))
    for _ in range(per_row):
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column(overflow="fold")
    for start in range(0, len(items), per_row):
        chunk = items[start : start + per_row]
        grid.add_row(*[text for pair in chunk for text in pair])
    return grid


def _trades_table(trades: tuple[Trade, ...], total: int, width: int) -> Table:
    title = f"First {len(trades)} of {total} trades" if len(trades) < total else "Trades"
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
        row += [t.pair, _when(t.entry_ts), _amount(t.entry_price), _amount(t.exit_price)]
        row += [_amount(t.qty)] if wide else []
        row += [f"{t.pnl:,.6g}", _pct(t.return_pct)]
        row += [str(t.bars_held)] if wide else []
        row += [str(t.exit_reason)]
        table.add_row(*row)
    return table


def _as_json(record: RunRecord, n_trades: int) -> dict[str, Any]:
    result = record.result
    return {
        "id": record.run_id,
        "kind": record.kind,
        "name": record.name,
        "created_at": record.created_at,
        "exchange": record.exchange,
        "pairs": list(record.pairs),
        "timeframe": record.timeframe,
        "start_ts": record.start_ts,
        "end_ts": record.end_ts,
        "quote": result.quote,
        "bars": result.bars,
        "initial_cash": str(result.initial_cash),
        "final_equity": str(result.final_equity),
        "halted_at": result.halted_at,
        "trade_count": len(result.trades),
        "metrics": record.metrics,
        "config": record.config,
        "trades": [
            {
                "pair": t.pair,
                "signal_ts": t.signal_ts,
                "entry_ts": t.entry_ts,
                "exit_ts": t.exit_ts,
                "entry_price": str(t.entry_price),
                "exit_price": str(t.exit_price),
                "qty": str(t.qty),
                "qty_net": str(t.qty_net),
                "cost": str(t.cost),
                "proceeds": str(t.proceeds),
                "entry_fee": str(t.entry_fee),
                "exit_fee": str(t.exit_fee),
                "pnl": str(t.pnl),
                "exit_reason": str(t.exit_reason),
                "bars_held": t.bars_held,
            }
            for t in result.trades[:n_trades]
        ],
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
