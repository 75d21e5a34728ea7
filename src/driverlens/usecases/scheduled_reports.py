"""Scheduled-report use cases: create, list, get, edit, pause, resume, delete, run now."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from driverlens.blobs.store import BlobStore
from driverlens.engines.formats import OutputFormat
from driverlens.errors import NotFound, Problem, ValidationFailed
from driverlens.metadata import Report, Run
from driverlens.metadata.database import Database
from driverlens.metadata.repositories import reports as repo
from driverlens.runs import planner
from driverlens.runs.manual import start_manual_run
from driverlens.runs.quotas import PartnerLimits, check_new_manual_run
from driverlens.usecases.caller import Caller
from driverlens.usecases.report_templates import template_exists
from driverlens.usecases.schedule_input import UNSET, ReportInput, read_report_body
from driverlens.usecases.timestamps import iso_utc

# Checks a callback URL (SSRF guard): returns why it is refused, or None when it is allowed.
CallbackCheck = Callable[[str], "str | None"]


@dataclass(frozen=True)
class ReportRecord:
    """A scheduled report as the API shows it."""

    report_id: int
    template_id: int
    start_time: datetime
    interval_hours: int
    recurrence: int
    callback_url: str | None
    output_format: str
    is_active: bool
    is_paused: bool
    created: datetime
    modified: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "reportId": self.report_id,
            "templateId": self.template_id,
            "schedule": {
                "startTime": iso_utc(self.start_time),
                "recurrenceInterval": self.interval_hours,
                "recurrence": self.recurrence,
                "callbackUrl": self.callback_url,
            },
            "callbackUrl": self.callback_url,
            "format": self.output_format,
            "isActive": self.is_active,
            "isPaused": self.is_paused,
            "createdDatetime": iso_utc(self.created),
            "modifiedDatetime": iso_utc(self.modified),
        }


def _not_found(report_id: int) -> NotFound:
    return NotFound(f"scheduled report {report_id} does not exist", target="reportId")


def owned_report(session: Session, caller: Caller, report_id: int) -> Report:
    """The caller's live report, or NotFound (also for another partner's id)."""
    row = repo.get_report(session, partner_id=caller.partner_id, report_id=report_id)
    if row is None:
        raise _not_found(report_id)
    return row


def _callback_problems(given: ReportInput, check_callback: CallbackCheck) -> list[Problem]:
    """The SSRF guard's verdict (it may resolve DNS, so it runs before any transaction opens)."""
    if not isinstance(given.callback_url, str):
        return []
    reason = check_callback(given.callback_url)
    if not reason:
        return []
    return [Problem("callbackUrl", f"callback URL refused: {reason}", code="CallbackRefused")]


def _check_template(session: Session, caller: Caller, given: ReportInput, problems: list[Problem]) -> None:
    """Add an unknown-template problem (the database's part of validation), then raise if any."""
    if given.template_id is not None and not template_exists(session, caller, given.template_id):
        problems.append(
            Problem(
                "templateId",
                f"template {given.template_id} does not exist; create it first or use one of your "
                "template ids (GET /analytics/driver/reporttemplate)",
                value=given.template_id,
                code="UnknownTemplate",
            )
        )
    if problems:
        raise ValidationFailed(problems)


def _record(session: Session, row: Report) -> ReportRecord:
    return ReportRecord(
        report_id=row.id,
        template_id=row.template_id,
        start_time=row.start_time,
        interval_hours=row.interval_hours,
        recurrence=row.recurrence,
        callback_url=row.callback_url,
        output_format=row.output_format,
        is_active=planner.report_is_active(session, row),
        is_paused=row.is_paused,
        created=row.created_at,
        modified=row.modified_at,
    )


