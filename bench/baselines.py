"""The engine benchmark's baselines, built by hand from the rows of a seeded lake.

- **old store**: the event store DriverLens had before the lake (``git show 94516df:src/driverlens/events/
  store.py``): one DuckDB file, table ``failure_events`` clustered by (IhvPartner, FailureDate,
  OemPartner) and ``failure_events_by_oem`` (every column but EventId) clustered by (OemPartner,
  FailureDate, IhvPartner), the catalogue's UUID columns as DuckDB ``UUID``, EventId and CabIdHash as
  text, as that store held them.
- **naive file**: one Parquet file in arrival order (FailureDateTime), every id as text.
- **ingest file**: the oldest rows of the store in arrival order with new EventIds (so that ingesting
  it into the seeded lake stores every row), ids as text, as telemetry arrives.

All of them are read from one snapshot of the lake, so every side of a comparison holds the same events.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from driverlens.catalog import ColumnType
from driverlens.events import EventStore
from driverlens.events.duck import source_sql, string_literal
from driverlens.events.schema import CLUSTER_KEY, COLUMN_NAMES, COLUMN_TYPES, OEM_CLUSTER_KEY, TABLE, quoted

OLD_TABLES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    TABLE: (COLUMN_NAMES, CLUSTER_KEY),
    "failure_events_by_oem": (tuple(c for c in COLUMN_NAMES if c != "EventId"), OEM_CLUSTER_KEY),
}
DUE = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
PARTNERS = {1: "Contoso Graphics", 2: "Northwind Systems", 3: "Contoso Graphics", 4: "Northwind Systems"}
PARTNERS[5] = "Contoso Graphics"
_UUID_COLUMNS = tuple(c for c in COLUMN_NAMES if COLUMN_TYPES[c] is ColumnType.UUID)
# Building a 10M-row copy sorts the whole table; DuckDB spills what does not fit.
_BUILD_MEMORY = "2GB"


def _connect(database: str, work: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(database)
    spill = work / "build-spill"
    con.execute(
        f"SET memory_limit = '{_BUILD_MEMORY}'; SET temp_directory = {string_literal(str(spill))}; "
        "SET enable_progress_bar = false; SET TimeZone = 'UTC'; SET preserve_insertion_order = false"
    )
    return con


def build_old_store(store: EventStore, path: Path, work: Path) -> None:
    """The pre-lake DuckDB file of the same events (the layout of its ``events.duckdb``)."""
    snapshot = store.snapshot()
    with _connect(str(path), work) as con:
        for table, (columns, key) in OLD_TABLES.items():
            ddl = ", ".join(f"{quoted(c)} {COLUMN_TYPES[c].duckdb_type}" for c in columns)
            con.execute(f"CREATE TABLE {table} ({ddl})")
            # The lake stores UUIDs as 16 bytes; DuckDB casts those bytes to its UUID type directly.
            values = ", ".join(
                f"CAST({quoted(c)} AS UUID)" if c in _UUID_COLUMNS else quoted(c) for c in columns
            )
            order = ", ".join(quoted(c) for c in key)
            con.execute(
                f"INSERT INTO {table} SELECT {values} FROM ({source_sql(snapshot, TABLE)}) ORDER BY {order}"
            )
        con.execute("CHECKPOINT")


def _text_ids(new_event_ids: bool) -> str:
    ids = [f"CAST(CAST({quoted(c)} AS UUID) AS VARCHAR) AS {quoted(c)}" for c in _UUID_COLUMNS]
    if new_event_ids:
        ids.append('CAST(uuid() AS VARCHAR) AS "EventId"')
    return ", ".join(ids)


def write_naive(store: EventStore, dest: Path, work: Path) -> None:
    """One Parquet file of every event in arrival order, ids as text."""
    _export(store, dest, work, new_event_ids=False)


def write_ingest_file(store: EventStore, dest: Path, work: Path, rows: int) -> None:
    """``rows`` events in arrival order with new EventIds, as a Parquet file an ingest would get."""
    _export(store, dest, work, new_event_ids=True, limit=rows)


def _export(
    store: EventStore, dest: Path, work: Path, *, new_event_ids: bool, limit: int | None = None
) -> None:
    source = source_sql(store.snapshot(), TABLE)
    tail = f" LIMIT {int(limit)}" if limit is not None else ""
    with _connect(":memory:", work) as con:
        con.execute(
            f"COPY (SELECT * REPLACE ({_text_ids(new_event_ids)}) FROM ({source}) "
            f"ORDER BY FailureDateTime, EventId{tail}) TO {string_literal(str(dest))} (FORMAT parquet)"
        )


_IHV_COLUMNS = """
    CAST(1 AS BIGINT) AS ReportId, FailureDate, FailureDateTime, ApplicationId, SubmissionId, FailureName,
    FailureHash, Symbol, OSVersion, OSName, EventType, Market, DeviceType, DriverName, DriverVersion,
    Architecture, OEMName, OEMModel, FlightRing, Mode, CPUName, OSSKUType, ReleaseName, CabType, CabIdHash,
    DeviceId, HardwareId, CabCollectionTime, CabExpirationTime, EventCount"""
_OEM_COLUMNS = """
    CAST(1 AS BIGINT) AS ReportId, FailureDate, FailureDateTime, FailureName, FailureHash, Symbol,
    OSVersion, EventType, Market, DeviceType, DriverName, DriverVersion, Architecture, OEMModel AS Model,
    Baseboard, ModelFamily, FlightRing, Mode, CPUName, OSSKUType, ReleaseName, CabType, CabIdHash,
    DeviceId, HardwareId, CabCollectionTime, CabExpirationTime, EventCount"""


def _window(days: int) -> str:
    end = DUE.date()
    return f"FailureDate >= DATE '{end - timedelta(days=days)}' AND FailureDate < DATE '{end}'"


def hand_sql(number: int, source: str) -> str:
    """The sample templates written by hand in DuckDB SQL over ``source`` (an old-store table or the naive
    file): what a user of the old store would have run."""
    ihv, oem = f"IhvPartner = '{PARTNERS[number]}'", f"OemPartner = '{PARTNERS[number]}'"
    return {
        1: f"SELECT {_IHV_COLUMNS} FROM {source} WHERE {ihv} AND {_window(7)}",
        2: f"SELECT {_OEM_COLUMNS} FROM {source} WHERE {oem} AND {_window(7)}",
        3: f"""
            SELECT DriverName, DriverVersion, FailureName, FailureHash, sum(EventCount) AS "SUM(EventCount)",
                   count(DISTINCT DeviceId) AS "DCOUNT(DeviceId)"
            FROM {source} WHERE {ihv} AND {_window(30)}
            GROUP BY ALL ORDER BY "DCOUNT(DeviceId)" DESC""",
        4: f"""
            SELECT FailureName, FailureHash, sum(EventCount) AS "SUM(EventCount)"
            FROM {source} WHERE {oem} AND {_window(7)} AND EventType = 'Kernel'
            GROUP BY ALL HAVING sum(EventCount) > 1000""",
        5: f"""
            SELECT DriverName, count(DISTINCT DeviceId) AS "DCOUNT(DeviceId)"
            FROM {source} WHERE {ihv} AND {_window(90)}
            GROUP BY ALL ORDER BY "DCOUNT(DeviceId)" DESC LIMIT 10""",
    }[number]
