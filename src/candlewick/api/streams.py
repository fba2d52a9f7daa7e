"""Closed candles of one (exchange, pair, timeframe) as they close: ccxt.pro first, REST behind it.

:class:`CandleStream` watches ``watch_ohlcv`` through a ccxt.pro client (see
``connect(..., streaming=True)``) and emits a candle once a newer candle's open time appears,
in order, with no duplicate and no hole:

* Rows count as final only if they arrived on the **current** connection, from the first row
  it delivered on; anything older (the time before a connection, or while it was down) is
  **backfilled from REST** (:meth:`MarketData.fetch_candles`) before newer candles are emitted.
* A dropped or silent socket (no message for ``watch_timeout_s``) is a failure: the stream
  waits a jittered exponential backoff (:class:`RetryPolicy`, full jitter) and reconnects.
* After ``max_failures`` failures in a row it falls back to **REST polling** every
  ``poll_interval_s`` (default: a quarter of the timeframe, at most 15 s), and tries
  streaming again every ``retry_stream_after_s`` (default 60 s) of polling.
* Bars the exchange has no data for (an outage on its side) cannot be backfilled; they are
  skipped, never invented.

Time and sleeping come from the injected :class:`~candlewick.api.clock.Clock`, the jitter from
an injected ``random.Random``.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import ccxt

from candlewick.api.clock import Clock, WallClock
from candlewick.api.market_data import MarketData
from candlewick.api.retry import RetryPolicy
from candlewick.core.timeframes import timeframe_ms
from candlewick.core.types import Candles
from candlewick.data.store import normalise_pair
from candlewick.errors import ConfigError, ExchangeUnavailableError

#: What a failing ccxt.pro watch raises (ccxt's tree, a silent socket, the OS).
STREAM_ERRORS: tuple[type[BaseException], ...] = (ccxt.BaseError, TimeoutError, OSError)
#: What ends a connection's run and is retried: a stream failure, or a REST backfill that still
#: failed after the gateway's own retries.
RECOVERABLE: tuple[type[BaseException], ...] = (*STREAM_ERRORS, ExchangeUnavailableError)


@dataclass(frozen=True, slots=True)
class Candle:
    """One closed candle; ``open_time`` in ms UTC."""

    open_time: int
    open: float
    high: float
    low: float
    close: float
    volume: float


def _candle(row: list[Any]) -> Candle:
    return Candle(int(row[0]), *(float(x) for x in row[1:6]))


def candles_of(candles: Candles) -> list[Candle]:
    """The rows of a :class:`Candles` as :class:`Candle` objects."""
    cols = [candles.column(n) for n in ("open", "high", "low", "close", "volume")]
    return [Candle(int(ts), *(float(c[i]) for c in cols)) for i, ts in enumerate(candles.timestamp)]


async def close_quietly(client: Any) -> None:
    """Close a ccxt.pro client whose connection may already be gone."""
    if client is not None:
        with contextlib.suppress(*STREAM_ERRORS):
            await client.close()


class CandleStream:
    """Closed candles of ``pair``/``timeframe`` from ``since_ms`` on (or from the candle forming
    at the start), by ccxt.pro with REST backfill and a REST polling fallback."""

    def __init__(
        self,
        client_factory: Callable[[], Any],
        market_data: MarketData,
        pair: str,
        timeframe: str,
        *,
        since_ms: int | None = None,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        backoff: RetryPolicy | None = None,
        max_failures: int = 3,
        watch_timeout_s: float = 30.0,
        poll_interval_s: float | None = None,
        retry_stream_after_s: float = 60.0,
    ) -> None:
        if max_failures < 1:
            raise ConfigError(f"max_failures must be at least 1, got {max_failures}")
        self.client_factory = client_factory
        self.market_data = market_data
        self.pair = normalise_pair(pair)
        self.timeframe = timeframe
        self.step = timeframe_ms(timeframe)
        self.clock: Clock = clock or WallClock()
        self.rng = rng or random.Random()
        self.backoff = backoff or RetryPolicy(base_s=0.5, cap_s=30.0)
        self.max_failures = max_failures
        self.watch_timeout_s = watch_timeout_s
        self.poll_interval_s = (
            poll_interval_s if poll_interval_s is not None else min(15.0, self.step / 4000)
        )
        self.retry_stream_after_s = retry_stream_after_s
        self.next_open = since_ms
        self.mode = "stream"
        #: connections opened after the first, candles taken from REST, polls made
        self.reconnects = 0
        self.backfilled = 0
        self.polls = 0
        self._client: Any = None

    def __aiter__(self) -> AsyncIterator[Candle]:
        return self.candles()

    async def candles(self) -> AsyncGenerator[Candle, None]:
        """Closed candles, forever (break out of the loop to stop, then :meth:`close`)."""
        failures = 0
        connections = 0
        while True:
            if self.mode == "poll":
                async for candle in self._poll():
                    yield candle
                self.mode = "stream"
                failures = self.max_failures - 1  # one more failure returns to polling
            if connections:
                self.reconnects += 1
            connections += 1
            try:
                async for candle in self._stream():
                    failures = 0
                    yield candle
            except RECOVERABLE:
                failures += 1
                await self._drop_client()
                if failures >= self.max_failures:
                    self.mode = "poll"
                else:
                    await self.clock.sleep(self.backoff.backoff_s(failures, self.rng))

    async def _stream(self) -> AsyncIterator[Candle]:
        """One connection's candles; raises one of :data:`STREAM_ERRORS` when it fails."""
        if self._client is None:
            self._client = self.client_factory()
        live: dict[int, list[Any]] = {}
        fresh_since: int | None = None
        while True:
            rows = await asyncio.wait_for(
                self._client.watch_ohlcv(self.pair, self.timeframe), self.watch_timeout_s
            )
            for row in rows:
                live[int(row[0])] = row
            if not live:
                continue
            if fresh_since is None:
                fresh_since = min(live)
            latest = max(live)
            if self.next_open is None:
                self.next_open = latest
            if latest <= self.next_open:
                continue
            wanted = range(self.next_open, latest, self.step)
            if self.next_open >= fresh_since and all(ts in live for ts in wanted):
                out = [_candle(live[ts]) for ts in wanted]
            else:
                out = await self._rest(self.next_open, latest)
            self.next_open = latest
            for ts in [t for t in live if t < latest]:
                del live[ts]
            for candle in out:
                yield candle

    async def _rest(self, since_ms: int, until_ms: int) -> list[Candle]:
        candles, _ = await self.market_data.fetch_candles(
            self.pair, self.timeframe, since_ms, until_ms
        )
        out = candles_of(candles)
        self.backfilled += len(out)
        return out

    async def _poll(self) -> AsyncIterator[Candle]:
        """REST polling for ``retry_stream_after_s``; then the caller tries streaming again."""
        started = self.clock.now_ms()
        while self.clock.now_ms() - started < self.retry_stream_after_s * 1000:
            self.polls += 1
            try:
                fresh = await self._poll_once()
            except ExchangeUnavailableError:
                fresh = []  # the gateway retried already; try again at the next poll
            for candle in fresh:
                yield candle
            await self.clock.sleep(self.poll_interval_s)

    async def _poll_once(self) -> list[Candle]:
        """The candles closed since the last one emitted (none on the very first poll without
        ``since_ms``: that one only finds the candle forming)."""
        if self.next_open is None:  # start at the candle forming now
            rows = await self.market_data.gateway.fetch_ohlcv(
                self.pair, self.timeframe, None, 2, {}
            )
            self.next_open = int(rows[-1][0]) if rows else None
            return []
        candles, _ = await self.market_data.fetch_candles(self.pair, self.timeframe, self.next_open)
        fresh = [c for c in candles_of(candles) if c.open_time >= self.next_open]
        if fresh:
            self.next_open = fresh[-1].open_time + self.step
        return fresh

    async def _drop_client(self) -> None:
        client, self._client = self._client, None
        await close_quietly(client)

    async def close(self) -> None:
        """Close the ccxt.pro client (the REST gateway belongs to the caller)."""
        await self._drop_client()
