"""The one write path into the event lake: dedupe on EventId, write both copies, commit once, retry.

Callers (ingest, seed, conversion) stage typed rows in a scratch DuckDB database on disk and hand over the
staging table. ``commit_batch`` then
1. skips the whole batch if a commit with the same batch id is already in the table (a re-run);
2. keeps the rows whose EventId the current snapshot does not hold;
3. writes them into the table directory twice (sorted by IHV owner, and by OEM owner, within each day),
   as files no snapshot references yet;
4. commits those files as the next version, in one Delta commit carrying the batch id.
If another writer took that version (``CommitConflict``), the files added meanwhile are checked for our
EventIds: none, and the same files are committed on top; some, and those rows are dropped, the files
rewritten, and the commit tried again. A crash before the commit leaves only unreferenced files, which
vacuum removes; after it, the whole batch is in. Memory is bounded by the scratch database's limit: rows
stream from disk into DuckDB's Parquet writer, and sorts spill.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass

import duckdb

from driverlens.errors import ServiceUnavailable
from driverlens.events.files import write_days
from driverlens.events.lake import COPIES, CommitConflict, Lake, Snapshot, WrittenFile
from driverlens.events.schema import (
    CLUSTER_KEY,
    DATE_COLUMN,
    FILE_COLUMN_NAMES,
    OEM_CLUSTER_KEY,
    quoted,
)
from driverlens.events.sql import string_literal

MAX_ATTEMPTS = 30
_SORT_KEYS: dict[str, tuple[str, ...]] = {CLUSTER_KEY[0]: CLUSTER_KEY, OEM_CLUSTER_KEY[0]: OEM_CLUSTER_KEY}
_STAT_COLUMNS = ("IhvPartner", "OemPartner", "FailureDateTime", "EventCount")
_NEW = "batch_new"

Progress = Callable[[str], None]


@dataclass(frozen=True)
class BatchResult:
    loaded: int
    duplicates: int
    version: int | None  # the committed version, None when nothing was committed
    conflicts: int = 0
    already_committed: bool = False


def commit_batch(
    lake: Lake,
    con: duckdb.DuckDBPyConnection,
    source: str,
    *,
    batch_id: str,
    operation: str,
    progress: Progress | None = None,
) -> BatchResult:
    """Commit the rows of table ``source`` (stored columns, typed) as one idempotent batch."""
    step = progress or (lambda _: None)
    total = _scalar(con, f"SELECT count(*) FROM {source}")
    if lake.batch_committed(batch_id):
        return BatchResult(0, total, None, already_committed=True)
    snapshot = lake.snapshot()
    step("deduplicating")
    stored = snapshot.paths(COPIES[0])
    # Into an empty table every row is new: a view saves copying the batch once more.
    kind = "TABLE" if stored else "VIEW"
    con.execute(f"CREATE OR REPLACE TEMP {kind} {_NEW} AS {_not_in(source, stored)}")
    conflicts = 0
    files: list[WrittenFile] = []
    try:
        for attempt in range(1, MAX_ATTEMPTS + 1):
            loaded = _scalar(con, f"SELECT count(*) FROM {_NEW}")
            if loaded == 0:
                return BatchResult(0, total, None, conflicts)
            if not files:
                step("writing")
                files = _write_copies(lake, con, batch_id)
            step("committing")
            try:
                version = lake.commit_files(
                    files, read_version=snapshot.version, batch_id=batch_id, operation=operation
                )
            except CommitConflict:
                conflicts += 1
                newer = lake.snapshot()
                if lake.batch_committed(batch_id):  # the same batch, committed by a concurrent run
                    _remove(files)
                    return BatchResult(0, total, None, conflicts, already_committed=True)
                added = sorted(set(newer.paths(COPIES[0])) - set(snapshot.paths(COPIES[0])))
                snapshot = newer
                if added and _scalar(con, f"SELECT count(*) FROM ({_in(_NEW, added)})"):
                    con.execute(f"CREATE OR REPLACE TEMP TABLE {_NEW}_kept AS {_not_in(_NEW, added)}")
                    con.execute(f"DROP {kind} {_NEW}")
                    con.execute(f"ALTER TABLE {_NEW}_kept RENAME TO {_NEW}")
                    kind = "TABLE"
                    _remove(files)
                    files = []
                time.sleep(random.uniform(0, min(1.0, 0.02 * attempt)))
                continue
            return BatchResult(loaded, total - loaded, version, conflicts)
    except BaseException:
        _remove(files)
        raise
    _remove(files)
    raise ServiceUnavailable(
        f"the event table changed under this batch {MAX_ATTEMPTS} times in a row; nothing was stored, "
        "run the same command again"
    )


def _ids(paths: list[str] | tuple[str, ...]) -> str:
    files = ", ".join(string_literal(p) for p in paths)
    return f'SELECT "EventId" FROM read_parquet([{files}])'


def _not_in(source: str, paths: list[str] | tuple[str, ...]) -> str:
    if not paths:
        return f"SELECT * FROM {source}"
    return f'SELECT s.* FROM {source} s ANTI JOIN ({_ids(paths)}) e ON e."EventId" = s."EventId"'


def _in(source: str, paths: list[str]) -> str:
    return f'SELECT s."EventId" FROM {source} s SEMI JOIN ({_ids(paths)}) e ON e."EventId" = s."EventId"'


def _write_copies(lake: Lake, con: duckdb.DuckDBPyConnection, batch_id: str) -> list[WrittenFile]:
    lake.ensure()
    written: list[WrittenFile] = []
    try:
        for copy in COPIES:
            cols = ", ".join(
                'CAST(NULL AS VARCHAR) AS "EventId"' if c == "EventId" and copy != COPIES[0] else quoted(c)
                for c in FILE_COLUMN_NAMES
            )
            order = ", ".join(quoted(c) for c in _order(copy))
            query = f"SELECT {cols}, {quoted(DATE_COLUMN)} FROM {_NEW} ORDER BY {order}"
            written.extend(write_days(con, query, root=lake.root.resolve(), copy=copy, tag=batch_id[:12]))
    except BaseException:
        _remove(written)
        raise
    return written


def _order(copy: str) -> tuple[str, ...]:
    owner, _, other = _SORT_KEYS[copy]
    return (DATE_COLUMN, owner, other)


def _remove(files: list[WrittenFile]) -> None:
    for f in files:
        with suppress(FileNotFoundError):
            f.path.unlink()


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    rows = con.execute(sql).fetchall()  # fetchall: DuckDB refuses new work while a result is unfinished
    return int(rows[0][0]) if rows else 0


__all__ = ["BatchResult", "Snapshot", "commit_batch"]
