"""The run queue as operators see it: due runs waiting for a worker, per partner (read at scrape time)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from driverlens.clock import ensure_utc
from driverlens.metadata.models import Partner, Report, Run, RunState
from driverlens.metadata.repositories.run_leases import claimable


@dataclass(frozen=True)
class PartnerQueue:
    partner: str
    depth: int
    oldest_due: datetime


def due_by_partner(session: Session, now: datetime) -> list[PartnerQueue]:
    """Claimable runs per partner and the moment the oldest became claimable, in one grouped query.

    Claimable as a worker sees it: Pending and due on a live, unpaused report, or In Progress with an
    expired lease (its worker died). Partners with nothing waiting are left out. The ``ix_runs_claim``
    index (state, next_attempt_at) keeps this cheap however many finished runs the table holds.
    """
    now = ensure_utc(now)
    since = case((Run.state == RunState.PENDING, Run.next_attempt_at), else_=Run.lease_expires_at)
    rows = session.execute(
        select(Partner.name, func.count(), func.min(since))
        .select_from(Run)
        .join(Report, Report.id == Run.report_id)
        .join(Partner, Partner.id == Report.partner_id)
        .where(claimable(now))
        .group_by(Partner.id, Partner.name)
        .order_by(Partner.name)
    ).all()
    return [PartnerQueue(str(name), int(depth), _as_utc(oldest, now)) for name, depth, oldest in rows]


def _as_utc(value: object, fallback: datetime) -> datetime:
    """``min`` over a CASE comes back untyped on SQLite (text); parse it like the column would."""
    if isinstance(value, datetime):
        return ensure_utc(value)
    if isinstance(value, str):
        return ensure_utc(datetime.fromisoformat(value))
    return fallback
