"""DuckDB over the event lake: one warm in-memory instance per process, a snapshot bound per read.

Opening a DuckDB instance costs more than most report queries (about 10 ms), so each process keeps one,
with the engine's memory limit, spill directory and threads applied once per ``EngineOptions``. Each
block of reads gets its own cursor, on which ``failure_events`` and ``failure_events_by_oem`` are views
over the Parquet files of one table version, and ``install_base`` over the install base version bound
with it (``installs.table``): the block reads that version from start to end, however
many commits land meanwhile. Parquet footers are cached across reads (``parquet_metadata_cache``), and
DuckDB caches the files' bytes, so warm reports do not re-read what they read before.

The views of a version are created once per process, in a schema of their own (``lake_snapshot_<n>``),
and a cursor reads them by putting that schema on its search path. Creating the two views binds
``read_parquet`` over every file of the version: 3-6 ms per read on an idle machine for 180 files, 10-25
ms on this loaded 2-core one, more than most report queries; setting the search path costs about 0.1 ms.
A version's schema is dropped once no read has bound it for ``VIEWS_IDLE_S`` (longer than any report
query, so no running read loses its views), and whenever the process's instance is replaced.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from driverlens.events.lake import VACUUM_GRACE_HOURS, DataFile, Snapshot
from driverlens.events.schema import (
    COLUMN_NAMES,
    COPY_COLUMN,
    COPY_OF_TABLE,
    DATE_COLUMN,
    duckdb_type,
    quoted,
)
from driverlens.events.sql import string_literal
from driverlens.installs import table as install_table


@dataclass(frozen=True)
class EngineOptions:
    """DuckDB resources of a process (from ``Settings``: engine memory limit, threads, data dir)."""

    memory_limit: str = "1GB"
    threads: int = 0  # 0 = one per core
    spill_dir: Path | None = None


_lock = threading.Lock()
_instance: tuple[int, duckdb.DuckDBPyConnection] | None = None
_applied: EngineOptions | None = None

# A version's views outlive the last read that bound them by this long: vacuum keeps a replaced file for
# as long, so a read older than that could not finish anyway.
VIEWS_IDLE_S = VACUUM_GRACE_HOURS * 3600.0


@dataclass
class _Views:
    schema: str
    files: tuple[DataFile, ...]
    installs: tuple[DataFile, ...] | None
    last_bound: float


_views_lock = threading.Lock()
# (pid, version, hash of the files, install base version and files) -> the schema holding that snapshot's
# views on this process's instance.
_views: dict[tuple[int, int, int, int, int], _Views] = {}
_serial = itertools.count(1)


def cursor(options: EngineOptions) -> duckdb.DuckDBPyConnection:
    """A new cursor on this process's warm instance (the caller closes it)."""
    global _instance, _applied
    with _lock:
        if _instance is None or _instance[0] != os.getpid():
            _instance = (os.getpid(), duckdb.connect(":memory:"))
            _applied = None
            with _views_lock:
                _views.clear()  # they lived in the instance being replaced
        connection = _instance[1]
        if _applied != options:
            statements = [
                f"SET GLOBAL memory_limit = {string_literal(options.memory_limit)}",
                "SET GLOBAL parquet_metadata_cache = true",
                "SET GLOBAL TimeZone = 'UTC'",
            ]
            if options.spill_dir is not None:
                statements.append(f"SET GLOBAL temp_directory = {string_literal(str(options.spill_dir))}")
            if options.threads > 0:
                statements.append(f"SET GLOBAL threads = {int(options.threads)}")
            else:
                statements.append("RESET GLOBAL threads")
            connection.execute("; ".join(statements))
            _applied = options
        con = connection.cursor()
    # DuckDB's terminal progress bar would interleave with ours and with server logs (a session setting).
    con.execute("SET enable_progress_bar = false")
    return con


def configured_cursor() -> duckdb.DuckDBPyConnection:
    """A cursor with the options this process's engine applied (defaults before any): for side work
    such as comparing two result files, which must not flip the instance's memory limit back and forth."""
    with _lock:
        options = _applied
    return cursor(options or EngineOptions())


def bind_snapshot(con: duckdb.DuckDBPyConnection, snapshot: Snapshot) -> None:
    """Make ``failure_events``, ``failure_events_by_oem`` and ``install_base`` read ``snapshot`` here.

    ``con`` must be a cursor from ``cursor()``: the views live on the process's instance.
    """
    con.execute(f"SET search_path = {string_literal(_schema_of(con, snapshot))}")


def _schema_of(con: duckdb.DuckDBPyConnection, snapshot: Snapshot, now: float | None = None) -> str:
    """The schema holding ``snapshot``'s views, created on first use."""
    now = time.monotonic() if now is None else now
    installs = snapshot.install_base.files if snapshot.install_base is not None else None
    install_version = snapshot.install_base_version
    key = (
        os.getpid(),
        snapshot.version,
        hash(snapshot.files),
        -1 if install_version is None else install_version,
        hash(installs),
    )
    with _views_lock:
        views = _views.get(key)
        if (
            views is not None
            and (views.files is snapshot.files or views.files == snapshot.files)
            and (views.installs is installs or views.installs == installs)
        ):
            views.last_bound = now
            return views.schema
        schema = f"lake_snapshot_{next(_serial)}"
        statements = [f"CREATE SCHEMA {schema}"]
        statements += [f"CREATE VIEW {schema}.{t} AS {source_sql(snapshot, t)}" for t in COPY_OF_TABLE]
        statements.append(
            f"CREATE VIEW {schema}.{install_table.VIEW} AS "
            f"{install_table.duckdb_source_sql(snapshot.install_base)}"
        )
        idle = [k for k, v in _views.items() if now - v.last_bound > VIEWS_IDLE_S]
        statements += [f"DROP SCHEMA IF EXISTS {_views.pop(k).schema} CASCADE" for k in idle]
        con.execute("; ".join(statements))
        _views[key] = _Views(schema, snapshot.files, installs, now)
        return schema


def source_sql(snapshot: Snapshot, table: str) -> str:
    """A SELECT of every stored column over one copy's files in ``snapshot`` (typed, empty if none)."""
    paths = snapshot.paths_of_table(table)
    if not paths:
        cols = ", ".join(f"CAST(NULL AS {duckdb_type(c)}) AS {quoted(c)}" for c in COLUMN_NAMES)
        return f"SELECT {cols} WHERE false"
    files = ", ".join(string_literal(p) for p in paths)
    cols = ", ".join(quoted(c) for c in COLUMN_NAMES)
    return (
        f"SELECT {cols} FROM read_parquet([{files}], hive_partitioning = true, "
        f"hive_types = {{'{COPY_COLUMN}': VARCHAR, '{DATE_COLUMN}': DATE}})"
    )
