"""The running emulator: the venue, the limits, the faults and the request log in one object."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import WSCloseCode, web

from candlewick.emulator import auth
from candlewick.emulator.accounts import Account, Balance
from candlewick.emulator.clock import wall_ms
from candlewick.emulator.config import EmulatorConfig
from candlewick.emulator.engine import Engine
from candlewick.emulator.faults import Faults
from candlewick.emulator.limits import OrderCounter, WeightLimiter
from candlewick.emulator.venue import Venue, open_venue


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One API request as the emulator answered it."""

    seq: int
    wall_ms: int
    replay_ms: int
    ip: str
    method: str
    path: str
    params: dict[str, str]
    status: int
    code: int | None
    weight: int
    account: str | None

    def to_json(self) -> dict[str, Any]:
        """The entry as served by ``/_emulator/log``."""
        return {
            "seq": self.seq,
            "wallTime": self.wall_ms,
            "replayTime": self.replay_ms,
            "ip": self.ip,
            "method": self.method,
            "path": self.path,
            "params": self.params,
            "status": self.status,
            "code": self.code,
            "weight": self.weight,
            "account": self.account,
        }


class RequestLog:
    """The last ``size`` API requests (0: none kept)."""

    def __init__(self, size: int) -> None:
        self._entries: deque[LogEntry] = deque(maxlen=max(size, 1))
        self._keep = size > 0
        self._seq = 0

    def add(self, **fields: Any) -> None:
        """Record a request (``fields`` as :class:`LogEntry` takes them, without ``seq``)."""
        self._seq += 1
        if self._keep:
            self._entries.append(LogEntry(seq=self._seq, **fields))

    def entries(self, since: int = 0, limit: int | None = None) -> list[LogEntry]:
        """Entries with ``seq > since``, oldest first, at most ``limit``."""
        out = [e for e in self._entries if e.seq > since]
        return out if limit is None else out[:limit]

    def clear(self) -> None:
        """Forget every entry (the sequence goes on)."""
        self._entries.clear()


class Emulator:
    """Everything a request handler needs."""

    def __init__(self, config: EmulatorConfig, venue: Venue) -> None:
        self.config = config
        self.venue = venue
        self.clock = venue.clock
        self.limiter = WeightLimiter(config.limits)
        self.order_counter = OrderCounter(config.limits)
        self.faults = Faults.from_config(config.faults)
        self.log = RequestLog(config.log_size)
        self.closing = False
        self.sockets: set[web.WebSocketResponse] = set()
        self.keys: dict[str, tuple[str, str]] = {}
        for name, account in config.accounts.items():
            key, secret = account.credentials()
            self.keys[key] = (name, secret)
        accounts = {
            name: Account(name, {a: Balance(free=v) for a, v in account.balances.items()})
            for name, account in config.accounts.items()
        }
        self.engine = Engine(
            venue,
            config.fees,
            config.matching.participation_rate,
            accounts,
            self.order_counter,
        )

    def wall(self) -> int:
        """The server time (wall clock, ms)."""
        return self.clock.wall()

    def now(self) -> int:
        """The replay time (ms)."""
        return self.clock.now()

    def authenticate(
        self, headers: Mapping[str, str], params: Mapping[str, str], query_raw: str, body_raw: str
    ) -> str:
        """The account a signed REST request acts for; ApiError when it may not."""
        account, secret = auth.api_key_account(self.keys, headers.get("X-MBX-APIKEY"))
        payload, signature = auth.rest_payload(query_raw, body_raw)
        auth.check_signature(secret, payload, signature)
        auth.check_timestamp(params, self.wall())
        return account

    def advance(self) -> None:
        """Bring the market and the orders up to the replay clock."""
        self.engine.advance(self.now())

    async def drop_streams(self) -> None:
        """Close every WebSocket connection (the ``drop_streams`` fault)."""
        for socket in list(self.sockets):
            await socket.close(code=WSCloseCode.GOING_AWAY, message=b"dropped by fault injection")

    def close(self) -> None:
        """Stop: held requests end, state is saved."""
        self.closing = True

    def state(self) -> dict[str, Any]:
        """The ``/_emulator/state`` body."""
        now = self.now()
        return {
            "wallTime": self.wall(),
            "replayTime": now,
            "speed": "step" if self.clock.speed is None else self.clock.speed,
            "replayStart": self.clock.start_ms,
            "replayEnd": self.clock.end_ms,
            "finished": self.clock.finished,
            "prices": {
                s: self.venue.ticker(s, mini=True)["lastPrice"] for s in self.venue.listings
            },
            "bans": self.limiter.bans(self.wall()),
            "faults": self.faults.describe(),
        }


def open_emulator(
    config: EmulatorConfig, store_root: Path | None = None, wall: Any = wall_ms
) -> Emulator:
    """Load the candles and build the emulator (not yet serving)."""
    return Emulator(config, open_venue(config, store_root, wall))
