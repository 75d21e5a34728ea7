"""Manual runs: ``POST /analytics/driver/report/{id}/run`` starts an extra run now, outside the schedule."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from driverlens.clock import ensure_utc
from driverlens.errors import DriverLensError
from driverlens.metadata import Report, Run
from driverlens.metadata.repositories import runs as repo
from driverlens.runs.planner import current_template_version, run_row
from driverlens.runs.schedule import PlannedRun, PlannedState, run_window

_INSERT_TRIES = 20


def start_manual_run(session: Session, report: Report, now: datetime) -> Run:
    """Record a Pending run due now, reporting on the template's period measured from now.

    Manual runs have their own index sequence, so they never use up the schedule's ``recurrence``.
    Racing callers each get their own run (the unique key sends the loser to the next index).
    """
    now = ensure_utc(now)
    version, period = current_template_version(session, report.template_id)
    window = run_window(period, now)
    for _ in range(_INSERT_TRIES):
        last = repo.last_manual_index(session, report.id)
        index = 0 if last is None else last + 1
        planned = PlannedRun(index, now, window, PlannedState.PENDING)
        if repo.insert_runs(session, [run_row(report, planned, version, now, manual=True)]):
            return repo.manual_run(session, report.id, index)
    raise DriverLensError(f"could not record a manual run of report {report.id}; try again")
