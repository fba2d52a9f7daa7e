"""The time source of the exchange layer, injected so budgets and retries can be tested.

Nothing in ``candlewick.api`` reads the wall clock or sleeps directly: it asks its
:class:`Clock`. :class:`WallClock` is the real one; tests pass a virtual clock whose ``sleep``
advances time instantly.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol


class Clock(Protocol):
    """Milliseconds since the epoch (UTC) and an asynchronous sleep."""

    def now_ms(self) -> int:
        """The current time in integer milliseconds since the Unix epoch."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` (0 just yields to the event loop)."""
        ...


class WallClock:
    """The system clock and ``asyncio.sleep``."""

    def now_ms(self) -> int:
        """Wall-clock time in ms."""
        return time.time_ns() // 1_000_000

    async def sleep(self, seconds: float) -> None:
        """``asyncio.sleep``, never negative."""
        await asyncio.sleep(max(0.0, seconds))
