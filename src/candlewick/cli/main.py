"""The ``candlewick`` command line: one Typer app, sub-commands registered from their modules.

Modules under ``candlewick.cli`` keep their top-level imports light (typer, rich) and import
heavy libraries inside the command functions, so that ``candlewick --help`` stays instant.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from candlewick.errors import CandlewickError

app = typer.Typer(
    name="candlewick",
    help="Candlewick: backtest, paper and live crypto trading with one strategy code.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _register() -> None:
    from candlewick.cli import backtest_cmd, config_cmd, data_cmd, report_cmd, runs_cmd

    app.add_typer(data_cmd.app, name="data")
    app.add_typer(config_cmd.app, name="config")
    app.add_typer(runs_cmd.app, name="runs")
    app.command("report")(report_cmd.report)
    app.command("backtest")(backtest_cmd.backtest)
    app.command("demo")(backtest_cmd.demo)


def main() -> None:
    """Entry point of the console script: runs the app, shows project errors without traceback."""
    _register()
    try:
        app()
    except CandlewickError as exc:
        Console(stderr=True).print(f"[bold red]error:[/] {exc}")
        sys.exit(2)
