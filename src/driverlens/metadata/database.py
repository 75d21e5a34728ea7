"""The database handle: one engine per URL, sessions that commit on success, SQLite tuned for workers.

SQLite: WAL journal, a 30 s busy timeout, foreign keys on. pysqlite's own transaction handling is
switched off so SQLAlchemy emits ``BEGIN`` itself; :meth:`Database.write_session` emits
``BEGIN IMMEDIATE`` instead, which takes the write lock up front, so a read-then-write claim can never
fail half-way with "database is locked" (the second writer waits for the busy timeout instead).
PostgreSQL (psycopg 3): ordinary transactions; use ``SELECT ... FOR UPDATE SKIP LOCKED`` for claims.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 30_000
_BEGIN_OPTION = "driverlens_sqlite_begin"


def normalize_url(url: str | URL) -> URL:
    """Use psycopg 3 for every PostgreSQL URL (``postgresql://``, ``postgres://``)."""
    if isinstance(url, str) and url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql" and parsed.drivername != "postgresql+psycopg":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def _sqlite_file(url: URL) -> Path | None:
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Autocommit at the driver level: SQLAlchemy's "begin" hook below owns BEGIN.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get(_BEGIN_OPTION, "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")


class Database:
    """A metadata store at ``url`` (SQLite file or PostgreSQL).

    ``session()`` for ordinary work; ``write_session()`` when the transaction reads and then writes
    rows that another process may be writing too (claims, leases, counters).
    Objects stay usable after their session closes (``expire_on_commit=False``).
    """

    def __init__(self, url: str | URL, *, echo: bool = False) -> None:
        self.url = normalize_url(url)
        self.dialect_name = self.url.get_backend_name()
        kwargs: dict[str, Any] = {"echo": echo}
        if self.dialect_name == "sqlite":
            path = _sqlite_file(self.url)
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
        else:
            kwargs["pool_pre_ping"] = True
        self.engine: Engine = create_engine(self.url, **kwargs)
        self._write_engine: Engine = self.engine
        if self.dialect_name == "sqlite":
            _configure_sqlite(self.engine)
            self._write_engine = self.engine.execution_options(**{_BEGIN_OPTION: "IMMEDIATE"})
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._write_sessions = sessionmaker(self._write_engine, expire_on_commit=False)

    @property
    def url_text(self) -> str:
        """The URL with its password, to hand to another process (never log it)."""
        return self.url.render_as_string(hide_password=False)

    @property
    def is_sqlite(self) -> bool:
        return self.dialect_name == "sqlite"

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction: committed if the block succeeds, rolled back if it raises."""
        with self._sessions() as session, session.begin():
            yield session

    @contextmanager
    def write_session(self) -> Iterator[Session]:
        """Like :meth:`session`, but on SQLite the transaction starts with ``BEGIN IMMEDIATE``."""
        with self._write_sessions() as session, session.begin():
            yield session

    @contextmanager
    def write_connection(self) -> Iterator[Connection]:
        """A Core connection in a write transaction (``BEGIN IMMEDIATE`` on SQLite), committed on success."""
        with self._write_engine.begin() as connection:
            yield connection

    def dispose(self) -> None:
        self.engine.dispose()

    def __repr__(self) -> str:
        return f"Database({self.url.render_as_string(hide_password=True)!r})"
