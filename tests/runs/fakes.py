"""Test doubles for the runs tests: a fast engine (processes only, selected explicitly) and a sink."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from driverlens.engines import OutputFormat, Query, RunOutput
from driverlens.metadata import Run
from driverlens.metadata.database import Database


def template_body(view: str = "IHVDriver", period: str = "Last7Days") -> dict[str, Any]:
    return {
        "view": view,
        "projection": ["DriverName", "FailureName"],
        "dateRange": {"reportPeriod": period},
        "aggregation": {"aggregatedColumns": ["SUM(EventCount)"]},
        "orderby": [{"attribute": "SUM(EventCount)", "sort": "desc"}],
    }


@dataclass
class FakeEngine:
    """Sleeps ``duration_s`` then writes a tiny file naming the query; or raises the queued errors.

    With ``hold_until``, the query also lasts until that file exists (a test decides when it ends).
    """

    duration_s: float = 0.0
    errors: list[BaseException] = field(default_factory=list)
    calls: int = 0
    hold_until: Path | None = None

    def run_to_file(self, query: Query, dest: Path, fmt: OutputFormat, timeout_s: float | None) -> RunOutput:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        started = time.perf_counter()
        if self.duration_s:
            time.sleep(self.duration_s)
        while self.hold_until is not None and not self.hold_until.exists():
            time.sleep(0.01)
        data = f"-- {dest.name}\n{query.sql('duckdb')}\n".encode()
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(data)
        return RunOutput(1, len(data), hashlib.sha256(data).hexdigest(), time.perf_counter() - started)

    def preview(self, query: Query, limit: int, timeout_s: float) -> tuple[list[str], list[list[Any]]]:
        raise NotImplementedError


@dataclass
class RecordingSink:
    """Callback sink that records what it was asked to send."""

    enqueued: list[tuple[int, str, str]] = field(default_factory=list)
    dispatches: int = 0

    def enqueue(self, session: Session, run: Run, url: str, partner_secret: str) -> None:
        self.enqueued.append((run.id, run.state.value, url))

    def dispatch_due(self, db: Database, now: datetime) -> int:
        self.dispatches += 1
        return 0


def blob_files(root: Path) -> Iterator[str]:
    """Keys of every visible file under a blob root."""
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.name.startswith("."):
            yield path.relative_to(root).as_posix()
