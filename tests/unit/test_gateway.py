"""The gateway against the in-test fake exchange: shared budgets, header correction,
Retry-After, retries of reads and cancels, and order creation that is never resent."""

from __future__ import annotations

import contextlib
import random
from typing import Any

import ccxt
import pytest

from candlewick.api.gateway import Gateway, new_client_order_id
from candlewick.api.hub import ExchangeHub
from candlewick.api.retry import RetryPolicy
from candlewick.errors import (
    AuthenticationError,
    ConfigError,
    ExchangeUnavailableError,
    InsufficientFundsError,
    OrderStatusUnknownError,
    RateLimitError,
)
from tests.unit.test_gateway_fakes import START_MS, FakeExchange, VirtualClock, run

POLICY = RetryPolicy(max_attempts=4, base_s=0.5, cap_s=8.0, lookup_attempts=3)


def make(
    fake_kw: dict[str, Any] | None = None, **hub_kw: Any
) -> tuple[VirtualClock, FakeExchange, ExchangeHub, Gateway]:
    clock = VirtualClock()
    fake = FakeExchange(clock, **(fake_kw or {}))
    hub = ExchangeHub(clock, policy=hub_kw.pop("policy", POLICY), rng=random.Random(7), **hub_kw)
    return clock, fake, hub, hub.gateway("binance", "acct-1", lambda: fake)


def test_hub_shares_one_gateway_per_account_and_weight_per_host() -> None:
    clock = VirtualClock()
    hub = ExchangeHub(clock)
    server = FakeExchange(clock)  # one exchange (one IP count) behind both clients
    made: list[FakeExchange] = []

    def connect() -> FakeExchange:
        made.append(server)
        return server

    first = hub.gateway("binance", "acct-1", connect)
    assert hub.gateway("BINANCE", "acct-1", connect) is first
    second = hub.gateway("binance", "acct-2", connect)
    assert len(made) == 2
    run(clock, first.fetch_ohlcv("BTC/USDT", "1m"), second.create_order(
        "BTC/USDT", "limit", "buy", 1.0, 1.0, client_order_id="c1"
    ))  # fmt: skip
    by_key = {key: budget.used(clock.now_ms()) for key, budget in hub.book.items()}
    assert by_key[("binance", "REQUEST_WEIGHT_1M", "default")] == 3  # klines 2 + order 1
    assert by_key[("binance", "ORDERS_10S", "acct-2")] == 1
    assert ("binance", "ORDERS_10S", "acct-1") not in by_key
    with pytest.raises(ConfigError, match="already connected through host"):
        hub.gateway("binance", "acct-1", connect, host="10.0.0.2")


