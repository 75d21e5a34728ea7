"""Demo crash dumps: real cabinets, linked to every seeded event that names a CAB.

One cabinet per bugcheck, driver and mode (``0x9F_nvlddmkm`` in kernel mode, say), shared by the
events of all that driver's buckets with that bugcheck: a few hundred files for a million events,
each agreeing with its events' buckets on what the mismatch check compares (bugcheck and module).

Seeded events carry random CabIdHash values (the event store is not ours to change), so each bucket's
cabinet is linked to those values through the link table, exactly as a collector links a cabinet to
events recorded before it arrived. Only events whose CAB has not expired are linked. Every cabinet
goes through the same checks and parsers as an upload, so the demo proves they read the writer's
files. Running it again adds the links of new events and stores nothing twice.
"""

from __future__ import annotations

import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from driverlens.blobs.store import BlobStore
from driverlens.cabs.cabinet import CabLimits, open_cabinet
from driverlens.cabs.collection import bucket_mismatch, cab_blob_key, cab_row, file_sha256
from driverlens.cabs.demo import demo_cabinet
from driverlens.cabs.dumps import read_dump
from driverlens.clock import ensure_utc
from driverlens.events.store import EventStore
from driverlens.metadata.database import Database
from driverlens.metadata.repositories import cabs as cab_repo

COLLECTED_BY = "demo-seed"
_BUCKETS_SQL = (
    "SELECT split_part(\"FailureName\", '!', 1), coalesce(\"Mode\", 'Kernel') = 'Kernel', "
    'min("FailureName"), '
    'min("OSVersion"), min("DriverName"), min("DriverVersion"), list(DISTINCT "FailureName"), '
    'list("CabIdHash" ORDER BY "CabIdHash"), list("EventId" ORDER BY "CabIdHash") '
    'FROM failure_events WHERE "CabIdHash" IS NOT NULL AND "CabExpirationTime" > ? '
    "GROUP BY 1, 2 ORDER BY 1, 2"
)


@dataclass(frozen=True)
class SeededCabs:
    cabinets: int
    created: int
    links: int
    bytes: int


@dataclass(frozen=True)
class _Prepared:
    path: Path
    digest: str
    row: dict[str, Any]
    links: list[tuple[str, str]]


def _prepare(scratch: Path, number: int, bucket: tuple[Any, ...], now: datetime) -> _Prepared:
    """Write one group's cabinet and read it back with the upload's own checks and parsers."""
    _, kernel, failure_name, os_version, driver, driver_version, names, cab_hashes, event_ids = bucket
    path = scratch / f"{number}.cab"
    path.write_bytes(
        demo_cabinet(
            str(failure_name),
            kernel=bool(kernel),
            os_version=str(os_version or ""),
            driver=str(driver),
            driver_version=str(driver_version or "1.0.0.0"),
        )
    )
    cabinet = open_cabinet(path, CabLimits())
    facts = read_dump(cabinet)
    digest = file_sha256(path)
    mismatch = bucket_mismatch(facts, (str(n) for n in names))
    sizes = (cabinet.expanded_size, len(cabinet.members))
    row = cab_row(
        facts, digest, cab_blob_key(digest), path.stat().st_size, sizes, mismatch, COLLECTED_BY, now
    )
    return _Prepared(
        path, digest, row, [(str(h), str(e)) for h, e in zip(cab_hashes, event_ids, strict=True)]
    )


def seed_demo_cabs(db: Database, blobs: BlobStore, events: EventStore, now: datetime) -> SeededCabs:
    """Write, check and store one cabinet per (bugcheck, driver, mode); link those unexpired events.

    Blobs are written by a few threads (each put waits on fsync, not on the CPU) and the rows go in one
    transaction: seeding stores hundreds of cabinets at once, unlike a collector.
    """
    with events.reading() as conn:
        buckets = conn.execute(_BUCKETS_SQL, [ensure_utc(now).replace(tzinfo=None)]).fetchall()
    with tempfile.TemporaryDirectory(prefix="driverlens-demo-cabs-") as scratch:
        prepared = [_prepare(Path(scratch), i, tuple(b), now) for i, b in enumerate(buckets)]
        with db.session() as session:
            known = {c.sha256 for c in cab_repo.by_sha256s(session, [p.digest for p in prepared])}
        fresh = [p for p in prepared if p.digest not in known]
        with ThreadPoolExecutor(max_workers=8, thread_name_prefix="demo-cabs") as pool:
            list(pool.map(lambda p: blobs.put_file(p.row["blob_key"], p.path, move=True), fresh))
        links = 0
        with db.write_session() as session:
            for item in prepared:
                cab = cab_repo.find_by_sha256(session, item.digest) or cab_repo.add_cab(session, **item.row)
                links += cab_repo.link_events(session, cab, item.links, now=now, skip_taken=True)[0]
    return SeededCabs(len(prepared), len(fresh), links, sum(p.row["size"] for p in prepared))
