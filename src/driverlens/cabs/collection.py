"""Collecting a crash dump cabinet: check it, read its dump, find its events, store it once.

The use case behind both the collector upload and ``driverlens ingest-cabs``. Nothing is stored until
the cabinet, its dump and the events it names have all been checked, so a refused file leaves no blob
and no row. A CAB is named by its content: ``cabIdHash`` is the first 32 hex digits of its SHA-256
(the shape of the event store's CabIdHash), so the same file sent twice is stored once.

How events reach a CAB: an event whose CabIdHash *is* the content id needs nothing more (telemetry
recorded after the collector answered). Events recorded before, with an id of their own, are linked
explicitly, by EventId or by their CabIdHash; the link table maps their CabIdHash to the CAB.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError

from driverlens.blobs.store import BlobStore
from driverlens.cabs.cabinet import Cabinet, CabLimits, open_cabinet
from driverlens.cabs.dumps import DumpFacts, read_dump
from driverlens.errors import NotFound, Problem, ValidationFailed
from driverlens.events.store import EventStore
from driverlens.metadata.database import Database
from driverlens.metadata.models import Cab
from driverlens.metadata.repositories import cabs as cab_repo
from driverlens.settings import Settings

MAX_TARGETS = 1000
MAX_LISTED_EVENTS = 1000  # an answer lists at most this many linked EventIds (eventsLinked counts all)
_CHUNK = 500
_ID = re.compile(r"[A-Za-z0-9{}_.:-]{1,64}")
# FailureName as the buckets are named: "<bugcheck>_<module>!<symbol>", e.g. "0x9F_nvlddmkm!PowerWait".
_BUCKET = re.compile(r"^0x([0-9A-Fa-f]{1,8})_([^!]+)!")


@dataclass(frozen=True)
class EventTargets:
    """The failure events a cabinet belongs to: by EventId and/or by the events' CabIdHash."""

    event_ids: tuple[str, ...] = ()
    cab_id_hashes: tuple[str, ...] = ()

    def validate(self) -> None:
        problems: list[Problem] = []
        if len(self.event_ids) + len(self.cab_id_hashes) > MAX_TARGETS:
            problems.append(Problem("eventId", f"at most {MAX_TARGETS} events per cabinet"))
        for name, values in (("eventId", self.event_ids), ("cabIdHash", self.cab_id_hashes)):
            problems += [
                Problem(name, "must be 1 to 64 letters, digits or {}_.:-", value=v[:80])
                for v in values
                if not _ID.fullmatch(v)
            ]
        if problems:
            raise ValidationFailed(problems)


@dataclass(frozen=True)
class LinkedEvent:
    event_id: str
    cab_id_hash: str
    failure_name: str


@dataclass(frozen=True)
class Collected:
    """What happened to one cabinet."""

    cab_id_hash: str
    sha256: str
    size: int
    created: bool
    events_linked: int
    facts: DumpFacts
    expanded_size: int
    file_count: int
    bucket_mismatch: str | None
    event_ids: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "cabIdHash": self.cab_id_hash,
            "sha256": self.sha256,
            "size": self.size,
            "created": self.created,
            "eventsLinked": self.events_linked,
            "eventIds": self.event_ids,
            "dump": facts_json(self.facts),
            "expandedSize": self.expanded_size,
            "fileCount": self.file_count,
            "bucketMismatch": self.bucket_mismatch,
        }


def facts_json(facts: DumpFacts) -> dict[str, Any]:
    return {
        "file": facts.dump_file,
        "type": facts.dump_type,
        "format": facts.dump_format,
        "bugcheckCode": _hex(facts.bugcheck_code),
        "bugcheckParameters": [_hex(p) for p in facts.bugcheck_parameters]
        if facts.bugcheck_parameters
        else None,
        "exceptionCode": _hex(facts.exception_code),
        "osBuild": facts.os_build,
        "faultingModule": facts.faulting_module,
        "faultingModuleVersion": facts.faulting_module_version,
    }


def _hex(value: int | None) -> str | None:
    return None if value is None else f"0x{value:X}"


def limits_for(settings: Settings) -> CabLimits:
    return CabLimits(settings.cab_max_bytes, settings.cab_max_expanded_bytes, settings.cab_max_files)


