"""Delta report over a 10M-event lake: two runs of a real worker (the second compared with the first).

The lake (10M events over 90 days, 4 IHV partners, 500 failure buckets each, generated in DuckDB and
committed through the one write path) is built once and cached in ``~/.cache/driverlens-bench``
(``--rows`` picks another size). A daily delta report of one partner (driver x bucket, SUM and DCOUNT,
Last30Days) runs twice, one day apart, on a real worker with a SQLite metadata store and the DuckDB
engine; each run is timed from claim to commit, and its parts apart: the base query (the template's
full result into Parquet) and the comparison (DuckDB over the two bases into the CSV file).

Prints one stable line: ``delta_bench rows=... run1_ms=... run2_ms=... base_ms=... compare_ms=...``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from driverlens.blobs.store import LocalBlobStore
from driverlens.catalog import PartnerKind
from driverlens.clock import FrozenClock
from driverlens.compiler import Scope, compile_template
from driverlens.compiler.delta import base_template, comparison
from driverlens.engines import DuckDBEngine, OutputFormat
from driverlens.engines.duckdb_engine import copy_to_file
from driverlens.events import EventStore, duck
from driverlens.events.schema import create_table_sql
from driverlens.events.write import commit_batch
from driverlens.metadata import Run
from driverlens.metadata.database import Database
from driverlens.metadata.migrate import migrate_database
from driverlens.metadata.repositories import partners, reports, templates
from driverlens.runs.schedule import run_window
from driverlens.runs.worker import Worker, WorkerOptions
from driverlens.settings import Settings
from driverlens.templates import parse_template

CACHE = Path(os.environ.get("DRIVERLENS_BENCH_CACHE", Path.home() / ".cache" / "driverlens-bench"))
NOW = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)
PARTNER = "Contoso Graphics"
IHVS = ["Contoso Graphics", "Fabrikam Audio", "Litware Net", "Tailspin Storage"]
TEMPLATE: dict[str, Any] = {
    "view": "IHVDriver",
    "projection": ["DriverName", "FailureHash"],
    "dateRange": {"reportPeriod": "Last30Days"},
    "aggregation": {"aggregatedColumns": ["SUM(EventCount)", "DCOUNT(DeviceId)"]},
    "orderby": [{"attribute": "DCOUNT(DeviceId)", "sort": "desc"}],
    "delta": {"key": ["DriverName", "FailureHash"], "measure": "DCOUNT(DeviceId)", "regressedRatio": 1.5},
}

# Buckets 0-29 of each partner change between the two runs (10 new, 10 resolved, 10 regressed as the
# 30-day window moves by a day); the other 470 spread evenly over 90 days. Every value is made in SQL.
_GENERATE = """
INSERT INTO rows
SELECT
  'e' || i AS EventId,
  {ihvs}[1 + (i % 4)::INT] AS IhvPartner,
  'OEM ' || (i % 7) AS OemPartner,
  DATE '{end}' - d::INT AS FailureDate,
  (DATE '{end}' - d::INT)::TIMESTAMP + to_seconds((i * 13) % 86400) AS FailureDateTime,
  'app' || (i % 3) AS ApplicationId, 'sub' || (i % 11) AS SubmissionId,
  '0x9F_bucket_' || b AS FailureName,
  unhex(md5('bucket' || b || '-' || (i % 4))) AS FailureHash,
  NULL AS Symbol, '10.0.22631.' || (i % 50) AS OSVersion, 'Windows 11' AS OSName, 'Kernel' AS EventType,
  'US' AS Market, 'PC' AS DeviceType, 'drv' || (b % 20) || '.sys' AS DriverName,
  '31.0.' || (i % 9) AS DriverVersion, 'x64' AS Architecture, NULL AS OEMName, NULL AS OEMModel,
  NULL AS Baseboard, NULL AS ModelFamily, 'Retail' AS FlightRing, 'Kernel' AS Mode, NULL AS CPUName,
  NULL AS OSSKUType, '23H2' AS ReleaseName, NULL AS CabType, NULL AS CabIdHash,
  unhex(md5('device' || ((i * 104729) % 400000))) AS DeviceId, NULL AS HardwareId,
  NULL AS CabCollectionTime, NULL AS CabExpirationTime, 1 + (i % 3) AS EventCount
