"""Crash dump cabinets, their links to failure events, and collectors.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-05 04:55:22.920020
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cabs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cab_id_hash", sa.String(length=64), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("blob_key", sa.String(length=512), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("expanded_size", sa.BigInteger(), nullable=False),
        sa.Column("file_count", sa.Integer(), nullable=False),
        sa.Column("dump_file", sa.String(length=256), nullable=False),
        sa.Column("dump_type", sa.String(length=16), nullable=False),
        sa.Column("dump_format", sa.String(length=32), nullable=False),
        sa.Column("bugcheck_code", sa.BigInteger(), nullable=True),
        sa.Column("bugcheck_parameters", sa.JSON(), nullable=True),
        sa.Column("exception_code", sa.BigInteger(), nullable=True),
        sa.Column("os_build", sa.String(length=32), nullable=False),
        sa.Column("faulting_module", sa.String(length=256), nullable=True),
        sa.Column("faulting_module_version", sa.String(length=64), nullable=True),
        sa.Column("bucket_mismatch", sa.Text(), nullable=True),
        sa.Column("collected_by", sa.String(length=100), nullable=False),
        sa.Column("collected_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cabs")),
        sa.UniqueConstraint("cab_id_hash", name=op.f("uq_cabs_cab_id_hash")),
        sa.UniqueConstraint("sha256", name=op.f("uq_cabs_sha256")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "collectors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("collector_id", sa.String(length=100), nullable=False),
        sa.Column("secret_hash", sa.String(length=500), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_collectors")),
        sa.UniqueConstraint("collector_id", name=op.f("uq_collectors_collector_id")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "cab_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cab_id", sa.Integer(), nullable=False),
        sa.Column("event_cab_id_hash", sa.String(length=64), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["cab_id"], ["cabs.id"], name=op.f("fk_cab_links_cab_id_cabs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cab_links")),
        sa.UniqueConstraint(
            "event_cab_id_hash", "event_id", name=op.f("uq_cab_links_event_cab_id_hash_event_id")
        ),
    )
    op.create_index(op.f("ix_cab_links_cab_id"), "cab_links", ["cab_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_cab_links_cab_id"), table_name="cab_links")
    op.drop_table("cab_links")
    op.drop_table("collectors")
    op.drop_table("cabs")
