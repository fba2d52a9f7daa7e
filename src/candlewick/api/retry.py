"""When and how long the gateway waits before trying again.

Which calls may be retried at all is the gateway's business (reads and cancels yes, order
creation never: it is looked up instead); this module only holds the numbers and the
backoff formula: exponential with **full jitter** (a uniform draw between 0 and the
exponential cap), which spreads the retries of many bots hit by the same outage instead of
synchronising them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from candlewick.errors import ConfigError


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Retry numbers of the gateway.

    * ``max_attempts``: tries of a read or cancel (the first included).
    * ``base_s`` / ``cap_s``: backoff before try ``n`` (n >= 1) is uniform in
      ``[0, min(cap_s, base_s * 2**(n-1))]``.
    * ``lookup_attempts``: look-ups of an order whose creation timed out.
    * ``max_wait_s``: the longest a call waits for a budget (or a Retry-After block) before
      it gives up with a RateLimitError (e.g. the daily order count is spent).
    * ``default_retry_after_s``: the block after a 429/418 that carried no Retry-After.
    """

    max_attempts: int = 4
    base_s: float = 0.5
    cap_s: float = 8.0
    lookup_attempts: int = 4
    max_wait_s: float = 90.0
    default_retry_after_s: float = 60.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.lookup_attempts < 1:
            raise ConfigError(
                f"retry policy needs max_attempts >= 1 and lookup_attempts >= 1, got "
                f"{self.max_attempts} and {self.lookup_attempts}"
            )
        if self.base_s < 0 or self.cap_s < self.base_s:
            raise ConfigError(
                f"retry backoff needs 0 <= base_s <= cap_s, got {self.base_s} and {self.cap_s}"
            )

    def backoff_s(self, attempt: int, rng: random.Random) -> float:
        """Seconds to wait before try number ``attempt`` (1 = the first retry)."""
        ceiling = min(self.cap_s, self.base_s * 2 ** max(0, attempt - 1))
        return rng.uniform(0.0, ceiling)
