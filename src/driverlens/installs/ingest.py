"""Validate and load install base files (CSV, JSON Lines, Parquet), all files of a call in one commit.

Files are validated in SQL like events (``events.validate``: line, column and reason per bad value).
Rows are then compared with the stored install base by key (day, partners, driver, version, OS build):
- a key not stored yet is added;
- a key stored with the same DeviceCount is skipped, so running the same load again adds nothing;
- a key stored with another DeviceCount is refused (``InstallConflict``, naming the key, both counts and
  the file and line), unless ``replace`` is set, in which case the new count replaces the old;
- one key given twice in a call with two different counts is always refused (which would win?).
Every day the call changes is rewritten as one new file that replaces the day's old file in the same
Delta commit (``Lake.commit_files(..., replaced=...)``) at ``read_version + 1``; when another writer took
that version, the comparison is made again against the newer table. A crash before the commit leaves
only unreferenced files (vacuum removes them), so a rerun loads everything exactly once.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from driverlens.errors import IngestError, ServiceUnavailable
from driverlens.events.files import write_days
from driverlens.events.lake import CommitConflict, DataFile, Lake, WrittenFile
from driverlens.events.sql import string_literal
from driverlens.events.store import EventStore
from driverlens.events.validate import (
    RowSpec,
    check_files,
    progress_bars,
    rejects_path,
    validate_file,
    write_rejects,
)
from driverlens.installs.table import (
    COLUMN_NAMES,
    COLUMN_TYPES,
    COUNT_COLUMN,
    DATE_COLUMN,
    FILE_COLUMN_NAMES,
    KEY,
    LAYOUT,
    REQUIRED_COLUMNS,
    quoted,
)

SPEC = RowSpec(COLUMN_NAMES, COLUMN_TYPES, REQUIRED_COLUMNS)
MAX_ATTEMPTS = 30
MAX_LISTED_CONFLICTS = 10
_STEPS = ("read", "validate", "stage")
_BATCH = "installs_batch"
_KEY_SQL = ", ".join(quoted(c) for c in KEY)


class InstallConflict(IngestError):
    """Rows give a key a DeviceCount other than the one stored (or than another row of the same call)."""

    status = 409
    code = "InstallConflict"


@dataclass(frozen=True)
class InstallIngestReport:
    """Outcome of one install base load over all its files."""

    added: int  # keys not stored before
    replaced: int  # keys whose DeviceCount changed (only with ``replace``)
    unchanged: int  # rows already stored with the same count, or repeated within the call
    rejected: int  # invalid rows (only with ``skip_invalid``)
    rejects_paths: tuple[Path, ...] = ()
    version: int | None = None  # the committed version, None when nothing changed


def ingest_installs(
    store: EventStore,
    paths: Sequence[Path | str],
    *,
    replace: bool = False,
    skip_invalid: bool = False,
    progress: bool = False,
) -> InstallIngestReport:
    """Validate and load install base files as one atomic commit; reruns add nothing."""
    files = [Path(p) for p in paths]
    if not files:
        raise IngestError("no files given")
    check_files(files)
    rejected = 0
    rejects: list[tuple[str, Path]] = []
    with store.scratch() as con, progress_bars(progress, files, len(_STEPS)) as advance:
        con.execute(_create_batch_sql())
        for i, path in enumerate(files):
            checked = validate_file(con, path, SPEC, f"installs_{i}", skip_invalid=skip_invalid)
            advance(path, "validate")
            rejected += checked.invalid
            if checked.rejects is not None:
                rejects.append((checked.rejects, rejects_path(path)))
            cols = ", ".join(quoted(c) for c in COLUMN_NAMES)
            con.execute(
                f"INSERT INTO {_BATCH} SELECT {cols}, {string_literal(path.name)}, __line "
                f"FROM {checked.staged} WHERE NOT __bad"
            )
            con.execute(f"DROP TABLE {checked.staged}")
            advance(path, "stage")
        total = _scalar(con, f"SELECT count(*) FROM {_BATCH}")
        _refuse_inner_conflicts(con)
        con.execute(
            f"CREATE TEMP TABLE installs_new AS SELECT * FROM {_BATCH} "
            f"QUALIFY row_number() OVER (PARTITION BY {_KEY_SQL} ORDER BY __file, __line) = 1"
        )
        batch_id = _batch_id(files, replace, skip_invalid)
        added, replaced, version = _commit(store.installs, con, batch_id, replace=replace)
        for table, dest in rejects:  # only once the good rows are committed
            write_rejects(con, table, dest, SPEC)
    return InstallIngestReport(
        added=added,
        replaced=replaced,
        unchanged=total - added - replaced,
        rejected=rejected,
        rejects_paths=tuple(dest for _, dest in rejects),
        version=version,
    )


def commit_rows(
    store: EventStore,
    con: duckdb.DuckDBPyConnection,
    source: str,
    *,
    batch_id: str,
    origin: str,
    replace: bool = False,
) -> tuple[int, int, int | None]:
    """Commit the rows of table ``source`` on ``con`` (the table's columns, one row per key) like a file
    load: (keys added, keys replaced, committed version or None when nothing changed)."""
    cols = ", ".join(quoted(c) for c in COLUMN_NAMES)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE installs_new AS SELECT {cols}, {string_literal(origin)} AS __file, "
        f"row_number() OVER (ORDER BY {_KEY_SQL}) AS __line FROM {source}"
    )
    return _commit(store.installs, con, batch_id, replace=replace)


def _create_batch_sql() -> str:
    cols = ", ".join(f"{quoted(c)} {COLUMN_TYPES[c].duckdb_type}" for c in COLUMN_NAMES)
    return f"CREATE TABLE {_BATCH} ({cols}, __file VARCHAR, __line BIGINT)"


def _refuse_inner_conflicts(con: duckdb.DuckDBPyConnection) -> None:
    rows = con.execute(
        f"""SELECT {_KEY_SQL}, list(DISTINCT {quoted(COUNT_COLUMN)} ORDER BY {quoted(COUNT_COLUMN)}),
                   list(__file || ' line ' || __line ORDER BY __file, __line)[:4]
            FROM {_BATCH} GROUP BY ALL HAVING count(DISTINCT {quoted(COUNT_COLUMN)}) > 1
            ORDER BY ALL LIMIT {MAX_LISTED_CONFLICTS}"""
    ).fetchall()
    if rows:
        listed = "\n".join(
            f"  {_describe_key(r[: len(KEY)])}: {COUNT_COLUMN} {', '.join(map(str, r[len(KEY)]))} "
            f"({'; '.join(r[len(KEY) + 1])})"
            for r in rows
        )
        raise InstallConflict(
            f"the files give {len(rows)}{'+' if len(rows) == MAX_LISTED_CONFLICTS else ''} key(s) more than "
            f"one {COUNT_COLUMN}; nothing was stored:\n{listed}"
        )


def _commit(
    lake: Lake, con: duckdb.DuckDBPyConnection, batch_id: str, *, replace: bool
) -> tuple[int, int, int | None]:
    """Compare with the stored rows, write the changed days and commit them: (added, replaced, version)."""
    lake.ensure()
    for attempt in range(1, MAX_ATTEMPTS + 1):
        snapshot = lake.snapshot()
        days = _days(con, "installs_new")
        stored_files = [f for f in snapshot.files if f.day in days]
        _load_stored(con, stored_files)
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE installs_diff AS
                SELECT n.*, s.{quoted(COUNT_COLUMN)} AS __stored FROM installs_new n
                LEFT JOIN installs_stored s USING ({_KEY_SQL})
                WHERE s.{quoted(COUNT_COLUMN)} IS DISTINCT FROM n.{quoted(COUNT_COLUMN)}"""
        )
        replaced = _scalar(con, "SELECT count(*) FROM installs_diff WHERE __stored IS NOT NULL")
        if replaced and not replace:
            _refuse_stored_conflicts(con)
        added = _scalar(con, "SELECT count(*) FROM installs_diff WHERE __stored IS NULL")
        if added + replaced == 0:
            return 0, 0, None
        changed = _days(con, "installs_diff")
        files = _write_changed_days(lake, con, batch_id)
        try:
            version = lake.commit_files(
                files,
                read_version=snapshot.version,
                batch_id=f"{batch_id}:{snapshot.version}",
                operation="ingest-installs",
                replaced=[f for f in stored_files if f.day in changed],
            )
        except CommitConflict:
            _remove(files)
            time.sleep(random.uniform(0, min(1.0, 0.02 * attempt)))
            continue
        except BaseException:
            _remove(files)
            raise
        return added, replaced, version
    raise ServiceUnavailable(
        f"the install base changed under this load {MAX_ATTEMPTS} times in a row; nothing was stored, "
        "run the same command again"
    )