def content_id(sha256: str) -> str:
    """The cabIdHash of a cabinet: the first 32 hex digits of its SHA-256."""
    return sha256[:32]


def cab_blob_key(sha256: str) -> str:
    return f"cabs/{sha256[:2]}/{sha256}.cab"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def find_events(events: EventStore, targets: EventTargets, content: str) -> list[LinkedEvent]:
    """The events named by ``targets`` plus those already carrying the content id; unknown names are a 400."""
    found: dict[str, LinkedEvent] = {}
    seen_ids: set[str] = set()
    seen_hashes: set[str] = set()
    select = 'SELECT "EventId", "CabIdHash", "FailureName" FROM failure_events WHERE '
    with events.reading() as conn:
        for column, values in (
            ("EventId", targets.event_ids),
            ("CabIdHash", (*targets.cab_id_hashes, content)),
        ):
            unique = sorted(set(values))
            for start in range(0, len(unique), _CHUNK):
                chunk = unique[start : start + _CHUNK]
                marks = ", ".join("?" for _ in chunk)
                for event_id, cab_hash, failure in conn.execute(
                    f'{select}"{column}" IN ({marks})', chunk
                ).fetchall():
                    seen_ids.add(str(event_id))
                    if cab_hash is not None:
                        seen_hashes.add(str(cab_hash))
                    found[str(event_id)] = LinkedEvent(str(event_id), str(cab_hash or ""), str(failure))
    problems = [
        Problem("eventId", "no failure event has this EventId", value=v)
        for v in targets.event_ids
        if v not in seen_ids
    ]
    problems += [
        Problem("cabIdHash", "no failure event has this CabIdHash", value=v)
        for v in targets.cab_id_hashes
        if v not in seen_hashes
    ]
    problems += [
        Problem(
            "eventId", "this event has no CabIdHash, so no report can name its crash dump", value=e.event_id
        )
        for e in found.values()
        if not e.cab_id_hash
    ]
    if problems:
        raise ValidationFailed(problems[:50])
    return sorted(found.values(), key=lambda e: e.event_id)


def _module_stem(name: str) -> str:
    stem = name.replace("\\", "/").rsplit("/", 1)[-1].lower()
    return stem.rsplit(".", 1)[0] if "." in stem else stem


def bucket_mismatch(facts: DumpFacts, failure_names: Iterable[str]) -> str | None:
    """Why the dump disagrees with its events' failure buckets, or None when nothing disagrees.

    A kernel dump's bugcheck code must be the bucket's; the faulting module (when the dump names one)
    must be the bucket's module. A user-mode dump has an exception code, not a bugcheck, so only its
    module is compared.
    """
    problems: list[str] = []
    for name in sorted(set(failure_names)):
        match = _BUCKET.match(name)
        if match is None:
            continue
        code, module = int(match.group(1), 16), match.group(2)
        if facts.bugcheck_code is not None and facts.bugcheck_code != code:
            problems.append(f"bugcheck 0x{facts.bugcheck_code:X} but bucket {name!r} is 0x{code:X}")
        if facts.faulting_module and _module_stem(facts.faulting_module) != _module_stem(module):
            problems.append(f"faulting module {facts.faulting_module!r} but bucket {name!r} names {module!r}")
    if not problems:
        return None
    more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
    return "; ".join(problems[:3]) + more


def collect_cab(
    path: Path,
    *,
    db: Database,
    blobs: BlobStore,
    events: EventStore,
    limits: CabLimits,
    targets: EventTargets,
    collected_by: str,
    now: datetime,
    sha256: str | None = None,
    move: bool = False,
) -> Collected:
    """Check, read, link and store one cabinet file (idempotent by content).

    ``move`` renames the file into the blob store instead of copying it (an upload's temp file).
    """
    targets.validate()
    cabinet = open_cabinet(path, limits)
    facts = read_dump(cabinet)
    digest = sha256 or file_sha256(path)
    linked = find_events(events, targets, content_id(digest))
    return store_cab(
        path,
        cabinet,
        facts,
        db=db,
        blobs=blobs,
        digest=digest,
        links=[(e.cab_id_hash, e.event_id) for e in linked],
        failure_names={e.failure_name for e in linked},
        collected_by=collected_by,
        now=now,
        move=move,
    )


