"""The replay clock: which historical moment the emulator is replaying, tied to the wall clock.

Two clocks run side by side:

* the **wall clock** (the machine's time) is the server's time: ``/api/v3/time`` reports it and
  a signed request's ``timestamp`` and ``recvWindow`` are checked against it, exactly as Binance
  checks them. ccxt signs with its own wall clock, so it works unchanged (no
  ``adjustForTimeDifference`` needed, and enabling it changes nothing: the offset is ~0);
* the **replay clock** is the historical time being replayed. Candles, tickers, order and trade
  times and stream event times are all on it, so what ccxt fetches carries the stored candles'
  own timestamps.

The two are tied by an anchor: after the anchor (``wall0``, ``replay0``) the replay time is
``replay0 + (wall - wall0) * speed``. Each historical moment ``h`` is therefore replayed at the
wall-clock time ``wall0 + (h - replay0) / speed`` (:meth:`ReplayClock.to_wall`). At speed 1 the
replay runs in real time; at speed 60 one wall second replays one minute. In ``step`` mode
(``speed=None``) the replay time moves only when :meth:`ReplayClock.advance` is called (the
``/_emulator/step`` control endpoint). The replay time never passes ``end_ms`` (the end of the
stored history): the market then stays frozen at its last price.
"""

from __future__ import annotations

import time
from collections.abc import Callable


def wall_ms() -> int:
    """The machine's time in integer milliseconds since the epoch."""
    return time.time_ns() // 1_000_000


class ReplayClock:
    """Replay time as a function of wall time (see the module documentation)."""

    def __init__(
        self,
        start_ms: int,
        speed: float | None,
        end_ms: int | None = None,
        wall: Callable[[], int] = wall_ms,
    ) -> None:
        if speed is not None and speed <= 0:
            raise ValueError(f"speed must be positive or None (stepped), not {speed}")
        if end_ms is not None and end_ms < start_ms:
            raise ValueError(f"the replay ends ({end_ms}) before it starts ({start_ms})")
        self._wall = wall
        self._speed = speed
        self.start_ms = start_ms
        self.end_ms = end_ms
        self._wall0 = wall()
        self._replay0 = start_ms

    @property
    def speed(self) -> float | None:
        """Replayed milliseconds per wall millisecond, or None when stepped."""
        return self._speed

    def wall(self) -> int:
        """The wall clock in ms (the server time)."""
        return self._wall()

    def now(self) -> int:
        """The replay time in ms."""
        if self._speed is None:
            replay = self._replay0
        else:
            replay = self._replay0 + int((self._wall() - self._wall0) * self._speed)
        return replay if self.end_ms is None else min(replay, self.end_ms)

    @property
    def finished(self) -> bool:
        """True once the replay reached the end of the history."""
        return self.end_ms is not None and self.now() >= self.end_ms

    def advance(self, ms: int) -> int:
        """Jump ``ms`` forward (any mode); returns the new replay time."""
        if ms < 0:
            raise ValueError(f"the replay clock only moves forward, not by {ms} ms")
        return self.jump_to(self.now() + ms)

    def jump_to(self, replay_ms: int) -> int:
        """Continue the replay from ``replay_ms`` (not before the current replay time)."""
        target = max(replay_ms, self.now())
        if self.end_ms is not None:
            target = min(target, self.end_ms)
        self._wall0, self._replay0 = self._wall(), target
        return target

    def set_speed(self, speed: float | None) -> None:
        """Change the speed (None: stepped) from the current replay time on."""
        if speed is not None and speed <= 0:
            raise ValueError(f"speed must be positive or None (stepped), not {speed}")
        now = self.now()
        self._speed = speed
        self._wall0, self._replay0 = self._wall(), now

    def to_wall(self, replay_ms: int) -> int | None:
        """The wall time at which ``replay_ms`` is (or was) replayed; None when stepped."""
        if self._speed is None:
            return None
        return self._wall0 + round((replay_ms - self._replay0) / self._speed)
