"""SQLAlchemy 2 tables of stored runs: ``runs``, ``run_trades`` and ``run_series``.

The schema is created by the Alembic migrations in ``migrations/versions``; a test checks that
the migrations and these models agree on SQLite and PostgreSQL. Change both together.

Money columns use :class:`ExactDecimal`: the decimal's canonical string, so a value with up to
28 significant digits (and its exponent and trailing zeros) comes back exactly as it was saved on
every backend. SQLite has no exact numeric type (``NUMERIC`` affinity goes through a float), which
is why a string is used on PostgreSQL too: one representation, one behaviour.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)
from sqlalchemy.types import TypeEngine

from candlewick.errors import StorageError

DECIMAL_CHARS = 64
"""Longest stored decimal string; 28 significant digits with sign, point and exponent fit."""

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class JsonDoc(TypeDecorator[Any]):
    """A JSON document: JSONB on PostgreSQL (compact, indexable), JSON text elsewhere.

    A decorator rather than ``JSON().with_variant(JSONB(), ...)`` so that SQLite users do not
    pay for importing the PostgreSQL dialect at start-up.
    """

    impl = JSON
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        """JSONB on PostgreSQL, the generic JSON type elsewhere."""
        if dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import JSONB

            return dialect.type_descriptor(JSONB())
        return dialect.type_descriptor(JSON())


class ExactDecimal(TypeDecorator[Decimal]):
    """A :class:`~decimal.Decimal` stored as its string, so it round-trips exactly.

    Only ``Decimal`` is accepted on the way in: a float would already have lost the exact value.
    """

    impl = String(DECIMAL_CHARS)
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> str | None:
        """Store the canonical string of the decimal; reject floats and overlong values."""
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise StorageError(
                f"cannot store {value!r} ({type(value).__name__}) as an exact amount; "
                "pass a decimal.Decimal (money is never a float in Candlewick)"
            )
        text = str(value)
        if len(text) > DECIMAL_CHARS:
            raise StorageError(
                f"the amount {text[:40]}... has {len(text)} characters, more than the "
                f"{DECIMAL_CHARS} a stored amount can hold; quantize it before saving"
            )
        return text

    def process_result_value(self, value: str | None, dialect: Dialect) -> Decimal | None:
        """Parse the stored string back into the same decimal."""
        return None if value is None else Decimal(value)


AMOUNT_FIELDS = (
    "entry_price",
    "exit_price",
    "qty",
    "qty_net",
    "cost",
    "proceeds",
    "entry_fee",
    "exit_fee",
)
"""The Decimal fields of a :class:`~candlewick.core.types.Trade`, stored exactly."""


class RunStatus(StrEnum):
    """Whether a stored run can be trusted: ``ok``, or why not.

    ``lookahead_failed``: its signals changed when the future was cut off (``candlewick
    backtest --check-lookahead``), so its results could not have been achieved; it is kept,
    marked, so that the failure can be seen and compared.
    """

    OK = "ok"
    LOOKAHEAD_FAILED = "lookahead_failed"


#: All tables of the schema (SQLAlchemy Core: the ORM is not needed, and not importing it
#: saves about 90 ms on every command that touches the database).
metadata = MetaData(naming_convention=NAMING_CONVENTION)

#: One stored run: what was run and its headline results.
runs = Table(
    "runs",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("name", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("exchange", String(64), nullable=False),
    Column("pairs", JsonDoc(), nullable=False),
    # The result's own pairs when they differ from the run's (e.g. another order); else NULL.
    Column("result_pairs", JsonDoc(), nullable=True),
    Column("timeframe", String(16), nullable=False),
    Column("quote", String(16), nullable=False),
    Column("start_ts", BigInteger, nullable=False),
    Column("end_ts", BigInteger, nullable=False),
    Column("config", JsonDoc(), nullable=False),
    Column("metrics", JsonDoc(), nullable=False),
    Column("meta", JsonDoc(), nullable=False),
    Column("initial_cash", ExactDecimal(), nullable=False),
    Column("final_equity", ExactDecimal(), nullable=False),
    Column("bars", Integer, nullable=False),
    Column("trade_count", Integer, nullable=False),
    Column("halted_at", BigInteger, nullable=True),
    # RunStatus; runs stored before it existed are "ok".
    Column("status", String(32), nullable=False, server_default=RunStatus.OK.value),
    # What was checked and found (e.g. {"lookahead": {...}}), NULL when nothing was checked.
    Column("checks", JsonDoc(), nullable=True),
    Index("ix_runs_created_at", "created_at"),
    Index("ix_runs_kind_created_at", "kind", "created_at"),
)

#: One closed trade of a run; ``seq`` is its position in the run's trade list.
run_trades = Table(
    "run_trades",
    metadata,
    Column("run_id", String(32), ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("pair", String(64), nullable=False),
    Column("signal_ts", BigInteger, nullable=False),
    Column("entry_ts", BigInteger, nullable=False),
    Column("exit_ts", BigInteger, nullable=False),
    *(Column(name, ExactDecimal(), nullable=False) for name in AMOUNT_FIELDS),
    Column("exit_reason", String(32), nullable=False),
    Column("bars_held", Integer, nullable=False),
)

#: One array of a run (equity, exposure, timestamps...) as zlib-compressed ``.npy`` bytes.
run_series = Table(
    "run_series",
    metadata,
    Column("run_id", String(32), ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("name", String(64), primary_key=True),
    Column("data", LargeBinary, nullable=False),
)
