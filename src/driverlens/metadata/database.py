"""The database handle: one engine per URL, sessions that commit on success, SQLite tuned for workers.

SQLite: WAL journal, a 30 s busy timeout, foreign keys on. pysqlite's own transaction handling is
switched off so SQLAlchemy emits ``BEGIN`` itself; :meth:`Database.write_session` emits
``BEGIN IMMEDIATE`` instead, which takes the write lock up front, so a read-then-write claim can never
fail half-way with "database is locked" (the second writer waits for the busy timeout instead).
PostgreSQL (psycopg 3): ordinary transactions; use ``SELECT ... FOR UPDATE SKIP LOCKED`` for claims.

For async callers (the API) the handle also owns the process's one metadata writer thread
(:meth:`Database.write`), the raw-driver fast path of the hottest statements on a SQLite file or
PostgreSQL (:attr:`Database.fast`, used by the repositories only) and the group commit of template
creations built on both, like datasette's ``Database``: one object owns SQLite's single writer.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from anyio.to_thread import run_sync
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from driverlens.metadata.group_commit import TemplateInserts
    from driverlens.metadata.hotpath import HotPath

T = TypeVar("T")

SQLITE_BUSY_TIMEOUT_MS = 30_000
_BEGIN_OPTION = "driverlens_sqlite_begin"
# Set while work queued with Database.write runs: its SQLite transactions begin IMMEDIATE.
_WRITING: contextvars.ContextVar[bool] = contextvars.ContextVar("driverlens_metadata_writing", default=False)


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
        # A deferred transaction that reads and then writes fails at once with "database is locked"
        # (SQLITE_BUSY_SNAPSHOT, no busy wait) when another connection committed in between; work
        # queued for the writer takes the write lock up front and waits for it instead.
        default = "IMMEDIATE" if _WRITING.get() else "DEFERRED"
        mode = connection.get_execution_options().get(_BEGIN_OPTION, default)
        connection.exec_driver_sql(f"BEGIN {mode}")


def _as_writer(fn: Callable[..., T], *args: Any) -> T:
    _WRITING.set(True)  # in the copied context of this one call only
    return fn(*args)


class Database:
    """A metadata store at ``url`` (SQLite file or PostgreSQL).

    ``session()`` for ordinary work; ``write_session()`` when the transaction reads and then writes
    rows that another process may be writing too (claims, leases, counters).
    Objects stay usable after their session closes (``expire_on_commit=False``).
    """

    def __init__(self, url: str | URL, *, echo: bool = False, fast_path: bool = True) -> None:
        """``fast_path=False`` keeps every statement on SQLAlchemy (the raw-driver twins' reference)."""
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
        self._fast_path = fast_path and (
            self.dialect_name == "postgresql"
            or (self.dialect_name == "sqlite" and _sqlite_file(self.url) is not None)
        )
        self._lock = threading.RLock()
        self._writer: ThreadPoolExecutor | None = None
        self._fast: HotPath | None = None
        self._template_inserts: TemplateInserts | None = None

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

    @property
    def writer(self) -> ThreadPoolExecutor:
        """The process's one metadata writer thread (started on first use)."""
        with self._lock:
            if self._writer is None:
                self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="driverlens-writer")
            return self._writer

    @property
    def fast(self) -> HotPath | None:
        """Raw-driver twins of the hottest statements (a SQLite file or PostgreSQL); for repositories."""
        if not self._fast_path:
            return None
        if self._fast is not None:  # the common case, read on every hot request: no lock
            return self._fast
        writer = self.writer
        with self._lock:
            if self._fast is None:
                from driverlens.metadata.hotpath import for_database

                self._fast = for_database(self, checkpoints=writer)
            return self._fast

    @property
    def template_inserts(self) -> TemplateInserts | None:
        """Group commit of template creations over :attr:`fast` (None without a fast path)."""
        if self._template_inserts is not None:
            return self._template_inserts
        fast = self.fast
        if fast is None:
            return None
        with self._lock:
            if self._template_inserts is None:
                from driverlens.metadata.group_commit import TemplateInserts

                self._template_inserts = TemplateInserts(fast, self.writer)
            return self._template_inserts

    async def read(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a short metadata read from async code. On SQLite (WAL) readers never wait for writers, so
        the read runs inline: a thread hop costs more than the query. Elsewhere it runs in a thread."""
        if self.is_sqlite:
            return fn(*args)
        return await run_sync(partial(fn, *args))

    async def write(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a metadata write on the one writer thread: SQLite takes one writer at a time, and a queue
        here is cheaper than many threads contending for its lock. The caller's context (its
        trackingId for the log) goes along; on SQLite its transactions begin IMMEDIATE."""
        call = partial(contextvars.copy_context().run, _as_writer, fn, *args)
        return await asyncio.get_running_loop().run_in_executor(self.writer, call)

    def ping(self) -> None:
        """One trivial statement: raises when the store cannot be reached (the readiness probe)."""
        with self.engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")

    def dispose(self) -> None:
        """Stop the writer thread (after its queued work), close the fast path's connections and pool."""
        with self._lock:
            writer, self._writer = self._writer, None
            fast, self._fast = self._fast, None
            self._template_inserts = None
        if writer is not None:
            writer.shutdown(wait=True)
        if fast is not None:
            fast.close()
        self.engine.dispose()

    def __repr__(self) -> str:
        return f"Database({self.url.render_as_string(hide_password=True)!r})"
