"""A report's run history: every run's outcome and its callback delivery log (partner-visible).

Report data (contract section 5) carries only status and link; this is where a partner reads why a
run failed, how many rows it produced, its checksum, and whether the callback reached them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from driverlens.errors import NotFound
from driverlens.metadata import CallbackAttempt, CallbackDelivery, Run, RunState
from driverlens.metadata.database import Database
from driverlens.metadata.repositories import callbacks as callback_repo
from driverlens.metadata.repositories import runs as runs_repo
from driverlens.runs.failures import split_error
from driverlens.usecases.caller import Caller
from driverlens.usecases.reportdata import LinkMaker, run_filename
from driverlens.usecases.scheduled_reports import owned_report
from driverlens.usecases.timestamps import iso_utc

MAX_RUNS = 500


def _iso(value: datetime | None) -> str | None:
    return iso_utc(value) if value is not None else None


@dataclass(frozen=True)
class RunHistory:
    run: Run
    delivery: CallbackDelivery | None
    attempts: tuple[CallbackAttempt, ...]

    def to_json(self) -> dict[str, Any]:
        run = self.run
        callback: dict[str, Any] | None = None
        if self.delivery is not None:
            callback = {
                "webhookId": self.delivery.webhook_id,
                "state": self.delivery.state.value,
                "nextAttemptDatetime": _iso(self.delivery.next_attempt_at),
                "attempts": [
                    {
                        "attempt": a.attempt,
                        "attemptedDatetime": iso_utc(a.attempted_at),
                        "statusCode": a.status_code,
                        "error": a.error,
                        "durationMs": a.duration_ms,
                    }
                    for a in self.attempts
                ],
            }
        error_code, error = split_error(run.error)
        return {
            # Extra runs count apart from the schedule: runIndex is the schedule's k (null for an extra
            # run), manualIndex numbers the extra runs from 1.
            "runIndex": None if run.manual else run.run_index,
            "manualIndex": run.run_index + 1 if run.manual else None,
            "manual": run.manual,
            "ReportDatetime": iso_utc(run.due_at),
            "ReportStatus": run.state.value,
            "windowStart": run.window_start.isoformat(),
            "windowEnd": run.window_end.isoformat(),
            "attempts": run.attempts,
            "templateVersion": run.template_version,
            "rowCount": run.row_count,
            "bytes": run.bytes,
            "sha256": run.sha256,
            "format": run.format,
            "storeVersion": run.store_version,
            "installBaseVersion": run.install_base_version,
            "dataNewestEventDatetime": _iso(run.data_newest_event_at),
            # Delta reports only (null otherwise): the counts of new, regressed and resolved buckets.
            "delta": run.delta_summary,
            "errorCode": error_code,
            "error": error,
            "startedDatetime": _iso(run.started_at),
            "finishedDatetime": _iso(run.finished_at),
            "callback": callback,
        }


def run_history(db: Database, caller: Caller, report_id: int) -> list[RunHistory]:
    """The newest runs of one of the caller's reports (oldest first), with their callback logs."""
    with db.session() as session:
        owned_report(session, caller, report_id)
        runs = runs_repo.newest_runs(session, report_id, MAX_RUNS)
        deliveries, attempts = callback_repo.deliveries_of_runs(session, [run.id for run in runs])
        return [
            RunHistory(
                run,
                deliveries.get(run.id),
                tuple(attempts.get(deliveries[run.id].id, ())) if run.id in deliveries else (),
            )
            for run in runs
        ]


def run_file_link(db: Database, caller: Caller, report_id: int, run_id: int, link_for: LinkMaker) -> str:
    """A fresh signed link to the file of one completed run of one of the caller's reports."""
    with db.session() as session:
        report = owned_report(session, caller, report_id)
        run = runs_repo.get_run(session, run_id)
    if run is None or run.report_id != report.id or run.state is not RunState.COMPLETED or not run.location:
        raise NotFound(f"report {report_id} has no downloadable run {run_id}", target="runId")
    return link_for(
        run.location, run_filename(report_id, run.due_at, run.manual, run.format), run.sha256 or None
    )