def _load_stored(con: duckdb.DuckDBPyConnection, files: list[DataFile]) -> None:
    cols = ", ".join(f"{quoted(c)} {COLUMN_TYPES[c].duckdb_type}" for c in COLUMN_NAMES)
    con.execute(f"CREATE OR REPLACE TEMP TABLE installs_stored ({cols})")
    if files:
        paths = ", ".join(string_literal(f.path) for f in files)
        names = ", ".join(quoted(c) for c in COLUMN_NAMES)
        con.execute(
            f"INSERT INTO installs_stored SELECT {names} FROM read_parquet([{paths}], "
            f"hive_partitioning = true, hive_types = {{'{DATE_COLUMN}': DATE}})"
        )


def _refuse_stored_conflicts(con: duckdb.DuckDBPyConnection) -> None:
    rows = con.execute(
        f"""SELECT {_KEY_SQL}, __stored, {quoted(COUNT_COLUMN)}, __file, __line FROM installs_diff
            WHERE __stored IS NOT NULL ORDER BY ALL LIMIT {MAX_LISTED_CONFLICTS}"""
    ).fetchall()
    total = _scalar(con, "SELECT count(*) FROM installs_diff WHERE __stored IS NOT NULL")
    n = len(KEY)
    listed = "\n".join(
        f"  {_describe_key(r[:n])}: stored {COUNT_COLUMN} {r[n]}, {r[n + 2]} line {r[n + 3]} says {r[n + 1]}"
        for r in rows
    )
    raise InstallConflict(
        f"{total} row(s) change the {COUNT_COLUMN} of a stored key; nothing was stored "
        f"(load them with --replace to overwrite the stored counts):\n{listed}"
    )


