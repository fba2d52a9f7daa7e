"""API_LAYER: the one place every call to an exchange account goes through.

A :class:`Gateway` wraps one :class:`~candlewick.api.port.ExchangeClient` (one ccxt object per
exchange account in the process) and, for every call:

1. finds the endpoint the call hits (exchange data package: route, weight rules) and
   **waits** until every budget it counts against has room (request weight per IP, order
   counts per account ...), a safety margin below the exchange's limits;
2. sends it, then corrects the budgets from the exchange's own counters
   (``X-MBX-USED-WEIGHT-1M``, ``X-MBX-ORDER-COUNT-10S`` ...);
3. on failure translates ccxt's exception into Candlewick's tree; a 429/418 blocks the
   budgets it concerns for ``Retry-After`` seconds (ccxt does not honour it);
4. retries what is safe: reads after network errors with jittered exponential backoff
   (and after a rate-limit block), cancels likewise (a cancel that then finds no order
   reads the order to report what happened). **Order creation is never resent**: the
   client order id is fixed before sending and, when the outcome is unknown (timeout,
   5xx, connection lost), the gateway looks the order up by that id; if it still cannot
   tell, it raises :class:`~candlewick.errors.OrderStatusUnknownError`.

Budgets live in the process's :class:`~candlewick.api.budget.BudgetBook`, shared by every
gateway of the same IP or account. Time comes from an injected clock.
"""

from __future__ import annotations

import asyncio
import random
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import ccxt

from candlewick.api.budget import Budget, BudgetBook, FixedWindowBudget
from candlewick.api.clock import Clock
from candlewick.api.port import ExchangeClient, Json
from candlewick.api.retry import RetryPolicy
from candlewick.api.translate import Translated, translate
from candlewick.errors import (
    ConfigError,
    ExchangeError,
    ExchangeUnavailableError,
    OrderNotFoundError,
    OrderStatusUnknownError,
    RateLimitError,
)
from candlewick.exchanges import Endpoint, ExchangeFacts, RateLimit

T = TypeVar("T")

#: The ccxt unified parameter carrying the client order id (create_order and fetch_order).
CLIENT_ORDER_ID = "clientOrderId"

_GENERIC_CCXT = (ccxt.ExchangeError, ccxt.BaseError)


def new_client_order_id(prefix: str = "cw") -> str:
    """A fresh client order id: ``prefix`` + 30 hex digits (Binance allows 36 of [A-Za-z0-9-_])."""
    return f"{prefix}{secrets.token_hex(15)}"


@dataclass(slots=True)
class GatewayStats:
    """Counters of one gateway, for monitoring and tests."""

    calls: int = 0
    retries: int = 0
    budget_waits: int = 0
    waited_s: float = 0.0
    rate_limited: int = 0
    lookups: int = 0


@dataclass(frozen=True, slots=True)
class _Outcome(Generic[T]):
    value: T | None = None
    failure: Translated | None = None
    generic: bool = False  # ccxt's bare ExchangeError/BaseError: nothing says what happened


Charges = list[tuple[Budget, float]]


