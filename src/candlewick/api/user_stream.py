"""Order status from the user data stream (ccxt.pro ``watch_orders``), REST reconciliation too.

:class:`StreamedOrderWatcher` is the :class:`OrderStatusWatcher` fed by stream updates too;
:class:`OrderStream` runs the stream and yields :class:`OrderUpdate`s of tracked orders:

* each ``watch_orders`` update of a tracked order that changed its status or filled amount is
  applied and yielded; an update that would lower the filled amount (out of order) is ignored;
* on start, after every reconnect, and whenever the stream is silent for ``reconcile_every_s``,
  :meth:`OrderStatusWatcher.reconcile` reads the truth from REST (updates missed while the
  socket was down). Nothing is ever inferred: a fill is only what the exchange reported;
* a failing socket is retried with jittered exponential backoff (:class:`RetryPolicy`).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from typing import Any

from candlewick.api.clock import Clock, WallClock
from candlewick.api.order_status import OrderStatusWatcher, OrderUpdate
from candlewick.api.orders import Order, parse_order
from candlewick.api.retry import RetryPolicy
from candlewick.api.streams import RECOVERABLE, close_quietly


class StreamedOrderWatcher(OrderStatusWatcher):
    """An :class:`OrderStatusWatcher` that also applies orders reported by the user stream."""

    def apply(self, order: Order) -> OrderUpdate | None:
        """Apply a streamed ``order``; the update if a tracked order changed, else None."""
        key = order.client_order_id or order.id
        known = self._tracked.get(key)
        if known is None or order.filled < known.filled:
            return None
        if (order.status, order.filled) == (known.status, known.filled):
            return None
        if order.is_open:
            self._tracked[key] = order
        else:
            del self._tracked[key]
        return OrderUpdate(order, known)


class OrderStream:
    """Updates of ``watcher``'s orders from ccxt.pro's ``watch_orders``, reconciled over REST."""

    def __init__(
        self,
        watcher: StreamedOrderWatcher,
        client_factory: Callable[[], Any],
        *,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        backoff: RetryPolicy | None = None,
        reconcile_every_s: float = 60.0,
    ) -> None:
        self.watcher = watcher
        self.client_factory = client_factory
        self.exchange = watcher.orders.gateway.facts.id
        self.clock: Clock = clock or WallClock()
        self.rng = rng or random.Random()
        self.backoff = backoff or RetryPolicy(base_s=0.5, cap_s=30.0)
        self.reconcile_every_s = reconcile_every_s
        #: updates that came from the stream, from REST reconciliation; reconnects made
        self.streamed = 0
        self.reconciled = 0
        self.reconnects = 0
        self._client: Any = None

    def __aiter__(self) -> AsyncIterator[OrderUpdate]:
        return self.updates()

    async def updates(self) -> AsyncGenerator[OrderUpdate, None]:
        """Order updates, forever (break out of the loop to stop, then :meth:`close`)."""
        failures = 0
        while True:
            try:
                for update in await self.watcher.reconcile():
                    self.reconciled += 1
                    yield update
                if self._client is None:
                    self._client = self.client_factory()
                while True:
                    try:
                        raw = await asyncio.wait_for(
                            self._client.watch_orders(), self.reconcile_every_s
                        )
                    except TimeoutError:
                        for update in await self.watcher.reconcile():
                            self.reconciled += 1
                            yield update
                        continue
                    failures = 0
                    for item in raw:
                        applied = self.watcher.apply(parse_order(item, self.exchange))
                        if applied is not None:
                            self.streamed += 1
                            yield applied
            except RECOVERABLE:
                failures += 1
                self.reconnects += 1
                await self._drop_client()
                await self.clock.sleep(self.backoff.backoff_s(failures, self.rng))

    async def _drop_client(self) -> None:
        client, self._client = self._client, None
        await close_quietly(client)

    async def close(self) -> None:
        """Close the ccxt.pro client (the REST gateway belongs to the caller)."""
        await self._drop_client()
