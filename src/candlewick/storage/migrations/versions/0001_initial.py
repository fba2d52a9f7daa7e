"""Runs, their trades and their series.

Revision ID: 0001
Revises:
Create Date: 2026-11-22

Amounts are decimal strings (``VARCHAR(64)``), see ``candlewick.storage.models.ExactDecimal``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_AMOUNT_CHARS = 64


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _amount(name: str) -> sa.Column[str]:
    return sa.Column(name, sa.String(_AMOUNT_CHARS), nullable=False)


def _run_id() -> sa.Column[str]:
    return sa.Column("run_id", sa.String(32), nullable=False)


def upgrade() -> None:
    """Create ``runs``, ``run_trades`` and ``run_series`` with their indexes."""
    op.create_table(
        "runs",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("exchange", sa.String(64), nullable=False),
        sa.Column("pairs", _json(), nullable=False),
        sa.Column("result_pairs", _json(), nullable=True),
        sa.Column("timeframe", sa.String(16), nullable=False),
        sa.Column("quote", sa.String(16), nullable=False),
        sa.Column("start_ts", sa.BigInteger(), nullable=False),
        sa.Column("end_ts", sa.BigInteger(), nullable=False),
        sa.Column("config", _json(), nullable=False),
        sa.Column("metrics", _json(), nullable=False),
        sa.Column("meta", _json(), nullable=False),
        _amount("initial_cash"),
        _amount("final_equity"),
        sa.Column("bars", sa.Integer(), nullable=False),
        sa.Column("trade_count", sa.Integer(), nullable=False),
        sa.Column("halted_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_runs"),
    )
    op.create_index("ix_runs_created_at", "runs", ["created_at"])
    op.create_index("ix_runs_kind_created_at", "runs", ["kind", "created_at"])

    op.create_table(
        "run_trades",
        _run_id(),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("pair", sa.String(64), nullable=False),
        sa.Column("signal_ts", sa.BigInteger(), nullable=False),
        sa.Column("entry_ts", sa.BigInteger(), nullable=False),
        sa.Column("exit_ts", sa.BigInteger(), nullable=False),
        _amount("entry_price"),
        _amount("exit_price"),
        _amount("qty"),
        _amount("qty_net"),
        _amount("cost"),
        _amount("proceeds"),
        _amount("entry_fee"),
        _amount("exit_fee"),
        sa.Column("exit_reason", sa.String(32), nullable=False),
        sa.Column("bars_held", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name="fk_run_trades_run_id_runs", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("run_id", "seq", name="pk_run_trades"),
    )

    op.create_table(
        "run_series",
        _run_id(),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name="fk_run_series_run_id_runs", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("run_id", "name", name="pk_run_series"),
    )


def downgrade() -> None:
    """Drop the three tables (and every stored run)."""
    op.drop_table("run_series")
    op.drop_table("run_trades")
    op.drop_index("ix_runs_kind_created_at", table_name="runs")
    op.drop_index("ix_runs_created_at", table_name="runs")
    op.drop_table("runs")
