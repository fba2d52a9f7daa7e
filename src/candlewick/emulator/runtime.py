"""The running emulator: the venue, the limits, the faults and the request log in one object."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import secrets
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
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
from candlewick.emulator.persist import SavedState, SqliteJournal
from candlewick.emulator.venue import Venue, open_venue

_log = logging.getLogger("candlewick.emulator")


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


def is_loopback(host: str) -> bool:
    """True when ``host`` is reachable only from this machine (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a name other than localhost, or "" (every interface)
        return False


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
    """Everything a request handler needs: venue, engine, limits, faults, log, streams."""

    def __init__(
        self,
        config: EmulatorConfig,
        venue: Venue,
        journal: SqliteJournal | None = None,
        saved: SavedState | None = None,
    ) -> None:
        self.config = config
        self.venue = venue
        self.clock = venue.clock
        self.limiter = WeightLimiter(config.limits)
        self.order_counter = OrderCounter(config.limits)
        self.faults = Faults.from_config(config.faults)
        self.log = RequestLog(config.log_size)
        self.closing = False
        self.sockets: set[web.WebSocketResponse] = set()
        self.tick_hooks: list[Callable[[], Awaitable[None]]] = []
        self.journal = journal
        self.control_token = config.configured_control_token()
        self.control_token_generated = False
        if self.control_token is None and not is_loopback(config.host):
            self.control_token = secrets.token_urlsafe(24)
            self.control_token_generated = True
        self.keys: dict[str, tuple[str, str]] = {}
        saved = saved if saved is not None and not saved.empty else None
        accounts: dict[str, Account] = {}
        for name, account in config.accounts.items():
            key, secret = account.credentials()
            self.keys[key] = (name, secret)
            stored = saved.balances.get(name) if saved is not None else None
            if stored is None:
                stored = {a: Balance(free=v) for a, v in account.balances.items()}
                accounts[name] = Account(name, stored)
                accounts[name].changed.update(stored)  # saved with the first commit
            else:
                updated = int(saved.meta.get(f"update_time:{name}", "0")) if saved else 0
                accounts[name] = Account(name, stored, updated)
        self.engine = Engine(
            venue,
            config.fees,
            config.matching.participation_rate,
            accounts,
            self.order_counter,
            journal,
        )
        if saved is not None:
            self.engine.restore(saved.orders, saved.trades, saved.meta)
            if not config.resume:
                self.engine.processed_to = self.now()
        if journal is not None:
            journal.save_meta("created", saved.meta["created"] if saved else str(self.wall()))
            for held in accounts.values():
                for asset in held.take_changes():
                    journal.save_balance(held.name, asset, held.balance(asset))
            self.save_clock()
        for held in accounts.values():
            held.take_changes()  # the starting balances are no change to announce

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

    def save_clock(self) -> None:
        """Save the replay time reached (for ``resume``)."""
        if self.journal is not None:
            self.journal.save_meta("replay_time", str(self.now()))
            self.journal.commit()

    async def run_background(self) -> None:
        """Advance the replay every ``streams.tick_ms``, run the tick hooks, save the clock."""
        interval = self.config.streams.tick_ms / 1000
        saved_at = self.wall()
        while not self.closing:
            await asyncio.sleep(interval)
            try:
                self.advance()
                for hook in self.tick_hooks:
                    await hook()
                if self.wall() - saved_at >= 1000:
                    self.save_clock()
                    saved_at = self.wall()
            except Exception:  # a bad tick must not stop the replay
                _log.exception("emulator: background tick failed")

    async def drop_streams(self) -> None:
        """Close every WebSocket connection (the ``drop_streams`` fault)."""
        for socket in list(self.sockets):
            await socket.close(code=WSCloseCode.GOING_AWAY, message=b"dropped by fault injection")

    def close(self) -> None:
        """Stop: held requests end, the state is saved and the state file closed."""
        if self.closing:
            return
        self.closing = True
        if self.journal is not None:
            self.advance()
            self.save_clock()
            self.journal.close()

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
            "openOrders": sum(len(ids) for ids in self.engine.open_ids.values()),
        }


def open_emulator(
    config: EmulatorConfig,
    store_root: Path | None = None,
    wall: Any = wall_ms,
    say: Callable[[str], None] | None = None,
) -> Emulator:
    """Load the candles (and the saved state, if any) and build the emulator (not yet serving).

    With a ``state_file`` that already holds a state, the accounts, orders and trades are taken
    from it, and with ``resume`` (the default) the replay continues where it stopped.
    """
    journal = SqliteJournal(config.state_file) if config.state_file is not None else None
    saved = journal.load() if journal is not None else None
    resume_at = None
    if saved is not None and config.resume and "replay_time" in saved.meta:
        resume_at = int(saved.meta["replay_time"])
    venue = open_venue(config, store_root, wall, resume_at, say)
    return Emulator(config, venue, journal, saved)
