"""The Delta Lake table that holds the failure events: snapshots, atomic commits, retention, compaction.

Delta's log gives what the store needs without a protocol of our own: a commit is one log entry written
with put-if-absent, so readers see whole batches or nothing; a snapshot (table version) stays readable
while later commits land, so reports never wait for ingest and ingest never waits for reports; retention
is a delete of whole date partitions (a metadata change), and compaction replaces files atomically.

Layout (``<data dir>/events/lake``): partitioned by ``ClusteredBy`` (which copy, see ``events.schema``)
and ``FailureDate``; ZSTD; row groups of 8K rows sorted by the copy's owner partner within a day, so a
partner's scan of a day reads a few row groups. Every file path is hive-style
(``ClusteredBy=.../FailureDate=.../*.parquet``) whether DuckDB or delta-rs wrote it; readers take the
partition values from the Delta log and DuckDB additionally prunes whole files by the path's date.

Commits that add events are made with ``max_commit_retries=0`` at ``read_version + 1``: when another
writer got there first, the caller sees ``CommitConflict``, checks the events committed meanwhile
against its own, and tries again (``events.write``). That is how an EventId is never stored twice even
by concurrent ingests, without any lock.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
from deltalake import CommitProperties, DeltaTable, Transaction, WriterProperties
from deltalake.exceptions import CommitFailedError, TableNotFoundError
from deltalake.transaction import AddAction, RemoveAction

from driverlens.errors import DriverLensError
from driverlens.events.schema import (
    CLUSTER_KEY,
    COPY_COLUMN,
    COPY_OF_TABLE,
    DATE_COLUMN,
    OEM_CLUSTER_KEY,
    lake_schema,
)

LAKE_DIRNAME = "lake"
ROW_GROUP_ROWS = 8192
# Files older than this that no current snapshot references are deleted by vacuum. Longer than any report
# query (DRIVERLENS_QUERY_TIMEOUT_SECONDS, 600 s by default): a running report's snapshot stays whole.
VACUUM_GRACE_HOURS = 2
# A day partition of one copy with more files than this is compacted into one sorted file.
COMPACT_MIN_FILES = 4
_APP_ID_PREFIX = "driverlens-batch:"


@dataclass(frozen=True)
class Layout:
    """How one Delta table is laid out: its schema, its day column and, for the event table, its copies.

    The event table keeps two copies per day (``ClusteredBy`` then ``FailureDate``); the install base
    (``installs.table``) one, partitioned by ``InstallDate`` only, so its files' ``copy`` is ``""``.
    """

    schema: pa.Schema
    date_column: str
    copy_column: str | None = None
    copies: tuple[str, ...] = ("",)
    # A timestamp column whose largest value tells how fresh the table is (from the files' statistics).
    newest_column: str | None = None

    @property
    def partition_by(self) -> tuple[str, ...]:
        return (self.copy_column, self.date_column) if self.copy_column else (self.date_column,)

    def partition_values(self, copy: str, day: date) -> dict[str, str | None]:
        values: dict[str, str | None] = {self.copy_column: copy} if self.copy_column else {}
        values[self.date_column] = day.isoformat()
        return values


COPIES: tuple[str, ...] = (CLUSTER_KEY[0], OEM_CLUSTER_KEY[0])
EVENTS_LAYOUT = Layout(lake_schema(), DATE_COLUMN, COPY_COLUMN, COPIES, newest_column="FailureDateTime")


class CommitConflict(DriverLensError):
    """Another writer committed first; the caller re-checks against the newer version and retries."""

    status = 503
    code = "CommitConflict"


@dataclass(frozen=True)
class DataFile:
    """One Parquet file of a snapshot."""

    path: str  # absolute
    copy: str
    day: date
    rows: int
    size: int = 0


@dataclass(frozen=True)
class Snapshot:
    """One version of the table: what a report reads from start to end."""

    version: int
    files: tuple[DataFile, ...]
    newest_event: datetime | None = None
    # The install base version read together with this event version (``EventStore.snapshot`` binds both,
    # so one report reads one state of both tables); None for a snapshot of one table alone.
    install_base: Snapshot | None = None
    _by_copy: dict[str, tuple[str, ...]] = field(default_factory=dict, compare=False, repr=False)

    def paths(self, copy: str) -> tuple[str, ...]:
        """Absolute paths of one copy's files."""
        cached = self._by_copy.get(copy)
        if cached is None:
            cached = self._by_copy[copy] = tuple(f.path for f in self.files if f.copy == copy)
        return cached

    def paths_of_table(self, table: str) -> tuple[str, ...]:
        """Files read as ``failure_events`` or ``failure_events_by_oem``."""
        return self.paths(COPY_OF_TABLE[table])

    @property
    def rows(self) -> int:
        """Stored rows (events are stored once per copy; this counts the first copy)."""
        return sum(f.rows for f in self.files if f.copy in (COPIES[0], ""))

    @property
    def install_base_version(self) -> int | None:
        """The install base version bound with this snapshot, if any."""
        return self.install_base.version if self.install_base is not None else None


