"""Schema migrations: ``migrate(url)`` brings any metadata store to the newest revision.

Safe to call at every start and from several processes at once: the whole upgrade runs in one
transaction that first takes a lock (SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: a transaction-scoped
advisory lock per schema), so the second process waits, then finds the schema at head and does nothing.

New revision after a model change (developers)::

    python -c "from driverlens.metadata.migrate import make_revision; make_revision('what changed')"

then review the file (SQLite needs batch operations for ALTER; the env renders them as batches).
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.engine import URL

from driverlens.metadata.database import Database

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# First key of the two-key advisory lock; the second is a hash of the schema name.
_ADVISORY_LOCK_CLASS = 0x0D1E
_VERSION_TABLE = "alembic_version"


def alembic_config(url: str | URL | None = None) -> Config:
    """An Alembic configuration built in code, pointing at the packaged migrations."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    config.set_main_option("file_template", "v%%(rev)s_%%(slug)s")
    if url is not None:
        rendered = url if isinstance(url, str) else url.render_as_string(hide_password=False)
        config.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))
    return config


def head_revision() -> str:
    """The newest revision shipped with this code."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"no migrations found in {MIGRATIONS_DIR}")
    return head


def current_revision(database: Database) -> str | None:
    """The revision the store is at, or None for an empty store."""
    with database.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def _lock(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(
            text("SELECT pg_advisory_xact_lock(:cls, hashtext(current_schema()))"),
            {"cls": _ADVISORY_LOCK_CLASS},
        )


def migrate_database(database: Database, revision: str = "head") -> None:
    """Upgrade an open store to ``revision`` in one locked transaction."""
    config = alembic_config()
    with database.write_connection() as connection:  # BEGIN IMMEDIATE on SQLite
        _lock(connection)
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def migrate(url: str | URL, revision: str = "head") -> None:
    """Upgrade the store at ``url`` to ``revision`` (default: the newest); idempotent."""
    database = Database(url)
    try:
        migrate_database(database, revision)
    finally:
        database.dispose()


def make_revision(message: str) -> Path:
    """Autogenerate the next revision file (``vNNNN_<slug>.py``) from the models' difference to head."""
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        target = f"sqlite:///{scratch}/autogen.db"
        migrate(target)
        config = alembic_config(target)
        rev_id = f"{int(head_revision()) + 1:04d}"
        script = command.revision(config, message=message, autogenerate=True, rev_id=rev_id)
    assert script is not None and not isinstance(script, list)
    return Path(script.path)
