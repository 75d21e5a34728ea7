"""Retention of crash dumps: a CAB goes with its blob (30 days) and with the events that named it.

The blob store's age-based purge deletes cabinet files like report files; their rows go with them
(``forget_purged_blobs``). When purged events were what linked a CAB, the CAB is deleted too, unless
some remaining event names it directly by its content id (``purge_cabs_without_events``).
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa

from driverlens.blobs.store import BlobStore
from driverlens.events.store import EventStore
from driverlens.metadata.database import Database
from driverlens.metadata.repositories import cabs as cab_repo

_CHUNK = 500


def forget_purged_blobs(db: Database, keys: Sequence[str]) -> int:
    """Delete the rows (and links) of CABs whose blobs were just purged; returns how many."""
    cab_keys = [key for key in keys if key.startswith("cabs/")]
    if not cab_keys:
        return 0
    with db.write_session() as session:
        return cab_repo.delete_cabs(session, cab_repo.with_blob_keys(session, cab_keys))


def _missing_events(events: EventStore, event_ids: list[str]) -> list[str]:
    """Those of ``event_ids`` no longer in the event store (one anti-join, not a query per id)."""
    if not event_ids:
        return []
    ids = pa.table({"event_id": pa.array(event_ids, pa.string())})
    with events.reading() as conn:
        conn.register("driverlens_cab_link_ids", ids)
        try:
            rows = conn.execute(
                "SELECT l.event_id FROM driverlens_cab_link_ids AS l "
                'ANTI JOIN failure_events AS f ON f."EventId" = l.event_id'
            ).fetchall()
        finally:
            conn.unregister("driverlens_cab_link_ids")
    return [str(row[0]) for row in rows]


def _named_directly(events: EventStore, cab_id_hashes: list[str]) -> set[str]:
    found: set[str] = set()
    with events.reading() as conn:
        for start in range(0, len(cab_id_hashes), _CHUNK):
            chunk = cab_id_hashes[start : start + _CHUNK]
            marks = ", ".join("?" for _ in chunk)
            rows = conn.execute(
                f'SELECT DISTINCT "CabIdHash" FROM failure_events WHERE "CabIdHash" IN ({marks})', chunk
            ).fetchall()
            found.update(str(row[0]) for row in rows)
    return found


def purge_cabs_without_events(db: Database, blobs: BlobStore, events: EventStore) -> int:
    """Unlink purged events; delete each CAB that thereby lost its last event. Returns CABs deleted."""
    with db.session() as session:
        linked = cab_repo.linked_event_id_list(session)
    gone = _missing_events(events, linked)
    if not gone:
        return 0
    with db.write_session() as session:
        touched = cab_repo.unlink_events(session, gone)
        candidates = cab_repo.unlinked_among(session, sorted(touched))
        kept = _named_directly(events, [cab.cab_id_hash for cab in candidates])
        doomed = [cab for cab in candidates if cab.cab_id_hash not in kept]
        cab_repo.delete_cabs(session, doomed)
    for cab in doomed:  # after the rows are gone: a crash here leaves a file the age purge removes
        blobs.delete(cab.blob_key)
    return len(doomed)
