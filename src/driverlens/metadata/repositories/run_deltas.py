"""Delta reports' metadata: the previous completed run a delta run compares with, and purged bases."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from driverlens.clock import ensure_utc
from driverlens.metadata.models import Run, RunState


@dataclass(frozen=True)
class PreviousRun:
    """The report's latest completed run before the one running; ``base`` is None when it kept none,
    ``""`` once retention deleted it."""

    run_id: int
    due_at: datetime
    manual: bool
    base: str | None


def previous_completed(session: Session, report_id: int, run_id: int, due_at: datetime) -> PreviousRun | None:
    """The completed run of the report just before run ``run_id`` (by due time, then id)."""
    due_at = ensure_utc(due_at)
    row = session.execute(
        select(Run.id, Run.due_at, Run.manual, Run.delta_base)
        .where(
            Run.report_id == report_id,
            Run.state == RunState.COMPLETED,
            Run.id != run_id,
            or_(Run.due_at < due_at, and_(Run.due_at == due_at, Run.id < run_id)),
        )
        .order_by(Run.due_at.desc(), Run.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    return PreviousRun(row[0], ensure_utc(row[1]), bool(row[2]), row[3])


def forget_bases(session: Session, keys: Sequence[str]) -> int:
    """Runs whose base blob was purged keep no base (the next run then starts a new baseline)."""
    result = session.execute(
        update(Run)
        .where(Run.delta_base.in_(list(keys)))
        .values(delta_base="")
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0))
