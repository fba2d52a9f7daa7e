"""``candlewick data``: import candle files into the local store, list, show and check them.

Top-level imports stay light (typer, rich, stdlib); numpy and pyarrow load inside the commands.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

if TYPE_CHECKING:
    from candlewick.core.validation import Gap
    from candlewick.data.store import CandleStore

app = typer.Typer(
    help=(
        "Market data: import candle CSV files into the local Parquet store, list what is "
        "stored, show bars and report gaps. The store is the candles folder of the Candlewick "
        "home ($CANDLEWICK_HOME, by default the user data directory)."
    ),
    no_args_is_help=True,
)

ExchangeArg = Annotated[str, typer.Argument(help="Exchange id, e.g. binance.")]
PairArg = Annotated[str, typer.Argument(help="Pair, e.g. BTC/USDT (BTC/USDT:USDT for a perp).")]
TimeframeArg = Annotated[
    str, typer.Argument(help="Timeframe, e.g. 5m; a coarser one is resampled from a finer one.")
]


def _store() -> CandleStore:
    from candlewick.data.store import CandleStore
    from candlewick.paths import candle_store_dir

    return CandleStore(candle_store_dir())


def _ts(ms: int) -> str:
    from candlewick.core.validation import format_ts

    return format_ts(ms)


def _gap_text(gaps: tuple[Gap, ...]) -> str:
    if not gaps:
        return "none"
    widest = max(gaps, key=lambda g: g.missing)
    missing = sum(g.missing for g in gaps)
    return (
        f"{len(gaps):,} run(s), {missing:,} missing bar(s); the longest is {widest.missing:,} "
        f"bar(s) from {_ts(widest.start_ts)} to {_ts(widest.end_ts)}"
    )


@app.command("import")
def import_(
    path: Annotated[Path, typer.Argument(help="A candle CSV file (.csv or .csv.gz).")],
    exchange: Annotated[
        str | None, typer.Option(help="Exchange id; default: from the file name.")
    ] = None,
    pair: Annotated[str | None, typer.Option(help="Pair; default: from the file name.")] = None,
    timeframe: Annotated[
        str | None, typer.Option(help="Timeframe; default: from the file name.")
    ] = None,
) -> None:
    """Import a candle file (header timestamp,open,high,low,close,volume; ms UTC open times).

    Names like binance_BTC-USDT_5m.csv.gz say the exchange, pair and timeframe. Bars already
    stored are kept; a file that disagrees with them, or has implausible values or times, is
    refused naming the lines. A lone bar far from the rest is set aside, with a warning.
    """
    from candlewick.data.sources import import_file

    result = import_file(_store(), path, exchange, pair, timeframe)
    stored = result.stored
    out = Console()
    imported = result.rows_read - result.duplicates_dropped - result.quarantined
    out.print(
        f"Imported {imported:,} bars of [bold]{result.exchange} {escape(result.pair)} "
        f"{result.timeframe}[/] from {escape(str(path))}"
    )
    out.print(f"  range    {_ts(result.first_ts)} → {_ts(result.last_ts)} UTC")
    out.print(f"  gaps     {_gap_text(result.gaps)}")
    if result.duplicates_dropped:
        out.print(f"  dropped  {result.duplicates_dropped:,} exact duplicate row(s)")
    out.print(
        f"  stored   {result.added:,} new bar(s); the store now holds {stored.rows:,} bars, "
        f"{_ts(stored.first_ts)} → {_ts(stored.last_ts)} UTC, in {escape(str(stored.path))}"
    )
    for warning in result.warnings:
        out.print(f"[bold yellow]warning:[/] {escape(warning)}")


@app.command("list")
def list_() -> None:
    """List the stored series with their range, size and gaps."""
    store = _store()
    entries = store.entries()
    out = Console()
    if not entries:
        out.print(
            f"The candle store at {escape(str(store.root))} is empty. "
            "Import a file with: candlewick data import PATH"
        )
        return
    table = Table(title=f"Candle store {escape(str(store.root))}")
    for name in ("exchange", "pair", "timeframe", "first bar (UTC)", "last bar (UTC)"):
        table.add_column(name)
    for name in ("bars", "gap runs", "missing bars"):
        table.add_column(name, justify="right")
    for e in entries:
        table.add_row(
            e.exchange,
            escape(e.pair),
            e.timeframe,
            _ts(e.first_ts),
            _ts(e.last_ts),
            f"{e.rows:,}",
            f"{e.gaps:,}",
            f"{e.missing:,}",
        )
    out.print(table)


def _parse_when(text: str | None, option: str, *, end: bool) -> int | None:
    """ISO date or date-time (UTC unless an offset is given) as ms; a bare ``--end`` date
    includes that whole day."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not an ISO date such as 2024-03-01 or 2024-03-01T12:00", param_hint=option
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if end and len(text) == 10:
        moment += timedelta(days=1, milliseconds=-1)
    return int(moment.timestamp() * 1000)


