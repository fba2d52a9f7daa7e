"""The emulator's state in SQLite: balances, orders, trades and counters survive a restart.

One file (``state_file`` in the configuration), four tables: ``balances``, ``orders``,
``trades`` and ``meta`` (next ids, the replay time reached, account update times). Amounts are
stored as decimal text, so nothing is lost to floating point. Every engine command is one
transaction; the replay time is saved about once a second and at shutdown.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field, fields
from decimal import Decimal
from pathlib import Path
from typing import Any, get_type_hints

from candlewick.emulator.accounts import Balance
from candlewick.emulator.orders import Order, Status, Trade
from candlewick.errors import StorageError

_ORDER_FIELDS = [f.name for f in fields(Order)]
_TRADE_FIELDS = [f.name for f in fields(Trade)]
_ORDER_TYPES = get_type_hints(Order)
_TRADE_TYPES = get_type_hints(Trade)
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS balances (
    account TEXT NOT NULL, asset TEXT NOT NULL, free TEXT NOT NULL, locked TEXT NOT NULL,
    PRIMARY KEY (account, asset)
);
CREATE TABLE IF NOT EXISTS orders ({", ".join(_ORDER_FIELDS)}, PRIMARY KEY (order_id));
CREATE TABLE IF NOT EXISTS trades ({", ".join(_TRADE_FIELDS)}, PRIMARY KEY (trade_id));
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


def _to_sql(value: Any) -> Any:
    if isinstance(value, Decimal | Status):
        return str(value)
    return value


def _from_sql(kind: Any, value: Any) -> Any:
    if kind is Decimal:
        return Decimal(value)
    if kind is Status:
        return Status(value)
    if kind is bool:
        return bool(value)
    return value


@dataclass
class SavedState:
    """What a state file holds."""

    balances: dict[str, dict[str, Balance]] = field(default_factory=dict)
    orders: list[Order] = field(default_factory=list)
    trades: list[Trade] = field(default_factory=list)
    meta: dict[str, str] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        """True for a new file."""
        return not self.meta


class SqliteJournal:
    """The engine's journal in a SQLite file."""

    def __init__(self, path: Path) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, isolation_level="DEFERRED")
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise StorageError(f"cannot open the emulator state file {path}: {exc}") from exc
        self.path = path
        self._closed = False

    def load(self) -> SavedState:
        """Everything saved so far (orders and trades in id order)."""
        state = SavedState()
        for account, asset, free, locked in self._db.execute("SELECT * FROM balances"):
            state.balances.setdefault(account, {})[asset] = Balance(Decimal(free), Decimal(locked))
        columns = ", ".join(_ORDER_FIELDS)
        for row in self._db.execute(f"SELECT {columns} FROM orders ORDER BY order_id"):
            values = {
                n: _from_sql(_ORDER_TYPES[n], v) for n, v in zip(_ORDER_FIELDS, row, strict=True)
            }
            state.orders.append(Order(**values))
        columns = ", ".join(_TRADE_FIELDS)
        for row in self._db.execute(f"SELECT {columns} FROM trades ORDER BY trade_id"):
            values = {
                n: _from_sql(_TRADE_TYPES[n], v) for n, v in zip(_TRADE_FIELDS, row, strict=True)
            }
            state.trades.append(Trade(**values))
        state.meta = dict(self._db.execute("SELECT key, value FROM meta"))
        return state

    def _rows(self, table: str, names: list[str], kinds: dict[str, Any]) -> list[dict[str, Any]]:
        query = f"SELECT {', '.join(names)} FROM {table} ORDER BY {names[0]}"
        return [
            {n: _from_sql(kinds[n], v) for n, v in zip(names, row, strict=True)}
            for row in self._db.execute(query)
        ]

    def save_order(self, order: Order) -> None:
        """Insert or update an order."""
        marks = ", ".join("?" * len(_ORDER_FIELDS))
        values = [_to_sql(getattr(order, n)) for n in _ORDER_FIELDS]
        self._db.execute(f"INSERT OR REPLACE INTO orders VALUES ({marks})", values)

    def save_trade(self, trade: Trade) -> None:
        """Insert a trade."""
        marks = ", ".join("?" * len(_TRADE_FIELDS))
        values = [_to_sql(getattr(trade, n)) for n in _TRADE_FIELDS]
        self._db.execute(f"INSERT OR REPLACE INTO trades VALUES ({marks})", values)

    def save_balance(self, account: str, asset: str, balance: Balance) -> None:
        """Insert or update one balance."""
        self._db.execute(
            "INSERT OR REPLACE INTO balances VALUES (?, ?, ?, ?)",
            (account, asset, str(balance.free), str(balance.locked)),
        )

    def save_meta(self, key: str, value: str) -> None:
        """Insert or update a counter or setting."""
        self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def commit(self) -> None:
        """End the transaction."""
        if not self._closed:
            self._db.commit()

    def close(self) -> None:
        """Commit and close the file (idempotent)."""
        if not self._closed:
            self._db.commit()
            self._db.close()
            self._closed = True
