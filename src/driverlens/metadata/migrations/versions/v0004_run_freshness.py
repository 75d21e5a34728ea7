"""Runs record how fresh their data was: the event table version read and its newest event time.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05 06:35:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from driverlens.metadata.types import UtcDateTime

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("store_version", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("data_newest_event_at", UtcDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("data_newest_event_at")
        batch.drop_column("store_version")
