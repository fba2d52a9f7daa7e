"""The public trade tape: the replayed candles as trades (``/api/v3/trades``, ``aggTrades``).

The store has no trades, so each stored 1m candle with volume is replayed as four trades on the
documented price path: at 0 s the open, at 20 s and 40 s the two extremes (in path order), and at
59.999 s the close. Each takes a quarter of the candle's volume rounded down to the step, the
last one the rest, so that the trades of a minute rebuild its candle exactly (open, high, low,
close, and the volume rounded down to the step); a trade that would be empty is left out. The
trade id of trade ``k`` of the minute opening at ``t`` is ``4 x t / 60000 + k``: ids rise with
time and do not depend on what else the store holds. ``isBuyerMaker`` is true when the price is
below the previous trade's (a seller took the bid). Each trade is its own aggregate trade
(``a = f = l``). Only trades at or before the replay clock exist; the account's own fills are not
on the tape (the synthetic book is not depleted by them either).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np

from candlewick.emulator.market import MINUTE, PairMarket, fmt, path_points
from candlewick.emulator.rules import dstr

PER_MINUTE = 4
OFFSETS = (0, MINUTE // 3, 2 * MINUTE // 3, MINUTE - 1)


@dataclass(frozen=True, slots=True)
class TapeTrade:
    """One trade of the tape."""

    trade_id: int
    time: int
    price: float
    qty: Decimal
    buyer_maker: bool

    def trade_json(self) -> dict[str, Any]:
        """An entry of ``/api/v3/trades`` and ``/api/v3/historicalTrades``."""
        price = fmt(self.price)
        return {
            "id": self.trade_id,
            "price": price,
            "qty": dstr(self.qty),
            "quoteQty": dstr(Decimal(price) * self.qty),
            "time": self.time,
            "isBuyerMaker": self.buyer_maker,
            "isBestMatch": True,
        }

    def aggregate_json(self) -> dict[str, Any]:
        """An entry of ``/api/v3/aggTrades`` (the trade is its own aggregate)."""
        return {
            "a": self.trade_id,
            "p": fmt(self.price),
            "q": dstr(self.qty),
            "f": self.trade_id,
            "l": self.trade_id,
            "T": self.time,
            "m": self.buyer_maker,
            "M": True,
        }


class Tape:
    """The trades of one pair's replayed candles (see the module documentation)."""

    def __init__(self, market: PairMarket, step: Decimal) -> None:
        self.market = market
        self.step = step

    def _minute(self, i: int) -> list[TapeTrade]:
        """The trades of stored candle ``i``, in time order."""
        m = self.market
        open_ms = int(m.ts[i])
        points = path_points(float(m.o[i]), float(m.h[i]), float(m.low[i]), float(m.c[i]))
        prices = [round(p / m.tick) * m.tick for p in points]
        total = (Decimal(repr(float(m.v[i]))) // self.step) * self.step
        part = (total / PER_MINUTE // self.step) * self.step
        qtys = [part] * (PER_MINUTE - 1) + [total - part * (PER_MINUTE - 1)]
        previous = float(m.c[i - 1]) if i > 0 else prices[0]
        out = []
        for k in range(PER_MINUTE):
            if qtys[k] > 0:
                trade_id = open_ms // MINUTE * PER_MINUTE + k
                maker = prices[k] < previous
                out.append(TapeTrade(trade_id, open_ms + OFFSETS[k], prices[k], qtys[k], maker))
            previous = prices[k]
        return out

    def forward(self, first_id: int, start: int, until: int, limit: int) -> list[TapeTrade]:
        """The oldest ``limit`` trades with id >= ``first_id`` and time in [start, until]."""
        m = self.market
        begin = max(start, first_id // PER_MINUTE * MINUTE)
        i = max(int(np.searchsorted(m.ts, begin - MINUTE, side="right")), 0)
        out: list[TapeTrade] = []
        while i < len(m.ts) and int(m.ts[i]) <= until and len(out) < limit:
            out += [
                t for t in self._minute(i) if t.trade_id >= first_id and start <= t.time <= until
            ][: limit - len(out)]
            i += 1
        return out

    def backward(self, until: int, limit: int) -> list[TapeTrade]:
        """The most recent ``limit`` trades at or before ``until``, oldest first."""
        i = self.market.locate(until)
        out: list[TapeTrade] = []
        while i >= 0 and len(out) < limit:
            out = [t for t in self._minute(i) if t.time <= until] + out
            i -= 1
        return out[-limit:] if limit else []
