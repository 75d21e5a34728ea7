"""Retention: report files and CABs are deleted a fixed number of days after they were made."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from driverlens.blobs.store import BlobStore


@dataclass(frozen=True)
class PurgeReport:
    deleted_keys: list[str] = field(default_factory=list)
    bytes_freed: int = 0

    @property
    def deleted(self) -> int:
        return len(self.deleted_keys)


def purge_blobs(store: BlobStore, now: datetime, retention_days: int = 30) -> PurgeReport:
    """Delete blobs created more than ``retention_days`` before ``now``; callers clear their links."""
    if retention_days < 1:
        raise ValueError("retention_days must be >= 1")
    cutoff = now - timedelta(days=retention_days)
    keys: list[str] = []
    freed = 0
    for info in list(store.iter_older_than(cutoff)):
        if store.delete(info.key):
            keys.append(info.key)
            freed += info.size
    return PurgeReport(keys, freed)
