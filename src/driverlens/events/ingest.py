"""Validate and load event files (CSV, JSON Lines, Parquet) into the store, all or nothing.

Each file is validated in SQL (``events.validate``); only then are the good rows cast, deduplicated on
EventId and handed to the one write path (``events.write``). Every file of one call is one Delta commit
carrying a batch id derived from the files' contents, so an error or a crash leaves the table unchanged,
and running the same call again adds nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from driverlens.events.schema import (
    ALLOWED_VALUES,
    COLUMN_NAMES,
    COLUMN_TYPES,
    REQUIRED_COLUMNS,
    create_table_sql,
    quoted,
    stored_value_sql,
)
from driverlens.events.store import EventStore, IngestReport
from driverlens.events.validate import (
    MAX_LISTED_ERRORS,
    UNTERMINATED,
    Advance,
    RowSpec,
    RowsRejected,
    check_files,
    file_format,
    progress_bars,
    rejects_path,
    validate_file,
    write_rejects,
)
from driverlens.events.write import commit_batch

SPEC = RowSpec(COLUMN_NAMES, COLUMN_TYPES, REQUIRED_COLUMNS, ALLOWED_VALUES)
_STEPS = ("read", "validate", "deduplicate", "stage")
_BATCH = "ingest_batch"


@dataclass
class _FileResult:
    loaded: int = 0
    duplicates: int = 0
    rejected: int = 0
    rejects: str | None = None
    rejects_path: Path | None = None


def ingest_files(
    store: EventStore, paths: Sequence[Path], *, skip_invalid: bool, progress: bool
) -> IngestReport:
    check_files(paths)
    results: list[_FileResult] = []
    with store.scratch() as con, progress_bars(progress, paths, len(_STEPS)) as advance:
        con.execute(create_table_sql(_BATCH))
        for i, path in enumerate(paths):
            results.append(_ingest_one(con, path, i, skip_invalid, advance))
        batch = commit_batch(
            store.lake, con, _BATCH, batch_id=_batch_id(paths, skip_invalid), operation="ingest"
        )
        # Rejects are written only once the good rows are committed.
        for result in results:
            if result.rejects is not None and result.rejects_path is not None:
                write_rejects(con, result.rejects, result.rejects_path, SPEC)
    rejects = tuple(r.rejects_path for r in results if r.rejects_path is not None)
    return IngestReport(
        loaded=batch.loaded,
        duplicates=sum(r.duplicates for r in results) + batch.duplicates,
        rejected=sum(r.rejected for r in results),
        rejects_path=rejects[0] if rejects else None,
        rejects_paths=rejects,
        version=batch.version,
        already_committed=batch.already_committed,
        conflicts=batch.conflicts,
    )


def _batch_id(paths: Sequence[Path], skip_invalid: bool) -> str:
    """Derived from the files' bytes (not their names): the same data loaded twice is one batch."""
    return files_digest(b"ingest-v1" + (b"+skip" if skip_invalid else b""), paths)


def files_digest(prefix: bytes, paths: Sequence[Path]) -> str:
    """sha256 of ``prefix`` and the bytes of every file, in order."""
    digest = hashlib.sha256(prefix)
    for path in paths:
        with path.open("rb") as handle:
            digest.update(hashlib.file_digest(handle, "sha256").digest())
    return digest.hexdigest()


def _ingest_one(
    con: duckdb.DuckDBPyConnection, path: Path, i: int, skip_invalid: bool, advance: Advance
) -> _FileResult:
    checked = validate_file(con, path, SPEC, f"ingest_{i}", skip_invalid=skip_invalid)
    advance(path, "validate")
    staged, total, invalid = checked.staged, checked.total, checked.invalid
    result = _FileResult(rejected=invalid, rejects=checked.rejects)
    if checked.rejects is not None:
        result.rejects_path = rejects_path(path)
    advance(path, "deduplicate")
    good = f"ingest_good_{i}"
    # The first row of an EventId within this call wins; ids already stored are left out at commit.
    # Both checks cost a hash of every id, so each runs only when it can find something.
    in_file_dups = _scalar(con, f'SELECT count(*) - count(DISTINCT "EventId") FROM {staged} WHERE NOT __bad')
    earlier = (
        f' AND NOT EXISTS (SELECT 1 FROM {_BATCH} b WHERE b."EventId" = s."EventId")'
        if _scalar(con, f"SELECT count(*) FROM {_BATCH}")
        else ""
    )
    keep_first = (
        'QUALIFY row_number() OVER (PARTITION BY "EventId" ORDER BY __line) = 1' if in_file_dups else ""
    )
    con.execute(
        f"CREATE TEMP VIEW {good} AS SELECT * FROM {staged} s WHERE NOT s.__bad{earlier} {keep_first}"
    )
    advance(path, "stage")
    cols = ", ".join(quoted(c) for c in COLUMN_NAMES)
    values = ", ".join(stored_value_sql(c, quoted(c)) for c in COLUMN_NAMES)
    inserted = con.execute(f"INSERT INTO {_BATCH} ({cols}) SELECT {values} FROM {good}").fetchall()
    staged_rows = int(inserted[0][0]) if inserted else 0
    result.duplicates = total - invalid - staged_rows
    con.execute(f"DROP VIEW {good}")
    con.execute(f"DROP TABLE {staged}")
    advance(path, "done")
    return result


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    rows = con.execute(sql).fetchall()  # fetchall: DuckDB refuses new work while a result is unfinished
    return int(rows[0][0]) if rows else 0


__all__ = ["MAX_LISTED_ERRORS", "UNTERMINATED", "RowsRejected", "file_format", "ingest_files"]
