"""A CAB goes with its blob's age and with the events that named it; rows and files together."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from driverlens.blobs.store import LocalBlobStore
from driverlens.cabs.cabinet import CabLimits
from driverlens.cabs.collection import EventTargets, collect_cab
from driverlens.cabs.demo import demo_cabinet
from driverlens.events import EventStore, seed_events
from driverlens.metadata.database import Database
from driverlens.metadata.migrate import migrate
from driverlens.metadata.models import Cab, CabLink
from driverlens.runs.retention import purge
from tests.cabs.conftest import NOW, SEED


def _cab(tmp_path: Path, name: str, failure: str) -> Path:
    path = tmp_path / name
    path.write_bytes(
        demo_cabinet(
            failure, kernel=True, os_version="10.0.22631.1", driver="x.sys", driver_version="1.0.0.0"
        )
    )
    return path


def _counts(db: Database) -> tuple[int, int]:
    with db.session() as session:
        cabs = session.scalar(select(func.count()).select_from(Cab)) or 0
        return cabs, session.scalar(select(func.count()).select_from(CabLink)) or 0


def test_purged_events_take_their_cab_and_aged_blobs_take_their_rows(tmp_path: Path) -> None:
    events = EventStore(tmp_path / "var")
    seed_events(events, **SEED)
    migrate(url := f"sqlite:///{tmp_path / 'metadata.db'}")
    db = Database(url)
    blobs = LocalBlobStore(tmp_path / "blobs")
    with events.reading() as conn:
        first = (
            'SELECT "EventId", "FailureDate" FROM failure_events ORDER BY "FailureDate" {}, "EventId" LIMIT 1'
        )
        old_id, old_day = conn.execute(first.format("ASC")).fetchone()  # type: ignore[misc]
        new_id, new_day = conn.execute(first.format("DESC")).fetchone()  # type: ignore[misc]
    assert new_day > old_day

    def collect(path: Path, *ids: str) -> str:
        targets = EventTargets(event_ids=ids)
        result = collect_cab(path, db=db, blobs=blobs, events=events, limits=CabLimits(), targets=targets,
                             collected_by="test", now=NOW)  # fmt: skip
        return result.cab_id_hash

    try:
        collect(_cab(tmp_path, "old.cab", "0x1_x!A"), old_id)
        collect(_cab(tmp_path, "new.cab", "0x2_x!B"), new_id)
        assert _counts(db) == (2, 2)
        # The oldest day's events go, and the CAB linked only to one of them goes too.
        retention = (NOW.date() - old_day).days - 1
        report = purge(db, blobs, events, NOW, event_retention_days=retention, file_retention_days=30)
        assert report.events > 0 and report.cabs == 1 and _counts(db) == (1, 1)
        assert len(list((tmp_path / "blobs").rglob("*.cab"))) == 1
        # Thirty days on, the remaining blob is purged by age and its row with it.
        later = purge(
            db, blobs, events, NOW + timedelta(days=31), event_retention_days=400, file_retention_days=30
        )
        assert later.blobs == 1 and _counts(db) == (0, 0)
        assert list((tmp_path / "blobs").rglob("*.cab")) == []
    finally:
        db.dispose()
