"""The failure-event store: a Delta Lake table (``events.lake``) read through DuckDB (``events.duck``).

Any number of processes read while any number ingest: a read binds one table version for its whole
duration and takes no lock; a write is one atomic commit (``events.write``). Retention and compaction are
commits too, and vacuum keeps replaced files for ``VACUUM_GRACE_HOURS`` so no running report loses a file.
"""

from __future__ import annotations

import secrets
import shutil
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb

from driverlens.clock import ensure_utc
from driverlens.errors import IngestError
from driverlens.events import duck
from driverlens.events.duck import EngineOptions
from driverlens.events.lake import Lake, Snapshot, open_lake
from driverlens.events.sql import string_literal
from driverlens.installs import table as install_table
from driverlens.settings import Settings

LEGACY_FILENAME = "events.duckdb"  # the single-file store of DriverLens before the lake
# Ingest and seed stage rows in a scratch database on disk under this memory limit (sorts spill). Measured
# on a 1M-row Parquet ingest: 512MB took 60 s, 640MB 21 s at 837 MB peak RSS, 900MB 18 s at 1.07 GB.
SCRATCH_MEMORY_LIMIT = "640MB"


@dataclass(frozen=True)
class IngestReport:
    """Outcome of one ``ingest`` call over all its files."""

    loaded: int
    duplicates: int
    rejected: int
    rejects_path: Path | None = None
    rejects_paths: tuple[Path, ...] = ()
    version: int | None = None
    already_committed: bool = False
    conflicts: int = 0  # commit races lost to another writer (each retried on top of the winner)


def event_store(settings: Settings) -> EventStore:
    """The store of a settings object, with its engine memory limit, threads and spill directory."""
    data_dir = Path(settings.data_dir)
    options = EngineOptions(
        memory_limit=settings.engine_memory_limit,
        threads=settings.engine_threads,
        spill_dir=data_dir.resolve() / "tmp" / "duckdb",
    )
    return EventStore(data_dir, engine=options)


# A staging file this old belongs to an ingest that was killed (none runs for a day).
STALE_STAGING_S = 24 * 3600


def _remove_stale(folder: Path) -> None:
    cutoff = time.time() - STALE_STAGING_S
    for entry in folder.iterdir():
        with suppress(FileNotFoundError):
            if entry.stat().st_mtime < cutoff:
                shutil.rmtree(entry) if entry.is_dir() else entry.unlink()


class EventStore:
    """Failure events of every partner, in the Delta table ``<data_dir>/events/lake``, and the install base
    beside them (``<data_dir>/installs/lake``, see ``driverlens.installs``): reports read both."""

    def __init__(self, data_dir: Path, *, engine: EngineOptions | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.events_dir = self.data_dir / "events"
        self.lake: Lake = open_lake(self.events_dir)
        self.installs: Lake = Lake(install_table.lake_root(self.data_dir), install_table.LAYOUT)
        self.engine = engine or EngineOptions(spill_dir=self.data_dir.resolve() / "tmp" / "duckdb")

    def __repr__(self) -> str:
        return f"EventStore({str(self.data_dir)!r})"

    @property
    def legacy_path(self) -> Path:
        return self.events_dir / LEGACY_FILENAME

    # -- reading -----------------------------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        """The newest event table version, with its files and the newest install base version.

        The two versions are taken one after the other, without a lock: each is whole (a commit is
        atomic), and a report reads exactly this pair from start to end.
        """
        events = self.lake.snapshot()
        return replace(events, install_base=self.installs.snapshot())

    @contextmanager
    def reading(self, snapshot: Snapshot | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor on which ``failure_events`` / ``failure_events_by_oem`` / ``install_base`` read one
        snapshot."""
        con = duck.cursor(self.engine)
        try:
            duck.bind_snapshot(con, snapshot or self.snapshot())
            yield con
        finally:
            con.close()

    def ping(self) -> None:
        """Read one row of the newest snapshot: raises when the store cannot be read (readiness probe)."""
        with self.reading() as conn:
            conn.execute("SELECT 1 FROM failure_events LIMIT 1").fetchall()

    def count(self) -> int:
        """Number of stored events."""
        return self.snapshot().rows

    # -- writing -----------------------------------------------------------------------------------

    @contextmanager
    def scratch(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A DuckDB database on disk for staging one write (deleted afterwards); memory stays bounded."""
        folder = self.data_dir / "tmp" / "staging"
        folder.mkdir(parents=True, exist_ok=True)
        _remove_stale(folder)
        path = folder / f"{secrets.token_hex(8)}.duckdb"
        spill = folder / f"{path.stem}.spill"
        con = duckdb.connect(str(path))
        try:
            con.execute(
                f"SET memory_limit = {string_literal(SCRATCH_MEMORY_LIMIT)}; "
                f"SET temp_directory = {string_literal(str(spill))}; "
                "SET enable_progress_bar = false; SET TimeZone = 'UTC'"
            )
            yield con
        finally:
            con.close()
            for leftover in (path, path.with_name(path.name + ".wal")):
                with suppress(FileNotFoundError):
                    leftover.unlink()
            shutil.rmtree(spill, ignore_errors=True)

    def ingest(
        self, paths: Sequence[Path | str], *, skip_invalid: bool = False, progress: bool = False
    ) -> IngestReport:
        """Validate and load CSV / JSON Lines / Parquet files as one atomic, idempotent commit."""
        from driverlens.events.ingest import ingest_files

        if not paths:
            raise IngestError("no files given")
        return ingest_files(self, [Path(p) for p in paths], skip_invalid=skip_invalid, progress=progress)

    # -- maintenance -------------------------------------------------------------------------------

    def purge(self, now: datetime, retention_days: int = 90) -> int:
        """Delete events whose FailureDate is before the retention window; returns how many."""
        if retention_days < 1:
            raise ValueError("retention_days must be >= 1")
        cutoff: date = ensure_utc(now).date() - timedelta(days=retention_days)
        deleted = self.lake.delete_before(cutoff)
        self.lake.vacuum()  # the deleted days' files go once no report can still be reading them
        return deleted

    def purge_install_base(self, now: datetime, retention_days: int = 90) -> int:
        """Delete install base rows whose InstallDate is before the retention window; returns how many."""
        if retention_days < 1:
            raise ValueError("retention_days must be >= 1")
        cutoff: date = ensure_utc(now).date() - timedelta(days=retention_days)
        deleted = self.installs.delete_before(cutoff)
        self.installs.vacuum()
        return deleted

    def compact(self) -> int:
        """Rewrite days held in many small files into sorted files; returns how many partitions."""
        return self.lake.compact()
