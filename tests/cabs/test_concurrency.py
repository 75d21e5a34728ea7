"""Two uploads of the same cabinet at the same moment (PostgreSQL): one row, one blob, no error.

Both look the file up, both find nothing, then both insert: the second insert hits the unique index.
A barrier inside the write transaction's look-up forces that interleaving every time (the read-only
look-up before the blob is stored does not wait: a barrier there let one upload commit before the other
looked again, and the broken variant then saw no failure). The broken variant turns the retry
off and must see the failure (and must not lose the blob the winner recorded).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from driverlens.blobs.store import LocalBlobStore
from driverlens.cabs import collection
from driverlens.cabs.cabinet import CabLimits
from driverlens.cabs.collection import Collected, EventTargets, collect_cab
from driverlens.cabs.demo import demo_cabinet
from driverlens.events import EventStore
from driverlens.metadata.database import Database
from driverlens.metadata.models import Cab
from driverlens.metadata.repositories import cabs as cab_repo
from tests.cabs.conftest import NOW


class _NeverRaised(Exception):
    pass


@pytest.mark.postgres
@pytest.mark.parametrize("broken", [False, True], ids=["retry", "broken-no-retry"])
def test_same_cabinet_uploaded_twice_at_once(
    postgres_db: Database,
    seeded_events: EventStore,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    broken: bool,
) -> None:
    blobs = LocalBlobStore(tmp_path / "blobs")
    path = tmp_path / "same.cab"
    path.write_bytes(
        demo_cabinet(
            "0x9F_x!Y", kernel=True, os_version="10.0.22631.1", driver="x.sys", driver_version="1.0.0.0"
        )
    )
    barrier = threading.Barrier(2, timeout=20)
    waited: set[int] = set()
    registering = threading.local()
    original_find = cab_repo.find_by_sha256
    original_register = collection._register

    def find_in_step(session: Any, digest: str) -> Cab | None:
        found = original_find(session, digest)
        ident = threading.get_ident()
        if getattr(registering, "active", False) and ident not in waited and found is None:
            waited.add(ident)
            barrier.wait()  # both write transactions have looked and seen nothing
        return found

    def register_marked(*args: Any, **kwargs: Any) -> Any:
        registering.active = True
        try:
            return original_register(*args, **kwargs)
        finally:
            registering.active = False

    monkeypatch.setattr(cab_repo, "find_by_sha256", find_in_step)
    monkeypatch.setattr(collection, "_register", register_marked)
    if broken:
        monkeypatch.setattr(collection, "IntegrityError", _NeverRaised)
    results: list[Collected] = []
    errors: list[BaseException] = []

    def upload(copy: Path) -> None:
        try:
            result = collect_cab(
                copy,
                db=postgres_db,
                blobs=blobs,
                events=seeded_events,
                limits=CabLimits(),
                targets=EventTargets(),
                collected_by="t",
                now=NOW,
            )
            results.append(result)
        except BaseException as exc:
            errors.append(exc)

    copies = []
    for i in range(2):
        copy = tmp_path / f"copy{i}.cab"
        copy.write_bytes(path.read_bytes())
        copies.append(copy)
    threads = [threading.Thread(target=upload, args=(c,)) for c in copies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    with postgres_db.session() as session:
        rows = session.scalar(select(func.count()).select_from(Cab))
    assert rows == 1 and len(list((tmp_path / "blobs").rglob("*.cab"))) == 1  # the winner's blob is kept
    if broken:
        assert len(errors) == 1 and "duplicate key" in str(errors[0]), errors
    else:
        assert errors == [] and sorted(r.created for r in results) == [False, True]
