"""The fill model, written once: the backtester and the paper-trading simulator both use it.

Rules (see docs/architecture.md, "Fill model"):

* A signal computed at the close of bar ``t`` fills at the **open of bar t+1**, never earlier.
* Market orders (entries, signal exits, time stops, stop-loss and trailing-stop exits, the
  end-of-data close) pay the taker fee and the slippage model.
* A protective stop triggers intrabar when the bar's low reaches the stop level; if the bar
  *opens* at or below the level (a gap), it fills at the open, otherwise at the level.
* A take-profit is a resting limit sell: it triggers when the bar's high reaches the level,
  fills at the level (or at the open if the bar opened above it) and pays the maker fee.
* When the stop and the take-profit could both have been hit inside the same bar, the order
  of prices inside the bar is unknown: the **stop is assumed to have come first** (the worse
  outcome). A gap at the open decides first (:func:`protective_fill`).
* Prices are rounded to the market's tick against the trader (buys up, sells down); amounts
  down to the step. Size-dependent slippage is measured against the last closed bar's
  volume.
* The per-bar rules here are the reference; ``backtest/exits.py`` applies them vectorised
  over many bars and is tested against them.
* Fees are taken from what is received, as on Binance spot: the buy's fee in the base asset,
  the sell's fee in the quote asset.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, Decimal
from typing import NamedTuple

ZERO = Decimal(0)
ONE = Decimal(1)


def dec(value: float | int | str | Decimal) -> Decimal:
    """A Decimal from a float by its shortest repr (``61130.99`` stays ``61130.99``)."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)


@dataclass(frozen=True, slots=True)
class Fees:
    """Fee rates as fractions (0.001 = 0.1 %)."""

    taker: Decimal = Decimal("0.001")
    maker: Decimal = Decimal("0.001")


@dataclass(frozen=True, slots=True)
class Slippage:
    """Adverse price move paid by market orders, as a fraction of the reference price.

    ``bps`` is fixed (basis points). ``impact`` adds ``impact * sqrt(qty / bar_volume)``
    (the square-root market-impact law) when positive; the total is capped at ``max_bps``.
    """

    bps: Decimal = ZERO
    impact: float = 0.0
    max_bps: Decimal = Decimal(500)
    _fixed: Decimal = field(init=False, repr=False, compare=False)
    _cap: Decimal = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_fixed", self.bps / Decimal(10_000))
        object.__setattr__(self, "_cap", self.max_bps / Decimal(10_000))

    def fraction(self, qty: float, bar_volume: float) -> Decimal:
        """Slippage fraction for an order of ``qty`` base units in a bar of ``bar_volume``."""
        if self.impact <= 0.0 or qty <= 0.0:
            return min(self._fixed, self._cap)
        participation = qty / bar_volume if bar_volume > 0.0 else 1.0
        return min(self._fixed + dec(self.impact * math.sqrt(participation)), self._cap)


@dataclass(frozen=True, slots=True)
class Precision:
    """A market's trading rules: price tick, amount step and minimum notional (quote)."""

    price_tick: Decimal | None = None
    amount_step: Decimal | None = None
    min_notional: Decimal = ZERO

    def round_price(self, price: Decimal, up: bool) -> Decimal:
        """Price on the tick grid, rounded against the trader: buys up, sells down."""
        if self.price_tick is None:
            return price
        steps = (price / self.price_tick).to_integral_value(ROUND_CEILING if up else ROUND_FLOOR)
        return steps * self.price_tick

    def floor_amount(self, amount: Decimal) -> Decimal:
        """Amount rounded down to the step (never buy or sell more than asked)."""
        if self.amount_step is None:
            return amount
        return (amount / self.amount_step).to_integral_value(ROUND_DOWN) * self.amount_step


class BuyFill(NamedTuple):
    """A filled market buy: ``qty`` bought, ``fee`` taken from it, ``qty_net`` received.

    (Fill records are NamedTuples rather than frozen dataclasses: they are made once per
    order on the backtest's hot path, where a tuple is three times cheaper to build.)
    """

    price: Decimal
    qty: Decimal
    qty_net: Decimal
    cost: Decimal
    fee: Decimal


