"""The vectorised exit search agrees with a bar-by-bar loop over the fill model's scalar rules."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from candlewick.backtest.exits import PlannedExit, next_signal, plan_exit, plan_exits
from candlewick.core.fills import protective_fill
from candlewick.core.types import F64, BoolArr, ExitReason
from candlewick.risk.rules import ExitRules


def reference_exit(
    o: F64, h: F64, low: F64, c: F64, exits: BoolArr, e: int, rules: ExitRules, atr: float
) -> tuple[int, float, ExitReason]:
    """The exit rules applied one bar at a time with the fill model's scalar rule."""
    n = o.shape[0]
    entry = np.array([o[e]])
    stop = float(rules.stop_levels(entry, np.array([atr]))[0])
    take = float(rules.take_profit_levels(entry, np.array([atr]), np.array([stop]))[0])
    highest = float(o[e])
    for b in range(e, n):
        if b > e and exits[b - 1]:
            return b, float(o[b]), ExitReason.SIGNAL
        if rules.time_stop_bars is not None and b == e + rules.time_stop_bars:
            return b, float(o[b]), ExitReason.TIME_STOP
        level, why = stop, ExitReason.STOP_LOSS
        if rules.trailing_stop_pct is not None:
            trail = highest * (1.0 - rules.trailing_stop_pct)
            if trail > stop:
                level, why = trail, ExitReason.TRAILING_STOP
        filled = protective_fill(float(o[b]), float(h[b]), float(low[b]), level, take)
        if filled is not None:
            price, is_stop = filled
            return b, price, why if is_stop else ExitReason.TAKE_PROFIT
        highest = max(highest, float(h[b]))
    return n - 1, float(c[n - 1]), ExitReason.END_OF_DATA


@st.composite
def price_paths(draw: st.DrawFn) -> tuple[F64, F64, F64, F64]:
    n = draw(st.integers(2, 400))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    open_ = np.concatenate(([100.0], close[:-1])) * np.exp(rng.normal(0, 0.003, n))
    high = np.maximum(open_, close) * np.exp(np.abs(rng.normal(0, 0.005, n)))
    low = np.minimum(open_, close) * np.exp(-np.abs(rng.normal(0, 0.005, n)))
    return open_, high, low, close


optional_pct = st.one_of(st.none(), st.floats(0.002, 0.2))


def test_stop_wins_when_stop_and_take_profit_hit_in_the_same_bar() -> None:
    o = np.array([100.0, 100.0, 100.0])
    h = np.array([101.0, 110.0, 101.0])
    low = np.array([99.0, 90.0, 99.0])
    c = np.array([100.0, 100.0, 100.0])
    rules = ExitRules(stop_loss_pct=0.05, take_profit_pct=0.05)
    got = plan_exit(o, h, low, c, np.flatnonzero(np.zeros(3, bool)), 1, rules)
    assert got == PlannedExit(1, 95.0, ExitReason.STOP_LOSS, at_open=False)


def test_gap_below_the_stop_fills_at_the_open() -> None:
    o = np.array([100.0, 100.0, 80.0])
    h = np.array([101.0, 101.0, 85.0])
    low = np.array([99.0, 99.0, 79.0])
    c = np.array([100.0, 100.0, 84.0])
    rules = ExitRules(stop_loss_pct=0.05)
    got = plan_exit(o, h, low, c, np.flatnonzero(np.zeros(3, bool)), 1, rules)
    assert got == PlannedExit(2, 80.0, ExitReason.STOP_LOSS, at_open=True)


def test_exit_signal_fills_at_the_next_open_and_end_of_data_at_the_last_close() -> None:
    o = np.arange(1.0, 7.0)
    c = o + 0.5
    exits = np.array([False, False, True, False, False, False])
    nxt = np.flatnonzero(exits)
    assert plan_exit(o, c, o, c, nxt, 1, ExitRules()) == PlannedExit(
        3, 4.0, ExitReason.SIGNAL, at_open=True
    )
    assert plan_exit(o, c, o, c, nxt, 4, ExitRules()) == PlannedExit(
        5, 6.5, ExitReason.END_OF_DATA, at_open=False
    )


def test_next_signal() -> None:
    bars = np.flatnonzero(np.array([False, True, False, False, True, False]))
    assert next_signal(bars, np.arange(6), 6).tolist() == [1, 1, 4, 4, 4, 6]


def test_gap_above_the_take_profit_fills_it_at_the_open() -> None:
    o = np.array([100.0, 100.0, 110.0])
    h = np.array([101.0, 101.0, 112.0])
    low = np.array([99.0, 99.0, 90.0])
    c = np.array([100.0, 100.0, 95.0])
    rules = ExitRules(stop_loss_pct=0.05, take_profit_pct=0.05)
    got = plan_exit(o, h, low, c, np.flatnonzero(np.zeros(3, bool)), 1, rules)
    assert got == PlannedExit(2, 110.0, ExitReason.TAKE_PROFIT, at_open=True)


@settings(max_examples=400, deadline=None)
@given(
    path=price_paths(),
    exit_density=st.floats(0.0, 0.2),
    entry_density=st.floats(0.01, 1.0),
    stop=optional_pct,
    take=optional_pct,
    trail=optional_pct,
    rr=st.one_of(st.none(), st.floats(0.5, 4.0)),
    time_stop=st.one_of(st.none(), st.integers(1, 100)),
    seed=st.integers(0, 1000),
)
def test_many_entries_at_once_with_atr_rules_match_the_bar_by_bar_rules(
    path: tuple[F64, F64, F64, F64],
    exit_density: float,
    entry_density: float,
    stop: float | None,
    take: float | None,
    trail: float | None,
    rr: float | None,
    time_stop: int | None,
    seed: int,
) -> None:
    o, h, low, c = path
    n = o.shape[0]
    rng = np.random.default_rng(seed)
    exits: BoolArr = np.asarray(rng.random(n) < exit_density)
    entries = np.flatnonzero(rng.random(n) < entry_density).astype(np.int64)
    atr = np.abs(rng.normal(1.0, 0.5, n))
    atr[: n // 10] = np.nan
    rules = ExitRules(
        stop_loss_pct=stop,
        stop_loss_atr=2.0 if seed % 2 else None,
        take_profit_pct=take,
        take_profit_atr=3.0 if seed % 3 == 0 else None,
        take_profit_rr=rr,
        trailing_stop_pct=trail,
        time_stop_bars=time_stop,
    )
    nxt = np.flatnonzero(exits)
    batch = plan_exits(o, h, low, c, nxt, entries, rules, atr[entries])
    for k, e in enumerate(entries.tolist()):
        got = batch.one(k)
        bar, price, reason = reference_exit(o, h, low, c, exits, e, rules, float(atr[e]))
        assert (got.bar, got.reason, got.price) == (bar, reason, price)
