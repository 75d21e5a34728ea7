"""Stored crash dump cabinets and the failure events (by CabIdHash) that point at them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from driverlens.errors import Conflict
from driverlens.metadata.models import Cab, CabLink

_CHUNK = 500


def any_cab(session: Session) -> bool:
    return session.scalars(select(Cab.id).limit(1)).first() is not None


def find_by_sha256(session: Session, sha256: str) -> Cab | None:
    return session.scalars(select(Cab).where(Cab.sha256 == sha256)).one_or_none()


def by_sha256s(session: Session, digests: Sequence[str]) -> list[Cab]:
    found: list[Cab] = []
    for start in range(0, len(digests), _CHUNK):
        found.extend(session.scalars(select(Cab).where(Cab.sha256.in_(digests[start : start + _CHUNK]))))
    return found


def find_by_cab_id_hash(session: Session, cab_id_hash: str) -> Cab | None:
    return session.scalars(select(Cab).where(Cab.cab_id_hash == cab_id_hash)).one_or_none()


def add_cab(session: Session, **fields: Any) -> Cab:
    """Insert a CAB row; the caller checked ``find_by_sha256`` first (the unique index still guards)."""
    cab = Cab(**fields)
    session.add(cab)
    session.flush()
    return cab


def link_events(
    session: Session, cab: Cab, events: Iterable[tuple[str, str]], *, now: datetime, skip_taken: bool = False
) -> tuple[int, int]:
    """Point events ``(event CabIdHash, EventId)`` at ``cab``: (new links, links already there).

    An event CabIdHash already pointing at another CAB is a Conflict (one event has one crash dump),
    or, with ``skip_taken``, left as it is (re-seeding demo data).
    """
    pairs = sorted(set(events))
    added = existing = 0
    for start in range(0, len(pairs), _CHUNK):
        chunk = pairs[start : start + _CHUNK]
        hashes = sorted({h for h, _ in chunk})
        rows = session.execute(
            select(CabLink.event_cab_id_hash, CabLink.event_id, CabLink.cab_id).where(
                CabLink.event_cab_id_hash.in_(hashes)
            )
        ).all()
        taken = {h: cab_id for h, _, cab_id in rows if cab_id != cab.id}
        known = {(h, e) for h, e, cab_id in rows if cab_id == cab.id}
        clash = next((h for h, _ in chunk if h in taken), None)
        if clash is not None and skip_taken:
            chunk = [(h, e) for h, e in chunk if h not in taken]
        elif clash is not None:
            raise Conflict(f"event CabIdHash {clash!r} already has another crash dump", target="eventId")
        fresh = [
            {"cab_id": cab.id, "event_cab_id_hash": h, "event_id": e, "linked_at": now}
            for h, e in chunk
            if (h, e) not in known
        ]
        if fresh:
            session.execute(insert(CabLink), fresh)  # one executemany: seeding links many thousands
        added += len(fresh)
        existing += len(chunk) - len(fresh)
    return added, existing


def cabs_for_event_hashes(session: Session, event_hashes: Sequence[str]) -> dict[str, Cab]:
    """The stored CAB of each event CabIdHash that has one."""
    found: dict[str, Cab] = {}
    unique = sorted(set(event_hashes))
    for start in range(0, len(unique), _CHUNK):
        chunk = unique[start : start + _CHUNK]
        rows = session.execute(
            select(CabLink.event_cab_id_hash, Cab)
            .join(Cab, Cab.id == CabLink.cab_id)
            .where(CabLink.event_cab_id_hash.in_(chunk))
        ).all()
        for event_hash, cab in rows:
            found[event_hash] = cab
    return found


def by_cab_id_hashes(session: Session, cab_id_hashes: Sequence[str]) -> dict[str, Cab]:
    """Stored CABs by their own (content) id, for events that carry it directly."""
    found: dict[str, Cab] = {}
    unique = sorted(set(cab_id_hashes))
    for start in range(0, len(unique), _CHUNK):
        for cab in session.scalars(select(Cab).where(Cab.cab_id_hash.in_(unique[start : start + _CHUNK]))):
            found[cab.cab_id_hash] = cab
    return found


def linked_event_id_list(session: Session) -> list[str]:
    """Every linked EventId (for retention: which of them still exist)."""
    return list(session.scalars(select(CabLink.event_id).distinct()))


def unlink_events(session: Session, event_ids: Sequence[str]) -> set[int]:
    """Remove the links of these events; returns the ids of the CABs they pointed at."""
    touched: set[int] = set()
    for start in range(0, len(event_ids), _CHUNK):
        chunk = event_ids[start : start + _CHUNK]
        touched.update(session.scalars(select(CabLink.cab_id).where(CabLink.event_id.in_(chunk)).distinct()))
        session.execute(delete(CabLink).where(CabLink.event_id.in_(chunk)))
    return touched


def unlinked_among(session: Session, cab_ids: Sequence[int]) -> list[Cab]:
    """Those of ``cab_ids`` that no link points at any more."""
    found: list[Cab] = []
    linked = select(CabLink.cab_id).distinct()
    ids = sorted(cab_ids)
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        found.extend(session.scalars(select(Cab).where(Cab.id.in_(chunk), Cab.id.not_in(linked))))
    return found


def with_blob_keys(session: Session, keys: Sequence[str]) -> list[Cab]:
    found: list[Cab] = []
    for start in range(0, len(keys), _CHUNK):
        found.extend(session.scalars(select(Cab).where(Cab.blob_key.in_(keys[start : start + _CHUNK]))))
    return found


def delete_cabs(session: Session, cabs: Sequence[Cab]) -> int:
    ids = [cab.id for cab in cabs]
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        session.execute(delete(CabLink).where(CabLink.cab_id.in_(chunk)))
        session.execute(delete(Cab).where(Cab.id.in_(chunk)))
    return len(ids)
