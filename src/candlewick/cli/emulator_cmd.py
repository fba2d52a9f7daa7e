"""``candlewick emulator``: run the Binance-compatible exchange emulator over stored candles.

Top-level imports stay light (typer, rich, stdlib); aiohttp and the emulator load in the command.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape


def emulator(
    config: Annotated[
        Path,
        typer.Option("--config", "-c", help="The emulator's YAML file (see docs/emulator.md)."),
    ],
    host: Annotated[str | None, typer.Option(help="Address to bind; overrides the file.")] = None,
    port: Annotated[
        int | None, typer.Option(help="Port to bind (0: any free); overrides the file.")
    ] = None,
    speed: Annotated[
        str | None, typer.Option(help="Replay speed: 1 real time, 60 a minute per second, or step.")
    ] = None,
    start: Annotated[
        str | None,
        typer.Option(help="Replay start, e.g. 2026-03-25T00:00:00Z; overrides the file."),
    ] = None,
) -> None:
    """Serve Binance's spot REST and WebSocket API, replaying stored 1m candles as if live.

    Point ccxt (or the bot) at http://HOST:PORT and ws://HOST:PORT/ws; Ctrl-C stops it.
    """
    from candlewick.emulator.app import run_forever
    from candlewick.emulator.config import load_config, with_overrides

    loaded = with_overrides(load_config(config), host=host, port=port, speed=speed, start=start)
    console = Console()

    def announce(url: str, summary: str, warning: str | None) -> None:
        console.print(
            f"emulator listening on [bold]{escape(url)}[/] ({escape(summary)}); Ctrl-C stops"
        )
        if warning is not None:
            Console(stderr=True).print(f"[bold yellow]warning:[/] {escape(warning)}")

    def say(note: str) -> None:
        console.print(escape(note))

    run_forever(loaded, announce, say)
