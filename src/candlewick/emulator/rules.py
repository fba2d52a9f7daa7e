"""Symbol rules: the ``exchangeInfo`` entry of a symbol and the filters an order must pass.

Filters follow Binance's ``filters.md``: PRICE_FILTER (price and stopPrice within
``[minPrice, maxPrice]`` and a multiple of ``tickSize``), LOT_SIZE (quantity within
``[minQty, maxQty]`` and a multiple of ``stepSize``) and NOTIONAL (price x quantity within
``[minNotional, maxNotional]``; for market orders against the 5-minute average price). A failure
is -1013 "Filter failure: <NAME>".
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from candlewick.emulator import errors
from candlewick.emulator.config import PairConfig

ORDER_TYPES = ("LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT")
AVG_PRICE_MINS = 5


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
                    "filterType": "NOTIONAL",
                    "minNotional": dstr(self.min_notional),
                    "applyMinToMarket": True,
                    "maxNotional": dstr(self.max_notional),
                    "applyMaxToMarket": False,
                    "avgPriceMins": AVG_PRICE_MINS,
                },
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
