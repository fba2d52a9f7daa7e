"""The ``candlewick`` command line: one Typer app, sub-commands registered from their modules.

Modules under ``candlewick.cli`` keep their top-level imports light (typer, rich) and import
heavy libraries inside the command functions, so that ``candlewick --help`` stays instant.
"""

from __future__ import annotations

import os
import sys

import typer
from rich.console import Console
from rich.markup import escape

from candlewick.errors import CandlewickError

app = typer.Typer(
    name="candlewick",
    help="Candlewick: backtest, paper and live crypto trading with one strategy code.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def version_text() -> str:
    """``candlewick X.Y.Z`` from the installed package's metadata (Python version beside)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        number = version("candlewick")
    except PackageNotFoundError:
        number = "unknown (not installed)"
    return f"candlewick {number} (Python {sys.version.split()[0]})"


def _print_version(value: bool) -> None:
    if value:
        typer.echo(version_text())
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", "-V", help="Show the version and exit.", is_eager=True,
        callback=_print_version,
    ),
) -> None:
    """Candlewick: backtest, paper and live crypto trading with one strategy code."""


def _register() -> None:
    from candlewick.cli import (
        backtest_cmd,
        config_cmd,
        data_cmd,
        download_cmd,
        emulator_cmd,
        list_cmd,
        report_cmd,
        runs_cmd,
    )

    data_cmd.app.command("download")(download_cmd.download)
    app.add_typer(data_cmd.app, name="data")
    app.add_typer(config_cmd.app, name="config")
    app.add_typer(runs_cmd.app, name="runs")
    app.add_typer(list_cmd.app, name="list")
    app.command("report")(report_cmd.report)
    app.command("backtest")(backtest_cmd.backtest)
    app.command("demo")(backtest_cmd.demo)
    app.command("emulator")(emulator_cmd.emulator)


def main() -> None:
    """Entry point of the console script: runs the app, shows user errors without traceback.

    Project errors and file-system errors (a path that cannot be read or written) print one
    line and exit 2; Ctrl-C exits 130. Secrets are read from the environment, and from a
    ``.env`` file in the working directory for variables the environment does not set.
    """
    from dotenv import load_dotenv

    load_dotenv(override=False)
    _register()
    err = Console(stderr=True)
    try:
        app()
    except SystemExit as done:
        # Typer ends with SystemExit. Skip the interpreter's teardown of pandas, pyarrow and
        # SQLAlchemy (a third of a short backtest's time): output is flushed and every
        # database handle is closed by the commands themselves.
        code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
        if done.code is not None and not isinstance(done.code, int):
            err.print(str(done.code))
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    except CandlewickError as exc:
        err.print(f"[bold red]error:[/] {escape(str(exc))}")
        sys.exit(2)
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        err.print(f"[bold red]error:[/] {escape(where + (exc.strerror or str(exc)))}")
        sys.exit(2)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
