"""Rate budgets on their own: fixed windows as Binance counts them, decaying counters as Kraken
does, header correction, blocks, and the retry policy's backoff numbers."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from candlewick import exchanges
from candlewick.api.budget import (
    BudgetBook,
    DecayingCounterBudget,
    FixedWindowBudget,
    make_budget,
)
from candlewick.api.retry import RetryPolicy
from candlewick.errors import ConfigError
from candlewick.exchanges import RateLimit

BINANCE = {limit.id: limit for limit in exchanges.get("binance").rate_limits}
KRAKEN = {limit.id: limit for limit in exchanges.get("kraken").rate_limits}
T0 = 1_767_225_600_000  # a UTC midnight: every window starts here


def test_fixed_window_keeps_a_margin_and_waits_for_the_next_window() -> None:
    budget = FixedWindowBudget(BINANCE["REQUEST_WEIGHT_1M"], margin=0.1)
    assert budget.capacity == 5400
    now = T0 + 15_000
    budget.charge(5390, now)
    assert budget.wait_s(10, now) == 0
    assert budget.wait_s(11, now) == 45.0  # the rest of this minute
    assert budget.wait_s(11, T0 + 60_000) == 0  # a new window starts empty
    assert budget.used(T0 + 60_000) == 0


def test_windows_are_aligned_as_binance_counts_them() -> None:
    ten_s = FixedWindowBudget(BINANCE["ORDERS_10S"])
    day = FixedWindowBudget(BINANCE["ORDERS_1D"])
    assert ten_s.window_end_ms(T0 + 12_345) == T0 + 20_000
    assert day.window_end_ms(T0 + 5 * 3_600_000) == T0 + 86_400_000  # next 00:00 UTC


def test_an_oversized_call_goes_alone_into_an_empty_window() -> None:
    limit = RateLimit("tiny", "fixed_window", "weight", "ip", 10, "test", interval_ms=1000)
    budget = FixedWindowBudget(limit, margin=0.0)
    assert budget.wait_s(50, T0) == 0
    budget.charge(50, T0)
    assert budget.wait_s(1, T0) == 1.0


def test_reports_raise_the_count_and_lower_it_to_what_is_unanswered() -> None:
    budget = FixedWindowBudget(BINANCE["REQUEST_WEIGHT_1M"])
    budget.charge(20, T0)
    budget.settle(20)
    budget.observe(500, T0)  # someone else on this IP used 480 more
    assert budget.used(T0) == 500
    budget.charge(1, T0)  # an order: Binance charges 0 when it is accepted
    budget.charge(20, T0)  # still in flight
    budget.settle(1)
    budget.observe(490, T0)  # stale (lower than one already seen): 500 + 20 in flight
    assert budget.used(T0) == 520  # the accepted order cost nothing
    budget.observe(510, T0)
    assert budget.used(T0) == 520  # 510 reported; the 20 in flight may be counted or not
    budget.settle(20)
    budget.observe(530, T0)
    assert budget.used(T0) == 530


def test_block_and_exhaust() -> None:
    budget = FixedWindowBudget(BINANCE["REQUEST_WEIGHT_1M"])
    budget.block_until(T0 + 90_000)
    assert budget.wait_s(1, T0 + 30_000) == 60.0
    budget.block_until(T0 + 10_000)  # a shorter block does not shorten the longer one
    assert budget.blocked_until_ms == T0 + 90_000
    fresh = FixedWindowBudget(BINANCE["REQUEST_WEIGHT_1M"])
    fresh.charge(10, T0 + 1000)
    fresh.exhaust(T0 + 1000)
    assert fresh.wait_s(1, T0 + 1000) == 59.0


def test_decaying_counter_waits_for_enough_decay() -> None:
    budget = DecayingCounterBudget(KRAKEN["REST_COUNTER"], margin=0.0)  # 15, -0.33/s
    for _ in range(15):
        assert budget.wait_s(1, T0) == 0
        budget.charge(1, T0)
    assert budget.wait_s(1, T0) == pytest.approx(1 / 0.33)
    assert budget.used(T0 + 3_000) == pytest.approx(15 - 0.99)
    assert budget.wait_s(1, T0 + 3_031) == 0
    budget.exhaust(T0 + 3_031)
    assert budget.used(T0 + 3_031) == 15


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(1, 300), st.integers(0, 20_000)), min_size=1, max_size=300),
    st.sampled_from(["REQUEST_WEIGHT_1M", "ORDERS_10S"]),
)
def test_calls_that_wait_for_room_never_exceed_a_window(
    calls: list[tuple[int, int]], limit_id: str
) -> None:
    budget = FixedWindowBudget(BINANCE[limit_id])
    per_window: dict[int, float] = {}
    now = T0
    for cost, gap_ms in calls:
        cost = min(cost, int(budget.capacity))
        now += gap_ms
        wait = budget.wait_s(cost, now)
        now += round(wait * 1000)
        assert budget.wait_s(cost, now) == 0
        budget.charge(cost, now)
        budget.settle(cost)
        window = now // budget.interval_ms
        per_window[window] = per_window.get(window, 0) + cost
    assert max(per_window.values()) <= budget.capacity


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 5), st.integers(0, 5_000)), min_size=1, max_size=200))
def test_a_decaying_counter_never_passes_its_capacity(calls: list[tuple[int, int]]) -> None:
    budget = DecayingCounterBudget(KRAKEN["TRADING_COUNTER"])
    now = T0
    for cost, gap_ms in calls:
        now += gap_ms
        now += int(budget.wait_s(cost, now) * 1000) + 1
        budget.charge(cost, now)
        assert budget.used(now) <= budget.capacity + 1e-9


def test_book_shares_budgets_by_key_and_applies_overrides() -> None:
    book = BudgetBook(margin=0.1, overrides={"binance": {"ORDERS_10S": 50}})
    weight = BINANCE["REQUEST_WEIGHT_1M"]
    assert book.get("binance", weight, "ip-a") is book.get("binance", weight, "ip-a")
    assert book.get("binance", weight, "ip-a") is not book.get("binance", weight, "ip-b")
    assert book.get("binance", BINANCE["ORDERS_10S"], "acct").capacity == 45
    assert isinstance(make_budget(KRAKEN["REST_COUNTER"]), DecayingCounterBudget)
    with pytest.raises(ConfigError, match="margin"):
        BudgetBook(margin=1.5)


def test_backoff_is_jittered_below_an_exponential_cap() -> None:
    policy = RetryPolicy(base_s=0.5, cap_s=4.0)
    rng = random.Random(1)
    for attempt, ceiling in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (9, 4.0)]:
        draws = [policy.backoff_s(attempt, rng) for _ in range(200)]
        assert min(draws) >= 0 and max(draws) <= ceiling
        assert max(draws) > 0.8 * ceiling  # the whole range is used
    with pytest.raises(ConfigError, match="max_attempts"):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ConfigError, match="base_s"):
        RetryPolicy(base_s=2.0, cap_s=1.0)
