"""``candlewick config validate|schema``: check a config file, print the JSON Schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

app = typer.Typer(help="Check configuration files and print their schema.", no_args_is_help=True)


@app.command()
def validate(
    path: Annotated[
        Path, typer.Argument(help="a trading config (YAML) or, with --user, a user file")
    ],
    user: Annotated[bool, typer.Option("--user", help="validate a USER file")] = False,
) -> None:
    """Validate a config file with every check `backtest` runs before loading candles.

    Every problem is named with its field, its line and the fix (exit status 2).
    """
    from candlewick.config.loader import load_trading_config, load_user_config

    console = Console()
    if user:
        profile = load_user_config(path)
        console.print(
            f"[green]ok[/] {path}: user {profile.name!r}, {len(profile.accounts)} account(s)"
        )
        return
    config = load_trading_config(path)
    console.print(
        f"[green]ok[/] {path}: {config.name!r}, mode {config.execution_mode}, "
        f"{config.exchange} {', '.join(config.pairs)} {config.timeframe}, "
        f"{len(config.indicators)} indicator(s), {len(config.setups)} setup(s), "
        f"{len(config.filters)} filter(s), sizing {config.sizing.method}; "
        "strategy built and run on sample candles"
    )


@app.command()
def schema(
    user: Annotated[bool, typer.Option("--user", help="the USER file's schema")] = False,
) -> None:
    """Print the JSON Schema of the trading config (or of the user file)."""
    from candlewick.config.models import TradingConfig, UserConfig

    model = UserConfig if user else TradingConfig
    typer.echo(json.dumps(model.model_json_schema(), indent=2))
