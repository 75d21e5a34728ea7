"""The hottest metadata statements on plain driver connections, beside their SQLAlchemy originals.

The bearer check (is the client still live?), report data (polled) and template creation run on every
such request; through SQLAlchemy each statement costs 50-300 us of connection, transaction and result
machinery (on PostgreSQL also a pre-ping and a ``BEGIN``/``ROLLBACK`` per checkout, each a round trip),
directly on the driver a few microseconds. Values are bound with the backend's forms of the models' own
column types (their public bind processors), so what is stored is byte for byte what the ORM stores
(tests compare both on both backends); rows are read back as the column types read them.

:class:`HotPath` is the one interface: :class:`SqliteHotPath` (raw ``sqlite3``, a SQLite file only) and
``hotpath_postgres.PostgresHotPath`` (raw psycopg). Owned by a ``Database`` (``Database.fast``, built by
:func:`for_database`) and chosen inside the repositories (clients, runs, templates); no caller sees the
difference.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from datetime import UTC, datetime
from typing import Any, Protocol

from driverlens.metadata import Run, RunState, TemplateVersion
from driverlens.metadata import Template as TemplateRow
from driverlens.metadata.database import SQLITE_BUSY_TIMEOUT_MS, Database

# The statements, once for both backends (qmark placeholders; PostgreSQL gets them as %s).
CLIENT_LIVE = "SELECT 1 FROM clients WHERE client_id = ? AND revoked_at IS NULL"
RUNS_DUE_BETWEEN = (
    "SELECT runs.due_at, runs.state, runs.location, runs.manual, runs.format, runs.sha256, "
    "runs.store_version, runs.data_newest_event_at, runs.delta_summary "
    "FROM runs JOIN reports ON reports.id = runs.report_id "
    "WHERE reports.id = ? AND reports.partner_id = ? AND reports.deleted_at IS NULL "
    "AND runs.due_at >= ? AND runs.due_at < ? AND runs.state != ? "
    "ORDER BY runs.due_at, runs.manual, runs.run_index"
)
REPORT_EXISTS = "SELECT 1 FROM reports WHERE id = ? AND partner_id = ? AND deleted_at IS NULL"
INSERT_TEMPLATE = (
    "INSERT INTO templates (partner_id, current_version, created_at, modified_at) VALUES (?, 1, ?, ?)"
)
INSERT_VERSION = "INSERT INTO template_versions (template_id, version, body, created_at) VALUES (?, 1, ?, ?)"

# Hot connections never checkpoint by themselves (a checkpoint syncs files); every this many rows
# committed a passive checkpoint is queued on the checkpoint executor instead, so the WAL stays small.
CHECKPOINT_EVERY_COMMITS = 500

RunRow = tuple[
    datetime, RunState, str, bool, str, str | None, int | None, datetime | None, dict[str, Any] | None
]
# A template to create: (partner id, canonical body, creation time).
NewTemplate = tuple[int, dict[str, Any], datetime]


def run_rows(
    rows: Sequence[Sequence[Any]],
    read_time: Callable[[Any], datetime],
    read_state: Callable[[Any], RunState],
    read_bool: Callable[[Any], bool],
    read_json: Callable[[Any], dict[str, Any]],
) -> list[RunRow]:
    """Rows of ``RUNS_DUE_BETWEEN`` as the ORM reads them, with the driver's own value readers."""
    return [
        (
            read_time(due),
            read_state(state),
            location,
            read_bool(manual),
            fmt,
            sha256,
            version,
            read_time(newest) if newest is not None else None,
            read_json(delta) if delta is not None else None,
        )
        for due, state, location, manual, fmt, sha256, version, newest, delta in rows
    ]


class OutcomeUnknown(Exception):
    """The connection broke while a batch was being written: it may or may not have been committed, so
    its rows must not be written again one by one (that could store a template twice)."""


