"""Retention: report files and CABs go after 30 days, failure events after 90 days (and their CABs with them).

Runs stay listed after their file is purged; their location becomes ``""`` so report data shows no link.
Safe to run from several workers at once: deleting a missing blob and clearing a cleared location are
no-ops.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from driverlens.blobs.store import BlobStore
from driverlens.cabs.retention import forget_purged_blobs, purge_cabs_without_events
from driverlens.clock import ensure_utc
from driverlens.events.store import EventStore
from driverlens.metadata.database import Database
from driverlens.metadata.repositories import run_deltas
from driverlens.metadata.repositories import runs as repo

log = logging.getLogger(__name__)


# Retention deletes events, compacts the table and finds the CABs whose events are gone.
PurgeableEvents = EventStore


@dataclass(frozen=True)
class PurgeReport:
    events: int
    blobs: int
    runs_unlinked: int
    cabs: int = 0
    install_rows: int = 0

    def describe(self) -> str:
        return (
            f"purged {self.events} failure events, {self.install_rows} install base rows, "
            f"{self.blobs} files, {self.cabs} crash dumps; "
            f"{self.runs_unlinked} runs no longer have a file"
        )


def purge_files(db: Database, blobs: BlobStore, now: datetime, retention_days: int = 30) -> tuple[int, int]:
    """Delete blobs made before the cutoff, forget their CABs, clear their runs' location: (blobs, runs)."""
    cutoff = ensure_utc(now) - timedelta(days=retention_days)
    keys = [info.key for info in blobs.iter_older_than(cutoff)]
    deleted = sum(1 for key in keys if blobs.delete(key))
    forget_purged_blobs(db, keys)
    unlinked = 0
    with db.write_session() as session:
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            unlinked += repo.unlink_files(session, chunk)
            run_deltas.forget_bases(session, chunk)
        # Runs finished before the cutoff whose file vanished some other way lose their link too.
        unlinked += repo.unlink_finished_before(session, cutoff)
    return deleted, unlinked


def purge(
    db: Database,
    blobs: BlobStore,
    events: PurgeableEvents | None,
    now: datetime,
    *,
    event_retention_days: int = 90,
    file_retention_days: int = 30,
) -> PurgeReport:
    """The ``driverlens purge`` logic, also run daily by workers."""
    purged_events = events.purge(now, event_retention_days) if events is not None else 0
    # The install base is kept as long as the events it is the denominator of.
    install_rows = events.purge_install_base(now, event_retention_days) if events is not None else 0
    files, runs = purge_files(db, blobs, now, file_retention_days)
    cabs = purge_cabs_without_events(db, blobs, events) if events is not None else 0
    report = PurgeReport(purged_events, files, runs, cabs, install_rows)
    log.info("retention: %s", report.describe())
    return report
