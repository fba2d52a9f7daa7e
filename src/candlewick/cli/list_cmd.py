"""``candlewick list indicators|setups|filters|sizing``: what a config can name, with params.

Each list shows the registered names, their parameters with defaults, and one line on what
they do. ``--config X`` first loads that config's plugin files, so a user's own setups and
filters appear beside the built-ins. ``--json`` prints the same as JSON for scripts.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

app = typer.Typer(
    help="List the indicators, setups, filters and sizing rules a config can name.",
    no_args_is_help=True,
)

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="Also list the plugins this trading config loads."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def _load_plugins(config: Path | None) -> None:
    if config is not None:
        from candlewick.config.loader import load_trading_config

        load_trading_config(config)


def _show(title: str, rows: Iterable[dict[str, Any]], as_json: bool) -> None:
    rows = list(rows)
    if as_json:
        typer.echo(json.dumps(rows, indent=2, default=str))
        return
    table = Table(title=title, title_justify="left")
    for column in rows[0] if rows else ("name",):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(escape(_text(v)) for v in row.values()))
    Console().print(table)


def _text(value: Any) -> str:
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={v!r}" for k, v in value.items()) or "-"
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value)) or "-"
    return str(value)


def _registry_rows(registry: Iterable[Any]) -> list[dict[str, Any]]:
    """Rows of a setup / filter / sizing registry: name, params with defaults, summary."""
    rows = []
    for entry in sorted(registry, key=lambda e: e.name):
        doc = entry.meta.get("summary") or (entry.func.__doc__ or "").strip().split("\n")[0]
        rows.append({"name": entry.name, "params": dict(entry.meta.get("defaults") or {}),
                     "what": doc.replace("``", "`")})  # fmt: skip
    return rows


@app.command("indicators")
def indicators(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Indicators: inputs, params with defaults, output columns, memory."""
    from candlewick.indicators.library import INDICATORS, indicator_info

    _load_plugins(config)
    rows = []
    for name in INDICATORS.names():
        info = indicator_info(name)
        rows.append({"name": name, "inputs": list(info.inputs), "params": dict(info.defaults),
                     "outputs": list(info.outputs), "memory": info.memory,
                     "what": info.description})  # fmt: skip
    _show("Indicators", rows, as_json)


@app.command("setups")
def setups(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Strategy setups: params with defaults (column params name frame columns)."""
    from candlewick.signals.setups import SETUPS

    _load_plugins(config)
    _show("Setups", _registry_rows(SETUPS), as_json)


@app.command("filters")
def filters(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Signal filters: params with defaults."""
    from candlewick.signals.filters import FILTERS

    _load_plugins(config)
    _show("Filters", _registry_rows(FILTERS), as_json)


@app.command("sizing")
def sizing(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Position sizing rules: params (None = required)."""
    from candlewick.risk.sizing import SIZING

    _load_plugins(config)
    _show("Sizing rules", _registry_rows(SIZING), as_json)
