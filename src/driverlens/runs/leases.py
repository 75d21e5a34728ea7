"""Claims and leases: a worker owns a run only while its lease is unexpired.

SQLite: the claim runs in a ``BEGIN IMMEDIATE`` transaction (one writer at a time), PostgreSQL: the
candidate row is locked with ``FOR UPDATE SKIP LOCKED``. Either way the update is a compare-and-set that
must match exactly one row. Every result is committed only while the worker still owns an unexpired
lease, so a worker that stalled past its lease cannot overwrite a newer attempt.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from driverlens.clock import ensure_utc
from driverlens.metadata import Run, RunState
from driverlens.metadata.database import Database
from driverlens.metadata.repositories import run_leases as repo
from driverlens.metadata.repositories import runs as runs_repo
from driverlens.metadata.repositories.run_leases import holds_lease as _holds_lease
from driverlens.runs.failures import RunErrorCode
from driverlens.runs.states import LeaseLost, Outcome, record_transition

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
    if not repo.anything_claimable(db, now):
        return None  # idle polls never take the write lock
    with db.write_session() as session:
        for _ in range(_CLAIM_SCAN):
            row = None
            if FAIR_CLAIMS:
                partner_id = _fairest_partner(session, now)
                if partner_id is not None:
                    row = repo.candidate(session, now, partner_id)
            if row is None:  # (on PostgreSQL that partner's runs may all be locked by other claimers)
                row = repo.candidate(session, now, None)
            if row is None:
                return None
            run_id, state, attempts, version = row
            observed = repo.observed(state, attempts)
            if state is RunState.IN_PROGRESS and attempts >= max_claims:
                if record_transition(
                    session, run_id, [state], RunState.FAILED, now, guard=observed,
                    error=abandoned_message(attempts),
                ):  # fmt: skip
                    run = runs_repo.reload(session, run_id)
                    if run is not None and on_failed is not None:
                        on_failed(session, run)
                continue
            if record_transition(
                session, run_id, [state], RunState.IN_PROGRESS, now, guard=observed,
                worker_id=worker_id, lease_s=lease_s, template_version=version,
            ):  # fmt: skip
                return runs_repo.reload(session, run_id)
            return None
    return None


def _fairest_partner(session: Session, now: datetime) -> int | None:
    """The partner whose turn it is: fewest runs running, then least recently served, then oldest due.

    Round robin between partners with claimable runs, so a partner with a long backlog gets one run
    per turn like everyone else: another partner's due run waits at most for the runs already running.
    """
    waiting = repo.waiting_partners(session, now)
    if len(waiting) <= 1:
        return next(iter(waiting), None)
    partners = list(waiting)
    running = repo.running_per_partner(session, partners, now)
    served = repo.last_started_per_partner(session, partners)
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


def _claim_unchecked(db: Database, worker_id: str, now: datetime, lease_s: float) -> Run | None:
    """The deliberately broken claim: read, then write in another transaction, matching the id only."""
    row = repo.oldest_claimable(db, now)
    if row is None:
        return None
    time.sleep(0.05)  # widen the race window so the broken variant reliably shows what it breaks
    with db.write_session() as session:
        record_transition(
            session, row[0], [RunState.PENDING, RunState.IN_PROGRESS], RunState.IN_PROGRESS, now,
            compare=False, worker_id=worker_id, lease_s=lease_s, template_version=row[1],
        )  # fmt: skip
        return runs_repo.reload(session, row[0])


def renew(db: Database, run_id: int, worker_id: str, now: datetime, lease_s: float) -> bool:
    """Extend the lease if ``worker_id`` still owns the run; False means the lease is lost."""
    now = ensure_utc(now)
    if not CHECK_LEASES:
        return True
    return repo.renew(db, run_id, worker_id, now, lease_s)


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
        run = runs_repo.reload(session, run_id)
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
    return repo.record_window(db, run_id, worker_id, start, end)
