"""Orders through the gateway: market, limit and stop-limit; cancel; fetch.

Before anything is sent, the order is fitted to the market's rules from the loaded markets:
the amount is floored to the step (never more than asked), prices are put on the tick grid
on the side that keeps the caller's limit (a buy's limit down, a sell's up; a stop the same
way, so it triggers no later than asked), and the amount, price and notional bounds are
checked. A failure raises :class:`~candlewick.errors.OrderRejectedError` naming the value and
the fix, and nothing reaches the exchange.

Every order carries a client order id chosen before sending (:class:`OrderRequest` makes one
when the caller does not: store it before calling :meth:`Orders.place`). The gateway never
resends an order; see :meth:`candlewick.api.gateway.Gateway.create_order`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal
from typing import Any, Literal

from candlewick.api.convert import pick, to_decimal
from candlewick.api.gateway import Gateway, new_client_order_id
from candlewick.core.fills import ZERO, Precision
from candlewick.data.store import normalise_pair
from candlewick.errors import ConfigError, OrderRejectedError, UnknownSymbolError

Side = Literal["buy", "sell"]
Kind = Literal["market", "limit", "stop_limit"]

# ccxt order field -> the exchange's own string in ``info``
_ORDER_INFO = {
    "binance": {
        "amount": "origQty",
        "filled": "executedQty",
        "cost": "cummulativeQuoteQty",
        "price": "price",
        "stop_price": "stopPrice",
    }
}


@dataclass(frozen=True, slots=True)
class MarketRules:
    """A market's trading rules: tick, step, bounds and minimum notional (quote)."""

    pair: str
    precision: Precision
    min_amount: Decimal = ZERO
    max_amount: Decimal | None = None
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    max_notional: Decimal | None = None


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """A command to place one order (amounts in base units, prices in quote)."""

    pair: str
    side: Side
    kind: Kind
    amount: Decimal
    price: Decimal | None = None
    stop_price: Decimal | None = None
    client_order_id: str = field(default_factory=new_client_order_id)


@dataclass(frozen=True, slots=True)
class PreparedOrder:
    """An order fitted to its market, as it will be sent."""

    pair: str
    side: Side
    ccxt_type: str
    amount: Decimal
    price: Decimal | None
    stop_price: Decimal | None
    client_order_id: str

    def params(self) -> dict[str, Any]:
        """ccxt's extra parameters (a stop price makes a stop-loss-limit order)."""
        return {} if self.stop_price is None else {"stopLossPrice": float(self.stop_price)}


@dataclass(frozen=True, slots=True)
class Order:
    """An order as the exchange reports it; money as Decimal.

    ``status`` is ccxt's (open, closed, canceled, expired, rejected); ``raw_status`` the
    exchange's (NEW, PARTIALLY_FILLED, FILLED ... on Binance).
    """

    id: str
    client_order_id: str | None
    pair: str
    side: str
    type: str
    status: str
    raw_status: str | None
    amount: Decimal | None
    filled: Decimal
    price: Decimal | None
    stop_price: Decimal | None
    average: Decimal | None
    cost: Decimal | None
    fees: tuple[tuple[str, Decimal], ...]
    timestamp: int | None

    @property
    def remaining(self) -> Decimal | None:
        """What is left to fill."""
        return None if self.amount is None else self.amount - self.filled

    @property
    def is_open(self) -> bool:
        """True while the order can still fill."""
        return self.status == "open"


