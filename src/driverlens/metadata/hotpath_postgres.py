"""The hot statements on raw psycopg connections for PostgreSQL (see :mod:`driverlens.metadata.hotpath`).

Through the SQLAlchemy pool each statement took four round trips (pre-ping, ``BEGIN``, the statement,
``ROLLBACK`` on return) and ~200-300 us of CPU in this process; here a read is one round trip on an
autocommit connection with a server-side prepared statement (~30-50 us). A template batch is one
transaction whose inserts are pipelined. Connections come from a small pool of its own (LIFO, so the
warm ones are reused); one that broke while idle (a server restart) is replaced, and a read retried.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import psycopg

from driverlens.metadata import Run, RunState, TemplateVersion
from driverlens.metadata import Template as TemplateRow
from driverlens.metadata.database import Database
from driverlens.metadata.hotpath import (
    CLIENT_LIVE,
    INSERT_TEMPLATE,
    INSERT_VERSION,
    REPORT_EXISTS,
    RUNS_DUE_BETWEEN,
    NewTemplate,
    OutcomeUnknown,
    RunRow,
    run_rows,
)

# As many as SQLAlchemy's default pool (5 + 10 overflow): the threads that read are many (the thread
# pool of the event loop), the connections a server can give a process are not.
POOL_SIZE = 15


def _pg(statement: str) -> str:
    return statement.replace("?", "%s")


_CLIENT_LIVE, _RUNS_DUE_BETWEEN, _REPORT_EXISTS = map(_pg, (CLIENT_LIVE, RUNS_DUE_BETWEEN, REPORT_EXISTS))
_INSERT_TEMPLATE = _pg(INSERT_TEMPLATE) + " RETURNING id"
_INSERT_VERSION = _pg(INSERT_VERSION)


def _identity(value: Any) -> Any:
    return value


class PostgresHotPath:
    """Raw psycopg access for the hot statements, on a pool of at most ``size`` connections."""

    def __init__(self, db: Database, size: int = POOL_SIZE) -> None:
        self._conninfo = db.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._idle: list[psycopg.Connection[Any]] = []
        self._opened: set[psycopg.Connection[Any]] = set()
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(size)
        dialect = db.engine.dialect

        def types(column: Any) -> Any:
            return column.type.dialect_impl(dialect)  # the psycopg form, as the ORM executes it

        def bind(column: Any) -> Callable[[Any], Any]:
            return types(column).bind_processor(dialect) or _identity

        def read(column: Any) -> Callable[[Any], Any]:
            return types(column).result_processor(dialect, None) or _identity

        runs = Run.__table__.c
        self._bind_time = bind(runs.due_at)
        self._read_time, self._read_state, self._read_bool = (
            read(runs.due_at),
            read(runs.state),
            read(runs.manual),
        )
        self._read_json = read(runs.delta_summary)
        self._skipped: Any = bind(runs.state)(RunState.SKIPPED)
        self._bind_created = bind(TemplateRow.__table__.c.created_at)
        self._bind_body = bind(TemplateVersion.__table__.c.body)

    def _connect(self) -> psycopg.Connection[Any]:
        # prepare_threshold=0: every statement is prepared on the server at its first use.
        conn: psycopg.Connection[Any] = psycopg.connect(self._conninfo, autocommit=True, prepare_threshold=0)
        with self._lock:
            self._opened.add(conn)
        return conn

    def _discard(self, conn: psycopg.Connection[Any]) -> None:
        with self._lock:
            self._opened.discard(conn)
        conn.close()

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        """A pooled connection (waits while all are in use; each is held for one call only)."""
        with self._slots:
            with self._lock:
                conn = self._idle.pop() if self._idle else None
            if conn is None:
                conn = self._connect()
            try:
                yield conn
            except BaseException:
                if (
                    conn.broken
                    or conn.closed
                    or conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE
                ):
                    self._discard(conn)
                else:
                    self._release(conn)
                raise
            self._release(conn)

    def _release(self, conn: psycopg.Connection[Any]) -> None:
        with self._lock:
            if conn in self._opened:
                self._idle.append(conn)
                return
        conn.close()  # closed by close() while in use

    def _read(self, fn: Callable[[psycopg.Connection[Any]], Any]) -> Any:
        """``fn`` on a pooled connection, once more on a new one if that connection was broken."""
        used: psycopg.Connection[Any] | None = None
        try:
            with self._connection() as conn:
                used = conn
                return fn(conn)
        except psycopg.OperationalError:
            if used is None or not used.broken:
                raise
        with self._connection() as conn:
            return fn(conn)

    def client_live(self, client_id: str) -> bool:
        """True while the client exists and is not revoked (read at once, never cached)."""
        return bool(self._read(lambda conn: conn.execute(_CLIENT_LIVE, (client_id,)).fetchone()))

    def runs_due_between(
        self, report_id: int, partner_id: int, lower: datetime, upper: datetime
    ) -> list[RunRow] | None:
        """The partner's report's runs due in [lower, upper), not skipped, in listing order;
        None when the report is not the partner's (or deleted)."""
        params = (report_id, partner_id, self._bind_time(lower), self._bind_time(upper), self._skipped)

        def query(conn: psycopg.Connection[Any]) -> list[Any] | None:
            rows = conn.execute(_RUNS_DUE_BETWEEN, params).fetchall()
            if not rows and conn.execute(_REPORT_EXISTS, (report_id, partner_id)).fetchone() is None:
                return None
            return rows

        rows = self._read(query)
        if rows is None:
            return None
        return run_rows(rows, self._read_time, self._read_state, self._read_bool, self._read_json)

    def insert_templates(self, rows: Sequence[NewTemplate]) -> list[int]:
        """Several new templates (each with its version 1) in one transaction, pipelined; their ids."""
        stamped = [(partner_id, self._bind_created(now), body) for partner_id, body, now in rows]
        committing: psycopg.Connection[Any] | None = None
        try:
            with self._connection() as conn, conn.transaction(), conn.cursor() as cur:
                ids = self._insert_batch(cur, stamped)
                committing = conn  # the transaction commits as its block ends
        except psycopg.OperationalError as error:
            if committing is not None and committing.broken:
                raise OutcomeUnknown(f"the connection broke during COMMIT: {error}") from error
            raise  # rolled back: nothing was stored
        return ids

    def _insert_batch(
        self, cur: psycopg.Cursor[Any], stamped: list[tuple[int, Any, dict[str, Any]]]
    ) -> list[int]:
        """The template rows, then their versions, pipelined; the new ids in order."""
        cur.executemany(
            _INSERT_TEMPLATE,
            [(partner_id, stamp, stamp) for partner_id, stamp, _ in stamped],
            returning=True,
        )
        ids: list[int] = []
        while True:
            (template_id,) = cur.fetchone() or (None,)
            assert template_id is not None
            ids.append(int(template_id))
            if not cur.nextset():
                break
        cur.executemany(
            _INSERT_VERSION,
            [(i, self._bind_body(body), stamp) for i, (_, stamp, body) in zip(ids, stamped, strict=True)],
        )
        return ids

    def try_insert_templates(self, rows: Sequence[NewTemplate]) -> list[int] | None:
        """Always None: a PostgreSQL commit waits for its WAL flush, so it never runs on the event loop."""
        return None

    def close(self) -> None:
        with self._lock:
            opened, self._opened, self._idle = self._opened, set(), []
        for conn in opened:
            conn.close()