def store_cab(
    path: Path,
    cabinet: Cabinet,
    facts: DumpFacts,
    *,
    db: Database,
    blobs: BlobStore,
    digest: str,
    links: list[tuple[str, str]],
    failure_names: set[str],
    collected_by: str,
    now: datetime,
    skip_taken: bool = False,
    move: bool = False,
) -> Collected:
    """Store a checked cabinet once (blob, then its row and links in one transaction)."""
    cab_id_hash = content_id(digest)
    mismatch = bucket_mismatch(facts, failure_names)
    key = cab_blob_key(digest)
    size = path.stat().st_size
    stored_blob = False
    if not _is_recorded(db, digest) and not blobs.exists(key):
        blobs.put_file(key, path, move=move)
        stored_blob = True
    expanded = (cabinet.expanded_size, len(cabinet.members))
    row = cab_row(facts, digest, key, size, expanded, mismatch, collected_by, now)
    try:
        try:
            created, added, mismatch = _register(db, row, links, now, skip_taken)
        except IntegrityError:
            # The same file (or the same event link) was committed by a concurrent upload between our
            # look-up and our insert; its row exists now, so doing it again adds only what is missing.
            created, added, mismatch = _register(db, row, links, now, skip_taken)
    except BaseException:
        if stored_blob and not _is_recorded(db, digest):  # never delete a blob another upload recorded
            blobs.delete(key)
        raise
    return Collected(
        cab_id_hash=cab_id_hash,
        sha256=digest,
        size=size,
        created=created,
        events_linked=added,
        facts=facts,
        expanded_size=cabinet.expanded_size,
        file_count=len(cabinet.members),
        bucket_mismatch=mismatch,
        event_ids=sorted({e for _, e in links})[:MAX_LISTED_EVENTS],
    )


def _register(
    db: Database, row: dict[str, Any], links: list[tuple[str, str]], now: datetime, skip_taken: bool
) -> tuple[bool, int, str | None]:
    """The CAB's row (inserted unless there) and its links, in one transaction: (inserted, links added,
    bucket mismatch on record)."""
    with db.write_session() as session:
        cab = cab_repo.find_by_sha256(session, row["sha256"])
        inserted = cab is None
        if cab is None:
            cab = cab_repo.add_cab(session, **row)
        elif row["bucket_mismatch"] and not cab.bucket_mismatch:
            cab.bucket_mismatch = row["bucket_mismatch"]
        pairs = [(h, e) for h, e in links if h != cab.cab_id_hash]
        added, _ = cab_repo.link_events(session, cab, pairs, now=now, skip_taken=skip_taken)
        return inserted, added, cab.bucket_mismatch


def _is_recorded(db: Database, digest: str) -> bool:
    with db.session() as session:
        return cab_repo.find_by_sha256(session, digest) is not None


def cab_row(
    facts: DumpFacts,
    digest: str,
    key: str,
    size: int,
    expanded: tuple[int, int],
    mismatch: str | None,
    collected_by: str,
    now: datetime,
) -> dict[str, Any]:
    return {
        "cab_id_hash": content_id(digest),
        "sha256": digest,
        "blob_key": key,
        "size": size,
        "expanded_size": expanded[0],
        "file_count": expanded[1],
        "dump_file": facts.dump_file[:256],
        "dump_type": facts.dump_type,
        "dump_format": facts.dump_format,
        "bugcheck_code": facts.bugcheck_code,
        "bugcheck_parameters": [f"0x{p:X}" for p in facts.bugcheck_parameters]
        if facts.bugcheck_parameters
        else None,
        "exception_code": facts.exception_code,
        "os_build": facts.os_build[:32],
        "faulting_module": (facts.faulting_module or None) and facts.faulting_module[:256],
        "faulting_module_version": (facts.faulting_module_version or None)
        and facts.faulting_module_version[:64],
        "bucket_mismatch": mismatch,
        "collected_by": collected_by[:100],
        "collected_at": now,
    }


def stored_cab(db: Database, cab_id_hash: str) -> Cab:
    with db.session() as session:
        cab = cab_repo.find_by_cab_id_hash(session, cab_id_hash)
    if cab is None:
        raise NotFound(f"no stored CAB {cab_id_hash[:64]!r}")
    return cab