class Lake:
    """A Delta table at ``root`` (the events by default); one object per process is enough (thread-safe)."""

    def __init__(self, root: Path, layout: Layout = EVENTS_LAYOUT) -> None:
        self.root = Path(root)
        self.layout = layout
        self._lock = threading.Lock()
        self._table: DeltaTable | None = None
        self._snapshot: Snapshot | None = None

    def __repr__(self) -> str:
        return f"Lake({str(self.root)!r})"

    @property
    def uri(self) -> str:
        return str(self.root.resolve())

    def exists(self) -> bool:
        return (self.root / "_delta_log").is_dir()

    def ensure(self) -> None:
        """Create the empty table if there is none (concurrent creators: one wins, the rest see it)."""
        if self.exists():
            return
        self.root.mkdir(parents=True, exist_ok=True)
        with suppress(CommitFailedError):  # another process created it first
            DeltaTable.create(
                self.uri, self.layout.schema, mode="ignore", partition_by=list(self.layout.partition_by)
            )

    def snapshot(self) -> Snapshot:
        """The newest version (cached per version; one small log listing when nothing changed)."""
        self.ensure()
        with self._lock:
            if self._table is None:
                self._table = DeltaTable(self.uri)
            else:
                self._table.update_incremental()
            version = self._table.version()
            if self._snapshot is None or self._snapshot.version != version:
                self._snapshot = _snapshot_of(self._table, self.root, self.layout)
            return self._snapshot

    def at(self, version: int) -> DeltaTable:
        """The table as of ``version`` (for commits that must not skip past it)."""
        return DeltaTable(self.uri, version=version)

    def batch_committed(self, batch_id: str) -> bool:
        """Whether a commit carrying ``batch_id`` is in the table (idempotent re-runs)."""
        self.ensure()
        return DeltaTable(self.uri).transaction_version(_APP_ID_PREFIX + batch_id) is not None

    def commit_files(
        self,
        files: Sequence[WrittenFile],
        *,
        read_version: int,
        batch_id: str,
        operation: str,
        replaced: Sequence[DataFile] = (),
    ) -> int:
        """Commit written files as version ``read_version + 1``; ``CommitConflict`` if that is taken.

        ``replaced`` files of version ``read_version`` are removed in the same commit (a rewrite of
        whole day files, as the install base does when a day gains or changes rows).
        """
        table = self.at(read_version)
        now_ms = int(datetime.now(UTC).timestamp() * 1000)
        removes = [
            RemoveAction(
                os.path.relpath(f.path, self.root.resolve()),
                True,
                now_ms,
                f.size,
                self.layout.partition_values(f.copy, f.day),
            )
            for f in replaced
        ]
        properties = CommitProperties(
            max_commit_retries=0,
            app_transactions=[Transaction(_APP_ID_PREFIX + batch_id, 1)],
            custom_metadata={"driverlens.batch": batch_id, "driverlens.operation": operation},
        )
        try:
            table.create_write_transaction(
                [*(f.action(self.root, self.layout) for f in files), *removes],
                mode="append",
                schema=table.schema(),
                partition_by=list(self.layout.partition_by),
                commit_properties=properties,
            )
        except CommitFailedError as exc:
            raise CommitConflict(f"version {read_version + 1} was taken by another writer") from exc
        return read_version + 1

    # -- maintenance -------------------------------------------------------------------------------

    def delete_before(self, cutoff: date, attempts: int = 20) -> int:
        """Delete every row whose day is before ``cutoff`` (whole partitions: no rewrite); returns how
        many (events count once, not once per copy)."""
        self.ensure()
        for _ in range(attempts):
            table = DeltaTable(self.uri)
            if not any(f.day < cutoff for f in _snapshot_of(table, self.root, self.layout).files):
                return 0
            try:
                metrics = table.delete(f"{self.layout.date_column} < '{cutoff.isoformat()}'")
            except CommitFailedError:
                continue  # an ingest or compaction committed meanwhile; delete from the newer version
            return int(metrics.get("num_deleted_rows", 0) or 0) // len(self.layout.copies)
        raise CommitConflict(f"retention could not commit in {attempts} attempts; it runs again later")

    def compact(self, min_files: int = COMPACT_MIN_FILES) -> int:
        """Rewrite each day of a copy held in more than ``min_files`` files into sorted files.

        Each partition is one atomic commit (delta-rs ``optimize``); readers of older versions keep
        reading the files they started with until vacuum, which waits ``VACUUM_GRACE_HOURS``.
        """
        self.ensure()
        if self.layout.copy_column is None:
            return 0  # single-copy tables rewrite whole day files on every write; nothing to compact
        counts: dict[tuple[str, date], int] = {}
        for f in self.snapshot().files:
            counts[(f.copy, f.day)] = counts.get((f.copy, f.day), 0) + 1
        compacted = 0
        properties = WriterProperties(compression="ZSTD", max_row_group_size=ROW_GROUP_ROWS)
        for (copy, day), n in sorted(counts.items()):
            if n <= min_files:
                continue
            table = DeltaTable(self.uri)
            try:
                table.optimize.z_order(
                    [copy],
                    partition_filters=[(COPY_COLUMN, "=", copy), (DATE_COLUMN, "=", day.isoformat())],
                    writer_properties=properties,
                )
            except CommitFailedError:
                continue  # a concurrent delete took the partition; the next round sees the new state
            compacted += 1
        return compacted

    def vacuum(self, grace_hours: int = VACUUM_GRACE_HOURS) -> int:
        """Delete files that no snapshot of the last ``grace_hours`` needs (also uncommitted leftovers)."""
        self.ensure()
        removed = DeltaTable(self.uri).vacuum(
            retention_hours=grace_hours, dry_run=False, enforce_retention_duration=False
        )
        return len(removed)

    def history(self, limit: int = 20) -> list[dict[str, Any]]:
        self.ensure()
        return DeltaTable(self.uri).history(limit)


