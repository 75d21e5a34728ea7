"""Claims and leases: a worker owns a run only while its lease is unexpired.

SQLite: the claim runs in a ``BEGIN IMMEDIATE`` transaction (one writer at a time), PostgreSQL: the
candidate row is locked with ``FOR UPDATE SKIP LOCKED``. Either way the update is a compare-and-set that
must match exactly one row. Every result is committed only while the worker still owns an unexpired
lease, so a worker that stalled past its lease cannot overwrite a newer attempt.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import ColumnElement, Select, and_, false, func, or_, select, update
from sqlalchemy.orm import Session

from driverlens.clock import ensure_utc
from driverlens.metadata import Report, Run, RunState, Template
from driverlens.metadata.database import Database
from driverlens.runs.failures import RunErrorCode
from driverlens.runs.states import LeaseLost, Outcome, record_transition, rowcount

#: Tests switch this off to prove that the concurrency tests catch a missing lease check (the claim
#: then reads and writes in separate transactions and commits match on the run id alone). Never in use.
CHECK_LEASES = True

#: Tests switch this off to prove that the fairness test catches plain oldest-first claiming. Never in use.
FAIR_CLAIMS = True

#: A run whose lease expired this many times (its worker died each time) is failed, not retried forever.
MAX_CLAIMS = 8

#: Candidates examined per claim call before giving up (abandoned runs are failed on the way).
_CLAIM_SCAN = 8

AfterCommit = Callable[[Session, Run], None]


def _claimable(now: datetime) -> ColumnElement[bool]:
    return or_(
        and_(
            Run.state == RunState.PENDING,
            Run.next_attempt_at <= now,
            Report.is_paused == false(),
            Report.deleted_at.is_(None),
        ),
        and_(Run.state == RunState.IN_PROGRESS, Run.lease_expires_at <= now),
    )


def _holds_lease(worker_id: str, now: datetime, attempt: int | None) -> ColumnElement[bool]:
    held = and_(Run.lease_owner == worker_id, Run.lease_expires_at > now)
    return held if attempt is None else and_(held, Run.attempts == attempt)


def abandoned_message(attempts: int) -> str:
    return f"{RunErrorCode.WORKER_LOST.value}: " + (
        f"the run stopped {attempts} times before finishing (the worker running it crashed or was "
        "killed, for example out of memory); narrow the template's projection or period, or start a "
        "manual run later"
    )


def claim(
    db: Database,
    worker_id: str,
    now: datetime,
    lease_s: float,
    *,
    on_failed: AfterCommit | None = None,
    max_claims: int = MAX_CLAIMS,
) -> Run | None:
    """Take the oldest claimable run (due Pending, or In Progress with an expired lease), or None."""
    now = ensure_utc(now)
    if not CHECK_LEASES:
        return _claim_unchecked(db, worker_id, now, lease_s)
    if not _anything_claimable(db, now):
        return None  # idle polls never take the write lock
    with db.write_session() as session:
        for _ in range(_CLAIM_SCAN):
            row = None
            if FAIR_CLAIMS:
                partner_id = _fairest_partner(session, now)
                if partner_id is not None:
                    row = session.execute(_candidate(db, now, partner_id)).first()
            if row is None:  # (on PostgreSQL that partner's runs may all be locked by other claimers)
                row = session.execute(_candidate(db, now, None)).first()
            if row is None:
                return None
            run_id, state, attempts, version = row
            observed = and_(Run.state == state, Run.attempts == attempts)
            if state is RunState.IN_PROGRESS and attempts >= max_claims:
                if record_transition(
                    session, run_id, [state], RunState.FAILED, now, guard=observed,
                    error=abandoned_message(attempts),
                ):  # fmt: skip
                    run = session.get(Run, run_id, populate_existing=True)
                    if run is not None and on_failed is not None:
                        on_failed(session, run)
                continue
            if record_transition(
                session, run_id, [state], RunState.IN_PROGRESS, now, guard=observed,
                worker_id=worker_id, lease_s=lease_s, template_version=version,
            ):  # fmt: skip
                return session.get(Run, run_id, populate_existing=True)
            return None
    return None


def _candidate(db: Database, now: datetime, partner_id: int | None) -> Select[int, RunState, int, int]:
    """The oldest claimable run (of one partner, when given)."""
    query = (
        select(Run.id, Run.state, Run.attempts, Template.current_version)
        .join(Report, Report.id == Run.report_id)
        .join(Template, Template.id == Report.template_id)
        .where(_claimable(now))
        .order_by(Run.next_attempt_at, Run.id)
        .limit(1)
    )
    if partner_id is not None:
        query = query.where(Report.partner_id == partner_id)
    if not db.is_sqlite:
        query = query.with_for_update(of=Run, skip_locked=True)
    return query


def _fairest_partner(session: Session, now: datetime) -> int | None:
    """The partner whose turn it is: fewest runs running, then least recently served, then oldest due.

    Round robin between partners with claimable runs, so a partner with a long backlog gets one run
    per turn like everyone else: another partner's due run waits at most for the runs already running.
    """
    waiting = dict(
        session.execute(
            select(Report.partner_id, func.min(Run.next_attempt_at))
            .select_from(Run)
            .join(Report, Report.id == Run.report_id)
            .where(_claimable(now))
            .group_by(Report.partner_id)
        ).all()
    )
    if len(waiting) <= 1:
        return next(iter(waiting), None)
    partners = list(waiting)
    running = dict(
        session.execute(
            select(Report.partner_id, func.count())
            .select_from(Run)
            .join(Report, Report.id == Run.report_id)
            .where(
                Report.partner_id.in_(partners),
                Run.state == RunState.IN_PROGRESS,
                Run.lease_expires_at > now,
            )
            .group_by(Report.partner_id)
        ).all()
    )
    served = dict(
        session.execute(
            select(Report.partner_id, func.max(Run.started_at))
            .select_from(Run)
            .join(Report, Report.id == Run.report_id)
            .where(Report.partner_id.in_(partners), Run.started_at.is_not(None))
            .group_by(Report.partner_id)
        ).all()
    )
    never = datetime.min.replace(tzinfo=UTC)

    def turn(partner_id: int) -> tuple[int, datetime, datetime, int]:
        last = served.get(partner_id)
        return (
            int(running.get(partner_id, 0)),
            ensure_utc(last) if last is not None else never,
            ensure_utc(waiting[partner_id]),
            partner_id,
        )

    return min(partners, key=turn)


def _anything_claimable(db: Database, now: datetime) -> bool:
    with db.session() as session:
        query = select(Run.id).join(Report, Report.id == Run.report_id).where(_claimable(now)).limit(1)
        return session.execute(query).first() is not None


def _claim_unchecked(db: Database, worker_id: str, now: datetime, lease_s: float) -> Run | None:
    """The deliberately broken claim: read, then write in another transaction, matching the id only."""
    with db.session() as session:
        row = session.execute(
            select(Run.id, Template.current_version)
            .join(Report, Report.id == Run.report_id)
            .join(Template, Template.id == Report.template_id)
            .where(_claimable(now))
            .order_by(Run.next_attempt_at, Run.id)
            .limit(1)
        ).first()
    if row is None:
        return None
    time.sleep(0.05)  # widen the race window so the broken variant reliably shows what it breaks
    with db.write_session() as session:
        record_transition(
            session, row[0], [RunState.PENDING, RunState.IN_PROGRESS], RunState.IN_PROGRESS, now,
            compare=False, worker_id=worker_id, lease_s=lease_s, template_version=row[1],
        )  # fmt: skip
        return session.get(Run, row[0], populate_existing=True)


def renew(db: Database, run_id: int, worker_id: str, now: datetime, lease_s: float) -> bool:
    """Extend the lease if ``worker_id`` still owns the run; False means the lease is lost."""
    now = ensure_utc(now)
    if not CHECK_LEASES:
        return True
    with db.write_session() as session:
        result = session.execute(
            update(Run)
            .where(Run.id == run_id, Run.state == RunState.IN_PROGRESS, Run.lease_owner == worker_id)
            .values(lease_expires_at=now + timedelta(seconds=lease_s))
            .execution_options(synchronize_session=False)
        )
        return rowcount(result) == 1


def _finish(
    db: Database,
    run_id: int,
    worker_id: str,
    now: datetime,
    target: RunState,
    after: AfterCommit | None,
    attempt: int | None,
    **kwargs: object,
) -> Run:
    now = ensure_utc(now)
    with db.write_session() as session:
        done = record_transition(
            session, run_id, [RunState.IN_PROGRESS], target, now,
            guard=_holds_lease(worker_id, now, attempt), compare=CHECK_LEASES, **kwargs,
        )  # fmt: skip
        if not done:
            raise LeaseLost(f"worker {worker_id} no longer holds the lease of run {run_id}")
        run = session.get(Run, run_id, populate_existing=True)
        if run is None:  # pragma: no cover - the update matched it a moment ago
            raise LeaseLost(f"run {run_id} disappeared")
        if after is not None:
            after(session, run)
        return run


def complete(
    db: Database,
    run_id: int,
    worker_id: str,
    now: datetime,
    outcome: Outcome,
    *,
    attempt: int | None = None,
    after: AfterCommit | None = None,
) -> Run:
    """Record a finished file; raises ``LeaseLost`` (nothing written) if the lease is not ours.

    ``attempt`` (the attempt number the worker claimed) tightens the check further; ``after`` runs in
    the same transaction (callback enqueueing), so a notice exists exactly when the state changed.
    """
    return _finish(db, run_id, worker_id, now, RunState.COMPLETED, after, attempt, outcome=outcome)


def fail(
    db: Database,
    run_id: int,
    worker_id: str,
    now: datetime,
    error: str,
    *,
    attempt: int | None = None,
    after: AfterCommit | None = None,
) -> Run:
    """Record a final failure with a message the partner can act on; raises ``LeaseLost``."""
    return _finish(db, run_id, worker_id, now, RunState.FAILED, after, attempt, error=error)


def retry_later(
    db: Database,
    run_id: int,
    worker_id: str,
    now: datetime,
    error: str,
    at: datetime,
    *,
    attempt: int | None = None,
) -> Run:
    """Hand the run back as Pending, due again at ``at`` (transient failure); raises ``LeaseLost``."""
    return _finish(
        db, run_id, worker_id, now, RunState.PENDING, None, attempt, error=error, next_attempt_at=at
    )


def release(db: Database, run_id: int, worker_id: str, now: datetime, *, attempt: int | None = None) -> bool:
    """Give an unfinished run back untouched (graceful shutdown); False if it was no longer ours."""
    try:
        _finish(db, run_id, worker_id, now, RunState.PENDING, None, attempt, release=True)
    except LeaseLost:
        return False
    return True


def record_window(db: Database, run_id: int, worker_id: str, start: date, end: date) -> bool:
    """Store the window a run actually covers (a template edit may have changed its period)."""
    with db.write_session() as session:
        result = session.execute(
            update(Run)
            .where(Run.id == run_id, Run.lease_owner == worker_id, Run.state == RunState.IN_PROGRESS)
            .values(window_start=start, window_end=end)
            .execution_options(synchronize_session=False)
        )
        return rowcount(result) == 1
