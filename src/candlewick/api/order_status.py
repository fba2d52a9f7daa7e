"""Order status watcher: what became of the bot's orders, by REST reconciliation.

The watcher tracks orders (by client order id) and, on each :meth:`OrderStatusWatcher.reconcile`,
lists the open orders of each tracked market (one light call per market) and reads back each
tracked order that left the book, to learn whether it filled, was cancelled or expired. It
reports what changed and never invents a fill: an order the exchange cannot find stays as it
was last seen and is listed in :attr:`OrderStatusWatcher.unknown`. :meth:`adopt` takes in open
orders the bot does not know (after a restart). The user-data stream will later push the same
updates sooner; reconciliation stays as the check behind it.
"""

from __future__ import annotations

from dataclasses import dataclass

from candlewick.api.orders import Order, Orders
from candlewick.data.store import normalise_pair
from candlewick.errors import OrderNotFoundError


@dataclass(frozen=True, slots=True)
class OrderUpdate:
    """An order whose status or filled amount changed since it was last seen."""

    order: Order
    previous: Order | None


def _key(order: Order) -> str:
    return order.client_order_id or order.id


class OrderStatusWatcher:
    """Tracks one account's orders through :class:`~candlewick.api.orders.Orders`."""

    def __init__(self, orders: Orders) -> None:
        self.orders = orders
        self._tracked: dict[str, Order] = {}
        self.unknown: set[str] = set()

    def track(self, order: Order) -> None:
        """Follow ``order`` until it is no longer open."""
        if order.is_open:
            self._tracked[_key(order)] = order

    def tracked(self) -> list[Order]:
        """The orders followed, as last seen."""
        return list(self._tracked.values())

    async def adopt(self, pair: str) -> list[Order]:
        """Track the open orders of ``pair`` the watcher does not know yet; returns them."""
        found = [o for o in await self.orders.open_orders(pair) if _key(o) not in self._tracked]
        for order in found:
            self.track(order)
        return found

    async def reconcile(self) -> list[OrderUpdate]:
        """One pass over every tracked market; the orders that changed."""
        updates: list[OrderUpdate] = []
        pairs = sorted({normalise_pair(o.pair) for o in self._tracked.values()})
        for pair in pairs:
            open_now = {_key(o): o for o in await self.orders.open_orders(pair)}
            mine = [o for o in self._tracked.values() if normalise_pair(o.pair) == pair]
            for known in mine:
                key = _key(known)
                current = open_now.get(key)
                if current is None:
                    try:
                        current = await self.orders.fetch(pair, order_id=known.id)
                    except OrderNotFoundError:
                        self.unknown.add(key)
                        continue
                self.unknown.discard(key)
                if (current.status, current.filled) != (known.status, known.filled):
                    updates.append(OrderUpdate(current, known))
                if current.is_open:
                    self._tracked[key] = current
                else:
                    del self._tracked[key]
        return updates
