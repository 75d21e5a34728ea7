"""Alembic environment, driven by :mod:`driverlens.metadata.migrate` (no alembic.ini needed).

The caller hands over an open connection already inside the migration transaction (which holds the
SQLite write lock or the PostgreSQL advisory lock) in ``config.attributes["connection"]``.
"""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import Connection

from driverlens.metadata.database import Database
from driverlens.metadata.models import Base


def _configure(connection: Connection, **extra: Any) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        compare_type=True,
        render_as_batch=connection.dialect.name == "sqlite",
        transactional_ddl=True,
        **extra,
    )


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    database = Database(context.config.get_main_option("sqlalchemy.url") or "")
    try:
        with database.write_connection() as owned:
            _configure(owned)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        database.dispose()


if context.is_offline_mode():
    context.configure(
        url=context.config.get_main_option("sqlalchemy.url"),
        target_metadata=Base.metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