@app.command("show")
def show(
    exchange: ExchangeArg,
    pair: PairArg,
    timeframe: TimeframeArg,
    tail: Annotated[int, typer.Option(min=1, help="How many of the last bars to show.")] = 20,
    start: Annotated[str | None, typer.Option(help="First bar, ISO date (UTC).")] = None,
    end: Annotated[str | None, typer.Option(help="Last bar, ISO date (UTC), inclusive.")] = None,
) -> None:
    """Show the last bars of a series (within --start/--end when given)."""
    store = _store()
    start_ms = _parse_when(start, "--start", end=False)
    end_ms = _parse_when(end, "--end", end=True)
    candles = store.read(exchange, pair, timeframe, start_ms, end_ms)
    source = store.source_timeframe(exchange, pair, timeframe, start_ms, end_ms)
    out = Console()
    if len(candles) == 0:
        out.print(f"No {escape(candles.pair)} {timeframe} bar in that range.")
        return
    shown = candles.slice(max(0, len(candles) - tail), len(candles))
    note = f", resampled from {source}" if source != timeframe else ""
    table = Table(
        title=f"{candles.exchange} {escape(candles.pair)} {timeframe}: last {len(shown):,} "
        f"of {len(candles):,} bars{note}"
    )
    table.add_column("open time (UTC)")
    for name in ("open", "high", "low", "close", "volume"):
        table.add_column(name, justify="right")
    rows = zip(
        shown.timestamp.tolist(),
        shown.open.tolist(),
        shown.high.tolist(),
        shown.low.tolist(),
        shown.close.tolist(),
        shown.volume.tolist(),
        strict=True,
    )
    for ts, *values in rows:
        table.add_row(_ts(ts), *(f"{v:.10g}" for v in values))
    out.print(table)


@app.command("gaps")
def gaps(
    exchange: ExchangeArg,
    pair: PairArg,
    timeframe: TimeframeArg,
    limit: Annotated[int, typer.Option(min=0, help="How many gap runs to list.")] = 50,
) -> None:
    """Report the runs of missing bars between the first and the last stored bar."""
    from candlewick.core.validation import find_gaps

    candles = _store().read(exchange, pair, timeframe)
    found = find_gaps(candles.timestamp, timeframe)
    out = Console()
    title = f"{candles.exchange} {escape(candles.pair)} {timeframe}"
    if len(candles) == 0:
        out.print(f"{title}: no complete bar stored.")
        return
    out.print(
        f"{title}: {len(candles):,} bars from {_ts(int(candles.timestamp[0]))} to "
        f"{_ts(int(candles.timestamp[-1]))} UTC; gaps: {_gap_text(found)}"
    )
    if not found or limit == 0:
        return
    table = Table()
    table.add_column("first missing bar (UTC)")
    table.add_column("last missing bar (UTC)")
    table.add_column("missing bars", justify="right")
    for gap in found[:limit]:
        table.add_row(_ts(gap.start_ts), _ts(gap.end_ts), f"{gap.missing:,}")
    out.print(table)
    if len(found) > limit:
        out.print(f"... and {len(found) - limit:,} more run(s); raise --limit to see them")


@app.command("delete")
def delete(
    exchange: ExchangeArg,
    pair: PairArg,
    timeframe: Annotated[str, typer.Argument(help="Stored timeframe to delete.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete one stored series (to import a corrected file in its place)."""
    store = _store()
    if not yes and store.entry(exchange, pair, timeframe) is not None:
        typer.confirm(f"Delete the stored {exchange} {pair} {timeframe} candles?", abort=True)
    entry = store.delete(exchange, pair, timeframe)
    Console().print(
        f"Deleted {entry.rows:,} bars of {entry.exchange} {escape(entry.pair)} {entry.timeframe}"
    )