class Gateway:
    """All calls to one exchange account, under shared budgets and one retry policy."""

    def __init__(
        self,
        client: ExchangeClient,
        facts: ExchangeFacts,
        *,
        account: str,
        host: str,
        book: BudgetBook,
        clock: Clock,
        policy: RetryPolicy,
        rng: random.Random,
    ) -> None:
        self.client = client
        self.facts = facts
        self.account = account
        self.host = host
        self.stats = GatewayStats()
        self._book = book
        self._clock = clock
        self._policy = policy
        self._rng = rng
        self._markets: Json | None = None
        self._markets_lock = asyncio.Lock()
        self._seen_headers: object = None

    # ---- reads --------------------------------------------------------------------------

    @property
    def markets(self) -> Json:
        """The markets loaded by :meth:`load_markets` (ConfigError before)."""
        if self._markets is None:
            raise ConfigError(
                f"{self.facts.id}: markets are not loaded yet: await gateway.load_markets() first"
            )
        return self._markets

    async def load_markets(self, reload: bool = False) -> Json:
        """The exchange's markets (one request per process unless ``reload``)."""
        async with self._markets_lock:
            if self._markets is None or reload:
                self._markets = await self._read(
                    "load_markets", {}, lambda: self.client.load_markets(reload)
                )
        return self._markets

    async def fetch_time(self) -> int | None:
        """The exchange's clock in ms."""
        return await self._read("fetch_time", {}, lambda: self.client.fetch_time())

    async def fetch_ohlcv(
        self,
        symbol: str,
        timeframe: str,
        since: int | None = None,
        limit: int | None = None,
        params: Json | None = None,
    ) -> list[list[Any]]:
        """Candles ``[open time ms, o, h, l, c, v]`` (ccxt's rows)."""
        extra = params or {}
        return await self._read(
            "fetch_ohlcv",
            {"symbol": symbol, "limit": limit, **extra},
            lambda: self.client.fetch_ohlcv(symbol, timeframe, since, limit, extra),
        )

    async def fetch_ticker(self, symbol: str) -> Json:
        """The 24-hour ticker of one market."""
        return await self._read(
            "fetch_ticker", {"symbol": symbol}, lambda: self.client.fetch_ticker(symbol)
        )

    async def fetch_tickers(self, symbols: list[str] | None = None) -> Json:
        """Tickers of several markets (all when ``symbols`` is None: the heaviest call)."""
        return await self._read(
            "fetch_tickers", {"symbols": symbols}, lambda: self.client.fetch_tickers(symbols)
        )

    async def fetch_order_book(self, symbol: str, limit: int | None = None) -> Json:
        """The order book (its weight grows with ``limit``)."""
        return await self._read(
            "fetch_order_book",
            {"symbol": symbol, "limit": limit},
            lambda: self.client.fetch_order_book(symbol, limit),
        )

    async def fetch_balance(self) -> Json:
        """The account's balances (ccxt's structure; ``info`` holds the exchange's strings)."""
        return await self._read("fetch_balance", {}, lambda: self.client.fetch_balance())

    async def fetch_trading_fees(self) -> Json:
        """The account's maker/taker rates per market."""
        return await self._read("fetch_trading_fees", {}, lambda: self.client.fetch_trading_fees())

    async def fetch_order(
        self, order_id: str | None, symbol: str, client_order_id: str | None = None
    ) -> Json:
        """One order, by exchange id or (when ``order_id`` is None) by client order id."""
        if order_id is None and not client_order_id:
            raise ConfigError("fetch_order needs an order id or a client order id")
        params = {CLIENT_ORDER_ID: client_order_id} if order_id is None else {}
        return await self._read(
            "fetch_order",
            {"symbol": symbol},
            lambda: self.client.fetch_order(order_id, symbol, params),
        )

    async def fetch_open_orders(self, symbol: str | None = None) -> list[Json]:
        """Open orders of one market (all markets when None: far heavier on Binance)."""
        return await self._read(
            "fetch_open_orders",
            {"symbol": symbol},
            lambda: self.client.fetch_open_orders(symbol),
        )

    async def fetch_my_trades(
        self,
        symbol: str,
        since: int | None = None,
        limit: int | None = None,
        params: Json | None = None,
    ) -> list[Json]:
        """The account's trades in one market."""
        extra = params or {}
        return await self._read(
            "fetch_my_trades",
            {"symbol": symbol, **extra},
            lambda: self.client.fetch_my_trades(symbol, since, limit, extra),
        )

    async def fetch_deposits(self, code: str | None = None, since: int | None = None) -> list[Json]:
        """Deposit history."""
        return await self._read(
            "fetch_deposits", {}, lambda: self.client.fetch_deposits(code, since)
        )

    async def fetch_withdrawals(
        self, code: str | None = None, since: int | None = None
    ) -> list[Json]:
        """Withdrawal history."""
        return await self._read(
            "fetch_withdrawals", {}, lambda: self.client.fetch_withdrawals(code, since)
        )

    # ---- writes -------------------------------------------------------------------------

    async def create_order(
        self,
        symbol: str,
        order_type: str,
        side: str,
        amount: float,
        price: float | None = None,
        *,
        client_order_id: str,
        params: Json | None = None,
    ) -> Json:
        """Place an order under ``client_order_id`` (chosen by the caller, stored first).

        Sent at most once. A refusal raises at once (OrderRejectedError, InsufficientFundsError,
        RateLimitError for a 429 ...). When the outcome is unknown, the order is looked up by
        its client order id and returned if found; OrderStatusUnknownError otherwise.
        """
        if not client_order_id:
            raise ConfigError("create_order needs a client order id chosen before sending")
        sent = {**(params or {}), CLIENT_ORDER_ID: client_order_id}
        charges, context = await self._prepare("create_order", {"symbol": symbol})
        outcome = await self._exchange(
            lambda: self.client.create_order(symbol, order_type, side, amount, price, sent),
            charges,
            context,
        )
        if outcome.failure is None:
            return outcome.value  # type: ignore[return-value]
        error = outcome.failure.error
        unknown = isinstance(error, ExchangeUnavailableError) and not isinstance(
            error, RateLimitError
        )
        if not (unknown or (outcome.generic and outcome.failure.code is None)):
            raise error
        return await self._find_created(symbol, client_order_id, error)

    async def cancel_order(self, order_id: str, symbol: str) -> Json:
        """Cancel an order; retried on network errors (a cancel is idempotent).

        If a retry finds no such order, an earlier attempt cancelled it (or it filled in
        between): the order is read back and returned as it stands.
        """
        attempt, unsure = 1, False
        while True:
            charges, context = await self._prepare("cancel_order", {"symbol": symbol})
            outcome = await self._exchange(
                lambda: self.client.cancel_order(order_id, symbol), charges, context
            )
            if outcome.failure is None:
                return outcome.value  # type: ignore[return-value]
            error = outcome.failure.error
            if isinstance(error, OrderNotFoundError) and unsure:
                return await self.fetch_order(order_id, symbol)
            if not self._retryable(error, attempt):
                raise error
            unsure = unsure or not isinstance(error, RateLimitError)
            attempt = await self._before_retry(error, attempt)

    # ---- machinery ----------------------------------------------------------------------

    async def _read(
        self, method: str, request: Mapping[str, Any], call: Callable[[], Awaitable[T]]
    ) -> T:
        attempt = 1
        while True:
            charges, context = await self._prepare(method, request)
            outcome = await self._exchange(call, charges, context)
            if outcome.failure is None:
                return outcome.value  # type: ignore[return-value]
            if not self._retryable(outcome.failure.error, attempt):
                raise outcome.failure.error
            attempt = await self._before_retry(outcome.failure.error, attempt)

    def _retryable(self, error: ExchangeError, attempt: int) -> bool:
        return isinstance(error, ExchangeUnavailableError) and attempt < self._policy.max_attempts

    async def _before_retry(self, error: ExchangeError, attempt: int) -> int:
        self.stats.retries += 1
        if not isinstance(error, RateLimitError):  # a rate limit already blocked the budget
            await self._clock.sleep(self._policy.backoff_s(attempt, self._rng))
        return attempt + 1

    async def _prepare(self, method: str, request: Mapping[str, Any]) -> tuple[Charges, str]:
        """Resolve the endpoint and wait until its budgets have room, then charge them."""
        endpoint = self.facts.endpoint(self.facts.route(method).endpoint)
        symbol = request.get("symbol")
        context = f"{self.facts.id} {method}" + (f" {symbol}" if symbol else "")
        sent = {k: v for k, v in request.items() if v is not None}
        charges: Charges = []
        for limit in self.facts.limits_for(endpoint):
            cost = _cost(limit, endpoint, sent)
            if cost > 0:
                charges.append((self._budget(limit, symbol), cost))
        await self._acquire(charges, context)
        return charges, context

    def _budget(self, limit: RateLimit, symbol: str | None) -> Budget:
        if limit.scope == "ip":
            scope = self.host
        elif limit.scope == "account":
            scope = self.account
        else:
            scope = f"{self.account}|{symbol or '*'}"
        return self._book.get(self.facts.id, limit, scope)

    async def _acquire(self, charges: Charges, context: str) -> None:
        waited = 0.0
        while True:
            now = self._clock.now_ms()
            waits = [(budget.wait_s(cost, now), budget) for budget, cost in charges]
            wait, budget = max(waits, key=lambda w: w[0], default=(0.0, None))
            if wait <= 0.0:
                for budget_, cost in charges:
                    budget_.charge(cost, now)
                return
            assert budget is not None
            if waited + wait > self._policy.max_wait_s:
                raise RateLimitError(
                    f"{context}: the {budget.limit.id} budget ({budget.used(now):g} of "
                    f"{budget.capacity:g} used) has no room for {wait:.0f} s, more than the "
                    f"{self._policy.max_wait_s:g} s a call may wait; try again later",
                    retry_after=wait,
                )
            self.stats.budget_waits += 1
            self.stats.waited_s += wait
            await self._clock.sleep(wait + 0.001)
            waited += wait

    async def _exchange(
        self, call: Callable[[], Awaitable[T]], charges: Charges, context: str
    ) -> _Outcome[T]:
        """Send the call; settle and correct the budgets; translate a failure."""
        self.stats.calls += 1
        try:
            value = await call()
        except Exception as exc:
            self._settle(charges)
            headers = self._fresh_headers()
            translated = translate(exc, self.facts, context, _retry_after(self.facts, headers))
            if translated is None:
                raise
            if translated.code is not None or isinstance(translated.error, RateLimitError):
                self._observe(headers)  # the exchange answered: its counters are current
            if isinstance(translated.error, RateLimitError):
                self._block(translated, charges)
            return _Outcome(failure=translated, generic=type(exc) in _GENERIC_CCXT)
        except BaseException:  # cancelled: the call leaves flight all the same
            self._settle(charges)
            raise
        self._settle(charges)
        self._observe(self._fresh_headers())
        return _Outcome(value=value)

    @staticmethod
    def _settle(charges: Charges) -> None:
        for budget, cost in charges:
            budget.settle(cost)

    def _fresh_headers(self) -> dict[str, str]:
        """The last response's headers (lower-case), or {} if they were already used."""
        headers = self.client.last_response_headers
        if not headers or headers is self._seen_headers:
            return {}
        self._seen_headers = headers
        return {str(k).lower(): str(v) for k, v in headers.items()}

    def _observe(self, headers: Mapping[str, str]) -> None:
        if not headers:
            return
        now = self._clock.now_ms()
        for limit in self.facts.rate_limits:
            if limit.header is None or limit.scope == "account_pair":
                continue
            value = headers.get(limit.header)
            if value is not None:
                try:
                    used = float(value)
                except ValueError:
                    continue
                self._budget(limit, None).observe(used, now)

    def _block(self, translated: Translated, charges: Charges) -> None:
        """A 429/418: the budgets the error is about are full, and blocked for Retry-After."""
        self.stats.rate_limited += 1
        error = translated.error
        assert isinstance(error, RateLimitError)
        entry = None
        if translated.code is not None:
            entry = self.facts.error_for(translated.code, str(error))
        named = set(entry.limits) if entry is not None and entry.limits else None
        now = self._clock.now_ms()
        for budget, _ in charges:
            if named is not None and budget.limit.id not in named:
                continue
            budget.exhaust(now)
            if error.retry_after is not None:
                budget.block_until(now + int(error.retry_after * 1000))
            elif not isinstance(budget, FixedWindowBudget):  # a full window waits for its end
                budget.block_until(now + int(self._policy.default_retry_after_s * 1000))

    async def _find_created(self, symbol: str, client_order_id: str, cause: ExchangeError) -> Json:
        """After an unknown outcome of create_order: find the order by its client order id."""
        self.stats.lookups += 1
        last: ExchangeError | None = None
        params = {CLIENT_ORDER_ID: client_order_id}
        for attempt in range(1, self._policy.lookup_attempts + 1):
            await self._clock.sleep(self._policy.base_s * attempt)
            try:
                charges, context = await self._prepare("fetch_order", {"symbol": symbol})
            except RateLimitError as exc:
                last = exc
                break
            outcome = await self._exchange(
                lambda: self.client.fetch_order(None, symbol, params), charges, context
            )
            if outcome.failure is None:
                return outcome.value  # type: ignore[return-value]
            last = outcome.failure.error
            if not isinstance(last, OrderNotFoundError | ExchangeUnavailableError):
                break
        found = "found no order" if isinstance(last, OrderNotFoundError) else f"failed ({last})"
        raise OrderStatusUnknownError(
            f"{self.facts.id} create_order {symbol}: the outcome of order {client_order_id!r} "
            f"is unknown: sending failed ({cause}) and looking it up by its client order id "
            f"{found}. Do not send it again: reconcile open orders and trades first"
        ) from cause


def _cost(limit: RateLimit, endpoint: Endpoint, request: Mapping[str, Any]) -> float:
    if limit.unit == "weight":
        return float(endpoint.weight_for(request))
    if limit.unit == "order":
        return float(endpoint.orders)
    return 1.0


def _retry_after(facts: ExchangeFacts, headers: Mapping[str, str]) -> float | None:
    if facts.retry_after_header is None:
        return None
    value = headers.get(facts.retry_after_header)
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None  # an HTTP date: fall back to the window's end


__all__ = ["CLIENT_ORDER_ID", "Gateway", "GatewayStats", "new_client_order_id"]
