"""Reading the seeded event store from tests (which CABs exist, whose they are)."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from pathlib import Path

from driverlens.cabs.cabinet import CabLimits, open_cabinet
from driverlens.cabs.dumps import DumpFacts, read_dump
from driverlens.events import EventStore


@dataclass(frozen=True)
class CabRef:
    application_id: str | None
    cab_id_hash: str
    failure_hash: str


def cabs_of(data_dir: Path, owner_column: str, partner: str, limit: int = 1) -> list[CabRef]:
    """Unexpired CABs in events owned by ``partner`` (most CABs per failure first)."""
    assert owner_column in ("IhvPartner", "OemPartner")
    with EventStore(data_dir).reading() as conn:
        rows = conn.execute(
            f'SELECT min("ApplicationId"), "CabIdHash", min("FailureHash") '
            f'FROM failure_events WHERE "{owner_column}" = ? AND "CabIdHash" IS NOT NULL '
            'AND "CabExpirationTime" > now()::TIMESTAMP GROUP BY "CabIdHash" ORDER BY 2 LIMIT ?',
            [partner, limit],
        ).fetchall()
    return [CabRef(r[0], r[1], _uuid_text(r[2])) for r in rows]


def _uuid_text(stored: bytes) -> str:
    """The store keeps UUID columns as their 16 bytes; the API speaks canonical UUID text."""
    return str(uuid.UUID(bytes=bytes(stored)))


def busiest_failure(data_dir: Path, partner: str) -> tuple[str, str, int]:
    """(applicationId, failureHash, number of distinct CABs) of the IHV failure with most CABs."""
    with EventStore(data_dir).reading() as conn:
        row = conn.execute(
            'SELECT "ApplicationId", "FailureHash", count(DISTINCT "CabIdHash") AS n '
            'FROM failure_events WHERE "IhvPartner" = ? AND "CabIdHash" IS NOT NULL '
            'AND "CabExpirationTime" > now()::TIMESTAMP GROUP BY 1, 2 ORDER BY n DESC, 1, 2 LIMIT 1',
            [partner],
        ).fetchone()
    assert row is not None, f"no CABs seeded for {partner}"
    return str(row[0]), _uuid_text(row[1]), int(row[2])


def read_cab(data: bytes, tmp_dir: Path) -> DumpFacts:
    """Open downloaded CAB bytes with the server's own checks and parsers: what dump is inside."""
    path = tmp_dir / f"downloaded-{hashlib.sha256(data).hexdigest()[:16]}.cab"
    path.write_bytes(data)
    return read_dump(open_cabinet(path, CabLimits()))
