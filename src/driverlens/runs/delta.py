"""Running a delta report: full result as a Parquet base, comparison with the previous run's base.

Both engines write the base (the template's full result) with their own ``run_to_file``; the
comparison then runs in DuckDB over the two Parquet files (``compiler.delta``), so DuckDB and Spark
reports compare the same way. Crash safety follows the report file's: the base is a blob of this
attempt (under the attempt's key prefix, cleaned up with a dead attempt's files), and it becomes the
report's base only through the run's guarded commit, which records its key (``runs.delta_base``) with
the summary. A run only ever compares with a committed run's base, so a killed worker can leave
neither a half-written base nor a comparison with one.
"""

from __future__ import annotations

import logging
import secrets
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from driverlens.blobs.store import BlobStore
from driverlens.compiler import CompiledQuery, DataWindow, Scope, compile_template
from driverlens.compiler.delta import DeltaStatus, base_template, baseline, comparison, duplicate_key_probe
from driverlens.engines import Engine, OutputFormat
from driverlens.engines.duckdb_engine import copy_to_file
from driverlens.engines.formats import RunOutput
from driverlens.errors import DriverLensError, NotFound
from driverlens.events import duck
from driverlens.events.sql import string_literal
from driverlens.metadata import Run
from driverlens.metadata.database import Database
from driverlens.metadata.repositories import run_deltas
from driverlens.templates.model import Template

log = logging.getLogger(__name__)


class DeltaKeyNotUnique(DriverLensError):
    """The delta key does not identify one row of the report's result."""

    status = 400
    code = "DeltaKeyNotUnique"


def base_key_of(report_key: str) -> str:
    """The base's blob key beside the attempt's report file (same attempt prefix, so a dead attempt's
    base is deleted with its report file)."""
    stem = report_key.rsplit("/", 1)
    return f"{stem[0]}/{stem[1].split('.', 1)[0]}-base.parquet"


def summary_json(summary: dict[str, Any] | None) -> dict[str, Any] | None:
    """The partner-facing delta summary of a run (stored as is; None for other reports)."""
    return dict(summary) if summary else None