def parse_order(raw: dict[str, Any], exchange: str) -> Order:
    """An :class:`Order` from ccxt's order structure, preferring the exchange's strings."""
    info = raw.get("info") if isinstance(raw.get("info"), dict) else None
    keys = _ORDER_INFO.get(exchange, {})
    price = pick(info, keys.get("price"), raw.get("price"))
    stop = pick(info, keys.get("stop_price"), raw.get("triggerPrice") or raw.get("stopPrice"))
    filled = pick(info, keys.get("filled"), raw.get("filled")) or ZERO
    cost = pick(info, keys.get("cost"), raw.get("cost"))
    average = to_decimal(raw.get("average"))
    if average is None and cost is not None and filled > 0:
        average = cost / filled
    fees: dict[str, Decimal] = {}
    for fee in raw.get("fees") or ([raw["fee"]] if raw.get("fee") else []):
        amount = to_decimal(fee.get("cost"))
        if amount is not None and fee.get("currency"):
            fees[fee["currency"]] = fees.get(fee["currency"], ZERO) + amount
    return Order(
        id=str(raw.get("id")),
        client_order_id=raw.get("clientOrderId"),
        pair=str(raw.get("symbol")),
        side=str(raw.get("side")),
        type=str(raw.get("type")),
        status=str(raw.get("status")),
        raw_status=info.get("status") if info else None,
        amount=pick(info, keys.get("amount"), raw.get("amount")),
        filled=filled,
        price=price if price else None,  # Binance reports 0 for market orders
        stop_price=stop if stop else None,
        average=average,
        cost=cost,
        fees=tuple(sorted(fees.items())),
        timestamp=raw.get("timestamp"),
    )


def market_rules(market: dict[str, Any]) -> MarketRules:
    """A market's rules from ccxt's market structure (Binance's filter strings when present)."""
    info = market.get("info")
    raw_filters = info.get("filters", []) if isinstance(info, dict) else []
    filters = {f.get("filterType"): f for f in raw_filters if isinstance(f, dict)}
    price_f = filters.get("PRICE_FILTER", {})
    lot = filters.get("LOT_SIZE", {})
    notional = filters.get("NOTIONAL") or filters.get("MIN_NOTIONAL") or {}
    precision = market.get("precision", {})
    limits = market.get("limits", {})

    def positive(value: Decimal | None) -> Decimal | None:
        return value if value is not None and value > 0 else None

    return MarketRules(
        pair=str(market.get("symbol")),
        precision=Precision(
            price_tick=positive(pick(price_f, "tickSize", precision.get("price"))),
            amount_step=positive(pick(lot, "stepSize", precision.get("amount"))),
            min_notional=pick(notional, "minNotional", limits.get("cost", {}).get("min")) or ZERO,
        ),
        min_amount=pick(lot, "minQty", limits.get("amount", {}).get("min")) or ZERO,
        max_amount=positive(pick(lot, "maxQty", limits.get("amount", {}).get("max"))),
        min_price=positive(pick(price_f, "minPrice", limits.get("price", {}).get("min"))),
        max_price=positive(pick(price_f, "maxPrice", limits.get("price", {}).get("max"))),
        max_notional=positive(pick(notional, "maxNotional", limits.get("cost", {}).get("max"))),
    )


def prepare(
    request: OrderRequest, rules: MarketRules, reference_price: Decimal | None = None
) -> PreparedOrder:
    """Fit ``request`` to ``rules`` and check it (see the module documentation).

    ``reference_price`` values a market order for the notional check (the last price).
    """
    what = f"{request.side} {request.kind} {request.pair}"
    if request.side not in ("buy", "sell"):
        raise ConfigError(f"order side {request.side!r} must be 'buy' or 'sell'")
    needs_price = request.kind in ("limit", "stop_limit")
    if needs_price and request.price is None:
        raise ConfigError(f"{what}: a {request.kind} order needs a price")
    if request.kind == "stop_limit" and request.stop_price is None:
        raise ConfigError(f"{what}: a stop_limit order needs a stop_price")
    if request.kind == "market" and request.price is not None:
        raise ConfigError(f"{what}: a market order takes no price (use a limit order)")
    up = request.side == "sell"
    amount = rules.precision.floor_amount(request.amount)
    price = None if request.price is None else _on_grid(request.price, rules, up, what, "price")
    stop = None
    if request.stop_price is not None:
        stop = _on_grid(request.stop_price, rules, up, what, "stop_price")
    if amount <= 0 or amount < rules.min_amount:
        raise OrderRejectedError(
            f"{what}: amount {request.amount} is {amount} on the step "
            f"{rules.precision.amount_step}, below the minimum {rules.min_amount}: raise it"
        )
    if rules.max_amount is not None and amount > rules.max_amount:
        raise OrderRejectedError(
            f"{what}: amount {amount} is above the market's maximum {rules.max_amount}: split it"
        )
    value_at = price if price is not None else reference_price
    if value_at is None and rules.precision.min_notional > 0:
        raise ConfigError(f"{what}: a reference price is needed to check the minimum notional")
    if value_at is not None:
        _check_notional(amount * value_at, amount, value_at, rules, what)
    return PreparedOrder(
        pair=request.pair,
        side=request.side,
        ccxt_type="market" if request.kind == "market" else "limit",
        amount=amount,
        price=price,
        stop_price=stop,
        client_order_id=request.client_order_id,
    )