class HotPath(Protocol):
    """Raw-driver twins of the hot statements; each returns what its SQLAlchemy original returns."""

    def client_live(self, client_id: str) -> bool:
        """True while the client exists and is not revoked (read at once, never cached)."""

    def runs_due_between(
        self, report_id: int, partner_id: int, lower: datetime, upper: datetime
    ) -> list[RunRow] | None:
        """The partner's report's runs due in [lower, upper), not skipped, in listing order;
        None when the report is not the partner's (or deleted)."""

    def insert_templates(self, rows: Sequence[NewTemplate]) -> list[int]:
        """Several new templates (each with its version 1) in one transaction; their ids. May wait:
        run it on the writer thread, never on the event loop. Raises :class:`OutcomeUnknown` when the
        connection broke before the commit was confirmed."""

    def try_insert_templates(self, rows: Sequence[NewTemplate]) -> list[int] | None:
        """Like :meth:`insert_templates` when that cannot wait (safe on the event loop); else None,
        and the caller queues :meth:`insert_templates` on the writer thread."""

    def close(self) -> None:
        """Close every connection opened."""


def for_database(db: Database, checkpoints: Executor | None = None) -> HotPath | None:
    """The hot path for ``db``: SQLite file or PostgreSQL (None for in-memory SQLite). ``checkpoints``
    is the executor that SQLite's WAL checkpoints run on (see :class:`SqliteHotPath`)."""
    if db.dialect_name == "postgresql":
        from driverlens.metadata.hotpath_postgres import PostgresHotPath

        return PostgresHotPath(db)
    return SqliteHotPath.for_database(db, checkpoints)


def _identity(value: Any) -> Any:
    return value


def _utc_from_sqlite(value: Any) -> datetime:
    """What ``UtcDateTime`` reads from SQLite (naive UTC text), parsed by the C ISO parser."""
    parsed = datetime.fromisoformat(value) if isinstance(value, str) else value
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def sqlite_file(db: Database) -> str | None:
    """The file behind a SQLite ``db`` (None for PostgreSQL, in-memory or ``file:`` URLs)."""
    if not db.is_sqlite:
        return None
    database = db.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return database


