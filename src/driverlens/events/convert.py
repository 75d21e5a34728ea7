"""Move the events of a single-file DuckDB store (DriverLens before the lake) into the Delta table.

The old file held ``failure_events`` with every stored column (UUIDs typed UUID). Its rows go through the
one write path (``events.write``) as one batch whose id is derived from the file's bytes: the conversion is
atomic, running it again adds nothing, and events already in the lake (an EventId seen before) are not
stored twice. The old file is left in place; ``driverlens convert-events --remove`` deletes it afterwards.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from driverlens.errors import IngestError
from driverlens.events.schema import COLUMN_NAMES, create_table_sql, quoted, stored_value_sql
from driverlens.events.sql import string_literal
from driverlens.events.store import EventStore
from driverlens.events.write import commit_batch

_STAGING = "legacy_rows"


@dataclass(frozen=True)
class ConversionReport:
    source: Path
    rows_in_source: int
    loaded: int
    duplicates: int
    version: int | None
    already_converted: bool


def convert_legacy_store(store: EventStore, source: Path | None = None) -> ConversionReport:
    """Copy every event of the old DuckDB file (default ``<data dir>/events/events.duckdb``) into the lake."""
    path = Path(source) if source is not None else store.legacy_path
    if not path.is_file():
        raise IngestError(f"{path}: no such file (nothing to convert)", target=str(path))
    with store.scratch() as con:
        try:
            con.execute(f"ATTACH {string_literal(str(path))} AS legacy (READ_ONLY)")
        except Exception as exc:  # duckdb raises several classes for a file that is not a database
            raise IngestError(f"{path}: not a DuckDB event store: {exc}", target=str(path)) from exc
        present = {
            str(r[0])
            for r in con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE database_name = 'legacy' "
                "AND table_name = 'failure_events'"
            ).fetchall()
        }
        missing = [c for c in COLUMN_NAMES if c not in present]
        if missing:
            raise IngestError(
                f"{path}: table failure_events lacks column(s) {', '.join(missing)}; not a DriverLens store",
                target=str(path),
            )
        con.execute(create_table_sql(_STAGING))
        cols = ", ".join(quoted(c) for c in COLUMN_NAMES)
        values = ", ".join(stored_value_sql(c, quoted(c)) for c in COLUMN_NAMES)
        con.execute(f"INSERT INTO {_STAGING} ({cols}) SELECT {values} FROM legacy.failure_events")
        con.execute("DETACH legacy")
        result = commit_batch(store.lake, con, _STAGING, batch_id=_file_id(path), operation="convert")
        total = result.loaded + result.duplicates
    return ConversionReport(
        path, total, result.loaded, result.duplicates, result.version, result.already_committed
    )


def _file_id(path: Path) -> str:
    digest = hashlib.sha256(b"convert-v1")
    with path.open("rb") as handle:
        digest.update(hashlib.file_digest(handle, "sha256").digest())
    return digest.hexdigest()