@dataclass(frozen=True)
class WrittenFile:
    """A data file written into the table directory but not yet committed."""

    path: Path  # absolute
    copy: str
    day: date
    rows: int
    stats: Mapping[str, Any]

    def action(self, root: Path, layout: Layout = EVENTS_LAYOUT) -> AddAction:
        status = self.path.stat()
        return AddAction(
            os.path.relpath(self.path, root),
            status.st_size,
            layout.partition_values(self.copy, self.day),
            int(status.st_mtime * 1000),
            True,
            json.dumps({"numRecords": self.rows, **self.stats}),
        )


def _snapshot_of(table: DeltaTable, root: Path, layout: Layout = EVENTS_LAYOUT) -> Snapshot:
    actions = pa.table(table.get_add_actions(flatten=True))
    names = set(actions.column_names)
    n = actions.num_rows
    paths = actions.column("path").to_pylist() if n else []
    if layout.copy_column is not None and n:
        copies = actions.column(f"partition.{layout.copy_column}").to_pylist()
    else:
        copies = [layout.copies[0]] * n
    days = actions.column(f"partition.{layout.date_column}").to_pylist() if n else []
    rows = actions.column("num_records").to_pylist() if n else []
    sizes = actions.column("size_bytes").to_pylist() if n else []
    newest: datetime | None = None
    if n and layout.newest_column is not None and f"max.{layout.newest_column}" in names:
        values = [v for v in actions.column(f"max.{layout.newest_column}").to_pylist() if v is not None]
        newest = max(values).replace(tzinfo=UTC) if values else None
    base = root.resolve()
    files = tuple(
        DataFile(
            str(base / p), c, d if isinstance(d, date) else date.fromisoformat(str(d)), int(r or 0), int(s)
        )
        for p, c, d, r, s in zip(paths, copies, days, rows, sizes, strict=True)
    )
    return Snapshot(version=table.version(), files=files, newest_event=newest)


def open_lake(events_dir: Path) -> Lake:
    """The lake under an events directory (``<data dir>/events``)."""
    return Lake(Path(events_dir) / LAKE_DIRNAME)


__all__ = [
    "COPIES",
    "EVENTS_LAYOUT",
    "CommitConflict",
    "DataFile",
    "Lake",
    "Layout",
    "Snapshot",
    "TableNotFoundError",
    "WrittenFile",
    "open_lake",
]
