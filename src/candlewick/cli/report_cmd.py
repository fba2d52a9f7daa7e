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
    from candlewick.data.store import CandleStore


class ReportFormat(StrEnum):
    """What ``candlewick report`` produces."""

    HTML = "html"
    JSON = "json"
    TEXT = "text"


def run_candles(record: RunRecord, store: CandleStore) -> tuple[dict[str, Candles], dict[str, str]]:
    """The bars the run used, per pair, and why a pair has none (pair → message).

    The stored series is chosen as the backtest chose it (:meth:`CandleStore.read_with_coverage`
    over the window of the run's config, ``backtest.start`` to ``backtest.end``), then cut to
    the run's own bars, so that a series imported since (a longer one, or one of another
    timeframe) does not change the chart."""
    from candlewick.core.timeframes import day_ms
    from candlewick.errors import DataError

    ts = record.result.timestamp
    first, last = (int(ts[0]), int(ts[-1])) if len(ts) else (record.start_ts, record.end_ts)
    window = record.config.get("backtest") if isinstance(record.config, dict) else None
    start = day_ms(window.get("start")) if isinstance(window, dict) else None
    end = day_ms(window.get("end")) if isinstance(window, dict) else None
    out: dict[str, Candles] = {}
    missing: dict[str, str] = {}
    for pair in record.result.pairs:
        try:
            candles, _ = store.read_with_coverage(
                record.exchange, pair, record.timeframe, start, None if end is None else end - 1
            )
        except DataError as exc:
            missing[pair] = str(exc)
            continue
        lo = int(candles.timestamp.searchsorted(first, side="left"))
        hi = int(candles.timestamp.searchsorted(last, side="right"))
        out[pair] = candles.slice(lo, hi)
    return out, missing


def _load_candles(record: RunRecord, console: Console) -> dict[str, Candles]:
    """:func:`run_candles` from the candle store; a pair that cannot be read is skipped with a
    warning (the report is still written, without that chart)."""
    from candlewick.data.store import CandleStore
    from candlewick.paths import candle_store_dir

    out, missing = run_candles(record, CandleStore(candle_store_dir()))
    for pair, why in missing.items():
        console.print(f"[yellow]no chart for {escape(pair)}:[/] {escape(why)}")
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
    from candlewick.fmt import run_label
    from candlewick.paths import reports_dir
    from candlewick.storage.db import open_database
    from candlewick.storage.runs import RunRepository

    console = Console()
    with open_database() as db:
        repo = RunRepository(db)
        record = repo.get(run_id)
        summary = repo.summary(record.run_id)
    status, checks = summary.status, summary.checks
    label = run_label(record.name, record.kind)
    result = record.result
    metrics = compute_metrics(result)
    per_pair = per_pair_metrics(result)

    if fmt is ReportFormat.TEXT:
        from candlewick.report.terminal import print_summary

        print_summary(
            console,
            result,
            metrics,
            per_pair,
            run_id=record.run_id,
            status=status,
            checks=checks,
            label=label,
        )
        return

    path = out if out is not None else reports_dir() / f"{record.run_id}.{fmt.value}"
    if fmt is ReportFormat.JSON:
        from candlewick.report.json_report import write_json

        write_json(path, record, metrics, per_pair, status=status, checks=checks)
    else:
        from candlewick.report.html import write_html

        write_html(
            path,
            result,
            metrics,
            per_pair,
            _load_candles(record, console),
            label,
            run_id=record.run_id,
            status=status,
            checks=checks,
        )
    size_mb = path.stat().st_size / 1e6
    console.print(f"Report written: {escape(str(path))} ({size_mb:.1f} MB)", soft_wrap=True)
    if open_:
        _open_in_browser(path, console)
