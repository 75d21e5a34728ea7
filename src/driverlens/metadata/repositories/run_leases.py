"""What claims and leases read and guard: which runs are claimable, whose turn it is, the lease-holder
condition a result must still meet when it is committed, lease renewal and the recorded window.

The claim itself and every result are compare-and-set state changes (``runs.set_state`` through the run
state machine) guarded by the conditions built here: one row must match, or nothing is written.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, Select, and_, false, func, or_, select, update
from sqlalchemy.orm import Session

from driverlens.metadata.database import Database
from driverlens.metadata.models import Report, Run, RunState, Template
from driverlens.metadata.repositories.runs import rowcount


def claimable(now: datetime) -> ColumnElement[bool]:
    """Due Pending runs of live, unpaused reports, and In Progress runs whose lease expired."""
    return or_(
        and_(
            Run.state == RunState.PENDING,
            Run.next_attempt_at <= now,
            Report.is_paused == false(),
            Report.deleted_at.is_(None),
        ),
        and_(Run.state == RunState.IN_PROGRESS, Run.lease_expires_at <= now),
    )


def holds_lease(worker_id: str, now: datetime, attempt: int | None) -> ColumnElement[bool]:
    """``worker_id`` owns the run's unexpired lease (for the claimed ``attempt``, when given)."""
    held = and_(Run.lease_owner == worker_id, Run.lease_expires_at > now)
    return held if attempt is None else and_(held, Run.attempts == attempt)


def observed(state: RunState, attempts: int) -> ColumnElement[bool]:
    """The run is still in the state and attempt it was read in (a claim's compare-and-set guard)."""
    return and_(Run.state == state, Run.attempts == attempts)


def anything_claimable(db: Database, now: datetime) -> bool:
    """Whether any run is claimable (read without the write lock, so idle polls never take it)."""
    with db.session() as session:
        query = select(Run.id).join(Report, Report.id == Run.report_id).where(claimable(now)).limit(1)
        return session.execute(query).first() is not None


def _oldest(now: datetime) -> Select[int, RunState, int, int]:
    return (
        select(Run.id, Run.state, Run.attempts, Template.current_version)
        .join(Report, Report.id == Run.report_id)
        .join(Template, Template.id == Report.template_id)
        .where(claimable(now))
        .order_by(Run.next_attempt_at, Run.id)
        .limit(1)
    )


def candidate(
    session: Session, now: datetime, partner_id: int | None
) -> tuple[int, RunState, int, int] | None:
    """The oldest claimable run (of one partner, when given): (id, state, attempts, template version).

    PostgreSQL locks the row with ``FOR UPDATE SKIP LOCKED``; on SQLite the claim's transaction
    (``BEGIN IMMEDIATE``) holds the write lock already.
    """
    query = _oldest(now)
    if partner_id is not None:
        query = query.where(Report.partner_id == partner_id)
    if session.get_bind().dialect.name != "sqlite":
        query = query.with_for_update(of=Run, skip_locked=True)
    row = session.execute(query).first()
    return None if row is None else (int(row[0]), row[1], int(row[2]), int(row[3]))


def oldest_claimable(db: Database, now: datetime) -> tuple[int, int] | None:
    """(run id, template version) of the oldest claimable run, read in its own transaction (only the
    deliberately broken claim of the concurrency tests reads like this)."""
    with db.session() as session:
        row = session.execute(_oldest(now)).first()
    return None if row is None else (int(row[0]), int(row[3]))


def waiting_partners(session: Session, now: datetime) -> dict[int, datetime]:
    """Partners with claimable runs, with the moment their oldest became due."""
    rows = session.execute(
        select(Report.partner_id, func.min(Run.next_attempt_at))
        .select_from(Run)
        .join(Report, Report.id == Run.report_id)
        .where(claimable(now))
        .group_by(Report.partner_id)
    ).all()
    return {int(partner_id): due for partner_id, due in rows}


def running_per_partner(session: Session, partners: Collection[int], now: datetime) -> dict[int, int]:
    """Runs in progress under an unexpired lease, per partner."""
    rows = session.execute(
        select(Report.partner_id, func.count())
        .select_from(Run)
        .join(Report, Report.id == Run.report_id)
        .where(
            Report.partner_id.in_(list(partners)),
            Run.state == RunState.IN_PROGRESS,
            Run.lease_expires_at > now,
        )
        .group_by(Report.partner_id)
    ).all()
    return {int(partner_id): int(count) for partner_id, count in rows}


def last_started_per_partner(session: Session, partners: Collection[int]) -> dict[int, datetime]:
    """When each partner's most recent run started (partners never served are left out)."""
    rows = session.execute(
        select(Report.partner_id, func.max(Run.started_at))
        .select_from(Run)
        .join(Report, Report.id == Run.report_id)
        .where(Report.partner_id.in_(list(partners)), Run.started_at.is_not(None))
        .group_by(Report.partner_id)
    ).all()
    return {int(partner_id): started for partner_id, started in rows if started is not None}


def renew(db: Database, run_id: int, worker_id: str, now: datetime, lease_s: float) -> bool:
    """Extend the lease if ``worker_id`` still owns the run in progress; False means the lease is lost."""
    with db.write_session() as session:
        result = session.execute(
            update(Run)
            .where(Run.id == run_id, Run.state == RunState.IN_PROGRESS, Run.lease_owner == worker_id)
            .values(lease_expires_at=now + timedelta(seconds=lease_s))
            .execution_options(synchronize_session=False)
        )
        return rowcount(result) == 1


def record_window(db: Database, run_id: int, worker_id: str, start: date, end: date) -> bool:
    """Store the window a run actually covers, if ``worker_id`` still runs it."""
    with db.write_session() as session:
        result = session.execute(
            update(Run)
            .where(Run.id == run_id, Run.lease_owner == worker_id, Run.state == RunState.IN_PROGRESS)
            .values(window_start=start, window_end=end)
            .execution_options(synchronize_session=False)
        )
        return rowcount(result) == 1
