"""DuckDB over the event lake: one warm in-memory instance per process, a snapshot bound per read.

Opening a DuckDB instance costs more than most report queries (about 10 ms), so each process keeps one,
with the engine's memory limit, spill directory and threads applied once per ``EngineOptions``. Each
block of reads gets its own cursor, on which ``failure_events`` and ``failure_events_by_oem`` are temporary
views over the Parquet files of one table version: the block reads that version from start to end, however
many commits land meanwhile. Parquet footers are cached across reads (``parquet_metadata_cache``), and
DuckDB caches the files' bytes, so warm reports do not re-read what they read before.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

import duckdb

from driverlens.events.lake import Snapshot
from driverlens.events.schema import (
    COLUMN_NAMES,
    COPY_COLUMN,
    COPY_OF_TABLE,
    DATE_COLUMN,
    duckdb_type,
    quoted,
)


@dataclass(frozen=True)
class EngineOptions:
    """DuckDB resources of a process (from ``Settings``: engine memory limit, threads, data dir)."""

    memory_limit: str = "1GB"
    threads: int = 0  # 0 = one per core
    spill_dir: Path | None = None


_lock = threading.Lock()
_instance: tuple[int, duckdb.DuckDBPyConnection] | None = None
_applied: EngineOptions | None = None


def cursor(options: EngineOptions) -> duckdb.DuckDBPyConnection:
    """A new cursor on this process's warm instance (the caller closes it)."""
    global _instance, _applied
    with _lock:
        if _instance is None or _instance[0] != os.getpid():
            _instance = (os.getpid(), duckdb.connect(":memory:"))
            _applied = None
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


def bind_snapshot(con: duckdb.DuckDBPyConnection, snapshot: Snapshot) -> None:
    """Make ``failure_events`` and ``failure_events_by_oem`` read ``snapshot`` on this cursor."""
    con.execute(
        "; ".join(f"CREATE OR REPLACE TEMP VIEW {t} AS {source_sql(snapshot, t)}" for t in COPY_OF_TABLE)
    )


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


def string_literal(text: str) -> str:
    """A DuckDB string literal (quotes doubled); for paths and settings of ours, never for user input."""
    return "'" + text.replace("'", "''") + "'"
