"""The portfolio benchmark's data chaining (bench/portfolio_data.py): continuity, grid, returns."""

from __future__ import annotations

import numpy as np
import pytest
from bench.portfolio_data import (
    MINUTE_MS,
    Segment,
    chain,
    pair_names,
    pair_order,
)
from hypothesis import given, settings
from hypothesis import strategies as st


def segment(name: str, closes: list[float], volume: float = 1.0) -> Segment:
    """A segment whose bar i opens at closes[i-1] (its first bar at closes[0] * 0.99)."""
    close = np.array(closes, dtype=np.float64)
    open_ = np.concatenate([[close[0] * 0.99], close[:-1]])
    high = np.maximum(open_, close) * 1.01
    low = np.minimum(open_, close) * 0.98
    return Segment(name, open_, high, low, close, np.full(close.shape, volume))


def test_each_segment_starts_at_the_previous_close_and_keeps_its_own_returns() -> None:
    a = segment("a", [100.0, 101.0, 102.0])
    b = segment("b", [10.0, 11.0, 9.0, 12.0], volume=7.0)
    out = chain([a, b], 7, start_ms=0)

    assert out.open[3] == pytest.approx(out.close[2], rel=1e-12)
    assert out.parts[0].factor == 1.0
    assert out.parts[1].factor == pytest.approx(102.0 / (10.0 * 0.99))
    np.testing.assert_allclose(out.close[3:] / out.close[3], b.close / b.close[0], rtol=1e-12)
    np.testing.assert_array_equal(out.close[:3], a.close)
    np.testing.assert_array_equal(out.volume, [1.0, 1.0, 1.0, 7.0, 7.0, 7.0, 7.0])


def test_timestamps_form_one_continuous_grid_and_the_last_segment_is_cut() -> None:
    segs = [segment("a", [1.0, 2.0]), segment("b", [5.0, 6.0, 7.0]), segment("c", [3.0, 4.0])]
    out = chain(segs, 4, start_ms=1_000 * MINUTE_MS)

    np.testing.assert_array_equal(out.timestamp, (1_000 + np.arange(4)) * MINUTE_MS)
    assert [(p.name, p.bars) for p in out.parts] == [("a", 2), ("b", 2)]
    assert all(len(getattr(out, c)) == 4 for c in ("open", "high", "low", "close", "volume"))


def test_too_few_bars_or_a_bad_length_is_refused() -> None:
    segs = [segment("a", [1.0, 2.0]), segment("b", [3.0])]
    with pytest.raises(ValueError, match="fewer than the 4"):
        chain(segs, 4)
    with pytest.raises(ValueError, match="positive"):
        chain(segs, 0)
    bad = Segment("zero", *(np.zeros(2) for _ in range(5)))
    with pytest.raises(ValueError, match="first open"):
        chain([segs[0], bad], 3)


def test_each_pair_gets_its_own_reproducible_order() -> None:
    segs = [segment(f"s{i}", [float(i + 1)]) for i in range(12)]
    orders = [tuple(s.name for s in pair_order(segs, k)) for k in range(20)]

    assert len(set(orders)) == 20
    assert orders[3] == tuple(s.name for s in pair_order(segs, 3))
    assert all(sorted(o) == sorted(s.name for s in segs) for o in orders)
    assert pair_names(2) == ["SYN01/USDT", "SYN02/USDT"]


prices = st.lists(st.floats(0.01, 1e6, allow_nan=False), min_size=1, max_size=30)


@settings(max_examples=60, deadline=None)
@given(st.lists(prices, min_size=1, max_size=6), st.integers(1, 200))
def test_chained_bars_keep_the_ohlc_rules_and_the_length(
    series: list[list[float]], want: int
) -> None:
    segs = [segment(f"s{i}", closes) for i, closes in enumerate(series)]
    total = sum(len(s) for s in segs)
    if want > total:
        with pytest.raises(ValueError):
            chain(segs, want)
        return
    out = chain(segs, want)

    assert len(out.timestamp) == want == sum(p.bars for p in out.parts)
    assert np.all(np.diff(out.timestamp) == MINUTE_MS)
    assert np.all(out.high >= np.maximum(out.open, out.close))
    assert np.all(out.low <= np.minimum(out.open, out.close))
    assert np.all(out.low > 0)
    starts = np.cumsum([p.bars for p in out.parts])[:-1]
    np.testing.assert_allclose(out.open[starts], out.close[starts - 1], rtol=1e-9)
