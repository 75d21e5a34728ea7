"""Fixtures of the crash dump tests: a small seeded event store, a metadata store, a blob store."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from driverlens.blobs.store import LocalBlobStore
from driverlens.cabs.cabinet import CabLimits
from driverlens.cabs.collection import Collected, EventTargets, collect_cab
from driverlens.events import EventStore, seed_events
from driverlens.metadata.database import Database
from driverlens.metadata.migrate import migrate

NOW = datetime.now(UTC).replace(microsecond=0)
SEED: dict[str, Any] = {"rows": 400, "days": 10, "seed": 3, "now": NOW}


@dataclass(frozen=True)
class Event:
    event_id: str
    cab_id_hash: str
    failure_name: str
    kernel: bool
    driver: str
    driver_version: str
    os_version: str


@pytest.fixture(scope="module")
def seeded_events(tmp_path_factory: pytest.TempPathFactory) -> EventStore:
    store = EventStore(tmp_path_factory.mktemp("events") / "var")
    seed_events(store, **SEED)
    return store


@pytest.fixture(scope="module")
def events_sample(seeded_events: EventStore) -> list[Event]:
    """A few seeded events, each of a different failure bucket."""
    with seeded_events.reading() as conn:
        rows = conn.execute(
            'SELECT min("EventId"), arg_min("CabIdHash", "EventId"), "FailureName", '
            'arg_min("Mode", "EventId") = \'Kernel\', min("DriverName"), min("DriverVersion"), '
            'min("OSVersion") '
            'FROM failure_events WHERE "CabIdHash" IS NOT NULL GROUP BY "FailureName" ORDER BY 1 LIMIT 40'
        ).fetchall()
    return [Event(*(str(v) if not isinstance(v, bool) else v for v in row)) for row in rows]


@dataclass
class Stores:
    db: Database
    blobs: LocalBlobStore
    events: EventStore
    root: Path

    def blob_files(self) -> list[Path]:
        return sorted(p for p in (self.root / "blobs").rglob("*") if p.is_file())


@pytest.fixture
def stores(tmp_path: Path, seeded_events: EventStore) -> Iterator[Stores]:
    url = f"sqlite:///{tmp_path / 'metadata.db'}"
    migrate(url)
    db = Database(url)
    try:
        yield Stores(db, LocalBlobStore(tmp_path / "blobs"), seeded_events, tmp_path)
    finally:
        db.dispose()


Collect = Callable[..., Collected]


@pytest.fixture
def collect(stores: Stores) -> Collect:
    """``collect(path, event_ids=[...], cab_id_hashes=[...], limits=...)`` through the real use case."""

    def run(
        path: Path,
        *,
        event_ids: tuple[str, ...] = (),
        cab_id_hashes: tuple[str, ...] = (),
        limits: CabLimits | None = None,
    ) -> Collected:
        return collect_cab(
            path,
            db=stores.db,
            blobs=stores.blobs,
            events=stores.events,
            limits=limits or CabLimits(),
            targets=EventTargets(tuple(event_ids), tuple(cab_id_hashes)),
            collected_by="test",
            now=NOW,
        )

    return run
