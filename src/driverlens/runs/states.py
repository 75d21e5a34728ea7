"""The run state machine: every change of a run's state goes through :func:`record_transition`.

Transitions are compare-and-set updates: the caller says which states it expects the run to be in and
any extra guard (lease owner, expiry); the update matches one row or nothing happens.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

from driverlens.clock import ensure_utc
from driverlens.errors import DriverLensError
from driverlens.metadata import Run, RunState
from driverlens.metadata.repositories import runs as repo

ALLOWED: dict[RunState, frozenset[RunState]] = {
    RunState.PENDING: frozenset({RunState.IN_PROGRESS, RunState.SKIPPED, RunState.FAILED}),
    # In Progress -> In Progress is a reclaim after the lease expired; -> Pending is a retry or release.
    RunState.IN_PROGRESS: frozenset(
        {RunState.IN_PROGRESS, RunState.PENDING, RunState.COMPLETED, RunState.FAILED}
    ),
    RunState.COMPLETED: frozenset(),
    RunState.FAILED: frozenset(),
    RunState.SKIPPED: frozenset(),
}


class InvalidTransition(DriverLensError):
    """A state change the run state machine does not allow (a bug, not an input error)."""


class LeaseLost(DriverLensError):
    """The worker no longer owns the run's lease; its result must be discarded."""

    status = 409
    code = "LeaseLost"


@dataclass(frozen=True)
class Outcome:
    """What a finished attempt produced (the columns written on Completed)."""

    row_count: int
    bytes: int
    sha256: str
    location: str
    format: str
    store_version: int | None = None
    newest_event: datetime | None = None
    install_base_version: int | None = None
    delta_summary: dict[str, Any] | None = None
    delta_base: str | None = None


def check_transition(source: RunState, target: RunState) -> None:
    if target not in ALLOWED[source]:
        raise InvalidTransition(f"run state {source.value!r} cannot become {target.value!r}")


def transition_values(
    target: RunState,
    now: datetime,
    *,
    worker_id: str | None = None,
    lease_s: float | None = None,
    error: str | None = None,
    outcome: Outcome | None = None,
    next_attempt_at: datetime | None = None,
    template_version: int | None = None,
    release: bool = False,
) -> dict[str, Any]:
    """The columns to write when a run enters ``target`` at ``now``."""
    now = ensure_utc(now)
    values: dict[str, Any] = {"state": target}
    if target is RunState.IN_PROGRESS:
        if worker_id is None or lease_s is None:
            raise InvalidTransition("starting a run needs a worker id and a lease length")
        values.update(
            lease_owner=worker_id,
            lease_expires_at=now + timedelta(seconds=lease_s),
            attempts=Run.attempts + 1,
            started_at=now,
            finished_at=None,
        )
        if template_version is not None:
            values["template_version"] = template_version
        return values
    values.update(lease_owner=None, lease_expires_at=None)
    if target is RunState.PENDING:
        values["next_attempt_at"] = ensure_utc(next_attempt_at) if next_attempt_at else now
        if release:
            # Handed back untouched (graceful shutdown): the attempt does not count.
            values["attempts"] = Run.attempts - 1
        else:
            values["error"] = error
    elif target is RunState.COMPLETED:
        if outcome is None:
            raise InvalidTransition("a completed run needs its outcome")
        values.update(
            finished_at=now,
            error=None,
            row_count=outcome.row_count,
            bytes=outcome.bytes,
            sha256=outcome.sha256,
            location=outcome.location,
            format=outcome.format,
            store_version=outcome.store_version,
            data_newest_event_at=outcome.newest_event,
            install_base_version=outcome.install_base_version,
            delta_summary=outcome.delta_summary,
            delta_base=outcome.delta_base,
        )
    elif target is RunState.FAILED:
        values.update(finished_at=now, error=error or "the run failed")
    elif target is RunState.SKIPPED:
        values.update(finished_at=now, error=error)
    return values


def record_transition(
    session: Session,
    run_id: int,
    sources: Collection[RunState],
    target: RunState,
    now: datetime,
    *,
    guard: ColumnElement[bool] | None = None,
    compare: bool = True,
    **kwargs: Any,
) -> bool:
    """Move run ``run_id`` from one of ``sources`` to ``target`` if ``guard`` holds; True if it did.

    The single place where run states change (besides inserting a new run). ``compare=False`` drops
    the compare-and-set condition: only the deliberately broken test variant does that.
    """
    for source in sources:
        check_transition(source, target)
    values = transition_values(target, now, **kwargs)
    return repo.set_state(session, run_id, values, sources=sources if compare else None, guard=guard)
