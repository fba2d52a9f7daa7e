"""Market data through the gateway: candles with pagination and backfill, tickers, order books.

Candles come back as the core's :class:`~candlewick.core.types.Candles` (float64 arrays, open
times in ms). Only **closed** candles are returned: the candle still forming is dropped, either
by the caller's ``closed_before_ms`` (the exchange's current time, on the clock the candles are
stamped with: the replay clock for the emulator) or, when fetching up to "now" without it, by
dropping the newest row of the final page (an exchange lists the forming candle last).
Tickers and books carry Decimal prices (they feed order sizing).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np

from candlewick.api.convert import pick, to_decimal
from candlewick.api.gateway import Gateway
from candlewick.core.timeframes import timeframe_ms
from candlewick.core.types import Candles
from candlewick.core.validation import find_gaps
from candlewick.data.store import CandleStore, normalise_pair
from candlewick.errors import ConfigError, DataError

#: Page size when the exchange data package does not say how many rows a page holds.
DEFAULT_PAGE = 500

# ccxt ticker field -> Binance's own string in ``info``
_TICKER_INFO = {"binance": {"bid": "bidPrice", "ask": "askPrice", "last": "lastPrice"}}


@dataclass(frozen=True, slots=True)
class Ticker:
    """Best bid/ask and last price, with 24-hour base and quote volumes."""

    pair: str
    timestamp: int | None
    bid: Decimal | None
    ask: Decimal | None
    last: Decimal | None
    base_volume: Decimal | None
    quote_volume: Decimal | None

    @property
    def spread(self) -> Decimal | None:
        """(ask - bid) / mid, or None without both sides."""
        if self.bid is None or self.ask is None or self.bid + self.ask == 0:
            return None
        return (self.ask - self.bid) / ((self.ask + self.bid) / 2)


@dataclass(frozen=True, slots=True)
class OrderBook:
    """Price levels ``(price, amount)``, bids high to low and asks low to high."""

    pair: str
    timestamp: int | None
    bids: tuple[tuple[Decimal, Decimal], ...]
    asks: tuple[tuple[Decimal, Decimal], ...]


@dataclass(frozen=True, slots=True)
class BackfillResult:
    """What :meth:`MarketData.backfill` did: bars added, requests made, gaps still open."""

    added: int
    pages: int
    gaps_left: int


class MarketData:
    """Market-data calls of one exchange (any account's gateway will do: they are public)."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self.exchange = gateway.facts.id
        endpoint = gateway.facts.endpoint(gateway.facts.route("fetch_ohlcv").endpoint)
        self.page = endpoint.max_limit or DEFAULT_PAGE

    def _check_timeframe(self, timeframe: str) -> int:
        if timeframe not in self.gateway.facts.timeframes:
            raise ConfigError(
                f"{self.exchange} has no {timeframe!r} candles; it serves "
                f"{', '.join(self.gateway.facts.timeframes)}"
            )
        return timeframe_ms(timeframe)

    async def fetch_candles(
        self,
        pair: str,
        timeframe: str,
        since_ms: int,
        until_ms: int | None = None,
        *,
        closed_before_ms: int | None = None,
        max_pages: int = 10_000,
    ) -> tuple[Candles, int]:
        """Closed candles with open time in ``[since_ms, until_ms)`` and the pages fetched.

        Pages of the exchange's maximum size are requested from ``since_ms`` on until
        ``until_ms`` (or until the exchange has nothing newer).
        """
        step = self._check_timeframe(timeframe)
        pair = normalise_pair(pair)
        rows: dict[int, list[Any]] = {}
        cursor, pages, short = since_ms, 0, False
        while pages < max_pages and (until_ms is None or cursor < until_ms):
            params = {} if until_ms is None else {"until": until_ms - 1}
            page = await self.gateway.fetch_ohlcv(pair, timeframe, cursor, self.page, params)
            pages += 1
            fresh = [r for r in page if r[0] >= cursor and (until_ms is None or r[0] < until_ms)]
            for row in fresh:
                rows[int(row[0])] = row
            short = len(page) < self.page
            if not fresh or short:
                break
            cursor = int(fresh[-1][0]) + step
        ordered = [rows[ts] for ts in sorted(rows)]
        if closed_before_ms is not None:
            ordered = [r for r in ordered if r[0] + step <= closed_before_ms]
        elif until_ms is None and short and ordered:
            ordered = ordered[:-1]  # the newest row of "up to now" is the candle still forming
        return self._candles(pair, timeframe, ordered), pages

    def _candles(self, pair: str, timeframe: str, rows: list[list[Any]]) -> Candles:
        table = np.array([r[:6] for r in rows], dtype=np.float64).reshape(-1, 6)
        if np.isnan(table[:, 1:5]).any():
            raise DataError(f"{self.exchange} {pair} {timeframe}: a candle has no price")
        table[:, 5] = np.nan_to_num(table[:, 5])
        return Candles(
            self.exchange,
            pair,
            timeframe,
            table[:, 0].astype(np.int64),
            table[:, 1].copy(),
            table[:, 2].copy(),
            table[:, 3].copy(),
            table[:, 4].copy(),
            table[:, 5].copy(),
        )

    async def backfill(
        self,
        store: CandleStore,
        pair: str,
        timeframe: str,
        since_ms: int,
        until_ms: int | None = None,
        *,
        closed_before_ms: int | None = None,
    ) -> BackfillResult:
        """Fill the store's series over ``[since_ms, until_ms)``: what is missing before the
        first stored bar, inside it (gaps) and after the last one; resumable (only what is
        missing is requested). Gaps the exchange has no bars for either (outages) stay, and
        ``gaps_left`` counts their bars."""
        self._check_timeframe(timeframe)
        pair = normalise_pair(pair)
        ranges = self._missing(store, pair, timeframe, since_ms, until_ms)
        added = pages = 0
        for start, end in ranges:
            candles, used = await self.fetch_candles(
                pair, timeframe, start, end, closed_before_ms=closed_before_ms
            )
            pages += used
            if len(candles):
                added += store.write(candles).added
        gaps_left = 0
        if store.entry(self.exchange, pair, timeframe) is not None:
            stored = store.read(self.exchange, pair, timeframe, since_ms, _last(until_ms))
            gaps_left = sum(g.missing for g in find_gaps(stored.timestamp, timeframe))
        return BackfillResult(added, pages, gaps_left)

    def _missing(
        self, store: CandleStore, pair: str, timeframe: str, since_ms: int, until_ms: int | None
    ) -> list[tuple[int, int | None]]:
        step = timeframe_ms(timeframe)
        if store.entry(self.exchange, pair, timeframe) is None:
            return [(since_ms, until_ms)]
        stored = store.read(self.exchange, pair, timeframe, since_ms, _last(until_ms))
        if len(stored) == 0:
            return [(since_ms, until_ms)]
        first, last = int(stored.timestamp[0]), int(stored.timestamp[-1])
        ranges: list[tuple[int, int | None]] = []
        if since_ms < first:
            ranges.append((since_ms, first))
        ranges += [(g.start_ts, g.end_ts + step) for g in find_gaps(stored.timestamp, timeframe)]
        if until_ms is None or last + step < until_ms:
            ranges.append((last + step, until_ms))
        return ranges

    async def ticker(self, pair: str) -> Ticker:
        """The 24-hour ticker of ``pair``."""
        raw = await self.gateway.fetch_ticker(normalise_pair(pair))
        return self._ticker(raw)

    async def tickers(self, pairs: list[str] | None = None) -> dict[str, Ticker]:
        """Tickers of ``pairs`` (all markets when None), by pair."""
        symbols = None if pairs is None else [normalise_pair(p) for p in pairs]
        raw = await self.gateway.fetch_tickers(symbols)
        return {symbol: self._ticker(t) for symbol, t in raw.items()}

    def _ticker(self, raw: dict[str, Any]) -> Ticker:
        info = raw.get("info") if isinstance(raw.get("info"), dict) else None
        keys = _TICKER_INFO.get(self.exchange, {})
        return Ticker(
            pair=str(raw.get("symbol")),
            timestamp=raw.get("timestamp"),
            bid=pick(info, keys.get("bid"), raw.get("bid")),
            ask=pick(info, keys.get("ask"), raw.get("ask")),
            last=pick(info, keys.get("last"), raw.get("last")),
            base_volume=to_decimal(raw.get("baseVolume")),
            quote_volume=to_decimal(raw.get("quoteVolume")),
        )

    async def order_book(self, pair: str, depth: int | None = None) -> OrderBook:
        """The order book of ``pair`` to ``depth`` levels a side (its weight grows with it)."""
        pair = normalise_pair(pair)
        raw = await self.gateway.fetch_order_book(pair, depth)
        return OrderBook(
            pair=pair,
            timestamp=raw.get("timestamp"),
            bids=tuple(_level(level) for level in raw.get("bids", [])),
            asks=tuple(_level(level) for level in raw.get("asks", [])),
        )


def _last(until_ms: int | None) -> int | None:
    """The store reads inclusive ranges; ``until_ms`` is exclusive here."""
    return None if until_ms is None else until_ms - 1


def _level(level: list[Any]) -> tuple[Decimal, Decimal]:
    price, amount = to_decimal(level[0]), to_decimal(level[1])
    if price is None or amount is None:
        raise DataError(f"order book level {level!r} lacks a price or an amount")
    return price, amount