def _write_changed_days(lake: Lake, con: duckdb.DuckDBPyConnection, batch_id: str) -> list[WrittenFile]:
    """Each changed day whole: its stored rows, with the new and changed keys taking their new counts."""
    files = ", ".join(quoted(c) for c in FILE_COLUMN_NAMES)
    every = ", ".join(quoted(c) for c in COLUMN_NAMES)
    day = quoted(DATE_COLUMN)
    same_key = " AND ".join(f"d.{quoted(k)} = s.{quoted(k)}" for k in KEY)
    query = f"""
        SELECT {files}, {day} FROM (
            SELECT {every} FROM installs_stored s
            WHERE s.{day} IN (SELECT {day} FROM installs_diff)
              AND NOT EXISTS (SELECT 1 FROM installs_diff d WHERE {same_key})
            UNION ALL
            SELECT {every} FROM installs_diff
        ) ORDER BY {day}, {_KEY_SQL}"""
    written: list[WrittenFile] = []
    try:
        for f in write_days(con, query, root=lake.root.resolve(), copy="", tag=batch_id[:12], layout=LAYOUT):
            written.append(f)
    except BaseException:
        _remove(written)
        raise
    return written


def _days(con: duckdb.DuckDBPyConnection, table: str) -> set[date]:
    return {r[0] for r in con.execute(f"SELECT DISTINCT {quoted(DATE_COLUMN)} FROM {table}").fetchall()}


def _batch_id(paths: Sequence[Path], replace: bool, skip_invalid: bool) -> str:
    digest = hashlib.sha256(f"installs-v1:{replace}:{skip_invalid}".encode())
    for path in paths:
        with path.open("rb") as handle:
            digest.update(hashlib.file_digest(handle, "sha256").digest())
    return digest.hexdigest()


def _describe_key(values: Sequence[object]) -> str:
    return "(" + ", ".join(f"{k}={v}" for k, v in zip(KEY, values, strict=True)) + ")"


def _remove(files: list[WrittenFile]) -> None:
    for f in files:
        with suppress(FileNotFoundError):
            f.path.unlink()


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    rows = con.execute(sql).fetchall()
    return int(rows[0][0]) if rows else 0
