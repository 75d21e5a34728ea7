"""Readiness probes and the run-state gauge read by ``/healthz`` and ``/metrics``."""

from __future__ import annotations

from sqlalchemy import func, select, text

from driverlens.api.context import ApiContext
from driverlens.errors import DriverLensError
from driverlens.metadata import Run, RunState
from driverlens.metadata.database import Database


def check_readiness(ctx: ApiContext) -> dict[str, str]:
    """``ok`` or the failure, for the metadata store and the event store."""
    checks: dict[str, str] = {}
    try:
        with ctx.db.session() as session:
            session.execute(text("SELECT 1"))
        checks["metadata"] = "ok"
    except Exception as exc:  # any failure means "not ready"; the reason is reported, not raised
        checks["metadata"] = f"failed: {type(exc).__name__}"
    try:
        with ctx.events.reading() as conn:
            conn.execute("SELECT 1 FROM failure_events LIMIT 1").fetchall()
        checks["events"] = "ok"
    except (DriverLensError, Exception) as exc:  # same: report, do not raise
        checks["events"] = f"failed: {type(exc).__name__}"
    return checks


def count_runs_by_state(db: Database) -> dict[str, int]:
    with db.session() as session:
        rows = session.execute(select(Run.state, func.count()).group_by(Run.state)).all()
    counts = {state.value: 0 for state in RunState}
    for state, count in rows:
        counts[state.value] = int(count)
    return counts
