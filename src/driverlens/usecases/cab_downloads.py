"""Crash dumps (CABs): entitlement from the partner's own event rows, files from the collected cabinets.

A partner may fetch a CAB only when an unexpired event row it owns names it (an IHV through the
application id, an OEM through its machines) and a cabinet was collected for it: either the event's
CabIdHash is the cabinet's content id, or a link maps it to one (see ``driverlens.cabs.collection``).
The download is named after the CabIdHash the partner asked for; nothing else about the event (no
application or submission id) goes into the name, the link or the file.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from driverlens.catalog import PartnerKind
from driverlens.clock import ensure_utc
from driverlens.errors import Forbidden, NotFound, Problem, ValidationFailed
from driverlens.events.store import EventStore
from driverlens.metadata.database import Database
from driverlens.metadata.repositories import cabs as cab_repo
from driverlens.usecases.caller import Caller
from driverlens.usecases.timestamps import iso_utc, parse_day

MAX_TOP = 100
_SAFE_NAME = re.compile(r"[A-Za-z0-9_.-]{1,120}")
# Signs a blob key, a download file name and the file's SHA-256 into an absolute, expiring URL.
LinkMaker = Callable[[str, str, str], str]


@dataclass(frozen=True)
class CabRow:
    application_id: str | None
    submission_id: str | None
    failure_hash: str
    cab_id_hash: str
    day: date
    expires: datetime
    blob_key: str = ""
    sha256: str = ""

    def to_json(self, url: str) -> dict[str, Any]:
        return {
            "applicationId": self.application_id,
            "submissionId": self.submission_id,
            "failureHash": self.failure_hash,
            "cabIdHash": self.cab_id_hash,
            "cabUrl": url,
            "date": self.day.isoformat(),
            "cabExpirationTime": iso_utc(self.expires),
        }


@dataclass(frozen=True)
class CabPage:
    rows: list[CabRow]
    total: int
    top: int
    skip: int

    @property
    def has_more(self) -> bool:
        return self.skip + len(self.rows) < self.total


# Where a partner of each kind downloads a CAB instead, for the refusal of the other kind's endpoint.
_CAB_DOWNLOAD_OF: dict[PartnerKind, str] = {
    PartnerKind.IHV: "GET /v1.0/my/analytics/driver/cabdownload?applicationId=..&cabIdHash=..",
    PartnerKind.OEM: "GET /v1.0/my/analytics/hardware/cabdownload?cabIdHash=..",
}


def require_kind(caller: Caller, kind: PartnerKind, what: str) -> None:
    """Forbidden unless the caller is a partner of ``kind``; a CAB download names the caller's own form."""
    if caller.kind is not kind:
        instead = ""
        if what.endswith("/cabdownload"):
            instead = f"; {caller.kind.value} partners download a CAB with {_CAB_DOWNLOAD_OF[caller.kind]}"
        raise Forbidden(
            f"{what} is for {kind.value} partners; you are an {caller.kind.value} partner{instead}"
        )


def _text(raw: str | None, name: str, problems: list[Problem], max_len: int = 200) -> str:
    value = (raw or "").strip()
    if not value:
        problems.append(Problem(name, "is required"))
    elif len(value) > max_len:
        problems.append(Problem(name, f"must be at most {max_len} characters"))
    return value


def _naive(moment: datetime) -> datetime:
    return ensure_utc(moment).replace(tzinfo=None)


_ROW_SELECT = (
    'SELECT min("ApplicationId"), min("SubmissionId"), min("FailureHash"), "CabIdHash", '
    'max("FailureDate"), max("CabExpirationTime") FROM failure_events'
)


def _row(values: tuple[Any, ...]) -> CabRow:
    app, sub, failure_hash, cab, day, expires = values
    # The event table stores UUIDs as their 16 bytes (``events.schema``).
    return CabRow(app, sub, str(uuid.UUID(bytes=bytes(failure_hash))), str(cab), day, ensure_utc(expires))


def _with_files(db: Database, rows: list[CabRow]) -> list[CabRow]:
    """The rows whose CAB was collected, each with its blob key and checksum (order kept)."""
    hashes = [row.cab_id_hash for row in rows]
    with db.session() as session:
        linked = cab_repo.cabs_for_event_hashes(session, hashes)
        direct = cab_repo.by_cab_id_hashes(session, [h for h in hashes if h not in linked])
    found = {**direct, **linked}
    return [
        replace(row, blob_key=found[row.cab_id_hash].blob_key, sha256=found[row.cab_id_hash].sha256)
        for row in rows
        if row.cab_id_hash in found
    ]


