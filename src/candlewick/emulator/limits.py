"""Binance's rate limits: request weight per IP and minute with 429 then 418 bans; order counts.

* **Request weight** is counted per IP in fixed one-minute windows of the wall clock (they reset
  at each whole minute, as Binance's do). A request that would take the window above the limit
  is answered 429 with ``Retry-After`` (seconds to the next window). An IP that gets more than
  ``ban_after_429s`` 429s in one window is banned: every request is answered 418 with
  ``Retry-After`` until the ban ends. Bans last ``ban_seconds`` and double for each repeat
  offence up to ``max_ban_seconds`` (Binance: "from 2 minutes to 3 days").
* **Orders** are counted per account in fixed 10-second windows (at :00, :10, ...) and UTC
  days. A placed order adds one to both; an order's first fill takes one off both (Binance's
  "unfilled order count"); cancels and expiries change nothing. An order above either limit is
  refused with -1015 (HTTP 429).
"""

from __future__ import annotations

from dataclasses import dataclass

from candlewick.emulator import errors
from candlewick.emulator.config import LimitsConfig

_MINUTE = 60_000
_TEN_SECONDS = 10_000
_DAY = 86_400_000


@dataclass(slots=True)
class _IpState:
    window: int = -1
    used: int = 0
    strikes: int = 0
    banned_until: int = 0
    offences: int = 0


class WeightLimiter:
    """Request weight per IP (see the module documentation)."""

    def __init__(self, limits: LimitsConfig) -> None:
        self.limits = limits
        self._ips: dict[str, _IpState] = {}

    def _state(self, ip: str, now_ms: int) -> _IpState:
        state = self._ips.setdefault(ip, _IpState())
        window = now_ms // _MINUTE
        if state.window != window:
            state.window, state.used, state.strikes = window, 0, 0
        return state

    def used(self, ip: str, now_ms: int) -> int:
        """Weight used by ``ip`` in the current minute."""
        return self._state(ip, now_ms).used

    def charge(self, ip: str, weight: int, now_ms: int) -> None:
        """Count ``weight`` for ``ip``; raises the 429 or 418 ApiError when over the limit."""
        state = self._state(ip, now_ms)
        if now_ms < state.banned_until:
            raise errors.banned(state.banned_until, _seconds(state.banned_until - now_ms))
        state.used += weight
        limit = self.limits.request_weight_per_minute
        if state.used <= limit:
            return
        state.strikes += 1
        if state.strikes > self.limits.ban_after_429s:
            seconds = min(self.limits.ban_seconds * 2**state.offences, self.limits.max_ban_seconds)
            state.offences += 1
            state.banned_until = now_ms + seconds * 1000
            raise errors.banned(state.banned_until, seconds)
        raise errors.too_much_weight(limit, _seconds((state.window + 1) * _MINUTE - now_ms))

    def refund(self, ip: str, weight: int, now_ms: int) -> None:
        """Take back weight charged up front (a successful order costs 0 since 2026-04-02)."""
        state = self._state(ip, now_ms)
        state.used = max(0, state.used - weight)

    def reset(self) -> None:
        """Forget every window and ban."""
        self._ips.clear()

    def bans(self, now_ms: int) -> dict[str, int]:
        """IPs banned at ``now_ms`` and when their bans end."""
        return {ip: s.banned_until for ip, s in self._ips.items() if s.banned_until > now_ms}


class OrderCounter:
    """Unfilled-order counts per account, 10-second and daily windows."""

    def __init__(self, limits: LimitsConfig) -> None:
        self.limits = limits
        self._short: dict[str, tuple[int, int]] = {}
        self._day: dict[str, tuple[int, int]] = {}

    def counts(self, account: str, now_ms: int) -> tuple[int, int]:
        """The account's (10 s, day) counts now."""
        return (
            _count(self._short, account, now_ms // _TEN_SECONDS),
            _count(self._day, account, now_ms // _DAY),
        )

    def check(self, account: str, now_ms: int) -> None:
        """Raise -1015 when one more order would exceed a limit."""
        short, day = self.counts(account, now_ms)
        if day >= self.limits.orders_per_day:
            raise errors.too_many_orders(self.limits.orders_per_day, "1 DAY")
        if short >= self.limits.orders_per_10s:
            raise errors.too_many_orders(self.limits.orders_per_10s, "10 SECOND")

    def placed(self, account: str, now_ms: int) -> tuple[int, int]:
        """Count a placed order; returns the new (10 s, day) counts for the headers."""
        short, day = self.counts(account, now_ms)
        self._short[account] = (now_ms // _TEN_SECONDS, short + 1)
        self._day[account] = (now_ms // _DAY, day + 1)
        return short + 1, day + 1

    def first_fill(self, account: str, now_ms: int) -> None:
        """An order filled for the first time: one unfilled order less."""
        short, day = self.counts(account, now_ms)
        self._short[account] = (now_ms // _TEN_SECONDS, max(0, short - 1))
        self._day[account] = (now_ms // _DAY, max(0, day - 1))

    def reset(self) -> None:
        """Forget every count."""
        self._short.clear()
        self._day.clear()


def _count(table: dict[str, tuple[int, int]], account: str, window: int) -> int:
    stored = table.get(account)
    return stored[1] if stored is not None and stored[0] == window else 0


def _seconds(ms: int) -> int:
    return max(1, -(-ms // 1000))
