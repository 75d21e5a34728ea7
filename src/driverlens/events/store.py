"""The failure-event store: one DuckDB database file, the events clustered once per view.

Layout: ``<data_dir>/events/events.duckdb`` holds table ``failure_events`` clustered by
``schema.CLUSTER_KEY`` (IHV partner, FailureDate, OEM partner), read by IHVDriver reports, and
``failure_events_by_oem``, the same events (every stored column but EventId) clustered by
``schema.OEM_CLUSTER_KEY`` (OEM partner, FailureDate, IHV partner), read by OEMDriver reports (the
compiler picks the table by view). Every write (seed, ingest, purge, compact) changes both tables in one
transaction: the main table first, then ``mirror_appended`` copies exactly that write's rows, sorted as a
whole, into the OEM copy; dedupe by EventId reads the main table. A database file (rather than Parquet
partitioned by date) gives transactional, all-or-nothing loads and dedupe for free, and DuckDB's
per-row-group zone maps prune as well as partitions would when each write is stored in cluster order.

Why two tables, measured at 10M seeded rows (a shared store: 32 driver vendors and 17 machine makers;
Contoso owns 12% of the events, Northwind's machines 12%), hand-written sample templates, a fresh
connection per run as a report run has, engine session settings, median of 9, against the naive file
(one Parquet file in arrival order, ids as text), on the shared 2-core machine (load 3-4):

    layout                     t3 (IHV 30 d)   t4 (OEM 7 d)   t5 (IHV 90 d)   store
    two tables (kept)          220 ms 2.37x    36 ms 1.89x    215 ms 3.64x    1996 MiB
    IHV-major table only       223 ms 2.34x    80 ms 0.84x    215 ms 3.65x     965 MiB
    date-major table only      280 ms 1.86x    56 ms 1.21x    261 ms 3.01x    1030 MiB
    naive Parquet file         521 ms          68 ms          784 ms          1369 MiB

With one IHV-major table an OEM query reads the window of every IHV's run (no partner pruning); date-major
gives no partner pruning to either view. Smaller row groups (ROW_GROUP_SIZE 16K/32K/64K on the OEM copy:
38/33/30 ms vs 27 ms for t4) were slower, most likely from the extra row-group metadata each fresh
connection loads. The copy costs
storage and write time: seeding 10M rows took 58 s at load ~3 and 108-115 s at load 4-5 (71 s without the
copy at load 5-6); the copy leaves out EventId, a third of its cost. On a warm connection (``python -m
driverlens.events.bench``, best of 3, 10M) the OEM query takes 9.4 ms on the copy vs 13.8 ms on the
IHV-major table and 57 ms in arrival order; the 30- and 90-day IHV aggregations take 82 and 67 ms
clustered vs 164 and 97 ms in arrival order (they are dominated by the DCOUNT aggregation, not the scan).

Concurrency: DuckDB lets one process open the file read-write, or any number of processes open it
read-only, not both. Readers (API, workers) read inside ``reading()``: the file stays attached to the
process's warm DuckDB instance between reads and is let go as soon as a writer announces itself
(``events.reader``; a fresh connection per report cost more than most report queries). ``connect()``
opens a connection of its own, closed by the caller. Writers (``writer()``: ingest, seed, purge) announce
themselves while they wait for the lock; both sides retry for ``busy_timeout_s`` and then raise
``ServiceUnavailable``. Inside a process that already holds a read-write connection, ``connect()``
returns a read-write connection instead, because DuckDB refuses mixed configurations in one process.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb

from driverlens.clock import ensure_utc
from driverlens.errors import IngestError, ServiceUnavailable
from driverlens.events.reader import announced_writer, attached
from driverlens.events.schema import (
    CLUSTER_KEY,
    COLUMN_NAMES,
    OEM_CLUSTER_KEY,
    OEM_COLUMN_NAMES,
    OEM_TABLE,
    TABLE,
    create_table_sql,
    quoted,
)

DB_FILENAME = "events.duckdb"


@dataclass(frozen=True)
class IngestReport:
    """Outcome of one ``ingest`` call over all its files."""

    loaded: int
    duplicates: int
    rejected: int
    rejects_path: Path | None = None
    rejects_paths: tuple[Path, ...] = ()


class EventStore:
    """Failure events of every partner, stored in ``<data_dir>/events/events.duckdb``."""

    def __init__(self, data_dir: Path, *, busy_timeout_s: float = 10.0) -> None:
        self.data_dir = Path(data_dir)
        self.path = self.data_dir / "events" / DB_FILENAME
        self.busy_timeout_s = busy_timeout_s
        self._upgraded = False

    def __repr__(self) -> str:
        return f"EventStore({str(self.data_dir)!r})"

    # -- connections -------------------------------------------------------------------------------

    def connect(self, read_only: bool = True) -> duckdb.DuckDBPyConnection:
        """A new connection where ``failure_events`` (and its OEM copy) is queryable; the caller closes it."""
        self._ensure_created()
        con = self._connect(read_only)
        if not self._upgraded:
            if not _has_oem_copy(con):
                # A store written before the OEM copy existed: add it once (needs the write lock).
                con.close()
                with self.writer():
                    pass
                con = self._connect(read_only)
            self._upgraded = True
        return con

    @contextmanager
    def reading(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor for one block of reads, on the process's warm DuckDB instance (``events.reader``).

        The file stays attached between blocks until a writer announces itself; then writers wait for
        the running blocks only. The caller closes nothing.
        """
        if not self._upgraded:
            self.connect().close()  # creates the store, or adds the OEM copy to an old one, once
        with attached(self.path, busy_timeout_s=self.busy_timeout_s, fallback=self.connect) as cursor:
            yield cursor

    def _connect(self, read_only: bool) -> duckdb.DuckDBPyConnection:
        if not read_only:
            return self._open(read_only=False)
        try:
            return self._open(read_only=True)
        except duckdb.ConnectionException:
            # This process already holds the file read-write: read through that configuration.
            return self._open(read_only=False)

    @contextmanager
    def writer(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-write connection, closed (and checkpointed) on exit so readers can open the file."""
        self._ensure_created()
        try:
            con = self._open(read_only=False)
        except duckdb.ConnectionException as exc:
            raise ServiceUnavailable(
                "the event store is open read-only in this process; close read connections before writing"
            ) from exc
        try:
            _add_oem_copy(con)
            self._upgraded = True
            yield con
        finally:
            con.close()

    def _open(self, *, read_only: bool) -> duckdb.DuckDBPyConnection:
        if read_only:
            return self._connect_retrying(read_only=True)
        # Readers keep the file attached between reports until a writer announces itself (``reader``).
        with announced_writer(self.path) as still_waiting:
            return self._connect_retrying(read_only=False, waiting=still_waiting)

    def _connect_retrying(
        self, *, read_only: bool, waiting: Callable[[], None] = lambda: None
    ) -> duckdb.DuckDBPyConnection:
        deadline = time.monotonic() + self.busy_timeout_s
        delay = 0.05
        while True:
            waiting()
            try:
                con = duckdb.connect(str(self.path), read_only=read_only)
            except (duckdb.IOException, duckdb.ResourceInUseException) as exc:
                # Another process holds the file (IOException), or a read in this process still has it
                # attached (ResourceInUseException; it is released when that read ends).
                if time.monotonic() >= deadline:
                    raise ServiceUnavailable(f"event store {self.path} is locked by another process") from exc
                time.sleep(delay)
                delay = min(delay * 2, 0.5)
                continue
            # DuckDB's own terminal progress bar would interleave with ours and with server logs.
            con.execute("SET enable_progress_bar = false")
            return con

    def _ensure_created(self) -> None:
        if self.path.exists():
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = self._open(read_only=False)
        try:
            con.execute("BEGIN")
            con.execute(create_table_sql())
            con.execute(create_table_sql(OEM_TABLE, OEM_COLUMN_NAMES))
            con.execute("COMMIT")
        finally:
            con.close()
        self._upgraded = True

    # -- queries and maintenance -------------------------------------------------------------------

    def count(self) -> int:
        """Number of stored events."""
        con = self.connect()
        try:
            row = con.execute(f"SELECT count(*) FROM {TABLE}").fetchone()
        finally:
            con.close()
        return int(row[0]) if row else 0

    def purge(self, now: datetime, retention_days: int = 90) -> int:
        """Delete events whose FailureDate is before the retention window; returns how many."""
        if retention_days < 1:
            raise ValueError("retention_days must be >= 1")
        cutoff: date = ensure_utc(now).date() - timedelta(days=retention_days)
        with self.writer() as con:
            con.execute("BEGIN")
            try:
                row = con.execute(f'DELETE FROM {TABLE} WHERE "FailureDate" < ?', [cutoff]).fetchone()
                con.execute(f'DELETE FROM {OEM_TABLE} WHERE "FailureDate" < ?', [cutoff])
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        return int(row[0]) if row else 0

    def ingest(
        self, paths: Sequence[Path | str], *, skip_invalid: bool = False, progress: bool = False
    ) -> IngestReport:
        """Validate and load CSV / JSON Lines / Parquet files in one transaction (see ``ingest``)."""
        from driverlens.events.ingest import ingest_files

        if not paths:
            raise IngestError("no files given")
        return ingest_files(self, [Path(p) for p in paths], skip_invalid=skip_invalid, progress=progress)

    def compact(self) -> None:
        """Rewrite both tables in their cluster-key order (after many small appends)."""
        with self.writer() as con:
            con.execute("BEGIN")
            for table, columns, key in (
                (TABLE, COLUMN_NAMES, CLUSTER_KEY),
                (OEM_TABLE, OEM_COLUMN_NAMES, OEM_CLUSTER_KEY),
            ):
                cols = ", ".join(quoted(c) for c in columns)
                con.execute(create_table_sql(f"{table}_sorted", columns))
                con.execute(
                    f"INSERT INTO {table}_sorted SELECT {cols} FROM {table} ORDER BY {_order_by(key)}"
                )
                con.execute(f"DROP TABLE {table}")
                con.execute(f"ALTER TABLE {table}_sorted RENAME TO {table}")
            con.execute("COMMIT")


def _order_by(key: tuple[str, ...] = CLUSTER_KEY) -> str:
    return ", ".join(quoted(c) for c in key)


def _add_oem_copy(con: duckdb.DuckDBPyConnection) -> None:
    """Create and fill the OEM copy if this store predates it (one transaction)."""
    con.execute("BEGIN")
    try:
        if not _has_oem_copy(con):
            con.execute(create_table_sql(OEM_TABLE, OEM_COLUMN_NAMES))
            mirror_appended(con, -1)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _has_oem_copy(con: duckdb.DuckDBPyConnection) -> bool:
    rows = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database()"
        " AND schema_name = 'main' AND table_name = ?",
        [OEM_TABLE],
    ).fetchall()
    return bool(rows[0][0])


def append_mark(con: duckdb.DuckDBPyConnection) -> int:
    """The main table's highest row id before a write; ``mirror_appended`` copies the rows after it."""
    rows = con.execute(f"SELECT coalesce(max(rowid), -1) FROM {TABLE}").fetchall()
    return int(rows[0][0])


def mirror_appended(con: duckdb.DuckDBPyConnection, mark: int) -> int:
    """Copy the rows appended to the main table since ``mark`` into the OEM copy, in its cluster order.

    Runs inside the writer's transaction, once per write (not per chunk), so the whole batch is sorted
    by (OEM partner, FailureDate) together. Rows appended in a transaction get row ids above every
    committed row (DuckDB numbers them from a reserved high base until commit, and from the end of the
    table after it), so ``rowid > mark`` selects exactly this write's rows.
    """
    cols = ", ".join(quoted(c) for c in OEM_COLUMN_NAMES)
    row = con.execute(
        f"INSERT INTO {OEM_TABLE} ({cols}) SELECT {cols} FROM {TABLE} WHERE rowid > ? "
        f"ORDER BY {_order_by(OEM_CLUSTER_KEY)}",
        [mark],
    ).fetchone()
    return int(row[0]) if row else 0


def append_clustered(con: duckdb.DuckDBPyConnection, source: str, *, presorted: bool = False) -> int:
    """The one write path: insert rows of relation ``source`` (typed, stored columns) in cluster order.

    Runs inside the caller's transaction; ``source`` is a table or view name chosen by our code. The
    caller takes ``append_mark`` before its first append and calls ``mirror_appended`` before COMMIT.
    ``presorted`` skips the sort when the caller produced the rows in cluster order already (the
    synthetic generator does; sorting a wide 1M-row batch costs more than generating it).
    """
    cols = ", ".join(quoted(c) for c in COLUMN_NAMES)
    order = "" if presorted else f" ORDER BY {_order_by()}"
    row = con.execute(f"INSERT INTO {TABLE} ({cols}) SELECT {cols} FROM {source}{order}").fetchone()
    return int(row[0]) if row else 0
