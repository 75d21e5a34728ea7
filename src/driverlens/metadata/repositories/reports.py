"""Scheduled reports; every query is filtered by the owning partner (another partner's id is None)."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Final

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from driverlens.errors import NotFound
from driverlens.metadata.models import Report, Run, Template


class _Unset(Enum):
    UNSET = "unset"


UNSET: Final = _Unset.UNSET
"""Marks an argument of :func:`update_report` as "leave unchanged" (``None`` clears the callback)."""


def _live_template_exists(session: Session, partner_id: int, template_id: int) -> bool:
    query = select(Template.id).where(
        Template.id == template_id, Template.partner_id == partner_id, Template.deleted_at.is_(None)
    )
    return session.scalars(query).first() is not None


def _require_template(session: Session, partner_id: int, template_id: int) -> None:
    if not _live_template_exists(session, partner_id, template_id):
        raise NotFound(f"template {template_id} does not exist", target="templateId")


def create_report(
    session: Session,
    *,
    partner_id: int,
    template_id: int,
    start_time: datetime,
    interval_hours: int,
    recurrence: int,
    now: datetime,
    callback_url: str | None = None,
    output_format: str = "csv",
) -> Report:
    """Schedule a report; :class:`NotFound` if the template is not this partner's live template."""
    _require_template(session, partner_id, template_id)
    report = Report(
        partner_id=partner_id,
        template_id=template_id,
        start_time=start_time,
        interval_hours=interval_hours,
        recurrence=recurrence,
        callback_url=callback_url,
        output_format=output_format,
        is_paused=False,
        created_at=now,
        modified_at=now,
    )
    session.add(report)
    session.flush()
    return report


def get_report(session: Session, *, partner_id: int, report_id: int) -> Report | None:
    """This partner's live report, or None (missing, deleted, or another partner's)."""
    query = select(Report).where(
        Report.id == report_id, Report.partner_id == partner_id, Report.deleted_at.is_(None)
    )
    return session.scalars(query).one_or_none()


def list_reports(session: Session, *, partner_id: int) -> list[Report]:
    query = select(Report).where(Report.partner_id == partner_id, Report.deleted_at.is_(None))
    return list(session.scalars(query.order_by(Report.id)))


def update_report(
    session: Session,
    *,
    partner_id: int,
    report_id: int,
    now: datetime,
    template_id: int | _Unset = UNSET,
    start_time: datetime | _Unset = UNSET,
    interval_hours: int | _Unset = UNSET,
    recurrence: int | _Unset = UNSET,
    callback_url: str | _Unset | None = UNSET,
    output_format: str | _Unset = UNSET,
) -> Report | None:
    """Change the given fields; None if not found; :class:`NotFound` for a foreign template id."""
    report = get_report(session, partner_id=partner_id, report_id=report_id)
    if report is None:
        return None
    if not isinstance(template_id, _Unset):
        _require_template(session, partner_id, template_id)
        report.template_id = template_id
    if not isinstance(start_time, _Unset):
        report.start_time = start_time
    if not isinstance(interval_hours, _Unset):
        report.interval_hours = interval_hours
    if not isinstance(recurrence, _Unset):
        report.recurrence = recurrence
    if not isinstance(callback_url, _Unset):
        report.callback_url = callback_url
    if not isinstance(output_format, _Unset):
        report.output_format = output_format
    report.modified_at = now
    session.flush()
    return report


def pause_report(session: Session, *, partner_id: int, report_id: int, now: datetime) -> Report | None:
    """Pause (idempotent: pausing a paused report keeps the first pause time)."""
    report = get_report(session, partner_id=partner_id, report_id=report_id)
    if report is None:
        return None
    if not report.is_paused:
        report.is_paused = True
        report.paused_at = now
        report.modified_at = now
        session.flush()
    return report


def resume_report(session: Session, *, partner_id: int, report_id: int, now: datetime) -> Report | None:
    """Resume (idempotent). Skipping the runs that fell due while paused is the runs package's job."""
    report = get_report(session, partner_id=partner_id, report_id=report_id)
    if report is None:
        return None
    if report.is_paused:
        report.is_paused = False
        report.resumed_at = now
        report.modified_at = now
        session.flush()
    return report


def delete_report(session: Session, *, partner_id: int, report_id: int, now: datetime) -> bool:
    """Soft-delete; False if not found. Its runs stay in the store (workers skip deleted reports)."""
    report = get_report(session, partner_id=partner_id, report_id=report_id)
    if report is None:
        return False
    report.deleted_at = now
    report.modified_at = now
    session.flush()
    return True


def forget_report_files(session: Session, *, report_id: int) -> list[str]:
    """Clear the file locations of a report's runs; returns the blob keys that were recorded."""
    keys = list(
        session.scalars(select(Run.location).where(Run.report_id == report_id, Run.location != "")).all()
    )
    if keys:
        session.execute(
            update(Run)
            .where(Run.report_id == report_id, Run.location != "")
            .values(location="")
            .execution_options(synchronize_session=False)
        )
    return keys


def reports_using_template(session: Session, *, partner_id: int, template_id: int) -> list[Report]:
    """Live (not deleted) scheduled reports of this partner that use the template."""
    query = select(Report).where(
        Report.partner_id == partner_id, Report.template_id == template_id, Report.deleted_at.is_(None)
    )
    return list(session.scalars(query.order_by(Report.id)))