class SellFill(NamedTuple):
    """A filled sell of ``qty``: gross proceeds minus the quote ``fee`` gives ``proceeds``."""

    price: Decimal
    qty: Decimal
    proceeds: Decimal
    fee: Decimal


def market_buy(
    spend: Decimal,
    reference_price: float,
    bar_volume: float,
    fees: Fees,
    slippage: Slippage,
    precision: Precision,
) -> BuyFill | None:
    """Buy with ``spend`` quote units at market; None when the result is below the minimum.

    The fill price is the reference (the bar's open) moved up by the slippage fraction; the
    quantity is rounded down to the market's step; the fee is paid in the base asset.
    """
    ref = Decimal(repr(reference_price))
    est_qty = float(spend) / reference_price if reference_price > 0 else 0.0
    slip = slippage.fraction(est_qty, bar_volume)
    price = precision.round_price(ref * (ONE + slip) if slip else ref, up=True)
    if price <= ZERO:
        return None
    qty = precision.floor_amount(spend / price)
    cost = spend if precision.amount_step is None else qty * price
    if qty <= ZERO or cost < precision.min_notional:
        return None
    fee = qty * fees.taker
    return BuyFill(price=price, qty=qty, qty_net=qty - fee, cost=cost, fee=fee)


def sell(
    qty: Decimal,
    price: Decimal,
    fee_rate: Decimal,
) -> SellFill:
    """Sell ``qty`` at ``price``; the fee is taken from the quote received."""
    gross = qty * price
    fee = gross * fee_rate
    return SellFill(price=price, qty=qty, proceeds=gross - fee, fee=fee)


def market_sell_price(
    reference_price: Decimal,
    qty: float,
    bar_volume: float,
    slippage: Slippage,
    precision: Precision,
) -> Decimal:
    """Fill price of a market sell: the reference moved down by the slippage fraction."""
    slip = slippage.fraction(qty, bar_volume)
    return precision.round_price(
        reference_price * (ONE - slip) if slip else reference_price, up=False
    )


#: How close (relative) a price must come to a level for the level's decimal value to decide.
NEAR = 1e-12


def snap(level: float) -> float:
    """``level`` rounded to 15 significant digits, the precision of a float.

    A level meant as a short decimal comes out of float arithmetic a few ULP off it
    (1000 x (1 - 0.07) = 929.9999999999999, 100 x (1 + 0.1) = 110.00000000000001); rounded
    to 15 digits it is that decimal again (930.0, 110.0).
    """
    return float(f"{level:.15g}")


def reaches_down(price: float, level: float) -> bool:
    """``price <= level``, where a price within :data:`NEAR` above the level is compared with
    the level's decimal value (:func:`snap`): a low of exactly 930 reaches a stop that float
    arithmetic put at 929.9999999999999. ``backtest/exits.py`` applies the same operations
    to arrays."""
    return price <= level or (price <= level * (1.0 + NEAR) and price <= snap(level))


def reaches_up(price: float, level: float) -> bool:
    """``price >= level``, the mirror of :func:`reaches_down` (110 reaches 110.00000000000001)."""
    return price >= level or (price >= level * (1.0 - NEAR) and price >= snap(level))


def protective_fill(
    bar_open: float, bar_high: float, bar_low: float, stop: float, take: float
) -> tuple[float, bool] | None:
    """Which protective order of a long position fills in this bar: ``(price, is_stop)``.

    In this order: a bar opening at or below the stop fills the stop at the open (a gap); one
    opening at or above the take-profit fills it at the open; then the stop if the low reaches
    it, else the take-profit if the high reaches it — when both could have been hit inside the
    bar, the stop is assumed first (the worse outcome). None when neither fills. Use -inf/+inf
    for a missing stop/take-profit. A price equal to a level's decimal value reaches it
    (:func:`reaches_down`), and a level reached inside the bar fills at its decimal value
    (:func:`snap`: a 930 stop that float arithmetic put at 929.9999999999999 sells at 930, not
    one tick lower once the price is put on the tick grid).
    """
    if reaches_down(bar_open, stop):
        return bar_open, True
    if reaches_up(bar_open, take):
        return bar_open, False
    if reaches_down(bar_low, stop):
        return snap(stop), True
    if reaches_up(bar_high, take):
        return snap(take), False
    return None
