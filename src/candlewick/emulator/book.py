"""The synthetic order book around the replayed price, and its update-id sequence.

The stored candles have no order book, so the emulator draws one from the path price ``p``
(in ticks) and the recent volume (documented in docs/emulator.md):

* half spread ``s = floor(p * spread_bps / 20000)`` ticks; best bid ``p - s``, best ask
  ``p + max(s, 1)`` (at least one tick apart);
* deeper levels sit on a fixed price grid of ``g = max(1, round(p0 * level_step_bps / 10000))``
  ticks (``p0``: the price when the emulator started), so that a move of the price changes only
  the levels near the top, as on a real book;
* the quantity of level ``i`` (0 = best) is ``u * (2 + i) // 2`` steps, where ``u`` is
  ``depth_fraction`` times the mean 1m volume of the last ``volume_window_minutes`` closed
  candles (at least one step): the book thickens away from the top and follows the market's
  activity minute by minute.

The book is a pure function of ``(p, u)``. :class:`BookFeed` keeps the last book of a symbol and
an update id that rises by one each time the book changes, with the change (the diff) of each
id, so that REST snapshots (``lastUpdateId``) and the ``depth`` stream (``U``/``u``) share one
sequence, as ccxt.pro requires.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

Level = tuple[int, int]  # (price in ticks, quantity in steps)


@dataclass(frozen=True, slots=True)
class BookShape:
    """The book's parameters in ticks and steps."""

    spread_bps: float
    levels: int
    grid_ticks: int


@dataclass(frozen=True, slots=True)
class Book:
    """Bids (best first, descending) and asks (best first, ascending) in ticks and steps."""

    bids: tuple[Level, ...]
    asks: tuple[Level, ...]


def grid_ticks(price_ticks: int, level_step_bps: float) -> int:
    """The spacing of the deeper levels, in ticks."""
    return max(1, round(price_ticks * level_step_bps / 10_000))


def make_book(price_ticks: int, unit_steps: int, shape: BookShape) -> Book:
    """The book around ``price_ticks`` with level unit ``unit_steps`` (see the module doc)."""
    half = int(price_ticks * shape.spread_bps / 20_000)
    best_bid = price_ticks - half
    best_ask = price_ticks + max(half, 1)
    g = shape.grid_ticks
    unit = max(1, unit_steps)
    bids: list[Level] = []
    if best_bid > 0:
        bids.append((best_bid, unit))
        below = ((best_bid - 1) // g) * g  # the first grid price strictly below the best bid
        for i in range(1, shape.levels):
            price = below - (i - 1) * g
            if price <= 0:
                break
            bids.append((price, unit * (2 + i) // 2))
    asks: list[Level] = [(best_ask, unit)]
    above = (best_ask // g + 1) * g  # the first grid price strictly above the best ask
    asks += [(above + (i - 1) * g, unit * (2 + i) // 2) for i in range(1, shape.levels)]
    return Book(tuple(bids), tuple(asks))


@dataclass(frozen=True, slots=True)
class Diff:
    """A ``depthUpdate``: first and last update id, changed levels (quantity 0 = removed)."""

    first_id: int
    last_id: int
    bids: tuple[Level, ...]
    asks: tuple[Level, ...]


class BookFeed:
    """The current book of one symbol, its update id and the recent diffs."""

    def __init__(self, shape: BookShape, history: int = 4096) -> None:
        self.shape = shape
        self.update_id = 0
        self._key: tuple[int, int] | None = None
        self._book = Book((), ())
        self._diffs: deque[tuple[int, dict[int, int], dict[int, int]]] = deque(maxlen=history)

    def refresh(self, price_ticks: int, unit_steps: int) -> Book:
        """The book for ``(price_ticks, unit_steps)``; a change gets the next update id."""
        key = (price_ticks, unit_steps)
        if key == self._key:
            return self._book
        book = make_book(price_ticks, unit_steps, self.shape)
        bid_diff = _diff(self._book.bids, book.bids)
        ask_diff = _diff(self._book.asks, book.asks)
        self._key, self._book = key, book
        if bid_diff or ask_diff:
            self.update_id += 1
            self._diffs.append((self.update_id, bid_diff, ask_diff))
        return book

    @property
    def book(self) -> Book:
        """The last book drawn."""
        return self._book

    @property
    def key(self) -> tuple[int, int]:
        """``(price_ticks, unit_steps)`` of the last book drawn."""
        if self._key is None:
            raise RuntimeError("no book drawn yet: call refresh first")
        return self._key

    def diff_since(self, last_id: int) -> Diff | None:
        """The merged changes after update ``last_id`` (None when there are none).

        When ``last_id`` is older than the kept history the diff starts after ``last_id + 1``:
        the client sees the gap and resynchronises from a REST snapshot, as on Binance.
        """
        if last_id >= self.update_id:
            return None
        bids: dict[int, int] = {}
        asks: dict[int, int] = {}
        first = None
        for uid, bid_diff, ask_diff in self._diffs:
            if uid <= last_id:
                continue
            first = uid if first is None else first
            bids.update(bid_diff)
            asks.update(ask_diff)
        if first is None:
            return None
        return Diff(
            first,
            self.update_id,
            tuple(sorted(bids.items(), reverse=True)),
            tuple(sorted(asks.items())),
        )


def _diff(old: tuple[Level, ...], new: tuple[Level, ...]) -> dict[int, int]:
    before = dict(old)
    after = dict(new)
    changes = {price: 0 for price in before if price not in after}
    changes.update({p: q for p, q in after.items() if before.get(p) != q})
    return changes