def _on_grid(value: Decimal, rules: MarketRules, up: bool, what: str, name: str) -> Decimal:
    rounded = rules.precision.round_price(value, up=up)
    if rounded <= 0:
        raise OrderRejectedError(f"{what}: {name} {value} is not positive on the tick grid")
    if rules.min_price is not None and rounded < rules.min_price:
        raise OrderRejectedError(f"{what}: {name} {rounded} is below the market's minimum price")
    if rules.max_price is not None and rounded > rules.max_price:
        raise OrderRejectedError(f"{what}: {name} {rounded} is above the market's maximum price")
    return rounded


def _check_notional(
    notional: Decimal, amount: Decimal, price: Decimal, rules: MarketRules, what: str
) -> None:
    minimum = rules.precision.min_notional
    if notional < minimum:
        needed = minimum / price
        if rules.precision.amount_step is not None:
            step = rules.precision.amount_step
            needed = (needed / step).to_integral_value(ROUND_CEILING) * step
        raise OrderRejectedError(
            f"{what}: {amount} at {price} is worth {notional} quote, below the market's minimum "
            f"notional {minimum}: raise the amount to at least {needed}"
        )
    if rules.max_notional is not None and notional > rules.max_notional:
        raise OrderRejectedError(
            f"{what}: {notional} quote is above the market's maximum notional {rules.max_notional}"
        )


class Orders:
    """Order calls of one exchange account."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self.exchange = gateway.facts.id

    def rules(self, pair: str) -> MarketRules:
        """The trading rules of ``pair`` from the loaded markets."""
        market = self.gateway.markets.get(normalise_pair(pair))
        if market is None:
            raise UnknownSymbolError(f"{self.exchange} lists no market {pair!r}")
        return market_rules(market)

    async def place(self, request: OrderRequest, reference_price: Decimal | None = None) -> Order:
        """Fit, check and send ``request``; the order as the exchange accepted it.

        A market order without ``reference_price`` is valued at the ticker's last price.
        """
        await self.gateway.load_markets()
        rules = self.rules(request.pair)
        if request.kind == "market" and reference_price is None and rules.precision.min_notional:
            ticker = await self.gateway.fetch_ticker(normalise_pair(request.pair))
            reference_price = to_decimal(ticker.get("last"))
        ready = prepare(request, rules, reference_price)
        raw = await self.gateway.create_order(
            normalise_pair(ready.pair),
            ready.ccxt_type,
            ready.side,
            float(ready.amount),
            None if ready.price is None else float(ready.price),
            client_order_id=ready.client_order_id,
            params=ready.params(),
        )
        return parse_order(raw, self.exchange)

    async def cancel(self, pair: str, order_id: str) -> Order:
        """Cancel an order; the order as it ended (canceled, or filled before the cancel)."""
        raw = await self.gateway.cancel_order(order_id, normalise_pair(pair))
        return parse_order(raw, self.exchange)

    async def fetch(
        self, pair: str, order_id: str | None = None, client_order_id: str | None = None
    ) -> Order:
        """One order by exchange id or client order id."""
        raw = await self.gateway.fetch_order(order_id, normalise_pair(pair), client_order_id)
        return parse_order(raw, self.exchange)

    async def open_orders(self, pair: str) -> list[Order]:
        """The open orders of ``pair``."""
        raws = await self.gateway.fetch_open_orders(normalise_pair(pair))
        return [parse_order(raw, self.exchange) for raw in raws]


__all__ = [
    "MarketRules",
    "Order",
    "OrderRequest",
    "Orders",
    "PreparedOrder",
    "market_rules",
    "parse_order",
    "prepare",
]
