"""``candlewick backtest`` and ``candlewick demo``: run a config over stored candles."""

from __future__ import annotations

import gc
import re
import secrets
import time
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from candlewick.fmt import count, money, run_label

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from rich.progress import Progress

    from candlewick.config.loader import Override
    from candlewick.config.models import TradingConfig
    from candlewick.core.types import BacktestResult, Candles


def _progress_bar(console: Console) -> Progress:
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description:<24}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


def run_and_report(
    config: TradingConfig,
    config_path: Path,
    *,
    check_lookahead: bool,
    save: bool,
    html: bool,
    json_path: Path | None,
    console: Console,
    lookahead_seed: int | None = None,
) -> str | None:
    """Run one backtest with progress, print its summary, store it; return the run id.

    With ``check_lookahead`` a run whose signals read the future is stored (and reported)
    marked ``lookahead_failed``, and the command exits with code 3.
    """
    from candlewick.core.metrics import compute_metrics, per_pair_metrics
    from candlewick.core.types import RunRecord
    from candlewick.data.store import CandleStore
    from candlewick.modes.backtest import (
        LOOKAHEAD_FAILED,
        load_candles,
        lookahead_checks,
        lookahead_reports,
        run_backtest_job,
    )
    from candlewick.modes.strategy import config_snapshot
    from candlewick.paths import candle_store_dir
    from candlewick.report.terminal import print_summary

    clock = time.perf_counter()
    with _progress_bar(console) as bar:
        task = bar.add_task("loading candles", total=len(config.pairs) + 1)
        loaded = load_candles(config, CandleStore(candle_store_dir()))
        candles, notes, warning = loaded.candles, loaded.notes, loaded.warning
        del loaded

        def progress(stage: str, done: int, total: int) -> None:
            bar.update(task, description=stage, completed=done + 1, total=total + 1)

        checks, status = None, "ok"
        if check_lookahead:
            seed = secrets.randbelow(2**32) if lookahead_seed is None else lookahead_seed
            reports = lookahead_reports(config, candles, progress, seed=seed)
            checks = {"lookahead": lookahead_checks(reports, seed)}
            if not checks["lookahead"]["ok"]:
                status = LOOKAHEAD_FAILED
        result, _timings = run_backtest_job(config, candles, progress)
        first = min(int(c.timestamp[0]) for c in candles.values())
        last = max(int(c.timestamp[-1]) for c in candles.values())
        if not html:  # the HTML report is the candles' last reader: free them (7 MiB a year of 5m)
            candles = {}
        # A short-lived process: move the run's many small objects (trades, decimals) out of
        # the cyclic collector's sight so that it does not rescan them for the rest of the run.
        gc.freeze()
        bar.update(task, description="metrics", completed=len(config.pairs) + 1)
        metrics = compute_metrics(result)
        per_pair = per_pair_metrics(result)
    for note in notes:
        console.print(f"[dim]{escape(note)}[/]")
    if warning is not None:
        console.print(f"[bold yellow]warning:[/] {escape(warning)}")

    run_id = None
    if save:
        from candlewick.storage.db import open_database
        from candlewick.storage.runs import RunRepository

        record = RunRecord(
            run_id="",
            kind="backtest",
            name=config.name,
            created_at=int(time.time() * 1000),
            config=config_snapshot(config) | {"source": str(config_path)},
            exchange=config.exchange,
            pairs=tuple(config.pairs),
            timeframe=config.timeframe,
            start_ts=first,
            end_ts=last,
            metrics=dict(metrics) | {"per_pair": per_pair},
            result=result,
        )
        database = open_database()
        try:
            run_id = RunRepository(database).save(record, status=status, checks=checks)
        finally:
            database.dispose()

    label = run_label(config.name, "backtest")
    print_summary(console, result, metrics, per_pair, run_id=run_id, status=status, checks=checks,
                  label=label)  # fmt: skip
    console.print(
        f"trades: [bold]{count(len(result.trades))}[/]  final equity: "
        f"[bold]{money(result.final_equity)}[/] {result.quote}  "
        f"({time.perf_counter() - clock:.2f} s)"
    )
    if checks is not None:
        console.print(
            f"[dim]the random cuts are reproduced with --lookahead-seed "
            f"{checks['lookahead']['seed']}[/]"
        )
    if json_path is not None:
        from candlewick.report.json_report import write_json

        path = write_json(json_path, result, metrics, per_pair, status=status, checks=checks)
        console.print(f"JSON report: {path}")
    if html:
        _write_html(console, config, result, metrics, per_pair, candles, run_id, status, checks)
    if run_id:
        console.print(
            f"run id [bold cyan]{run_id}[/] · `candlewick runs show {run_id}` · "
            f"`candlewick report {run_id} --open`"
        )
        if status != "ok":
            console.print(
                f"[bold red]run {run_id} stored marked {status}[/]: `candlewick runs list` and "
                "its reports show it; its results are not achievable"
            )
    if status != "ok":
        raise typer.Exit(3)
    return run_id


def _write_html(
    console: Console,
    config: TradingConfig,
    result: BacktestResult,
    metrics: Mapping[str, object],
    per_pair: Sequence[Mapping[str, object]],
    candles: dict[str, Candles],
    run_id: str | None,
    status: str,
    checks: Mapping[str, Any] | None,
) -> None:
    from candlewick.paths import reports_dir
    from candlewick.report.html import write_html

    name = run_id or f"{config.name}-{int(time.time())}"
    path = write_html(
        reports_dir() / f"{name}.html",
        result,
        metrics,
        per_pair,
        candles,
        run_label(config.name, "backtest"),
        run_id=run_id,
        status=status,
        checks=checks,
    )
    console.print(f"HTML report: [bold]{path}[/]")


