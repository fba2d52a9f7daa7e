"""The public trade tape drawn from the candles: four trades a minute on the path, volumes to the
step, empty trades left out, ids from the time, paging forward and backward."""

from __future__ import annotations

from decimal import Decimal

from candlewick.emulator.market import MINUTE, PairMarket
from candlewick.emulator.tape import Tape
from tests.unit.test_emulator_market import T0, candles

STEP = Decimal("0.001")


def tape(*rows: tuple[float, float, float, float, float], gap: bool = False) -> Tape:
    market = PairMarket(candles(list(rows)), 0.01)
    if gap:  # the last minute comes two minutes later (an outage in the data)
        market.ts[-1] += 2 * MINUTE
    return Tape(market, STEP)


def test_four_trades_a_minute_rebuild_the_candle() -> None:
    trades = tape((100, 101, 95, 99, 1.0007)).forward(0, 0, T0 + MINUTE, 10)
    assert [t.time - T0 for t in trades] == [0, 20_000, 40_000, 59_999]
    assert [t.price for t in trades] == [100, 101, 95, 99]  # the path: nearer extreme first
    assert [t.qty for t in trades] == [Decimal("0.25")] * 3 + [Decimal("0.25")]
    assert sum(t.qty for t in trades) == Decimal("1.000")  # 1.0007 rounded down to the step
    assert [t.trade_id for t in trades] == [T0 // MINUTE * 4 + k for k in range(4)]
    assert [t.buyer_maker for t in trades] == [False, False, True, False]


def test_small_and_empty_minutes() -> None:
    trades = tape((100, 100, 100, 100, 0.002), (100, 100, 100, 100, 0.0)).forward(0, 0, T0 * 2, 9)
    assert [(t.time - T0, t.qty) for t in trades] == [(59_999, Decimal("0.002"))]


def test_paging_by_id_time_and_from_the_end() -> None:
    rows = [(100 + i, 101 + i, 99 + i, 100 + i, 4.0) for i in range(3)]
    market_tape = tape(*rows, gap=True)
    every = market_tape.forward(0, 0, T0 + 10 * MINUTE, 100)
    assert len(every) == 12
    ids = [t.trade_id for t in every]
    assert ids == sorted(ids) and ids[8] - ids[7] > 1  # the outage skips ids
    assert market_tape.forward(ids[5], 0, T0 + 10 * MINUTE, 3) == every[5:8]
    assert market_tape.forward(0, T0 + 20_001, T0 + MINUTE + 20_000, 100) == every[2:6]
    assert market_tape.backward(T0 + MINUTE + 20_000, 3) == every[3:6]
    assert market_tape.backward(T0 - 1, 5) == []
    assert market_tape.forward(0, 0, T0 + 30_000, 100) == every[:2]  # nothing after `until`