@dataclass
class DeltaRun:
    """One attempt of a delta report: where its base goes and what it compares with."""

    template: Template
    base_query: CompiledQuery
    base_key: str
    previous: run_deltas.PreviousRun | None
    spreadsheet_safe: bool
    summary: dict[str, Any] | None = None
    base_stored: bool = False

    def run_to_file(
        self,
        engine: Engine,
        blobs: BlobStore,
        dest: Path,
        fmt: OutputFormat,
        timeout_s: float | None,
    ) -> RunOutput:
        """Write the delta report to ``dest`` and put this run's base into the blob store."""
        started = time.perf_counter()
        work = dest.with_name(f".{dest.name}.delta-{secrets.token_hex(6)}")
        work.mkdir(parents=True, exist_ok=True)
        try:
            current = work / "current.parquet"
            full = engine.run_to_file(self.base_query, current, OutputFormat.PARQUET, timeout_s)
            remaining = None if timeout_s is None else max(timeout_s - (time.perf_counter() - started), 0.1)
            written, self.summary = self._compare(blobs, current, work, dest, fmt, remaining, full.rows)
            # The base goes in last: a failure above leaves no blob behind.
            blobs.put_file(self.base_key, current, move=True, synced=True)
            self.base_stored = True
        finally:
            shutil.rmtree(work, ignore_errors=True)
        rows, size, digest = written
        return RunOutput(
            rows,
            size,
            digest,
            time.perf_counter() - started,
            full.store_version,
            full.newest_event,
            full.install_base_version,
        )

    def discard(self, blobs: BlobStore) -> None:
        """Delete this attempt's base (its run was not committed by this worker)."""
        if self.base_stored:
            blobs.delete(self.base_key)

    def _compare(
        self,
        blobs: BlobStore,
        current: Path,
        work: Path,
        dest: Path,
        fmt: OutputFormat,
        timeout_s: float | None,
        buckets: int,
    ) -> tuple[tuple[int, int, str], dict[str, Any]]:
        con = duck.configured_cursor()
        try:
            self._check_key(con, current)
            measure_type = _column_types(con, current)[self.template.delta.measure.name]  # type: ignore[union-attr]
            previous, reason = self._previous_file(blobs, work)
            if previous is not None and _column_types(con, previous) != _column_types(con, current):
                previous, reason = None, "the report's output columns changed since the previous run"
            if previous is None:
                query = baseline(
                    self.template, str(current), measure_type, spreadsheet_safe=self.spreadsheet_safe
                )
                written = copy_to_file(con, query.sql("duckdb"), dest, fmt, timeout_s)
                return written, {
                    "baseline": True,
                    "reason": reason,
                    "buckets": buckets,
                    "new": 0,
                    "regressed": 0,
                    "resolved": 0,
                }
            sql = comparison(
                self.template, str(current), str(previous), spreadsheet_safe=self.spreadsheet_safe
            )
            written = copy_to_file(con, sql.report.sql("duckdb"), dest, fmt, timeout_s)
            counts = {str(s): int(n) for s, n in con.execute(sql.counts.sql("duckdb")).fetchall()}
        finally:
            con.close()
        assert self.previous is not None
        summary = {
            "baseline": False,
            "comparedWithReportDatetime": self.previous.due_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "comparedWithManualRun": self.previous.manual,
            "buckets": buckets,
            "new": counts.get(DeltaStatus.NEW, 0),
            "regressed": counts.get(DeltaStatus.REGRESSED, 0),
            "resolved": counts.get(DeltaStatus.RESOLVED, 0),
        }
        return written, summary

    def _check_key(self, con: Any, current: Path) -> None:
        spec = self.template.delta
        assert spec is not None
        if len(spec.key) == len(self.template.projection):
            return  # the whole projection is the GROUP BY: unique by construction
        duplicate = con.execute(duplicate_key_probe(self.template, str(current)).sql("duckdb")).fetchone()
        if duplicate is not None:
            names = ", ".join(c.name for c in spec.key)
            others = ", ".join(c.name for c in self.template.projection if c not in spec.key)
            raise DeltaKeyNotUnique(
                f"delta.key [{names}] does not identify one row of the result: the other projected "
                f"columns ({others}) take several values for one key; add them to delta.key or remove "
                "them from the projection",
                target="delta.key",
            )

    def _previous_file(self, blobs: BlobStore, work: Path) -> tuple[Path | None, str]:
        if self.previous is None:
            return None, "the report has no earlier completed run"
        if self.previous.base is None:
            return (
                None,
                "the previous completed run kept no result to compare with (it was not a delta report)",
            )
        if not self.previous.base:
            return None, "the previous run's result was deleted by retention"
        target = work / "previous.parquet"
        try:
            with blobs.open_read(self.previous.base) as source, target.open("wb") as sink:
                shutil.copyfileobj(source, sink, 1 << 20)
        except NotFound:
            return None, "the previous run's result was deleted by retention"
        return target, ""


def _column_types(con: Any, path: Path) -> dict[str, str]:
    return {
        str(r[0]): str(r[1])
        for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet({string_literal(str(path))})").fetchall()
    }


def plan(
    db: Database,
    template: Template,
    scope: Scope,
    window: DataWindow,
    report_id: int,
    run: Run,
    base_key: str,
    *,
    spreadsheet_safe: bool,
) -> DeltaRun | None:
    """The delta part of a run, or None when the template has no delta block."""
    if template.delta is None:
        return None
    base_query = compile_template(base_template(template), scope, window, report_id=report_id)
    with db.session() as session:
        previous = run_deltas.previous_completed(session, run.report_id, run.id, run.due_at)
    return DeltaRun(template, base_query, base_key, previous, spreadsheet_safe)