def create_report(
    db: Database, caller: Caller, body: Any, now: datetime, check_callback: CallbackCheck
) -> int:
    """Schedule a report; 400 for every problem, including an unknown template or a refused callback."""
    given, problems = read_report_body(body, now=now, creating=True)
    problems += _callback_problems(given, check_callback)
    with db.write_session() as session:
        _check_template(session, caller, given, problems)
        assert given.template_id is not None and given.start_time is not None
        assert given.interval_hours is not None and given.recurrence is not None
        row = repo.create_report(
            session,
            partner_id=caller.partner_id,
            template_id=given.template_id,
            start_time=given.start_time,
            interval_hours=given.interval_hours,
            recurrence=given.recurrence,
            now=now,
            callback_url=given.callback_url if isinstance(given.callback_url, str) else None,
            output_format=(given.output_format or OutputFormat.CSV).value,
        )
        return row.id


def edit_report(
    db: Database, caller: Caller, report_id: int, body: Any, now: datetime, check_callback: CallbackCheck
) -> int:
    """Change the template and/or schedule; runs not yet started follow the new values."""
    given, problems = read_report_body(body, now=now, creating=False)
    callback_problems = _callback_problems(given, check_callback)
    with db.write_session() as session:
        if not problems:
            owned_report(session, caller, report_id)
        _check_template(session, caller, given, problems + callback_problems)
        changes: dict[str, Any] = {
            "template_id": given.template_id,
            "start_time": given.start_time,
            "interval_hours": given.interval_hours,
            "recurrence": given.recurrence,
            "output_format": given.output_format.value if given.output_format else None,
        }
        kwargs = {name: value for name, value in changes.items() if value is not None}
        if given.callback_url is not UNSET:
            kwargs["callback_url"] = given.callback_url
        row = repo.update_report(
            session, partner_id=caller.partner_id, report_id=report_id, now=now, **kwargs
        )
        if row is None:
            raise _not_found(report_id)
        if given.touches_schedule or given.template_id is not None:
            planner.apply_schedule_edit(session, row, now)
        return row.id


def get_report(db: Database, caller: Caller, report_id: int) -> ReportRecord:
    with db.session() as session:
        return _record(session, owned_report(session, caller, report_id))


def list_reports(db: Database, caller: Caller) -> list[ReportRecord]:
    with db.session() as session:
        return [_record(session, r) for r in repo.list_reports(session, partner_id=caller.partner_id)]


def pause_report(db: Database, caller: Caller, report_id: int, now: datetime) -> int:
    """Pause: no run starts until resumed (pausing a paused report changes nothing)."""
    with db.write_session() as session:
        row = repo.pause_report(session, partner_id=caller.partner_id, report_id=report_id, now=now)
        if row is None:
            raise _not_found(report_id)
        return row.id


def resume_report(db: Database, caller: Caller, report_id: int, now: datetime) -> int:
    """Resume: runs that fell due while paused are recorded as Skipped, not run."""
    with db.write_session() as session:
        row = repo.resume_report(session, partner_id=caller.partner_id, report_id=report_id, now=now)
        if row is None:
            raise _not_found(report_id)
        planner.record_skips(session, row, now)
        return row.id


def delete_report(
    db: Database, caller: Caller, report_id: int, now: datetime, blobs: BlobStore | None = None
) -> None:
    """Delete a scheduled report; no further run of it starts, and its files (with ``blobs``) go too.

    Deleting the files makes every link already handed out for them fail at once (404) rather than
    working until it expires, and frees the partner's storage allowance.
    """
    with db.write_session() as session:
        if not repo.delete_report(session, partner_id=caller.partner_id, report_id=report_id, now=now):
            raise _not_found(report_id)
        if blobs is None:
            return
        keys = repo.forget_report_files(session, report_id=report_id)
    for key in keys:  # after the commit: a failed delete leaves an orphan for retention, not a dead row
        blobs.delete(key)


def run_now(
    db: Database, caller: Caller, report_id: int, now: datetime, limits: PartnerLimits | None = None
) -> Run:
    """Record an extra run due now (outside the schedule's count); the worker picks it up.

    Refused (429 or 409, saying what to do) when the partner is at its limit of queued runs or stored bytes.
    """
    with db.write_session() as session:
        report = owned_report(session, caller, report_id)
        check_new_manual_run(session, report.partner_id, limits or PartnerLimits())
        return start_manual_run(session, report, now)
