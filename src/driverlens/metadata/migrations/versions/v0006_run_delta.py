"""Delta reports: a run records its delta summary and the blob of its full (undelta'd) result.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 14:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("delta_summary", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("delta_base", sa.String(length=1024), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("delta_base")
        batch.drop_column("delta_summary")