def parse_timerange(text: str) -> tuple[str | None, str | None]:
    """Freqtrade's ``--timerange``: ``YYYYMMDD-YYYYMMDD``, ``YYYYMMDD-`` or ``-YYYYMMDD``, the
    end excluded, as ISO days ``(start, end)``; typer.BadParameter naming the format."""
    match = re.fullmatch(r"(\d{8})?-(\d{8})?", text.strip())
    if match is None or not any(match.groups()):
        raise typer.BadParameter(
            f"{text!r}: use YYYYMMDD-YYYYMMDD (either side may be left out, e.g. 20240601-)",
            param_hint="--timerange",
        )
    days: list[str | None] = []
    for part in match.groups():
        if part is None:
            days.append(None)
            continue
        try:
            days.append(datetime.strptime(part, "%Y%m%d").date().isoformat())
        except ValueError:
            raise typer.BadParameter(f"{part!r} is not a date", param_hint="--timerange") from None
    return days[0], days[1]


def cli_overrides(
    *,
    pairs: Sequence[str] | None = None,
    timeframe: str | None = None,
    timerange: str | None = None,
    start: str | None = None,
    end: str | None = None,
    fee: str | None = None,
    initial_cash: str | None = None,
) -> list[Override]:
    """The config fields the backtest's options set (validated with the config's own bounds)."""
    from candlewick.config.loader import Override

    out = []
    if pairs:
        names = [p.strip() for group in pairs for p in group.split(",") if p.strip()]
        out.append(Override("--pairs", ("pairs",), names))
    if timeframe is not None:
        out.append(Override("--timeframe", ("timeframe",), timeframe))
    if timerange is not None:
        if start is not None or end is not None:
            raise typer.BadParameter("give --timerange or --start/--end, not both",
                                     param_hint="--timerange")  # fmt: skip
        start, end = parse_timerange(timerange)
        option = "--timerange"
    else:
        option = "--start/--end"
    if start is not None:
        out.append(Override(option, ("backtest", "start"), start))
    if end is not None:
        out.append(Override(option, ("backtest", "end"), end))
    if fee is not None:  # Freqtrade's --fee: the same rate for entries and exits
        out.append(Override("--fee", ("fees", "taker"), fee))
        out.append(Override("--fee", ("fees", "maker"), fee))
    if initial_cash is not None:
        out.append(Override("--initial-cash", ("backtest", "initial_cash"), initial_cash))
    return out


def backtest(
    config: Annotated[Path, typer.Option("--config", "-c", help="trading config (YAML)")],
    pairs: Annotated[
        list[str] | None,
        typer.Option(
            "--pairs",
            "-p",
            help="pairs instead of the config's: BTC/USDT,ETH/USDT (comma-separated or repeated)",
        ),
    ] = None,
    timeframe: Annotated[
        str | None, typer.Option("--timeframe", "-i", help="base timeframe instead of the config's")
    ] = None,
    timerange: Annotated[
        str | None,
        typer.Option(help="YYYYMMDD-YYYYMMDD (end excluded; either side optional), as Freqtrade"),
    ] = None,
    start: Annotated[str | None, typer.Option(help="first day, YYYY-MM-DD (UTC)")] = None,
    end: Annotated[str | None, typer.Option(help="end day (exclusive), YYYY-MM-DD")] = None,
    fee: Annotated[
        str | None,
        typer.Option(metavar="RATE", help="fee rate of every fill (taker and maker), e.g. 0.001"),
    ] = None,
    initial_cash: Annotated[
        str | None,
        typer.Option("--initial-cash", metavar="AMOUNT", help="quote units to start with"),
    ] = None,
    check_lookahead: Annotated[
        bool,
        typer.Option(
            "--check-lookahead",
            help="recompute signals on truncated histories (after kept and rejected signals, "
            "at random and evenly spaced bars) with fresh plugin state; a run whose signals "
            "change is stored marked lookahead_failed and the command exits with 3",
        ),
    ] = False,
    lookahead_seed: Annotated[
        int | None,
        typer.Option(
            min=0,
            max=2**32 - 1,
            help="seed of the lookahead check's random cuts [default: drawn, and printed]",
        ),
    ] = None,
    save: Annotated[bool, typer.Option(help="store the run in the database")] = True,
    html: Annotated[bool, typer.Option("--html", help="also write the HTML report")] = False,
    json_path: Annotated[Path | None, typer.Option("--json", help="write a JSON report")] = None,
) -> None:
    """Backtest a trading config on stored candles: progress, summary table, run id.

    Options override the config's fields (Freqtrade's names where they exist) and meet the
    same bounds; the stored run keeps the config as it ran.
    """
    from candlewick.config.loader import load_trading_config

    console = Console()
    overrides = cli_overrides(pairs=pairs, timeframe=timeframe, timerange=timerange,
                              start=start, end=end, fee=fee, initial_cash=initial_cash)  # fmt: skip
    cfg = load_trading_config(config, overrides)
    run_and_report(
        cfg,
        config,
        check_lookahead=check_lookahead,
        save=save,
        html=html,
        json_path=json_path,
        console=console,
        lookahead_seed=lookahead_seed,
    )


def demo() -> None:
    """The reference backtest (SMA 10/30 cross on BTC/USDT 5m) with its HTML report."""
    from candlewick.config.loader import load_trading_config

    console = Console()
    with resources.as_file(resources.files("candlewick") / "defaults" / "sma_cross.yaml") as path:
        cfg = load_trading_config(path)
        console.print(f"[bold]Candlewick demo[/]: {escape(str(path))}")
        run_and_report(
            cfg,
            path,
            check_lookahead=False,
            save=True,
            html=True,
            json_path=None,
            console=console,
        )