class SqliteHotPath:
    """Raw ``sqlite3`` access for the hot statements; connections are per thread, opened on first use."""

    def __init__(self, path: str, db: Database, checkpoints: Executor | None = None) -> None:
        self.path = path
        self._checkpoints = checkpoints
        self._commits = 0
        self._local = threading.local()
        self._opened: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        dialect = db.engine.dialect

        def types(column: Any) -> Any:
            return column.type.dialect_impl(dialect)  # the SQLite form, as the ORM executes it

        due, state = types(Run.__table__.c.due_at), types(Run.__table__.c.state)
        self._bind_time: Callable[[Any], Any] = due.bind_processor(dialect) or _identity
        self._read_time: Callable[[Any], Any] = _utc_from_sqlite
        self._read_state: Callable[[Any], Any] = state.result_processor(dialect, None) or _identity
        manual = types(Run.__table__.c.manual)
        self._read_bool: Callable[[Any], Any] = manual.result_processor(dialect, None) or _identity
        self._skipped: Any = (state.bind_processor(dialect) or _identity)(RunState.SKIPPED)
        created = types(TemplateRow.__table__.c.created_at)
        self._bind_created: Callable[[Any], Any] = created.bind_processor(dialect) or _identity
        body = types(TemplateVersion.__table__.c.body)
        self._bind_body: Callable[[Any], Any] = body.bind_processor(dialect) or _identity

    @classmethod
    def for_database(cls, db: Database, checkpoints: Executor | None = None) -> SqliteHotPath | None:
        """The hot path for a SQLite file (None otherwise); ``checkpoints`` runs WAL checkpoints that
        non-waiting writes leave out (without it, :meth:`try_insert_templates` always declines)."""
        path = sqlite_file(db)
        return None if path is None else cls(path, db, checkpoints)

    def _conn(self) -> sqlite3.Connection:
        """This thread's connection. One per thread for reads and writes alike: a connection's page
        cache survives its own commits, while another connection's commit empties it."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            conn.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            if self._checkpoints is not None:
                conn.execute("PRAGMA wal_autocheckpoint = 0")  # see CHECKPOINT_EVERY_COMMITS
            self._local.conn = conn
            with self._lock:
                self._opened.append(conn)
        return conn

    def client_live(self, client_id: str) -> bool:
        """True while the client exists and is not revoked (read at once, never cached)."""
        return self._conn().execute(CLIENT_LIVE, (client_id,)).fetchone() is not None

    def runs_due_between(
        self, report_id: int, partner_id: int, lower: datetime, upper: datetime
    ) -> list[RunRow] | None:
        """The partner's report's runs due in [lower, upper), not skipped, in listing order;
        None when the report is not the partner's (or deleted)."""
        conn = self._conn()
        params = (report_id, partner_id, self._bind_time(lower), self._bind_time(upper), self._skipped)
        rows = conn.execute(RUNS_DUE_BETWEEN, params).fetchall()
        if not rows and conn.execute(REPORT_EXISTS, (report_id, partner_id)).fetchone() is None:
            return None
        return run_rows(rows, self._read_time, self._read_state, self._read_bool, json.loads)

    def insert_templates(self, rows: Sequence[NewTemplate]) -> list[int]:
        """Several new templates (each with its version 1) in one write transaction; their ids.
        Waits for the write lock (busy timeout): run it on a writer thread, never on the event loop."""
        ids = self._insert_templates(self._conn(), rows, nowait=False)
        assert ids is not None
        return ids

    def try_insert_templates(self, rows: Sequence[NewTemplate]) -> list[int] | None:
        """Like :meth:`insert_templates`, but never waits: None at once when another connection holds the
        write lock (the caller then queues :meth:`insert_templates` on its writer thread), and always
        None without a checkpoint executor. A commit in WAL mode with ``synchronous = NORMAL`` syncs
        nothing, so this is safe on the event loop."""
        if self._checkpoints is None:
            return None
        return self._insert_templates(self._conn(), rows, nowait=True)

    def _checkpoint(self) -> None:
        self._conn().execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    def _insert_templates(
        self, conn: sqlite3.Connection, rows: Sequence[NewTemplate], *, nowait: bool
    ) -> list[int] | None:
        bound = [
            (partner_id, self._bind_created(now), self._bind_body(body)) for partner_id, body, now in rows
        ]
        if not self._begin_immediate(conn, nowait):
            return None
        ids: list[int] = []
        try:
            for partner_id, stamp, encoded in bound:
                template_id = conn.execute(INSERT_TEMPLATE, (partner_id, stamp, stamp)).lastrowid
                assert template_id is not None
                conn.execute(INSERT_VERSION, (template_id, encoded, stamp))
                ids.append(template_id)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        self._committed(len(ids))
        return ids

    @staticmethod
    def _begin_immediate(conn: sqlite3.Connection, nowait: bool) -> bool:
        """Take the write lock; with ``nowait``, False at once when another connection holds it."""
        if not nowait:
            conn.execute("BEGIN IMMEDIATE")
            return True
        conn.execute("PRAGMA busy_timeout = 0")
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
                return False
            raise
        finally:
            conn.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        return True

    def _committed(self, rows: int) -> None:
        """Hot connections never checkpoint by themselves (a checkpoint syncs files, and may run on the
        event loop); every CHECKPOINT_EVERY_COMMITS commits a passive one is queued instead."""
        self._commits += rows
        if self._commits >= CHECKPOINT_EVERY_COMMITS and self._checkpoints is not None:
            self._commits = 0
            with contextlib.suppress(RuntimeError):  # the executor is shut down: stopping anyway
                self._checkpoints.submit(self._checkpoint)

    def close(self) -> None:
        with self._lock:
            opened, self._opened = self._opened, []
        for conn in opened:
            conn.close()
