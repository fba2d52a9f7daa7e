"""``candlewick data download``: exchange candles into the candle store, through the gateway.

Resumable and gap-filling by construction: for each series only what the store is missing
in the requested range is requested (before the first stored bar, inside gaps, after the
last one), so an interrupted download simply continues when run again.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

from candlewick.errors import ConfigError

if TYPE_CHECKING:
    from candlewick.api.gateway import Gateway


def _ms(text: str, option: str) -> int:
    """Milliseconds UTC of ``YYYY-MM-DD`` or an ISO date-time (naive means UTC)."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(
            f"{option} {text!r}: use a date YYYY-MM-DD or a time YYYY-MM-DDTHH:MM (UTC)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def download(
    pairs: Annotated[str, typer.Option(help="comma-separated, e.g. BTC/USDC,ETH/USDC")],
    since: Annotated[str, typer.Option(help="first bar, YYYY-MM-DD or YYYY-MM-DDTHH:MM UTC")],
    exchange: Annotated[str, typer.Option(help="ccxt exchange id")] = "binance",
    timeframes: Annotated[str, typer.Option(help="comma-separated, e.g. 1m,1h")] = "1m",
    until: Annotated[str | None, typer.Option(help="end (excluded); default: now")] = None,
    exchange_url: Annotated[
        str | None,
        typer.Option(
            "--exchange-url", help="another server, e.g. the emulator's http://127.0.0.1:8765"
        ),
    ] = None,
    wait: Annotated[
        float,
        typer.Option(
            min=0,
            max=600,
            metavar="SECONDS",
            help="wait up to this long for the exchange to answer first (an emulator starting)",
        ),
    ] = 0,
) -> None:
    """Download candles into the store: paginated, resumable, gap-filling, through the gateway."""
    since_ms = _ms(since, "--since")
    until_ms = None if until is None else _ms(until, "--until")
    if until_ms is not None and until_ms <= since_ms:
        raise ConfigError(f"--until {until} must be after --since {since}")
    series = [(p, tf) for p in _split(pairs) for tf in _split(timeframes)]
    if not series:
        raise ConfigError("--pairs and --timeframes must name at least one of each")
    asyncio.run(_download(exchange, exchange_url, series, since_ms, until_ms, Console(), wait))


async def _wait_until_up(gateway: Gateway, where: str, seconds: float, console: Console) -> None:
    """Ask the exchange's time until it answers, for up to ``seconds``; ExchangeError after."""
    from candlewick.errors import ExchangeUnavailableError

    deadline = time.monotonic() + seconds
    with console.status(f"waiting for {escape(where)} to answer (up to {seconds:g} s)"):
        while True:
            try:
                await gateway.fetch_time()
                return
            except ExchangeUnavailableError as exc:
                if time.monotonic() >= deadline:
                    raise ExchangeUnavailableError(
                        f"{where} did not answer within {seconds:g} s: {exc}"
                    ) from None
                await asyncio.sleep(0.25)


async def _download(
    exchange: str,
    exchange_url: str | None,
    series: list[tuple[str, str]],
    since_ms: int,
    until_ms: int | None,
    console: Console,
    wait: float = 0,
) -> None:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from candlewick.api.ccxt_client import connect
    from candlewick.api.hub import ExchangeHub
    from candlewick.api.market_data import MarketData
    from candlewick.data.store import CandleStore
    from candlewick.paths import candle_store_dir

    store = CandleStore(candle_store_dir())
    hub = ExchangeHub()
    host = exchange_url or "default"
    gateway = hub.gateway(
        exchange, "public", lambda: connect(exchange, rest_url=exchange_url), host=host
    )
    market_data = MarketData(gateway)
    where = exchange_url or exchange
    try:
        if wait:
            await _wait_until_up(gateway, where, wait, console)
        with Progress(
            TextColumn("{task.description:<28}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total} series"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as bar:
            task = bar.add_task("downloading", total=len(series))
            for pair, timeframe in series:
                bar.update(task, description=f"{pair} {timeframe}")
                result = await market_data.backfill(store, pair, timeframe, since_ms, until_ms)
                bar.advance(task)
                gaps = (
                    f", {result.gaps_left} bar(s) the exchange has no data for"
                    if result.gaps_left
                    else ""
                )
                console.print(
                    f"{escape(pair)} {timeframe}: {result.added:,} new bar(s) from "
                    f"{escape(where)} in {result.pages} request(s){gaps}"
                )
    finally:
        await hub.close()
    console.print(f"candle store: {store.root}")
