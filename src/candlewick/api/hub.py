"""The process's exchange connections and rate budgets: a keyed registry, not a singleton.

The process (a CLI command, the fleet supervisor, a test) creates **one** :class:`ExchangeHub`
and hands it to every bot it starts. Bots on the same (exchange, account) get the same
:class:`~candlewick.api.gateway.Gateway`, hence one ccxt client and one set of budgets;
gateways on the same host share the per-IP request-weight budget.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping

from candlewick import exchanges
from candlewick.api.budget import BudgetBook
from candlewick.api.clock import Clock, WallClock
from candlewick.api.gateway import Gateway
from candlewick.api.port import ExchangeClient
from candlewick.api.retry import RetryPolicy
from candlewick.errors import ConfigError

#: The scope value of per-IP budgets when the process has one outgoing address.
DEFAULT_HOST = "default"


class ExchangeHub:
    """Gateways keyed by (exchange, account) and the budgets they share.

    ``margin`` keeps every budget that fraction below the exchange's limit (0.1: use at
    most 90 %). ``limit_overrides[exchange_id][limit_id]`` replaces a limit's value.
    ``rng`` draws the backoff jitter (seed it in tests).
    """

    def __init__(
        self,
        clock: Clock | None = None,
        *,
        policy: RetryPolicy | None = None,
        margin: float = 0.1,
        limit_overrides: Mapping[str, Mapping[str, float]] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.clock: Clock = clock or WallClock()
        self.policy = policy or RetryPolicy()
        self.book = BudgetBook(margin, limit_overrides)
        self._rng = rng or random.Random()
        self._gateways: dict[tuple[str, str], Gateway] = {}

    def gateway(
        self,
        exchange_id: str,
        account: str,
        connect: Callable[[], ExchangeClient],
        *,
        host: str = DEFAULT_HOST,
    ) -> Gateway:
        """The gateway of ``account`` on ``exchange_id``; ``connect()`` builds its client
        the first time only. ``host`` names the outgoing IP (or the server, for an emulator)
        whose per-IP budgets the gateway shares."""
        key = (exchange_id.lower(), account)
        gateway = self._gateways.get(key)
        if gateway is None:
            facts = exchanges.get(exchange_id)
            gateway = Gateway(
                connect(),
                facts,
                account=account,
                host=host,
                book=self.book,
                clock=self.clock,
                policy=self.policy,
                rng=self._rng,
            )
            self._gateways[key] = gateway
        elif gateway.host != host:
            raise ConfigError(
                f"{exchange_id} account {account!r} is already connected through host "
                f"{gateway.host!r}, not {host!r}: one account has one gateway per process"
            )
        return gateway

    def gateways(self) -> list[Gateway]:
        """Every gateway created so far."""
        return list(self._gateways.values())

    async def close(self) -> None:
        """Close every client (ccxt holds an aiohttp session per client)."""
        gateways, self._gateways = list(self._gateways.values()), {}
        for gateway in gateways:
            await gateway.client.close()
