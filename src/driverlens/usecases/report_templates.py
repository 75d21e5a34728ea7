"""Template use cases: create, list, get (any version), edit (a new version each time), delete."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from driverlens.errors import Forbidden, NotFound, Problem, ValidationFailed
from driverlens.metadata.database import Database
from driverlens.metadata.repositories import StoredTemplate
from driverlens.metadata.repositories import templates as repo
from driverlens.templates import Template as TemplateModel
from driverlens.templates import parse_template
from driverlens.usecases.caller import Caller
from driverlens.usecases.timestamps import iso_utc

# Fields the server sets; a body that carries one is refused rather than silently ignored.
SERVER_OWNED_TEMPLATE_FIELDS = ("templateId", "version", "createdDatetime", "modifiedDatetime")


@dataclass(frozen=True)
class TemplateRecord:
    """One version of a partner's template, as the API shows it."""

    template_id: int
    version: int
    current_version: int
    body: dict[str, Any]
    created: datetime
    modified: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "templateId": self.template_id,
            "template": self.body,
            "version": self.version,
            "currentVersion": self.current_version,
            "createdDatetime": iso_utc(self.created),
            "modifiedDatetime": iso_utc(self.modified),
        }


def reject_server_owned(body: Any, fields: tuple[str, ...], what: str) -> tuple[Any, list[Problem]]:
    """Remove server-owned keys (any case) from ``body``, with a problem for each one found."""
    if not isinstance(body, dict):
        return body, []
    lowered = {f.lower(): f for f in fields}
    kept: dict[str, Any] = {}
    problems: list[Problem] = []
    for key, value in body.items():
        canonical = lowered.get(key.strip().lower()) if isinstance(key, str) else None
        if canonical is None:
            kept[key] = value
        else:
            problems.append(
                Problem(
                    canonical,
                    f"'{key}' is set by the server and may not appear in a {what} body; remove it",
                    code="ServerOwnedField",
                )
            )
    return kept, problems


def validate_template_body(caller: Caller, body: Any) -> TemplateModel:
    """Parse a template body (every problem listed) and check the caller may use its view."""
    body, problems = reject_server_owned(body, SERVER_OWNED_TEMPLATE_FIELDS, "template")
    try:
        template = parse_template(body)
    except ValidationFailed as exc:
        raise ValidationFailed(problems + exc.problems()) from exc
    if problems:
        raise ValidationFailed(problems)
    allowed = caller.kind.view
    if template.view is not allowed:
        raise Forbidden(
            f"a {caller.kind.value} partner may only use the {allowed.value} view, not {template.view.value}",
            target="view",
        )
    return template


def _not_found(template_id: int) -> NotFound:
    return NotFound(f"template {template_id} does not exist", target="templateId")


def template_exists(session: Session, caller: Caller, template_id: int) -> bool:
    found = repo.get_template(session, partner_id=caller.partner_id, template_id=template_id)
    return found is not None


def _record(stored: StoredTemplate) -> TemplateRecord:
    return TemplateRecord(
        template_id=stored.id,
        version=stored.version,
        current_version=stored.current_version,
        body=stored.body,
        created=stored.created_at,
        modified=stored.modified_at if stored.is_current else stored.version_created_at,
    )


def create_template(db: Database, caller: Caller, body: Any, now: datetime) -> int:
    """Store a new template (version 1) and return its id."""
    canonical = new_template_body(caller, body)
    with db.session() as session:
        return repo.create_template(session, partner_id=caller.partner_id, body=canonical, now=now).id


async def add_template(db: Database, caller: Caller, body: Any, now: datetime) -> int:
    """:func:`create_template` for async callers (the API): validated on the event loop, stored by the
    repository on the writer (creations arriving together may share one transaction)."""
    canonical = new_template_body(caller, body)
    return await repo.add_template(db, partner_id=caller.partner_id, body=canonical, now=now)


def new_template_body(caller: Caller, body: Any) -> dict[str, Any]:
    """The canonical body a new template stores (validated for ``caller``; every problem listed)."""
    return validate_template_body(caller, body).to_canonical()


def edit_template(db: Database, caller: Caller, template_id: int, body: Any, now: datetime) -> int:
    """Replace a template's body with a new version; runs not yet started use the new one."""
    canonical = validate_template_body(caller, body).to_canonical()
    with db.write_session() as session:
        stored = repo.edit_template(
            session, partner_id=caller.partner_id, template_id=template_id, body=canonical, now=now
        )
    if stored is None:
        raise _not_found(template_id)
    return stored.id


def get_template(
    db: Database, caller: Caller, template_id: int, version: int | None = None
) -> TemplateRecord:
    """The current version of a template, or the given older one."""
    with db.session() as session:
        stored = repo.get_template(
            session, partner_id=caller.partner_id, template_id=template_id, version=version
        )
        if stored is None and version is not None:
            versions = repo.list_versions(session, partner_id=caller.partner_id, template_id=template_id)
            if versions:
                raise NotFound(
                    f"template {template_id} has no version {version}; "
                    f"versions are {versions[0]} to {versions[-1]}",
                    target="version",
                )
    if stored is None:
        raise _not_found(template_id)
    return _record(stored)


def list_templates(db: Database, caller: Caller) -> list[TemplateRecord]:
    """The caller's templates (current versions), oldest first."""
    with db.session() as session:
        return [_record(s) for s in repo.list_templates(session, partner_id=caller.partner_id)]


def delete_template(db: Database, caller: Caller, template_id: int, now: datetime) -> None:
    """Delete a template; ``Conflict`` while a scheduled report (not deleted) uses it."""
    with db.write_session() as session:
        deleted = repo.delete_template(
            session, partner_id=caller.partner_id, template_id=template_id, now=now
        )
    if not deleted:
        raise _not_found(template_id)
