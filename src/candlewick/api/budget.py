"""Rate budgets: the gateway's local copy of each exchange limit, kept a margin below it.

A budget answers "how long until ``cost`` more units fit?" and is charged before a call is
sent, so calls wait (asynchronously) instead of being refused by the exchange. Two models,
as the exchange data package describes limits:

* :class:`FixedWindowBudget`: ``limit`` units per window, windows aligned on the epoch (a
  UTC minute, 10-second slot or UTC day, as Binance counts them). The exchange's own count
  (``X-MBX-USED-WEIGHT-1M``...) corrects the local one after every response.
* :class:`DecayingCounterBudget`: a counter that may not pass ``limit`` and decays
  continuously (Kraken).

Both can be blocked until a time (``Retry-After`` of a 429/418). Budgets are plain objects
with no clock of their own: the caller passes ``now_ms``, which keeps them deterministic.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace
from typing import Protocol

from candlewick.errors import ConfigError
from candlewick.exchanges import RateLimit


class Budget(Protocol):
    """What the gateway needs from a budget, whatever its model."""

    limit: RateLimit
    capacity: float
    blocked_until_ms: int

    def wait_s(self, cost: float, now_ms: int) -> float:
        """Seconds until ``cost`` fits (0: now)."""
        ...

    def charge(self, cost: float, now_ms: int) -> None:
        """Count a call about to be sent; it stays in flight until :meth:`settle`."""
        ...

    def settle(self, cost: float) -> None:
        """The call charged with ``cost`` has its answer (or failed)."""
        ...

    def observe(self, used: float, now_ms: int) -> None:
        """The exchange reported ``used`` units of the current window."""
        ...

    def block_until(self, until_ms: int) -> None:
        """Refuse every call until ``until_ms`` (Retry-After)."""
        ...

    def exhaust(self, now_ms: int) -> None:
        """The exchange says the limit is reached: count it as full."""
        ...

    def used(self, now_ms: int) -> float:
        """Units counted now."""
        ...


def _capacity(limit: RateLimit, margin: float) -> float:
    if not 0.0 <= margin < 1.0:
        raise ConfigError(f"rate budget margin {margin!r} must be in [0, 1), e.g. 0.1 for 10 %")
    return max(1.0, math.floor(limit.limit * (1.0 - margin) * 100) / 100)


class FixedWindowBudget:
    """``limit`` units per fixed window of ``interval_ms``, less a safety margin.

    The exchange's reported count corrects the local one: it is **raised** to the highest
    report of the window (other processes on the same IP, calls made outside the gateway)
    and **lowered** to that report plus what is still in flight (the exchange counted less
    than charged, e.g. Binance's zero-weight accepted orders). A report lower than one
    already seen is stale (responses can be read out of order) and changes nothing.
    """

    def __init__(self, limit: RateLimit, margin: float = 0.1) -> None:
        if limit.interval_ms is None:
            raise ConfigError(f"rate limit {limit.id} has no interval_ms for a fixed window")
        self.limit = limit
        self.capacity = _capacity(limit, margin)
        self.interval_ms = limit.interval_ms
        self.blocked_until_ms = 0
        self._window = -1
        self._used = 0.0
        self._reported = 0.0
        self._in_flight = 0.0

    def _roll(self, now_ms: int) -> None:
        window = now_ms - now_ms % self.interval_ms
        if window != self._window:
            self._window, self._used, self._reported = window, 0.0, 0.0

    def wait_s(self, cost: float, now_ms: int) -> float:
        """Seconds until ``cost`` fits: 0, the rest of the window, or the block."""
        if now_ms < self.blocked_until_ms:
            return (self.blocked_until_ms - now_ms) / 1000
        self._roll(now_ms)
        if self._used + cost <= self.capacity or self._used == 0.0:
            return 0.0  # an oversized call still goes alone into an empty window
        return (self._window + self.interval_ms - now_ms) / 1000

    def charge(self, cost: float, now_ms: int) -> None:
        """Add ``cost`` to the current window and to what is in flight."""
        self._roll(now_ms)
        self._used += cost
        self._in_flight += cost

    def settle(self, cost: float) -> None:
        """Take ``cost`` out of what is in flight (it stays counted in the window)."""
        self._in_flight = max(0.0, self._in_flight - cost)

    def observe(self, used: float, now_ms: int) -> None:
        """Correct the count from the exchange's report ``used`` for the current window."""
        self._roll(now_ms)
        self._reported = max(self._reported, used)
        self._used = max(self._reported, min(self._used, self._reported + self._in_flight))

    def block_until(self, until_ms: int) -> None:
        """Refuse calls until ``until_ms``."""
        self.blocked_until_ms = max(self.blocked_until_ms, until_ms)

    def exhaust(self, now_ms: int) -> None:
        """Count the current window as full: nothing more goes out before the next one."""
        self._roll(now_ms)
        self._used = max(self._used, self.capacity)

    def used(self, now_ms: int) -> float:
        """Units counted in the current window."""
        self._roll(now_ms)
        return self._used

    def window_end_ms(self, now_ms: int) -> int:
        """When the window holding ``now_ms`` ends."""
        return now_ms - now_ms % self.interval_ms + self.interval_ms


class DecayingCounterBudget:
    """A counter that may not pass ``limit`` (less the margin) and decays by ``decay_per_s``."""

    def __init__(self, limit: RateLimit, margin: float = 0.1) -> None:
        if not limit.decay_per_s:
            raise ConfigError(f"rate limit {limit.id} has no decay_per_s for a decaying counter")
        self.limit = limit
        self.capacity = _capacity(limit, margin)
        self.decay_per_s = limit.decay_per_s
        self.blocked_until_ms = 0
        self._value = 0.0
        self._at_ms: int | None = None

    def _decay(self, now_ms: int) -> None:
        if self._at_ms is not None and now_ms > self._at_ms:
            self._value = max(0.0, self._value - self.decay_per_s * (now_ms - self._at_ms) / 1000)
        if self._at_ms is None or now_ms > self._at_ms:
            self._at_ms = now_ms

    def wait_s(self, cost: float, now_ms: int) -> float:
        """Seconds until the counter has decayed enough for ``cost``."""
        if now_ms < self.blocked_until_ms:
            return (self.blocked_until_ms - now_ms) / 1000
        self._decay(now_ms)
        excess = self._value + cost - self.capacity
        if excess <= 0 or self._value == 0.0:
            return 0.0
        return excess / self.decay_per_s

    def charge(self, cost: float, now_ms: int) -> None:
        """Add ``cost`` to the counter."""
        self._decay(now_ms)
        self._value += cost

    def settle(self, cost: float) -> None:
        """Nothing to do: the counter does not distinguish calls in flight."""

    def observe(self, used: float, now_ms: int) -> None:
        """Raise the counter to a reported value (Kraken reports none; kept for symmetry)."""
        self._decay(now_ms)
        self._value = max(self._value, used)

    def block_until(self, until_ms: int) -> None:
        """Refuse calls until ``until_ms``."""
        self.blocked_until_ms = max(self.blocked_until_ms, until_ms)

    def exhaust(self, now_ms: int) -> None:
        """Raise the counter to its capacity (it decays from there)."""
        self._decay(now_ms)
        self._value = max(self._value, self.capacity)

    def used(self, now_ms: int) -> float:
        """The counter's value now."""
        self._decay(now_ms)
        return self._value


def make_budget(limit: RateLimit, margin: float = 0.1) -> Budget:
    """The budget model ``limit`` asks for."""
    if limit.model == "fixed_window":
        return FixedWindowBudget(limit, margin)
    return DecayingCounterBudget(limit, margin)


class BudgetBook:
    """The process's budgets, keyed by (exchange, rate limit, scope value).

    The scope value is the IP (host) for per-IP limits, the account for per-account ones and
    ``account|symbol`` for per-pair ones, so every gateway of the process that shares an IP or
    an account shares the same budget object. Owned by :class:`~candlewick.api.hub.ExchangeHub`.
    """

    def __init__(
        self, margin: float = 0.1, overrides: Mapping[str, Mapping[str, float]] | None = None
    ) -> None:
        """``overrides[exchange_id][limit_id]`` replaces a limit's value (an account with
        other limits, an emulator configured lower)."""
        _capacity(RateLimit("check", "fixed_window", "request", "ip", 1, ""), margin)
        self.margin = margin
        self._overrides = {ex: dict(limits) for ex, limits in (overrides or {}).items()}
        self._budgets: dict[tuple[str, str, str], Budget] = {}

    def get(self, exchange_id: str, limit: RateLimit, scope_value: str) -> Budget:
        """The budget of ``limit`` for ``scope_value``, created on first use."""
        key = (exchange_id, limit.id, scope_value)
        budget = self._budgets.get(key)
        if budget is None:
            value = self._overrides.get(exchange_id, {}).get(limit.id)
            if value is not None:
                limit = replace(limit, limit=value)
            budget = self._budgets[key] = make_budget(limit, self.margin)
        return budget

    def items(self) -> list[tuple[tuple[str, str, str], Budget]]:
        """Every budget with its key (for monitoring and tests)."""
        return list(self._budgets.items())