def collected_cab_ids(db: Database, cab_id_hashes: list[str]) -> set[str]:
    """Which of these CabIdHashes have a collected cabinet (the others cannot be downloaded)."""
    rows = [CabRow(None, None, "", h, date.min, datetime.min) for h in cab_id_hashes]
    return {row.cab_id_hash for row in _with_files(db, rows)}


def find_cab(
    events: EventStore,
    db: Database,
    caller: Caller,
    cab_id_hash: str | None,
    application_id: str | None,
    now: datetime,
) -> CabRow:
    """The caller's unexpired CAB, or NotFound (not entitled, unknown and expired look the same)."""
    problems: list[Problem] = []
    cab = _text(cab_id_hash, "cabIdHash", problems)
    if caller.kind is PartnerKind.IHV:
        app = _text(application_id, "applicationId", problems)
        where = '"IhvPartner" = ? AND "ApplicationId" = ?'
        params: list[Any] = [caller.partner_name, app]
    else:
        where = '"OemPartner" = ?'
        params = [caller.partner_name]
    if problems:
        raise ValidationFailed(problems)
    sql = f'{_ROW_SELECT} WHERE {where} AND "CabIdHash" = ? AND "CabExpirationTime" > ? GROUP BY "CabIdHash"'
    with events.reading() as conn:
        found = conn.execute(sql, [*params, cab, _naive(now)]).fetchone()
    if found is None:
        raise NotFound(f"no downloadable CAB {cab[:100]!r} for you (unknown, not yours, or expired)")
    stored = _with_files(db, [_row(found)])
    if not stored:
        raise NotFound(
            f"CAB {cab[:100]!r} has not been collected: its events name it, but no cabinet arrived"
        )
    return stored[0]


def list_cabs(
    events: EventStore,
    db: Database,
    caller: Caller,
    *,
    application_id: str | None,
    failure_hash: str | None,
    start_date: str | None,
    end_date: str | None,
    top: int,
    skip: int,
    now: datetime,
) -> CabPage:
    """One page of the caller's unexpired, collected CABs of a failure, newest first.

    Which event CabIdHash values have a cabinet is known to the metadata store, not the event store, so
    the failure's candidates are read whole (one failure of one driver: thousands at most) and paged here.
    """
    require_kind(caller, PartnerKind.IHV, "cabdownloadbatch")
    problems: list[Problem] = []
    app = _text(application_id, "applicationId", problems)
    raw_hash = _text(failure_hash, "failureHash", problems)
    parsed_hash: uuid.UUID | None = None
    if raw_hash:
        try:
            parsed_hash = uuid.UUID(raw_hash)
        except ValueError:
            problems.append(Problem("failureHash", f"must be a GUID, got {raw_hash[:60]!r}"))
    if not 1 <= top <= MAX_TOP:
        problems.append(Problem("top", f"must be between 1 and {MAX_TOP}, got {top}"))
    if skip < 0:
        problems.append(Problem("skip", f"must be 0 or more, got {skip}"))
    bounds: list[date | None] = []
    for name, raw in (("startDate", start_date), ("endDate", end_date)):
        day = parse_day(raw) if raw else None
        if raw and day is None:
            problems.append(Problem(name, f"must be a date as yyyy-mm-dd, got {raw[:40]!r}"))
        bounds.append(day)
    if bounds[0] and bounds[1] and bounds[1] < bounds[0]:
        problems.append(Problem("endDate", "must not be before startDate"))
    if problems:
        raise ValidationFailed(problems)
    where = (
        '"IhvPartner" = ? AND "ApplicationId" = ? AND "FailureHash" = ? '
        'AND "CabIdHash" IS NOT NULL AND "CabExpirationTime" > ?'
    )
    params: list[Any] = [caller.partner_name, app, parsed_hash.bytes if parsed_hash else None, _naive(now)]
    if bounds[0]:
        where += ' AND "FailureDate" >= ?'
        params.append(bounds[0])
    if bounds[1]:
        where += ' AND "FailureDate" <= ?'
        params.append(bounds[1])
    grouped = f'{_ROW_SELECT} WHERE {where} GROUP BY "CabIdHash"'
    with events.reading() as conn:
        rows = conn.execute(f"{grouped} ORDER BY 5 DESC, 4", params).fetchall()
    collected = _with_files(db, [_row(r) for r in rows])
    return CabPage(collected[skip : skip + top], len(collected), top, skip)


def cab_filename(cab_id_hash: str) -> str:
    return f"{cab_id_hash}.cab" if _SAFE_NAME.fullmatch(cab_id_hash) else "crashdump.cab"


def cab_link(row: CabRow, link_for: LinkMaker) -> str:
    """A fresh signed link to the collected cabinet, named after the CabIdHash the partner used."""
    return link_for(row.blob_key, cab_filename(row.cab_id_hash), row.sha256)
