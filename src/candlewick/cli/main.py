"""The ``candlewick`` command line: one Typer app, sub-commands registered from their modules.

Modules under ``candlewick.cli`` keep their top-level imports light (typer, rich) and import
heavy libraries inside the command functions, so that ``candlewick --help`` stays instant.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence

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


def _register_data() -> None:
    from candlewick.cli import data_cmd, download_cmd

    data_cmd.app.command("download")(download_cmd.download)
    app.add_typer(data_cmd.app, name="data")


def _register_config() -> None:
    from candlewick.cli import config_cmd

    app.add_typer(config_cmd.app, name="config")


def _register_runs() -> None:
    from candlewick.cli import runs_cmd

    app.add_typer(runs_cmd.app, name="runs")


def _register_list() -> None:
    from candlewick.cli import list_cmd

    app.add_typer(list_cmd.app, name="list")


def _register_report() -> None:
    from candlewick.cli import report_cmd

    app.command("report")(report_cmd.report)


def _register_backtest() -> None:
    from candlewick.cli import backtest_cmd

    app.command("backtest")(backtest_cmd.backtest)
    app.command("demo")(backtest_cmd.demo)


def _register_emulator() -> None:
    from candlewick.cli import emulator_cmd

    app.command("emulator")(emulator_cmd.emulator)


#: Each top-level command's registration, in the order ``candlewick --help`` lists them.
_COMMANDS: dict[str, Callable[[], None]] = {
    "data": _register_data,
    "config": _register_config,
    "runs": _register_runs,
    "list": _register_list,
    "report": _register_report,
    "backtest": _register_backtest,
    "demo": _register_backtest,
    "emulator": _register_emulator,
}


def _register(argv: Sequence[str] | None = None) -> None:
    """Register the commands: only the one ``argv`` invokes when it names one (a command
    module and what it imports cost memory, ``data download``'s asyncio for one), every
    command otherwise (``--help``, a mistyped name). Registering twice is harmless."""
    words = [a for a in (sys.argv if argv is None else argv)[1:] if not a.startswith("-")]
    wanted = _COMMANDS.get(words[0]) if words else None
    chosen = [wanted] if wanted is not None else list(dict.fromkeys(_COMMANDS.values()))
    registered = {info.name for info in app.registered_commands} | {
        info.name for info in app.registered_groups
    }
    for register in chosen:
        names = {name for name, fn in _COMMANDS.items() if fn is register}
        if not names <= registered:
            register()


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
