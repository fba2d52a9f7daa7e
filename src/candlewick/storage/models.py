"""SQLAlchemy 2 models of stored runs: ``runs``, ``run_trades`` and ``run_series``.

The schema is created by the Alembic migrations in ``migrations/versions``; a test checks that
the migrations and these models agree on SQLite and PostgreSQL. Change both together.

Money columns use :class:`ExactDecimal`: the decimal's canonical string, so a value with up to
28 significant digits (and its exponent and trailing zeros) comes back exactly as it was saved on
every backend. SQLite has no exact numeric type (``NUMERIC`` affinity goes through a float), which
is why a string is used on PostgreSQL too: one representation, one behaviour.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
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


class Base(DeclarativeBase):
    """Declarative base of the storage models, with deterministic constraint names."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class RunRow(Base):
    """One stored run: what was run and its headline results."""

    __tablename__ = "runs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(Text)
    created_at: Mapped[int] = mapped_column(BigInteger)
    exchange: Mapped[str] = mapped_column(String(64))
    pairs: Mapped[list[str]] = mapped_column(JsonDoc())
    # The result's own pairs when they differ from the run's (e.g. another order); else NULL.
    result_pairs: Mapped[list[str] | None] = mapped_column(JsonDoc(), nullable=True)
    timeframe: Mapped[str] = mapped_column(String(16))
    quote: Mapped[str] = mapped_column(String(16))
    start_ts: Mapped[int] = mapped_column(BigInteger)
    end_ts: Mapped[int] = mapped_column(BigInteger)
    config: Mapped[dict[str, Any]] = mapped_column(JsonDoc())
    metrics: Mapped[dict[str, Any]] = mapped_column(JsonDoc())
    meta: Mapped[dict[str, Any]] = mapped_column(JsonDoc())
    initial_cash: Mapped[Decimal] = mapped_column(ExactDecimal)
    final_equity: Mapped[Decimal] = mapped_column(ExactDecimal)
    bars: Mapped[int] = mapped_column(Integer)
    trade_count: Mapped[int] = mapped_column(Integer)
    halted_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)

    __table_args__ = (
        Index("ix_runs_created_at", "created_at"),
        Index("ix_runs_kind_created_at", "kind", "created_at"),
    )


class RunTradeRow(Base):
    """One closed trade of a run; ``seq`` is its position in the run's trade list."""

    __tablename__ = "run_trades"

    run_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    pair: Mapped[str] = mapped_column(String(64))
    signal_ts: Mapped[int] = mapped_column(BigInteger)
    entry_ts: Mapped[int] = mapped_column(BigInteger)
    exit_ts: Mapped[int] = mapped_column(BigInteger)
    entry_price: Mapped[Decimal] = mapped_column(ExactDecimal)
    exit_price: Mapped[Decimal] = mapped_column(ExactDecimal)
    qty: Mapped[Decimal] = mapped_column(ExactDecimal)
    qty_net: Mapped[Decimal] = mapped_column(ExactDecimal)
    cost: Mapped[Decimal] = mapped_column(ExactDecimal)
    proceeds: Mapped[Decimal] = mapped_column(ExactDecimal)
    entry_fee: Mapped[Decimal] = mapped_column(ExactDecimal)
    exit_fee: Mapped[Decimal] = mapped_column(ExactDecimal)
    exit_reason: Mapped[str] = mapped_column(String(32))
    bars_held: Mapped[int] = mapped_column(Integer)


class RunSeriesRow(Base):
    """One array of a run (equity, exposure, timestamps...) as zlib-compressed ``.npy`` bytes."""

    __tablename__ = "run_series"

    run_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