def test_twenty_bots_share_the_weight_budget_without_a_429() -> None:
    clock, fake, hub, _ = make()
    gateways = [hub.gateway("binance", f"acct-{i % 2}", lambda: fake) for i in range(20)]

    async def bot(gateway: Gateway) -> int:
        done = 0
        for minute in range(5):
            for _ in range(12):  # greedy: 12 x (20 + 5 + 2) = 324 a minute, x 20 bots > 6000
                await gateway.fetch_balance()
                await gateway.fetch_order_book("BTC/USDT")
                await gateway.fetch_ohlcv("BTC/USDT", "1m")
                done += 1
            await clock.sleep(max(0.0, (START_MS + (minute + 1) * 60_000 - clock.now_ms()) / 1000))
        return done

    results = run(clock, *(bot(g) for g in gateways))
    assert results == [60] * 20
    assert fake.refusals == 0
    per_minute: dict[int, int] = {}
    for method, ms in fake.requests:
        weight = {"fetch_balance": 20, "fetch_order_book": 5, "fetch_ohlcv": 2}[method]
        per_minute[ms // 60_000] = per_minute.get(ms // 60_000, 0) + weight
    assert max(per_minute.values()) <= 5400  # 90 % of 6000
    assert sum(g.stats.budget_waits for g in hub.gateways()) > 0


def test_the_same_load_without_budgets_meets_429s() -> None:
    clock, fake, _hub, gateway = make(limit_overrides={"binance": {"REQUEST_WEIGHT_1M": 10**9}})

    async def bot() -> None:
        for _ in range(6):
            with contextlib.suppress(RateLimitError):
                await gateway.fetch_balance()

    run(clock, *(bot() for _ in range(60)))
    assert fake.refusals > 0


def test_exchange_headers_correct_the_local_count() -> None:
    # Another process on the same IP already used 5300 of this minute's weight.
    clock, fake, _, gateway = make({"other_weight": 5300})

    async def reads() -> None:
        for _ in range(10):
            await gateway.fetch_balance()

    run(clock, reads())
    assert fake.refusals == 0
    minutes = {ms // 60_000 for _, ms in fake.requests}
    assert len(minutes) == 2  # it waited for the next minute instead of reaching 6000


@pytest.mark.parametrize(("retry_after", "resumes_after_s"), [(7, 60), (90, 90)])
def test_a_429_fills_the_window_and_blocks_for_retry_after(
    retry_after: int, resumes_after_s: int
) -> None:
    # The exchange allows less than the gateway believes: its 429 teaches the gateway.
    clock, fake, _hub, gateway = make({"weight_limit": 30, "retry_after_s": retry_after})

    async def reads() -> list[Any]:
        return [await gateway.fetch_balance() for _ in range(2)]

    run(clock, reads())
    assert fake.refusals == 1
    assert fake.count("fetch_balance") == 3  # served, refused, retried once
    refused_at, retried_at = fake.requests[1][1], fake.requests[2][1]
    assert retried_at - START_MS >= resumes_after_s * 1000 > refused_at - START_MS
    assert gateway.stats.rate_limited == 1 and gateway.stats.retries == 1


def test_reads_back_off_with_jitter_then_give_up() -> None:
    errors = [ccxt.NetworkError("reset") for _ in range(4)]
    clock, _fake, _, gateway = make({"fail_before": {"fetch_ticker": errors}})
    with pytest.raises(ExchangeUnavailableError, match="fetch_ticker BTC/USDT: NetworkError"):
        run(clock, gateway.fetch_ticker("BTC/USDT"))
    assert len(clock.slept) == 3
    caps = [0.5, 1.0, 2.0]
    assert all(0 <= s <= cap for s, cap in zip(clock.slept, caps, strict=True))
    assert len(set(clock.slept)) == 3  # jittered, not a fixed ladder


def test_reads_recover_after_a_transient_failure() -> None:
    clock, _fake, _, gateway = make({"fail_before": {"fetch_ticker": [ccxt.RequestTimeout("t")]}})
    (ticker,) = run(clock, gateway.fetch_ticker("BTC/USDT"))
    assert ticker["last"] == 1.5 and gateway.stats.retries == 1


def test_errors_that_retrying_cannot_fix_are_raised_at_once() -> None:
    bad_key = ccxt.AuthenticationError('binance {"code":-2015,"msg":"Invalid API-key."}')
    clock, _fake, _, gateway = make({"fail_before": {"fetch_balance": [bad_key]}})
    with pytest.raises(AuthenticationError, match="REJECTED_MBX_KEY"):
        run(clock, gateway.fetch_balance())
    assert clock.slept == [] and gateway.stats.calls == 1


def test_create_order_timeout_after_acceptance_finds_the_order() -> None:
    timeout = ccxt.RequestTimeout("binance POST http://x/api/v3/order timed out")
    clock, fake, _, gateway = make({"fail_after": {"create_order": [timeout]}})
    cid = new_client_order_id()
    (order,) = run(
        clock,
        gateway.create_order("BTC/USDT", "limit", "buy", 0.5, 100.0, client_order_id=cid),
    )
    assert order["clientOrderId"] == cid
    assert fake.count("create_order") == 1 and list(fake.orders) == [cid]
    assert gateway.stats.lookups == 1


def test_create_order_lost_before_reaching_the_exchange_is_unknown_not_resent() -> None:
    lost = ccxt.ExchangeNotAvailable("binance POST http://x/api/v3/order connection reset")
    clock, fake, _, gateway = make({"fail_before": {"create_order": [lost]}})
    with pytest.raises(OrderStatusUnknownError, match=r"'c-lost'.*found no order.*Do not send"):
        run(clock, gateway.create_order("BTC/USDT", "market", "buy", 1.0, client_order_id="c-lost"))
    assert fake.count("create_order") == 0  # lost on the way, and not sent again
    assert fake.count("fetch_order") == POLICY.lookup_attempts
    assert gateway.stats.calls == 1 + POLICY.lookup_attempts and fake.orders == {}


def test_create_order_unknown_when_lookups_fail_too() -> None:
    clock, fake, _, gateway = make(
        {
            "fail_after": {"create_order": [ccxt.RequestTimeout("t")]},
            "fail_before": {"fetch_order": [ccxt.NetworkError("down") for _ in range(9)]},
        }
    )
    with pytest.raises(OrderStatusUnknownError, match=r"failed \(.*NetworkError"):
        run(clock, gateway.create_order("BTC/USDT", "limit", "buy", 1.0, 1.0, client_order_id="c"))
    assert fake.count("create_order") == 1


def test_create_order_refusals_are_raised_without_lookup() -> None:
    funds = ccxt.InsufficientFunds(
        'binance {"code":-2010,"msg":"Account has insufficient balance for requested action."}'
    )
    clock, fake, _, gateway = make({"fail_before": {"create_order": [funds]}})
    with pytest.raises(InsufficientFundsError):
        run(clock, gateway.create_order("BTC/USDT", "limit", "buy", 1.0, 1.0, client_order_id="c"))
    assert gateway.stats.lookups == 0 and fake.count("fetch_order") == 0


def test_create_order_429_is_not_resent_and_blocks_the_order_budget() -> None:
    clock, fake, hub, gateway = make({"orders_10s_limit": 1, "retry_after_s": 3})

    async def two_orders() -> None:
        await gateway.create_order("BTC/USDT", "limit", "buy", 1.0, 1.0, client_order_id="a")
        await gateway.create_order("BTC/USDT", "limit", "buy", 1.0, 1.0, client_order_id="b")

    with pytest.raises(RateLimitError, match="TOO_MANY_ORDERS") as caught:
        run(clock, two_orders())
    assert caught.value.retry_after == 3
    assert fake.count("create_order") == 2 and gateway.stats.lookups == 0
    budgets = dict(hub.book.items())
    now = clock.now_ms()
    assert budgets[("binance", "ORDERS_10S", "acct-1")].blocked_until_ms == now + 3000
    assert budgets[("binance", "ORDERS_1D", "acct-1")].blocked_until_ms == 0
    assert budgets[("binance", "REQUEST_WEIGHT_1M", "default")].blocked_until_ms == 0


def test_create_order_needs_a_client_order_id() -> None:
    clock, _, _, gateway = make()
    with pytest.raises(ConfigError, match="client order id"):
        run(clock, gateway.create_order("BTC/USDT", "market", "buy", 1.0, client_order_id=""))
    assert len(new_client_order_id()) == 32


def test_a_spent_budget_refuses_locally_beyond_the_longest_wait() -> None:
    clock, fake, _hub, gateway = make(
        policy=RetryPolicy(max_wait_s=5.0), limit_overrides={"binance": {"ORDERS_1D": 3}}
    )

    async def three() -> None:
        for cid in ("a", "b", "c"):
            await gateway.create_order("BTC/USDT", "limit", "buy", 1.0, 1.0, client_order_id=cid)

    with pytest.raises(RateLimitError, match="ORDERS_1D budget") as caught:
        run(clock, three())
    assert caught.value.retry_after is not None and caught.value.retry_after > 80_000
    assert fake.count("create_order") == 2  # the third was never sent


def test_cancel_retried_after_a_timeout_reads_the_cancelled_order() -> None:
    clock, fake, _, gateway = make({"fail_after": {"cancel_order": [ccxt.RequestTimeout("t")]}})

    async def place_and_cancel() -> Any:
        order = await gateway.create_order(
            "BTC/USDT", "limit", "buy", 1.0, 1.0, client_order_id="c"
        )
        return await gateway.cancel_order(order["id"], "BTC/USDT")

    (cancelled,) = run(clock, place_and_cancel())
    assert cancelled["status"] == "canceled"
    assert fake.count("cancel_order") == 2 and fake.count("fetch_order") == 1


def test_load_markets_is_fetched_once_per_process() -> None:
    clock, fake, _, gateway = make()
    run(clock, gateway.load_markets(), gateway.load_markets())
    assert fake.count("load_markets") == 1 and "BTC/USDT" in gateway.markets
    run(clock, gateway.load_markets(reload=True))
    assert fake.count("load_markets") == 2


def test_markets_before_loading_is_an_error() -> None:
    _, _, _, gateway = make()
    with pytest.raises(ConfigError, match="load_markets"):
        _ = gateway.markets


def test_programming_errors_are_not_translated() -> None:
    clock, _fake, _, gateway = make({"fail_before": {"fetch_time": [KeyError("bug")]}})
    with pytest.raises(KeyError):
        run(clock, gateway.fetch_time())
