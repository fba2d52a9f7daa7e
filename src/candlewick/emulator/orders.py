"""Orders and trades: parsing ``POST /api/v3/order``, and Binance's JSON for orders, fills, trades
and ``executionReport`` events."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from candlewick.emulator import errors
from candlewick.emulator.params import client_order_id, decimal_param
from candlewick.emulator.rules import ORDER_TYPES, SymbolRules, dstr

ZERO = Decimal(0)
STOP_TYPES = ("STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT")
_ACK_KEYS = ("symbol", "orderId", "orderListId", "clientOrderId")


class Status(StrEnum):
    """Binance's order statuses (the ones the emulator uses)."""

    NEW = "NEW"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELED = "CANCELED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"


OPEN = (Status.NEW, Status.PARTIALLY_FILLED)


@dataclass(frozen=True, slots=True)
class NewOrder:
    """A checked ``POST /api/v3/order`` request."""

    symbol: str
    side: str
    type: str
    time_in_force: str
    quantity: Decimal
    quote_qty: Decimal
    price: Decimal
    stop_price: Decimal
    client_order_id: str
    resp_type: str


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution of an order."""

    trade_id: int
    price: Decimal
    qty: Decimal
    commission: Decimal
    commission_asset: str
    is_maker: bool
    time: int

    def to_json(self) -> dict[str, Any]:
        """An entry of ``fills`` in a FULL order response."""
        return {
            "price": dstr(self.price),
            "qty": dstr(self.qty),
            "commission": dstr(self.commission),
            "commissionAsset": self.commission_asset,
            "tradeId": self.trade_id,
        }


@dataclass(slots=True)
class Order:
    """An order as the emulator keeps it."""

    order_id: int
    account: str
    symbol: str
    client_order_id: str
    side: str
    type: str
    time_in_force: str
    price: Decimal
    stop_price: Decimal
    orig_qty: Decimal
    orig_quote_qty: Decimal
    time: int
    status: Status = Status.NEW
    executed_qty: Decimal = ZERO
    cum_quote: Decimal = ZERO
    update_time: int = 0
    working_time: int = -1
    locked: Decimal = ZERO
    eligible_volume: float = 0.0
    resting_filled: Decimal = ZERO
    cancel_client_id: str = ""

    @property
    def is_open(self) -> bool:
        """NEW or PARTIALLY_FILLED."""
        return self.status in OPEN

    @property
    def is_working(self) -> bool:
        """On the book (a stop order before its trigger is not)."""
        return self.working_time >= 0

    @property
    def remaining(self) -> Decimal:
        """Quantity still to fill."""
        return self.orig_qty - self.executed_qty

    def _result(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "symbol": self.symbol,
            "orderId": self.order_id,
            "orderListId": -1,
            "clientOrderId": self.client_order_id,
            "price": dstr(self.price),
            "origQty": dstr(self.orig_qty),
            "executedQty": dstr(self.executed_qty),
            "origQuoteOrderQty": dstr(self.orig_quote_qty),
            "cummulativeQuoteQty": dstr(self.cum_quote),
            "status": str(self.status),
            "timeInForce": self.time_in_force,
            "type": self.type,
            "side": self.side,
        }
        if self.type in STOP_TYPES:
            out["stopPrice"] = dstr(self.stop_price)
        return out

    def placed_json(self, resp_type: str, fills: list[Fill]) -> dict[str, Any]:
        """The answer to ``POST /api/v3/order`` (ACK, RESULT or FULL)."""
        ack = {
            "symbol": self.symbol,
            "orderId": self.order_id,
            "orderListId": -1,
            "clientOrderId": self.client_order_id,
            "transactTime": self.time,
        }
        if resp_type == "ACK":
            return ack
        out = {**ack, **self._result(), "workingTime": self.working_time,
               "selfTradePreventionMode": "NONE"}  # fmt: skip
        if resp_type == "FULL":
            out["fills"] = [f.to_json() for f in fills]
        return out

    def query_json(self) -> dict[str, Any]:
        """The answer to ``GET /api/v3/order`` (and an entry of openOrders / allOrders)."""
        return {
            **self._result(),
            "stopPrice": dstr(self.stop_price),
            "icebergQty": dstr(ZERO),
            "time": self.time,
            "updateTime": self.update_time,
            "isWorking": self.is_working,
            "workingTime": self.working_time,
            "selfTradePreventionMode": "NONE",
        }

    def canceled_json(self) -> dict[str, Any]:
        """The answer to ``DELETE /api/v3/order``."""
        return {
            "symbol": self.symbol,
            "origClientOrderId": self.client_order_id,
            "orderId": self.order_id,
            "orderListId": -1,
            "clientOrderId": self.cancel_client_id or self.client_order_id,
            "transactTime": self.update_time,
            **{k: v for k, v in self._result().items() if k not in _ACK_KEYS},
            "selfTradePreventionMode": "NONE",
        }

    def report(self, execution: str, event_time: int, fill: Fill | None = None) -> dict[str, Any]:
        """An ``executionReport`` event (``execution``: NEW, TRADE, CANCELED, EXPIRED)."""
        canceled = execution == "CANCELED"
        return {
            "e": "executionReport",
            "E": event_time,
            "s": self.symbol,
            "c": self.cancel_client_id if canceled and self.cancel_client_id
            else self.client_order_id,
            "S": self.side,
            "o": self.type,
            "f": self.time_in_force,
            "q": dstr(self.orig_qty),
            "p": dstr(self.price),
            "P": dstr(self.stop_price),
            "F": dstr(ZERO),
            "g": -1,
            "C": self.client_order_id if canceled else "",
            "x": execution,
            "X": str(self.status),
            "r": "NONE",
            "i": self.order_id,
            "l": dstr(fill.qty if fill else ZERO),
            "z": dstr(self.executed_qty),
            "L": dstr(fill.price if fill else ZERO),
            "n": dstr(fill.commission) if fill else "0",
            "N": fill.commission_asset if fill else None,
            "T": fill.time if fill else event_time,
            "t": fill.trade_id if fill else -1,
            "I": event_time,
            "w": self.is_open and self.is_working,
            "m": fill.is_maker if fill else False,
            "M": False,
            "O": self.time,
            "Z": dstr(self.cum_quote),
            "Y": dstr(fill.price * fill.qty if fill else ZERO),
            "Q": dstr(self.orig_quote_qty),
            "W": self.working_time,
            "V": "NONE",
        }  # fmt: skip


@dataclass(frozen=True, slots=True)
class Trade:
    """One execution as ``/api/v3/myTrades`` lists it."""

    trade_id: int
    account: str
    symbol: str
    order_id: int
    price: Decimal
    qty: Decimal
    quote_qty: Decimal
    commission: Decimal
    commission_asset: str
    time: int
    is_buyer: bool
    is_maker: bool

    def to_json(self) -> dict[str, Any]:
        """A ``myTrades`` entry."""
        return {
            "symbol": self.symbol,
            "id": self.trade_id,
            "orderId": self.order_id,
            "orderListId": -1,
            "price": dstr(self.price),
            "qty": dstr(self.qty),
            "quoteQty": dstr(self.quote_qty),
            "commission": dstr(self.commission),
            "commissionAsset": self.commission_asset,
            "time": self.time,
            "isBuyer": self.is_buyer,
            "isMaker": self.is_maker,
            "isBestMatch": True,
        }


def check_filters(new: NewOrder, rules: SymbolRules, average: Decimal) -> None:
    """The filters that need the market (``average``: the 5-minute average price):
    MARKET_LOT_SIZE and NOTIONAL for market orders, PERCENT_PRICE_BY_SIDE and NOTIONAL for the
    others."""
    if new.type == "MARKET":
        if new.quantity:
            rules.check_market_qty(new.quantity)
        rules.check_notional(new.quote_qty or new.quantity * average, market=True)
    else:
        rules.check_percent_price(new.price, new.side == "BUY", average)
        rules.check_notional(new.price * new.quantity, market=False)


def _required(params: dict[str, str], name: str) -> Decimal:
    value = decimal_param(params, name)
    if value is None:
        raise errors.mandatory(name)
    return value


def parse_new_order(params: dict[str, str], rules: SymbolRules) -> NewOrder:
    """Check a new order's parameters (types, mandatory fields, PRICE_FILTER, LOT_SIZE)."""
    side = params.get("side")
    if not side:
        raise errors.mandatory("side")
    if side not in ("BUY", "SELL"):
        raise errors.invalid_side()
    kind = params.get("type")
    if not kind:
        raise errors.mandatory("type")
    if kind not in ORDER_TYPES:
        raise errors.invalid_order_type()
    tif = params.get("timeInForce", "")
    if kind in ("LIMIT", *STOP_TYPES):
        if not tif:
            raise errors.mandatory("timeInForce")
        if tif not in ("GTC", "IOC", "FOK"):
            raise errors.invalid_tif()
    elif tif:
        raise errors.ApiError(-1114, "TimeInForce parameter sent when not required.")
    quantity = decimal_param(params, "quantity")
    quote_qty = decimal_param(params, "quoteOrderQty")
    price = decimal_param(params, "price")
    stop = decimal_param(params, "stopPrice")
    if kind == "MARKET":
        if price is not None:
            raise errors.not_required("price")
        if quantity is None and quote_qty is None:
            raise errors.one_of("quantity", "quoteOrderQty")
        if quantity is not None and quote_qty is not None:
            raise errors.ApiError(-1106, "Parameter 'quoteOrderQty' sent when not required.")
    else:
        if quote_qty is not None:
            raise errors.not_required("quoteOrderQty")
        quantity = _required(params, "quantity")
        price = _required(params, "price")
    if kind in STOP_TYPES:
        stop = _required(params, "stopPrice")
    elif stop is not None:
        raise errors.not_required("stopPrice")
    for value in (price, stop):
        if value is not None:
            rules.check_price(value)
    if quantity is not None:
        rules.check_qty(quantity)
    client_id = client_order_id(params)
    resp = params.get("newOrderRespType") or ("FULL" if kind in ("MARKET", "LIMIT") else "ACK")
    if resp not in ("ACK", "RESULT", "FULL"):
        raise errors.invalid_parameter("newOrderRespType")
    return NewOrder(
        symbol=rules.symbol,
        side=side,
        type=kind,
        time_in_force=tif or "GTC",
        quantity=quantity or ZERO,
        quote_qty=quote_qty or ZERO,
        price=price or ZERO,
        stop_price=stop or ZERO,
        client_order_id=client_id,
        resp_type=resp,
    )
