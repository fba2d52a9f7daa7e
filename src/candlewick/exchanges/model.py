"""The shape of an exchange's static facts: frozen data, no behaviour beyond simple lookups.

One :class:`ExchangeFacts` per exchange holds its urls, the REST endpoints Candlewick (through
ccxt) calls with their request weights, the rate limits those weights count against, the
order types, the default fee schedule, the stablecoins and fiat currencies it quotes, and its
error codes with the project exception each one means. Every fact carries its ``source`` so a
reader can check it against the exchange's documentation.

The API gateway reads these facts to build its budgets and translate errors; nothing in this
package performs I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from candlewick.errors import ExchangeError

Measure = Literal["present", "value", "count"]
Unit = Literal["weight", "request", "order"]
Scope = Literal["ip", "account", "account_pair"]
Model = Literal["fixed_window", "decaying_counter"]


@dataclass(frozen=True, slots=True)
class WeightBand:
    """``weight`` applies while the measured parameter is at most ``up_to`` (None: no bound)."""

    up_to: int | None
    weight: int


@dataclass(frozen=True, slots=True)
class WeightRule:
    """A weight that depends on one request parameter.

    ``measure`` says what is compared with the bands: ``present`` (the parameter is sent at
    all; give one band), ``value`` (its integer value, e.g. depth's ``limit``) or ``count``
    (the number of items in a list, e.g. ticker's ``symbols``).
    """

    param: str
    measure: Measure
    bands: tuple[WeightBand, ...]

    def weight_for(self, request: Mapping[str, Any]) -> int | None:
        """The weight this rule gives ``request``, or None when the parameter is absent."""
        value = request.get(self.param)
        if value is None:
            return None
        if self.measure == "present":
            amount = 1
        elif self.measure == "count":
            amount = len(value) if isinstance(value, list | tuple) else 1
        else:
            amount = int(value)
        for band in self.bands:
            if band.up_to is None or amount <= band.up_to:
                return band.weight
        return self.bands[-1].weight


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One REST endpoint: its base weight, conditional weights and what else it counts toward.

    ``weight`` applies when no rule matches (the first rule whose parameter is sent decides).
    ``orders`` is the number of order-count units a call adds (1 for order placement).
    ``group`` selects the rate limits that apply (see :attr:`RateLimit.groups`).
    ``ccxt`` names the ccxt unified methods that call this endpoint. ``max_limit`` is the
    most rows one call returns (pagination steps by it), when the endpoint pages.
    """

    method: str
    path: str
    weight: int
    source: str
    group: str = "api"
    rules: tuple[WeightRule, ...] = ()
    orders: int = 0
    security: str = "NONE"
    ccxt: tuple[str, ...] = ()
    max_limit: int | None = None
    note: str = ""

    @property
    def key(self) -> str:
        """``"GET /api/v3/klines"``: how routes and budgets name the endpoint."""
        return f"{self.method} {self.path}"

    def weight_for(self, request: Mapping[str, Any]) -> int:
        """The weight of a call sending ``request`` (parameter name to value)."""
        for rule in self.rules:
            weight = rule.weight_for(request)
            if weight is not None:
                return weight
        return self.weight


@dataclass(frozen=True, slots=True)
class Route:
    """Which endpoint a ccxt unified method calls and how its arguments become request
    parameters (``(ccxt argument, request parameter)`` pairs), for the weight rules."""

    method: str
    endpoint: str
    params: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class RateLimit:
    """A limit the exchange enforces, as the gateway's budgets reproduce it.

    ``model`` is ``fixed_window`` (``limit`` units per window of ``interval_ms``, windows
    aligned on the epoch as Binance counts them) or ``decaying_counter`` (a counter that may
    not exceed ``limit`` and falls by ``decay_per_s``, as Kraken counts). ``unit`` is what a
    call adds: the endpoint's weight, 1 per request, or the endpoint's order units.
    ``scope`` is who shares it: the IP, the account, or the account per trading pair.
    ``header`` is the response header that reports the exchange's own count, if any.
    """

    id: str
    model: Model
    unit: Unit
    scope: Scope
    limit: float
    source: str
    interval_ms: int | None = None
    decay_per_s: float | None = None
    groups: tuple[str, ...] = ("api",)
    header: str | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class FeeTier:
    """Fees (fractions: 0.001 = 0.1 %) from ``min_volume`` of 30-day volume (quote USD)."""

    name: str
    min_volume: Decimal
    maker: Decimal
    taker: Decimal


@dataclass(frozen=True, slots=True)
class FeeSchedule:
    """The default (public) fee tiers; an account's own rates come from the exchange.

    ``fee_side`` is where the fee is taken: ``get`` (from what the trade gives you, as
    Binance spot does) or ``quote``.
    """

    tiers: tuple[FeeTier, ...]
    fee_side: str
    source: str
    note: str = ""

    @property
    def default(self) -> FeeTier:
        """The tier of a new account (the first one)."""
        return self.tiers[0]

    def tier_for(self, volume_30d: Decimal) -> FeeTier:
        """The tier a 30-day volume reaches."""
        reached = [tier for tier in self.tiers if volume_30d >= tier.min_volume]
        return reached[-1] if reached else self.tiers[0]


@dataclass(frozen=True, slots=True)
class Stablecoin:
    """An asset pegged to ``peg`` (a fiat currency code or a commodity)."""

    asset: str
    peg: str
    source: str


@dataclass(frozen=True, slots=True)
class ErrorCode:
    """An exchange error code, what it means and the project exception it becomes.

    When ``message_contains`` is set the entry only applies when the exchange's message
    contains that text (Binance sends -2010 for many different refusals). ``limits`` names
    the rate limits a rate-limit error reports as spent (the gateway blocks those budgets;
    all of the call's budgets when empty).
    """

    code: str
    name: str
    meaning: str
    error: type[ExchangeError]
    source: str
    message_contains: str | None = None
    limits: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Urls:
    """Production endpoints. ``rest`` maps ccxt's api names to base urls."""

    rest: Mapping[str, str]
    ws: str
    ws_api: str | None
    docs: str
    source: str


@dataclass(frozen=True, slots=True)
class ExchangeFacts:
    """Everything static Candlewick knows about one exchange's spot market."""

    id: str
    name: str
    urls: Urls
    endpoints: tuple[Endpoint, ...]
    routes: tuple[Route, ...]
    rate_limits: tuple[RateLimit, ...]
    order_types: tuple[str, ...]
    time_in_force: tuple[str, ...]
    timeframes: tuple[str, ...]
    fees: FeeSchedule
    stablecoins: tuple[Stablecoin, ...]
    fiat: tuple[str, ...]
    error_codes: tuple[ErrorCode, ...]
    error_code_pattern: str
    retry_after_header: str | None
    sources: Mapping[str, str]
    notes: tuple[str, ...] = ()
    _endpoints: dict[str, Endpoint] = field(init=False, repr=False, compare=False)
    _routes: dict[str, Route] = field(init=False, repr=False, compare=False)
    _pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_endpoints", {e.key: e for e in self.endpoints})
        object.__setattr__(self, "_routes", {r.method: r for r in self.routes})
        object.__setattr__(self, "_pattern", re.compile(self.error_code_pattern))

    def endpoint(self, key: str) -> Endpoint:
        """The endpoint ``"METHOD /path"``; KeyError naming the known ones otherwise."""
        try:
            return self._endpoints[key]
        except KeyError:
            raise KeyError(
                f"{self.id} has no endpoint {key!r}; known: {', '.join(sorted(self._endpoints))}"
            ) from None

    def route(self, ccxt_method: str) -> Route:
        """How the ccxt unified method ``ccxt_method`` reaches the exchange."""
        try:
            return self._routes[ccxt_method]
        except KeyError:
            raise KeyError(
                f"{self.id} has no route for ccxt method {ccxt_method!r}; "
                f"routed: {', '.join(sorted(self._routes))}"
            ) from None

    def limits_for(self, endpoint: Endpoint) -> tuple[RateLimit, ...]:
        """The rate limits a call to ``endpoint`` counts against."""
        return tuple(
            limit
            for limit in self.rate_limits
            if endpoint.group in limit.groups and (limit.unit != "order" or endpoint.orders)
        )

    def error_code_in(self, message: str) -> str | None:
        """The exchange error code quoted in an error message (as ccxt words it), if any."""
        match = self._pattern.search(message)
        return match.group(1) if match else None

    def error_for(self, code: str, message: str) -> ErrorCode | None:
        """The table entry for ``code`` whose message condition ``message`` meets."""
        fallback = None
        for entry in self.error_codes:
            if entry.code != code:
                continue
            if entry.message_contains is None:
                fallback = entry
            elif entry.message_contains.lower() in message.lower():
                return entry
        return fallback

    def is_stablecoin(self, asset: str) -> bool:
        """True when ``asset`` is one of this exchange's listed stablecoins."""
        return any(coin.asset == asset.upper() for coin in self.stablecoins)

    def is_fiat(self, asset: str) -> bool:
        """True when ``asset`` is a fiat currency this exchange quotes."""
        return asset.upper() in self.fiat
