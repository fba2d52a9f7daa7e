"""The emulator's replayed market: price path, klines, 24 h stats, pieces, synthetic book, clock."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from candlewick.core.types import Candles
from candlewick.emulator.book import BookFeed, BookShape, make_book
from candlewick.emulator.clock import ReplayClock
from candlewick.emulator.market import MINUTE, PairMarket, path_points

T0 = 1_774_396_800_000  # 2026-03-25 00:00 UTC (a Wednesday)


def candles(rows: Sequence[tuple[float, float, float, float, float]], start: int = T0) -> Candles:
    arr = np.array(rows, dtype=np.float64)
    ts = start + MINUTE * np.arange(len(rows), dtype=np.int64)
    return Candles("binance", "BTC/USDT", "1m", ts, *(arr[:, k].copy() for k in range(5)))


def test_path_goes_to_the_nearer_extreme_first() -> None:
    assert path_points(100, 101, 95, 99) == (100, 101, 95, 99)  # high nearer
    assert path_points(100, 105, 99, 104) == (100, 99, 105, 104)  # low nearer
    assert path_points(100, 102, 98, 101) == (100, 98, 102, 101)  # tie, closed up: low first
    assert path_points(100, 102, 98, 99) == (100, 102, 98, 99)  # tie, closed down: high first


def test_price_and_open_candle_along_the_path() -> None:
    market = PairMarket(candles([(100, 101, 95, 99, 60), (99, 99, 99, 99, 0)]), 0.01)
    assert market.price_at(T0) == 100
    assert market.price_at(T0 + 20_000) == 101
    assert market.price_at(T0 + 30_000) == pytest.approx(98)
    assert market.price_at(T0 + 40_000) == 95
    assert market.price_at(T0 - 1) == 100  # before the data: the first open
    o, h, low, c, v = market.partial(0, T0 + 30_000)
    assert (o, h, v) == (100, 101, 30) and low == c == pytest.approx(98)
    assert market.partial(0, T0 + 45_000)[1:3] == (101, 95)
    assert market.partial(0, T0 + MINUTE) == (100, 101, 95, 99, 60)


def test_a_gap_keeps_the_last_close() -> None:
    bars = candles([(100, 101, 99, 100.5, 1)])
    later = candles([(110, 111, 109, 110, 1)], start=T0 + 5 * MINUTE)
    joined = Candles(
        "binance",
        "BTC/USDT",
        "1m",
        np.concatenate([bars.timestamp, later.timestamp]),
        *(np.concatenate([bars.column(n), later.column(n)]) for n in ("open", "high", "low",
                                                                       "close", "volume")),
    )  # fmt: skip
    market = PairMarket(joined, 0.01)
    assert market.price_at(T0 + 3 * MINUTE) == 100.5
    assert list(market.pieces(T0 + MINUTE, T0 + 5 * MINUTE)) == []


def test_klines_aggregate_and_hide_the_future() -> None:
    rows = [(10 + i, 12 + i, 9 + i, 11 + i, 1 + i) for i in range(12)]
    market = PairMarket(candles(rows), 0.01)
    now = T0 + 7 * MINUTE + 30_000  # the eighth minute is half-way
    five = market.klines("5m", now, None, None, 500)
    assert [r[0] for r in five] == [T0, T0 + 5 * MINUTE]
    assert five[0][1:6] == ["10.00000000", "16.00000000", "9.00000000", "15.00000000",
                            "15.00000000"]  # fmt: skip
    assert five[0][6] == T0 + 5 * MINUTE - 1
    open_bar = five[1]
    assert open_bar[1] == "15.00000000" and float(open_bar[5]) == 6 + 7 + 8 * 0.5
    # startTime inside a bucket starts at the next bucket; endTime includes its bucket
    assert [r[0] for r in market.klines("5m", now, T0 + 1, None, 500)] == [T0 + 5 * MINUTE]
    assert [r[0] for r in market.klines("1m", now, None, T0 + 2 * MINUTE, 2)] == [
        T0 + MINUTE,
        T0 + 2 * MINUTE,
    ]
    assert [r[0] for r in market.klines("1m", now, T0, None, 3)] == [
        T0,
        T0 + MINUTE,
        T0 + 2 * MINUTE,
    ]
    assert market.klines("1m", now, now + MINUTE, None, 10) == []
    assert len(market.klines("1m", now, None, None, 500)) == 8


def test_monthly_and_weekly_buckets() -> None:
    market = PairMarket(candles([(1, 1, 1, 1, 1)] * 3), 0.01)
    month = market.klines("1M", T0 + 10 * MINUTE, None, None, 10)
    assert month[0][0] == 1_772_323_200_000  # 2026-03-01
    assert month[0][6] == 1_775_001_600_000 - 1  # 2026-04-01 minus 1 ms
    week = market.klines("1w", T0 + 10 * MINUTE, None, None, 10)
    assert week[0][0] == 1_774_224_000_000  # Monday 2026-03-23


@given(
    st.lists(
        st.tuples(
            st.floats(1, 1000), st.floats(0, 50), st.floats(0, 50), st.floats(0, 1), st.floats(0, 9)
        ),
        min_size=1,
        max_size=20,
    ),
    st.integers(0, 20 * MINUTE),
    st.integers(0, 20 * MINUTE),
)
def test_pieces_cover_the_volume_and_stay_in_the_bar(
    spec: list[tuple[float, float, float, float, float]], a: int, b: int
) -> None:
    rows = [(o, o + up, o - down, o - down + (up + down) * f, v) for o, up, down, f, v in spec]
    market = PairMarket(candles(rows), 1e-9)
    t0, t1 = min(a, b) + T0, max(a, b) + T0
    pieces = list(market.pieces(t0, t1))
    assert sum(p.volume for p in pieces) == pytest.approx(
        sum(
            r[4] * (min(t1, T0 + (i + 1) * MINUTE) - max(t0, T0 + i * MINUTE)) / MINUTE
            for i, r in enumerate(rows)
            if min(t1, T0 + (i + 1) * MINUTE) > max(t0, T0 + i * MINUTE)
        ),
        abs=1e-6,
    )
    for p in pieces:
        i = (p.start_ms - T0) // MINUTE
        low, high = rows[i][2], rows[i][1]
        assert low - 1e-6 <= min(p.start_price, p.end_price)
        assert max(p.start_price, p.end_price) <= high + 1e-6
        assert p.start_ms < p.end_ms


def test_stats_24h_roll_over_the_last_day() -> None:
    rows = [(100 + i, 101 + i, 99 + i, 100.5 + i, 2) for i in range(1500)]
    market = PairMarket(candles(rows), 0.01)
    now = T0 + 1450 * MINUTE
    stats = market.stats_24h(now)
    assert stats.open_time == T0 + 11 * MINUTE and stats.open == 111
    assert stats.volume == pytest.approx(2 * 1439)
    assert stats.prev_close == 110.5
    assert (stats.high, stats.low) == (1550, 110)
    assert stats.last == 1550


def test_book_is_ordered_with_a_spread() -> None:
    shape = BookShape(spread_bps=2.0, levels=20, grid_ticks=50)
    book = make_book(1_000_000, 3, shape)
    assert book.bids[0] == (999_900, 3) and book.asks[0] == (1_000_100, 3)
    prices = [p for p, _ in book.bids]
    assert prices == sorted(prices, reverse=True) and len(set(prices)) == 20
    assert all(p % 50 == 0 for p in prices[1:])
    assert [q for _, q in book.asks[:4]] == [3, 4, 6, 7]
    tight = make_book(100, 1, BookShape(0.0, 3, 1))
    assert tight.bids[0][0] == 100 and tight.asks[0][0] == 101


def test_book_feed_sequences_update_ids() -> None:
    feed = BookFeed(BookShape(1.0, 10, 10))
    feed.refresh(100_000, 5)
    first = feed.update_id
    assert feed.refresh(100_000, 5) is feed.book and feed.update_id == first
    feed.refresh(100_003, 5)
    feed.refresh(100_020, 5)
    diff = feed.diff_since(first)
    assert diff is not None and (diff.first_id, diff.last_id) == (first + 1, first + 2)
    # Applying the diff to the first book gives the current one.
    book = dict(make_book(100_000, 5, feed.shape).bids)
    for price, qty in diff.bids:
        if qty == 0:
            book.pop(price, None)
        else:
            book[price] = qty
    assert sorted(book.items(), reverse=True) == list(feed.book.bids)
    assert feed.diff_since(feed.update_id) is None


def test_clock_runs_at_its_speed_and_steps() -> None:
    wall = [1_000_000]
    clock = ReplayClock(T0, 60.0, T0 + 3_600_000, wall=lambda: wall[0])
    wall[0] += 1000
    assert clock.now() == T0 + 60_000
    assert clock.to_wall(T0 + 120_000) == 1_002_000
    clock.set_speed(None)
    wall[0] += 5000
    assert clock.now() == T0 + 60_000
    clock.advance(30_000)
    assert clock.now() == T0 + 90_000
    clock.jump_to(T0 + 10 * 3_600_000)
    assert clock.now() == T0 + 3_600_000 and clock.finished
    with pytest.raises(ValueError):
        clock.advance(-1)
