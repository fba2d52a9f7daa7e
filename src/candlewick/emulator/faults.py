"""Injected faults: server errors, latency, order timeouts, dropped and stale streams.

The settings start from the configuration's ``faults`` section and can be changed while the
emulator runs (``POST /_emulator/faults``). Faults apply to the Binance API only, never to the
control endpoints.

* ``error_rate``: the fraction of requests answered with ``error_status`` (a plain-text 5xx, as
  a load balancer sends it) before they are processed: nothing was executed.
* ``latency_ms`` (+ up to ``latency_jitter_ms``): added before every request is processed.
* ``order_timeout_rate`` / ``order_timeout_next``: an order request is executed (the order
  exists, may have filled, and shows in the user stream), then the connection is held without
  an answer for ``order_timeout_hold_seconds`` (or until the client gives up) and closed: the
  client sees a timeout although the order was accepted. ``order_timeout_next`` counts down one
  per order request and wins over the rate.
* ``stale_streams_seconds``: the market streams stop sending for that many wall seconds
  (connections stay open); ``drop_streams``: every WebSocket connection is closed once.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, fields
from typing import Any

from pydantic import ValidationError

from candlewick.emulator.config import FaultsConfig, RunTimeFaults


@dataclass(slots=True)
class Faults:
    """The fault settings in force (mutable at run time)."""

    error_rate: float = 0.0
    error_status: int = 503
    latency_ms: int = 0
    latency_jitter_ms: int = 0
    order_timeout_rate: float = 0.0
    order_timeout_next: int = 0
    order_timeout_hold_seconds: float = 30.0
    stale_until_ms: int = 0
    rng: random.Random = field(default_factory=random.Random, repr=False)

    @classmethod
    def from_config(cls, config: FaultsConfig) -> Faults:
        """The configured faults."""
        return cls(
            error_rate=config.error_rate,
            error_status=config.error_status,
            latency_ms=config.latency_ms,
            latency_jitter_ms=config.latency_jitter_ms,
            order_timeout_rate=config.order_timeout_rate,
            order_timeout_hold_seconds=config.order_timeout_hold_seconds,
            rng=random.Random(config.seed),
        )

    def server_error(self) -> bool:
        """Draw whether this request fails with a 5xx."""
        return self.error_rate > 0 and self.rng.random() < self.error_rate

    def delay_seconds(self) -> float:
        """The latency to add to this request."""
        if self.latency_ms == 0 and self.latency_jitter_ms == 0:
            return 0.0
        jitter = self.rng.randint(0, self.latency_jitter_ms) if self.latency_jitter_ms else 0
        return (self.latency_ms + jitter) / 1000

    def order_timeout(self) -> bool:
        """Draw whether this order request is answered with silence."""
        if self.order_timeout_next > 0:
            self.order_timeout_next -= 1
            return True
        return self.order_timeout_rate > 0 and self.rng.random() < self.order_timeout_rate

    def update(self, changes: dict[str, Any], wall_now: int) -> None:
        """Apply a ``/_emulator/faults`` body, all or nothing; ValueError names a bad field
        and its bounds (those of the configuration's ``faults`` section, checked strictly)."""
        runtime = {k: v for k, v in changes.items() if k in RunTimeFaults.model_fields}
        configured = {k: v for k, v in changes.items() if k not in runtime}
        if "seed" in configured:
            raise ValueError("seed: set it in the configuration file, not at run time")
        current = {k: getattr(self, k) for k in FaultsConfig.model_fields if k != "seed"}
        try:
            merged = FaultsConfig.model_validate({**current, **configured}, strict=True)
            extra = RunTimeFaults.model_validate(runtime)
        except ValidationError as exc:
            raise ValueError(
                "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            ) from None
        for name in configured:
            setattr(self, name, getattr(merged, name))
        if "order_timeout_next" in runtime:
            self.order_timeout_next = extra.order_timeout_next
        if "stale_streams_seconds" in runtime:
            self.stale_until_ms = wall_now + int(extra.stale_streams_seconds * 1000)

    def describe(self) -> dict[str, Any]:
        """The settings as JSON."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "rng"}
