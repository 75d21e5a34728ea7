"""Crash-dump collectors; the secret is hashed by the auth package before it gets here."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from driverlens.errors import Conflict
from driverlens.metadata.models import Collector


def add_collector(
    session: Session, *, collector_id: str, secret_hash: str, name: str, now: datetime
) -> Collector:
    if find_collector(session, collector_id, include_revoked=True) is not None:
        raise Conflict(f"collector id {collector_id!r} already exists", target="collectorId")
    collector = Collector(collector_id=collector_id, secret_hash=secret_hash, name=name, created_at=now)
    session.add(collector)
    session.flush()
    return collector


def find_collector(session: Session, collector_id: str, *, include_revoked: bool = False) -> Collector | None:
    query = select(Collector).where(Collector.collector_id == collector_id)
    if not include_revoked:
        query = query.where(Collector.revoked_at.is_(None))
    return session.scalars(query).one_or_none()


def list_collectors(session: Session) -> list[Collector]:
    return list(session.scalars(select(Collector).order_by(Collector.id)))


def revoke_collector(session: Session, collector_id: str, *, now: datetime) -> Collector | None:
    """Revoke a collector (idempotent: the first revocation time is kept); None if it does not exist."""
    collector = find_collector(session, collector_id, include_revoked=True)
    if collector is None:
        return None
    if collector.revoked_at is None:
        collector.revoked_at = now
        session.flush()
    return collector
