"""Crash dumps (CABs): entitlement from the partner's own event rows, demo files made on first request.

A partner may fetch a CAB only when an unexpired event row it owns names it (an IHV through the
application id, an OEM through its machines). Demo data has no real dumps, so each CAB is a small
file generated deterministically from its id the first time it is asked for, then kept in the blob store.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from driverlens.blobs.store import BlobStore
from driverlens.catalog import PartnerKind
from driverlens.clock import ensure_utc
from driverlens.errors import Forbidden, NotFound, Problem, ValidationFailed
from driverlens.events.store import EventStore
from driverlens.reports.caller import Caller
from driverlens.reports.timestamps import iso_utc, parse_day

MAX_TOP = 100
CAB_SIZE = 4096
_SAFE_NAME = re.compile(r"[A-Za-z0-9_.-]{1,120}")
# Signs a blob key and a download file name into an absolute, expiring URL.
LinkMaker = Callable[[str, str], str]


@dataclass(frozen=True)
class CabRow:
    application_id: str | None
    submission_id: str | None
    failure_hash: str
    cab_id_hash: str
    day: date
    expires: datetime

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


def require_kind(caller: Caller, kind: PartnerKind, what: str) -> None:
    """Forbidden unless the caller is a partner of ``kind``."""
    if caller.kind is not kind:
        raise Forbidden(f"{what} is for {kind.value} partners; you are an {caller.kind.value} partner")


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


def find_cab(
    events: EventStore, caller: Caller, cab_id_hash: str | None, application_id: str | None, now: datetime
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
    return _row(found)


def list_cabs(
    events: EventStore,
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
    """One page of the caller's unexpired CABs of a failure, newest first."""
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
        total_row = conn.execute(f"SELECT count(*) FROM ({grouped})", params).fetchone()
        rows = conn.execute(f"{grouped} ORDER BY 5 DESC, 4 LIMIT ? OFFSET ?", [*params, top, skip]).fetchall()
    return CabPage([_row(r) for r in rows], int(total_row[0]) if total_row else 0, top, skip)


def cab_blob_key(cab_id_hash: str) -> str:
    return "cabs/" + hashlib.sha256(cab_id_hash.encode("utf-8")).hexdigest()[:40] + ".cab"


def cab_filename(cab_id_hash: str) -> str:
    return f"{cab_id_hash}.cab" if _SAFE_NAME.fullmatch(cab_id_hash) else "crashdump.cab"


def demo_cab_bytes(row: CabRow) -> bytes:
    """A small deterministic stand-in for a crash dump (same id, same bytes)."""
    header = (
        f"DriverLens demo crash dump\ncabIdHash={row.cab_id_hash}\nfailureHash={row.failure_hash}\n"
        f"applicationId={row.application_id or ''}\nsubmissionId={row.submission_id or ''}\n"
    ).encode()
    out = bytearray(b"MSCF\x00\x00\x00\x00" + header)
    block = hashlib.sha256(row.cab_id_hash.encode("utf-8")).digest()
    while len(out) < CAB_SIZE:
        out += block
        block = hashlib.sha256(block).digest()
    return bytes(out[:CAB_SIZE])


def ensure_cab_blob(blobs: BlobStore, row: CabRow) -> str:
    """Put the CAB in the blob store if it is not there yet; return its key."""
    key = cab_blob_key(row.cab_id_hash)
    if not blobs.exists(key):
        fd, tmp = tempfile.mkstemp(prefix="cab-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(demo_cab_bytes(row))
            blobs.put_file(key, Path(tmp), move=True)
        finally:
            Path(tmp).unlink(missing_ok=True)
    return key


def cab_link(blobs: BlobStore, row: CabRow, link_for: LinkMaker) -> str:
    return link_for(ensure_cab_blob(blobs, row), cab_filename(row.cab_id_hash))
