"""Symbol rules: the ``exchangeInfo`` entry of a symbol and the filters an order must pass.

Filters follow Binance's ``filters.md``: PRICE_FILTER (price and stopPrice within
``[minPrice, maxPrice]`` and a multiple of ``tickSize``), LOT_SIZE (quantity within
``[minQty, maxQty]`` and a multiple of ``stepSize``), MARKET_LOT_SIZE (the same for market
orders; 0 disables a bound or the step), PERCENT_PRICE_BY_SIDE (a buy's price within
``[avg x bidMultiplierDown, avg x bidMultiplierUp]``, a sell's within the ask multipliers, avg
= the 5-minute average price) and NOTIONAL (price x quantity within ``[minNotional,
maxNotional]``; for market orders against the 5-minute average price): a failure is -1013
"Filter failure: <NAME>". MAX_NUM_ORDERS and MAX_NUM_ALGO_ORDERS bound the account's open orders
on the symbol (algo orders: the stop-limit types), the new one included: -2010, as Binance
answers these account-state filters.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from candlewick.emulator import errors
from candlewick.emulator.config import PairConfig

ORDER_TYPES = ("LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT")
AVG_PRICE_MINS = 5


def _plain(value: Decimal) -> str:
    """A multiplier as Binance writes it: ``5``, ``0.2``."""
    return f"{value.normalize():f}"


def dstr(value: Decimal, places: int = 8) -> str:
    """A Decimal as Binance writes amounts: plain, at least ``places`` decimals."""
    exponent = value.as_tuple().exponent
    digits = max(places, -exponent if isinstance(exponent, int) else places)
    return f"{value:.{digits}f}"


@dataclass(frozen=True, slots=True)
class SymbolRules:
    """A symbol's assets and filters."""

    symbol: str
    base: str
    quote: str
    tick: Decimal
    step: Decimal
    min_qty: Decimal
    max_qty: Decimal
    min_price: Decimal
    max_price: Decimal
    min_notional: Decimal
    max_notional: Decimal
    market_min_qty: Decimal
    market_max_qty: Decimal
    market_step: Decimal
    bid_up: Decimal
    bid_down: Decimal
    ask_up: Decimal
    ask_down: Decimal
    max_orders: int
    max_algo_orders: int

    @classmethod
    def from_config(cls, pair: PairConfig) -> SymbolRules:
        """The rules a pair's configuration declares (defaults: one step, one tick)."""
        return cls(
            symbol=pair.symbol,
            base=pair.base,
            quote=pair.quote,
            tick=pair.tick_size,
            step=pair.step_size,
            min_qty=pair.min_qty if pair.min_qty is not None else pair.step_size,
            max_qty=pair.max_qty,
            min_price=pair.min_price if pair.min_price is not None else pair.tick_size,
            max_price=pair.max_price,
            min_notional=pair.min_notional,
            max_notional=pair.max_notional,
            market_min_qty=pair.market_min_qty,
            market_max_qty=pair.market_max_qty or pair.max_qty,
            market_step=pair.market_step_size,
            bid_up=pair.bid_multiplier_up,
            bid_down=pair.bid_multiplier_down,
            ask_up=pair.ask_multiplier_up,
            ask_down=pair.ask_multiplier_down,
            max_orders=pair.max_num_orders,
            max_algo_orders=pair.max_num_algo_orders,
        )

    def exchange_info(self) -> dict[str, Any]:
        """The symbol's entry in ``/api/v3/exchangeInfo``."""
        return {
            "symbol": self.symbol,
            "status": "TRADING",
            "baseAsset": self.base,
            "baseAssetPrecision": 8,
            "quoteAsset": self.quote,
            "quotePrecision": 8,
            "quoteAssetPrecision": 8,
            "baseCommissionPrecision": 8,
            "quoteCommissionPrecision": 8,
            "orderTypes": list(ORDER_TYPES),
            "icebergAllowed": False,
            "ocoAllowed": False,
            "otoAllowed": False,
            "quoteOrderQtyMarketAllowed": True,
            "allowTrailingStop": False,
            "cancelReplaceAllowed": False,
            "amendAllowed": False,
            "pegInstructionsAllowed": False,
            "isSpotTradingAllowed": True,
            "isMarginTradingAllowed": False,
            "filters": [
                {
                    "filterType": "PRICE_FILTER",
                    "minPrice": dstr(self.min_price),
                    "maxPrice": dstr(self.max_price),
                    "tickSize": dstr(self.tick),
                },
                {
                    "filterType": "LOT_SIZE",
                    "minQty": dstr(self.min_qty),
                    "maxQty": dstr(self.max_qty),
                    "stepSize": dstr(self.step),
                },
                {
                    "filterType": "MARKET_LOT_SIZE",
                    "minQty": dstr(self.market_min_qty),
                    "maxQty": dstr(self.market_max_qty),
                    "stepSize": dstr(self.market_step),
                },
                {
                    "filterType": "PERCENT_PRICE_BY_SIDE",
                    "bidMultiplierUp": _plain(self.bid_up),
                    "bidMultiplierDown": _plain(self.bid_down),
                    "askMultiplierUp": _plain(self.ask_up),
                    "askMultiplierDown": _plain(self.ask_down),
                    "avgPriceMins": AVG_PRICE_MINS,
                },
                {
                    "filterType": "NOTIONAL",
                    "minNotional": dstr(self.min_notional),
                    "applyMinToMarket": True,
                    "maxNotional": dstr(self.max_notional),
                    "applyMaxToMarket": False,
                    "avgPriceMins": AVG_PRICE_MINS,
                },
                {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": self.max_orders},
                {"filterType": "MAX_NUM_ALGO_ORDERS", "maxNumAlgoOrders": self.max_algo_orders},
            ],
            "permissions": [],
            "permissionSets": [["SPOT"]],
            "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
            "allowedSelfTradePreventionModes": [
                "NONE",
                "EXPIRE_TAKER",
                "EXPIRE_MAKER",
                "EXPIRE_BOTH",
            ],
        }

    def check_price(self, price: Decimal) -> None:
        """PRICE_FILTER for a price or stop price."""
        if price < self.min_price or price > self.max_price or price % self.tick != 0:
            raise errors.filter_failure("PRICE_FILTER")

    def check_qty(self, qty: Decimal) -> None:
        """LOT_SIZE for a quantity."""
        if qty < self.min_qty or qty > self.max_qty or qty % self.step != 0:
            raise errors.filter_failure("LOT_SIZE")

    def check_market_qty(self, qty: Decimal) -> None:
        """MARKET_LOT_SIZE for a market order's quantity (0: that rule is off)."""
        step = self.market_step
        if qty < self.market_min_qty or qty > self.market_max_qty or (step and qty % step != 0):
            raise errors.filter_failure("MARKET_LOT_SIZE")

    def check_percent_price(self, price: Decimal, buy: bool, average: Decimal) -> None:
        """PERCENT_PRICE_BY_SIDE against the 5-minute average price."""
        up, down = (self.bid_up, self.bid_down) if buy else (self.ask_up, self.ask_down)
        if price > average * up or price < average * down:
            raise errors.filter_failure("PERCENT_PRICE_BY_SIDE")

    def check_open_orders(self, open_orders: int, open_algo: int, algo: bool) -> None:
        """MAX_NUM_ORDERS and MAX_NUM_ALGO_ORDERS with one more order (-2010)."""
        if open_orders + 1 > self.max_orders:
            raise errors.order_rejected("Filter failure: MAX_NUM_ORDERS")
        if algo and open_algo + 1 > self.max_algo_orders:
            raise errors.order_rejected("Filter failure: MAX_NUM_ALGO_ORDERS")

    def check_notional(self, notional: Decimal, market: bool) -> None:
        """NOTIONAL: the minimum applies to all orders, the maximum to non-market ones."""
        if notional < self.min_notional or (not market and notional > self.max_notional):
            raise errors.filter_failure("NOTIONAL")

    def floor_qty(self, qty: Decimal) -> Decimal:
        """``qty`` rounded down to the step."""
        return (qty // self.step) * self.step

    def price_of(self, ticks: int) -> Decimal:
        """A price in ticks as a Decimal."""
        return self.tick * ticks

    def qty_of(self, steps: int) -> Decimal:
        """A quantity in steps as a Decimal."""
        return self.step * steps
