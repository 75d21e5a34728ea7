"""Report templates and their versions; every query is filtered by the owning partner.

Another partner's template id behaves exactly like a missing one (``None``), so callers cannot leak
its existence by accident.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session

from driverlens.errors import Conflict
from driverlens.metadata.database import Database
from driverlens.metadata.models import Template, TemplateVersion
from driverlens.metadata.repositories.reports import reports_using_template


@dataclass(frozen=True)
class StoredTemplate:
    """One version of a template as stored: its canonical body and bookkeeping."""

    id: int
    partner_id: int
    version: int
    current_version: int
    body: dict[str, Any]
    created_at: datetime
    modified_at: datetime
    version_created_at: datetime

    @property
    def is_current(self) -> bool:
        return self.version == self.current_version


def _stored(template: Template, version: TemplateVersion) -> StoredTemplate:
    return StoredTemplate(
        id=template.id,
        partner_id=template.partner_id,
        version=version.version,
        current_version=template.current_version,
        body=dict(version.body),
        created_at=template.created_at,
        modified_at=template.modified_at,
        version_created_at=version.created_at,
    )


def _with_version(partner_id: int) -> Select[Template, TemplateVersion]:
    return (
        select(Template, TemplateVersion)
        .join(TemplateVersion, TemplateVersion.template_id == Template.id)
        .where(Template.partner_id == partner_id, Template.deleted_at.is_(None))
    )


def create_template(
    session: Session, *, partner_id: int, body: dict[str, Any], now: datetime
) -> StoredTemplate:
    """Store a new template as version 1."""
    template = Template(partner_id=partner_id, current_version=1, created_at=now, modified_at=now)
    session.add(template)
    session.flush()
    version = TemplateVersion(template_id=template.id, version=1, body=body, created_at=now)
    session.add(version)
    session.flush()
    return _stored(template, version)


async def add_template(db: Database, *, partner_id: int, body: dict[str, Any], now: datetime) -> int:
    """Store a new template (version 1) from async code; its id once committed.

    On a SQLite file or PostgreSQL the creations of one event-loop turn share a transaction through the
    raw-driver twin of :func:`create_template` (``Database.template_inserts``); elsewhere the ORM
    insert runs on the writer thread.
    """
    inserts = db.template_inserts
    if inserts is not None:
        return await inserts.insert(partner_id, body, now)
    return await db.write(_create_in_session, db, partner_id, body, now)


def _create_in_session(db: Database, partner_id: int, body: dict[str, Any], now: datetime) -> int:
    with db.session() as session:
        return create_template(session, partner_id=partner_id, body=body, now=now).id


def edit_template(
    session: Session, *, partner_id: int, template_id: int, body: dict[str, Any], now: datetime
) -> StoredTemplate | None:
    """Store ``body`` as the next version and make it current; None if not this partner's template.

    The version counter is bumped by an UPDATE first, which takes the row (PostgreSQL) or database
    (SQLite) write lock, so concurrent edits get consecutive versions instead of colliding.
    """
    bumped = session.execute(
        update(Template)
        .where(Template.id == template_id, Template.partner_id == partner_id, Template.deleted_at.is_(None))
        .values(current_version=Template.current_version + 1, modified_at=now)
        .returning(Template.current_version),
        execution_options={"synchronize_session": "fetch"},
    ).scalar_one_or_none()
    if bumped is None:
        return None
    session.add(TemplateVersion(template_id=template_id, version=bumped, body=body, created_at=now))
    session.flush()
    return get_template(session, partner_id=partner_id, template_id=template_id)


def get_template(
    session: Session, *, partner_id: int, template_id: int, version: int | None = None
) -> StoredTemplate | None:
    """The current version (or ``version``) of this partner's template; None if missing or deleted."""
    query = _with_version(partner_id).where(Template.id == template_id)
    if version is None:
        query = query.where(TemplateVersion.version == Template.current_version)
    else:
        query = query.where(TemplateVersion.version == version)
    row = session.execute(query).one_or_none()
    return None if row is None else _stored(row[0], row[1])


def list_templates(session: Session, *, partner_id: int) -> list[StoredTemplate]:
    """The partner's live templates at their current versions, oldest first."""
    query = _with_version(partner_id).where(TemplateVersion.version == Template.current_version)
    return [_stored(row[0], row[1]) for row in session.execute(query.order_by(Template.id))]


def list_versions(session: Session, *, partner_id: int, template_id: int) -> list[int]:
    """Version numbers of this partner's template, oldest first (empty if not found)."""
    query = (
        select(TemplateVersion.version)
        .join(Template, TemplateVersion.template_id == Template.id)
        .where(Template.id == template_id, Template.partner_id == partner_id, Template.deleted_at.is_(None))
        .order_by(TemplateVersion.version)
    )
    return list(session.scalars(query))


def delete_template(session: Session, *, partner_id: int, template_id: int, now: datetime) -> bool:
    """Soft-delete; False if not found; :class:`Conflict` while a live scheduled report uses it."""
    template = session.scalars(
        select(Template).where(
            Template.id == template_id, Template.partner_id == partner_id, Template.deleted_at.is_(None)
        )
    ).one_or_none()
    if template is None:
        return False
    users = reports_using_template(session, partner_id=partner_id, template_id=template_id)
    if users:
        ids = ", ".join(str(report.id) for report in users)
        raise Conflict(
            f"template {template_id} is used by scheduled report(s) {ids}; delete those reports first",
            target="templateId",
        )
    template.deleted_at = now
    template.modified_at = now
    session.flush()
    return True
