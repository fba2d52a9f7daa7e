"""The replayed markets: every configured pair's candles, rules and synthetic book on one clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from candlewick.emulator.book import Book, BookFeed, BookShape, grid_ticks, make_book
from candlewick.emulator.candles import import_missing
from candlewick.emulator.clock import ReplayClock, wall_ms
from candlewick.emulator.config import EmulatorConfig
from candlewick.emulator.market import PairMarket, fmt
from candlewick.emulator.rules import SymbolRules, dstr
from candlewick.errors import ConfigError


@dataclass(frozen=True, slots=True)
class Listing:
    """One served symbol: its rules, replayed market and book feed."""

    rules: SymbolRules
    market: PairMarket
    feed: BookFeed


class Venue:
    """The market side of the emulator (no accounts): prices, books, tickers on the clock."""

    def __init__(self, config: EmulatorConfig, listings: dict[str, Listing], clock: ReplayClock):
        self.config = config
        self.listings = listings
        self.clock = clock

    def listing(self, symbol: str) -> Listing | None:
        """The symbol's listing, or None when it is not served."""
        return self.listings.get(symbol)

    def now(self) -> int:
        """The replay time (ms)."""
        return self.clock.now()

    def price_ticks(self, symbol: str, at: int | None = None) -> int:
        """The path price of ``symbol`` in ticks."""
        listing = self.listings[symbol]
        price = listing.market.price_at(self.now() if at is None else at)
        return round(price / float(listing.rules.tick))

    def unit_steps(self, symbol: str, at: int | None = None) -> int:
        """The book's level unit (steps) at ``at`` (see :mod:`candlewick.emulator.book`)."""
        listing = self.listings[symbol]
        book = self.config.book
        volume = listing.market.unit_volume(
            self.now() if at is None else at, book.volume_window_minutes
        )
        return max(1, int(volume * book.depth_fraction / float(listing.rules.step)))

    def book(self, symbol: str) -> Book:
        """The current book of ``symbol`` (advances its update id when it changed)."""
        return self.listings[symbol].feed.refresh(self.price_ticks(symbol), self.unit_steps(symbol))

    def depth(self, symbol: str, limit: int) -> dict[str, Any]:
        """The ``/api/v3/depth`` body: the current book, drawn deeper than the levels the
        depth stream keeps current when ``limit`` asks for more (the same formula)."""
        listing = self.listings[symbol]
        book = self.book(symbol)
        shape = listing.feed.shape
        if limit > shape.levels:
            price, unit = listing.feed.key
            book = make_book(price, unit, replace(shape, levels=limit))
        rules = listing.rules
        return {
            "lastUpdateId": listing.feed.update_id,
            "bids": [
                [dstr(rules.price_of(p)), dstr(rules.qty_of(q))] for p, q in book.bids[:limit]
            ],
            "asks": [
                [dstr(rules.price_of(p)), dstr(rules.qty_of(q))] for p, q in book.asks[:limit]
            ],
        }

    def ticker(self, symbol: str, mini: bool = False) -> dict[str, Any]:
        """The ``/api/v3/ticker/24hr`` entry of ``symbol`` (FULL, or MINI)."""
        listing = self.listings[symbol]
        now = self.now()
        stats = listing.market.stats_24h(now)
        change = stats.last - stats.open
        body: dict[str, Any] = {
            "symbol": symbol,
            "openPrice": fmt(stats.open),
            "highPrice": fmt(stats.high),
            "lowPrice": fmt(stats.low),
            "lastPrice": fmt(stats.last),
            "volume": fmt(stats.volume),
            "quoteVolume": fmt(stats.quote_volume),
            "openTime": stats.open_time,
            "closeTime": stats.close_time,
            "firstId": -1,
            "lastId": -1,
            "count": 0,
        }
        if mini:
            return body
        book = self.book(symbol)
        rules = listing.rules
        bid = book.bids[0] if book.bids else (0, 0)
        ask = book.asks[0]
        weighted = stats.quote_volume / stats.volume if stats.volume > 0 else stats.last
        return {
            "symbol": symbol,
            "priceChange": fmt(change),
            "priceChangePercent": f"{(change / stats.open * 100 if stats.open else 0.0):.3f}",
            "weightedAvgPrice": fmt(weighted),
            "prevClosePrice": fmt(stats.prev_close),
            "lastQty": dstr(rules.step),
            "bidPrice": dstr(rules.price_of(bid[0])),
            "bidQty": dstr(rules.qty_of(bid[1])),
            "askPrice": dstr(rules.price_of(ask[0])),
            "askQty": dstr(rules.qty_of(ask[1])),
            **{k: v for k, v in body.items() if k != "symbol"},
        }


def resolve_span(config: EmulatorConfig, markets: dict[str, PairMarket]) -> tuple[int, int]:
    """The replay's start and end: configured, else where all pairs have data."""
    first = max(m.first_ms for m in markets.values())
    last = min(m.end_ms for m in markets.values())
    start = config.start_ms()
    end = config.end_ms()
    start = first if start is None else start
    end = last if end is None else end
    if not first <= start < last:
        raise ConfigError(
            f"replay_start {_iso(start)} is outside the stored history common to all pairs "
            f"({_iso(first)} .. {_iso(last)}); pick a time inside it or import more candles"
        )
    if end <= start:
        raise ConfigError(f"replay_end {_iso(end)} is not after replay_start {_iso(start)}")
    return start, end


def _iso(ms: int) -> str:
    from candlewick.core.validation import format_ts

    return format_ts(ms)


def open_venue(
    config: EmulatorConfig,
    store_root: Path | None = None,
    wall: Any = wall_ms,
    resume_at: int | None = None,
    say: Callable[[str], None] | None = None,
) -> Venue:
    """Load every pair's 1m candles (importing what the store lacks from the shared data, said
    through ``say``) and start the clock at the replay start (or ``resume_at``)."""
    from candlewick.data.store import CandleStore
    from candlewick.paths import emulator_store_dir

    store = CandleStore(store_root or config.store or emulator_store_dir())
    import_missing(config, store, say=say)
    markets: dict[str, PairMarket] = {}
    rules: dict[str, SymbolRules] = {}
    for pair in config.pairs:
        exchange, stored_pair = pair.store_key(config.exchange)
        candles = store.read(exchange, stored_pair, "1m")
        if len(candles) == 0:
            raise ConfigError(
                f"pairs: {pair.market}: the stored {exchange} {stored_pair} 1m is empty"
            )
        rules[pair.symbol] = SymbolRules.from_config(pair)
        markets[pair.symbol] = PairMarket(candles, float(pair.tick_size))
    start, end = resolve_span(config, markets)
    if resume_at is not None:
        start = min(max(resume_at, start), end)
    clock = ReplayClock(start, None if config.stepped else float(config.speed), end, wall)
    listings: dict[str, Listing] = {}
    for symbol, market in markets.items():
        tick = float(rules[symbol].tick)
        grid = grid_ticks(round(market.price_at(start) / tick), config.book.level_step_bps)
        shape = BookShape(config.book.spread_bps, config.book.levels, grid)
        listings[symbol] = Listing(rules[symbol], market, BookFeed(shape))
    return Venue(config, listings, clock)
