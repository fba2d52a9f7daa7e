"""``candlewick report RUN_ID``: write the HTML (or JSON) report of a stored run, or print it.

Storage, the candle store, numpy and plotly are imported inside the command, so that loading
this module (and ``candlewick --help``) stays fast.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.markup import escape

if TYPE_CHECKING:
    from candlewick.core.types import Candles, RunRecord


class ReportFormat(StrEnum):
    """What ``candlewick report`` produces."""

    HTML = "html"
    JSON = "json"
    TEXT = "text"


def _load_candles(record: RunRecord, console: Console) -> dict[str, Candles]:
    """The run's candles per pair from the candle store; a pair that cannot be read is skipped
    with a warning (the report is still written, without that chart)."""
    from candlewick.data.store import CandleStore
    from candlewick.errors import DataError
    from candlewick.paths import candle_store_dir

    ts = record.result.timestamp
    start, end = (int(ts[0]), int(ts[-1])) if len(ts) else (record.start_ts, record.end_ts)
    store = CandleStore(candle_store_dir())
    out: dict[str, Candles] = {}
    for pair in record.result.pairs:
        try:
            out[pair] = store.read(record.exchange, pair, record.timeframe, start, end)
        except DataError as exc:
            console.print(f"[yellow]no chart for {escape(pair)}:[/] {escape(str(exc))}")
    return out


def _open_in_browser(path: Path, console: Console) -> None:
    import webbrowser

    try:
        opened = webbrowser.open(path.resolve().as_uri())
    except (webbrowser.Error, OSError):
        opened = False
    if not opened:
        console.print("No web browser found; open the file above yourself.")


def report(
    run_id: str = typer.Argument(
        ..., help="Id of a stored run, or a unique prefix of it (see `candlewick runs list`)."
    ),
    open_: bool = typer.Option(False, "--open", help="Open the written report in a browser."),
    fmt: ReportFormat = typer.Option(
        ReportFormat.HTML,
        "--format",
        "-f",
        help="html (one offline file with charts), json, or text (summary in the terminal).",
    ),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Write the file here instead of <data dir>/reports/<run id>."
    ),
) -> None:
    """Write the report of a stored run (HTML with charts by default) and print its path.

    A run that failed its lookahead check gets a banner saying so in every format.
    """
    from candlewick.core.metrics import compute_metrics, per_pair_metrics
    from candlewick.paths import reports_dir
    from candlewick.storage.db import open_database
    from candlewick.storage.runs import RunRepository

    console = Console()
    with open_database() as db:
        repo = RunRepository(db)
        record = repo.get(run_id)
        summary = repo.summary(record.run_id)
    status, checks = summary.status, summary.checks
    result = record.result
    metrics = compute_metrics(result)
    per_pair = per_pair_metrics(result)

    if fmt is ReportFormat.TEXT:
        from candlewick.report.terminal import print_summary

        print_summary(
            console, result, metrics, per_pair, run_id=record.run_id, status=status, checks=checks
        )
        return

    path = out if out is not None else reports_dir() / f"{record.run_id}.{fmt.value}"
    if fmt is ReportFormat.JSON:
        from candlewick.report.json_report import write_json

        write_json(path, record, metrics, per_pair, status=status, checks=checks)
    else:
        from candlewick.report.html import write_html

        title = f"{record.kind.capitalize()} {record.name}".strip()
        write_html(
            path,
            result,
            metrics,
            per_pair,
            _load_candles(record, console),
            title,
            run_id=record.run_id,
            status=status,
            checks=checks,
        )
    size_mb = path.stat().st_size / 1e6
    console.print(f"Report written: {escape(str(path))} ({size_mb:.1f} MB)", soft_wrap=True)
    if open_:
        _open_in_browser(path, console)
