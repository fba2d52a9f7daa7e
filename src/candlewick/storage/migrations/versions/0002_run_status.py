"""A run's status (ok / lookahead_failed) and the checks it went through.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01

Runs stored before are ``ok`` with no checks (the server default fills them).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    """Add ``runs.status`` (default ``ok``) and ``runs.checks`` (JSON, nullable)."""
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("status", sa.String(32), nullable=False, server_default="ok"))
        batch.add_column(sa.Column("checks", _json(), nullable=True))


def downgrade() -> None:
    """Drop ``runs.checks`` and ``runs.status``."""
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("checks")
        batch.drop_column("status")