FROM (
  SELECT i, b,
    CASE
      WHEN b < 10 THEN 1  -- only on the last day: new in the second run
      WHEN b < 20 THEN 31  -- only on the day the second run's window drops: resolved
      WHEN b < 30 THEN CASE WHEN (i // 2000) % 5 < 4 THEN 1 ELSE 2 + (i * 7919) % 29 END  -- regressed
      ELSE 1 + (i * 7919) % 90
    END AS d
  FROM (SELECT i, (i // 4 * 31) % 500 AS b FROM range({rows}) AS t(i))
)
"""


def build_lake(rows: int) -> tuple[Path, dict[str, Any]]:
    """The cached lake of ``rows`` events (built on first use)."""
    root = CACHE / f"delta-{rows}-v3"
    marker = root / "built.json"
    if marker.exists():
        return root, json.loads(marker.read_text())
    store = EventStore(root)
    started = time.perf_counter()
    with store.scratch() as con:
        con.execute(create_table_sql("rows"))
        ihvs = "[" + ", ".join(f"'{name}'" for name in IHVS) + "]"
        end = (NOW.date() + timedelta(days=1)).isoformat()  # day 1 is the second run's last day
        con.execute(_GENERATE.format(ihvs=ihvs, end=end, rows=int(rows)))
        commit_batch(store.lake, con, "rows", batch_id=f"delta-bench-{rows}", operation="bench")
    built = {"build_s": round(time.perf_counter() - started, 1)}
    marker.write_text(json.dumps(built))
    return root, built


def _worker(root: Path, work: Path, clock: FrozenClock) -> tuple[Database, Worker, int]:
    db = Database(f"sqlite:///{work / 'metadata.db'}")
    migrate_database(db)
    with db.session() as session:
        partner = partners.add_partner(
            session, name=PARTNER, kind=PartnerKind.IHV, tenant_id=None, now=clock.now(),
            entitlements=partners.Entitlements((), (), ()),
        )  # fmt: skip
        template = templates.create_template(session, partner_id=partner.id, body=TEMPLATE, now=clock.now())
        report = reports.create_report(
            session, partner_id=partner.id, template_id=template.id, start_time=NOW, interval_hours=24,
            recurrence=2, now=clock.now(), output_format="csv",
        )  # fmt: skip
        report_id = report.id
    settings = Settings(data_dir=work / "var")
    blobs = LocalBlobStore(work / "blobs", clock=clock)
    options = WorkerOptions(lease_s=120, poll_s=0.05, grace_s=5, compact=False, purge=False)
    worker = Worker(db, DuckDBEngine(EventStore(root)), blobs, settings, clock, "bench", options=options)
    worker.tmp_dir.mkdir(parents=True, exist_ok=True)
    return db, worker, report_id


def _parts(
    root: Path, work: Path, due: datetime, previous: Path | None, repetitions: int
) -> tuple[float, float]:
    """Median ms of the base query into Parquet and of the comparison into CSV, measured apart."""
    template = parse_template(TEMPLATE)
    window = run_window(template.report_period, due)
    query = compile_template(base_template(template), Scope(PartnerKind.IHV, PARTNER), window, report_id=1)
    engine = DuckDBEngine(EventStore(root))
    base_ms, compare_ms = [], []
    for i in range(repetitions):
        current = work / f"parts-{i}.parquet"
        started = time.perf_counter()
        engine.run_to_file(query, current, OutputFormat.PARQUET, None)
        base_ms.append((time.perf_counter() - started) * 1000)
        if previous is not None:
            sql = comparison(template, str(current), str(previous), spreadsheet_safe=True)
            con = duck.configured_cursor()
            try:
                started = time.perf_counter()
                copy_to_file(con, sql.report.sql("duckdb"), work / f"parts-{i}.csv", OutputFormat.CSV, None)
                con.execute(sql.counts.sql("duckdb")).fetchall()
                compare_ms.append((time.perf_counter() - started) * 1000)
            finally:
                con.close()
    return statistics.median(base_ms), statistics.median(compare_ms) if compare_ms else 0.0


def run(rows: int, repetitions: int) -> dict[str, Any]:
    root, built = build_lake(rows)
    with tempfile.TemporaryDirectory(prefix="delta-bench-") as tmp:
        work = Path(tmp)
        clock = FrozenClock(NOW + timedelta(minutes=1))
        db, worker, report_id = _worker(root, work, clock)
        timings, summaries = [], []
        for _ in range(2):
            worker.housekeeping()
            started = time.perf_counter()
            assert worker.run_one(), "no run was due"
            timings.append((time.perf_counter() - started) * 1000)
            with db.session() as session:
                run = (
                    session.query(Run)
                    .filter(Run.report_id == report_id, Run.finished_at.is_not(None))
                    .order_by(Run.id.desc())
                    .first()
                )
                assert run is not None and run.state.value == "Completed", run and run.error
                summaries.append((run.row_count, run.delta_summary, run.delta_base))
            clock.advance(timedelta(hours=24))
        first_base = work / "blobs" / str(summaries[0][2])
        base_ms, compare_ms = _parts(root, work, NOW + timedelta(days=1), first_base, repetitions)
        db.dispose()
    second = summaries[1][1] or {}
    return {
        "rows": rows,
        "lake_build_s": built.get("build_s"),
        "run1_ms": round(timings[0], 1),
        "run2_ms": round(timings[1], 1),
        "base_ms": round(base_ms, 1),
        "compare_ms": round(compare_ms, 1),
        "buckets": second.get("buckets"),
        "new": second.get("new"),
        "regressed": second.get("regressed"),
        "resolved": second.get("resolved"),
        "file_rows": summaries[1][0],
        "load": round(os.getloadavg()[0], 2),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repetitions", type=int, default=5)
    args = parser.parse_args(argv if argv is not None else [])
    figures = run(args.rows, args.repetitions)
    print("delta_bench " + " ".join(f"{k}={v}" for k, v in figures.items()), flush=True)
    return 0


if __name__ == "__main__":
    import sys

    raise SystemExit(main(sys.argv[1:]))
