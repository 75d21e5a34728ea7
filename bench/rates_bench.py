"""Failure-rate reports over a 10M-event lake with a matching install base (DuckDB engine, warm).

The lake (10M events over 90 days, 4 IHV partners, 10 drivers x 6 versions x 8 OS builds x 3 OEMs each,
generated in DuckDB and committed through the one write path) and its install base (``installs.synthetic``:
every group the events hold, every day of the 90) are built once and cached in
``~/.cache/driverlens-bench`` (``--rows`` picks another size). One partner's failure-rate reports run
into CSV files, each timed as the median of ``--repetitions`` runs after one warm-up:

- ``version``: DriverName, DriverVersion with compareVersions, Last30Days;
- ``os``: DriverName, OSVersion, Last30Days;
- ``day``: FailureDate, DriverName (per-day rates), Last30Days.

Prints one stable line: ``rates_bench rows=... version_ms=... os_ms=... day_ms=... ...``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from driverlens.catalog import PartnerKind
from driverlens.compiler import Scope, compile_template
from driverlens.engines import DuckDBEngine, OutputFormat
from driverlens.events import EventStore
from driverlens.events.schema import create_table_sql
from driverlens.events.write import commit_batch
from driverlens.installs.synthetic import synthetic_installs
from driverlens.runs.schedule import run_window
from driverlens.templates import parse_template

CACHE = Path(os.environ.get("DRIVERLENS_BENCH_CACHE", Path.home() / ".cache" / "driverlens-bench"))
NOW = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)
PARTNER = "Contoso Graphics"
IHVS = ["Contoso Graphics", "Fabrikam Audio", "Litware Net", "Tailspin Storage"]
RATE = "FAILURERATE(DeviceId)"


def _template(projection: list[str], compare: bool = False) -> dict[str, Any]:
    aggregation: dict[str, Any] = {"aggregatedColumns": [RATE]}
    if compare:
        aggregation["compareVersions"] = True
    return {
        "view": "IHVDriver",
        "projection": projection,
        "dateRange": {"reportPeriod": "Last30Days"},
        "aggregation": aggregation,
        "orderby": [{"attribute": "FailureRate", "sort": "desc"}],
    }


TEMPLATES: dict[str, dict[str, Any]] = {
    "version": _template(["DriverName", "DriverVersion"], compare=True),
    "os": _template(["DriverName", "OSVersion"]),
    "day": _template(["FailureDate", "DriverName"]),
}

# Version 31.0.5 of each driver fails on three times as many devices as the others.
_GENERATE = """
INSERT INTO rows
SELECT
  'e' || i AS EventId,
  {ihvs}[1 + (i % 4)::INT] AS IhvPartner,
  'OEM ' || (i % 3) AS OemPartner,
  DATE '{end}' - (1 + (i * 7919) % 90)::INT AS FailureDate,
  (DATE '{end}' - (1 + (i * 7919) % 90)::INT)::TIMESTAMP + to_seconds((i * 13) % 86400) AS FailureDateTime,
  'app' || (i % 3) AS ApplicationId, 'sub' || (i % 11) AS SubmissionId,
  '0x9F_bucket_' || (i % 500) AS FailureName, unhex(md5('bucket' || (i % 500))) AS FailureHash,
  NULL AS Symbol, '10.0.22631.' || ((i // 7) % 8) AS OSVersion, 'Windows 11' AS OSName, 'Kernel' AS EventType,
  'US' AS Market, 'PC' AS DeviceType, 'drv' || ((i // 4) % 10) || '.sys' AS DriverName,
  '31.0.' || CASE WHEN (i // 40) % 8 < 2 THEN 5 ELSE (i // 40) % 6 END AS DriverVersion,
  'x64' AS Architecture, NULL AS OEMName, NULL AS OEMModel,
  NULL AS Baseboard, NULL AS ModelFamily, 'Retail' AS FlightRing, 'Kernel' AS Mode, NULL AS CPUName,
  NULL AS OSSKUType, '23H2' AS ReleaseName, NULL AS CabType, NULL AS CabIdHash,
  unhex(md5('device' || ((i * 104729) % 2000000))) AS DeviceId, NULL AS HardwareId,
  NULL AS CabCollectionTime, NULL AS CabExpirationTime, 1 + (i % 3) AS EventCount
FROM range({rows}) AS t(i)
"""


def build_lake(rows: int) -> tuple[Path, dict[str, Any]]:
    """The cached lake of ``rows`` events and its install base (built on first use)."""
    root = CACHE / f"rates-{rows}-v1"
    marker = root / "built.json"
    if marker.exists():
        return root, json.loads(marker.read_text())
    store = EventStore(root)
    started = time.perf_counter()
    with store.scratch() as con:
        con.execute(create_table_sql("rows"))
        ihvs = "[" + ", ".join(f"'{name}'" for name in IHVS) + "]"
        end = NOW.date().isoformat()
        con.execute(_GENERATE.format(ihvs=ihvs, end=end, rows=int(rows)))
        commit_batch(store.lake, con, "rows", batch_id=f"rates-bench-{rows}", operation="bench")
    events_s = time.perf_counter() - started
    started = time.perf_counter()
    installs = synthetic_installs(store, days=90, now=NOW, seed=1)
    built = {
        "build_s": round(events_s, 1),
        "installs_build_s": round(time.perf_counter() - started, 1),
        "install_rows": installs.added,
    }
    marker.write_text(json.dumps(built))
    return root, built


def run(rows: int, repetitions: int) -> dict[str, Any]:
    root, built = build_lake(rows)
    engine = DuckDBEngine(EventStore(root))
    figures: dict[str, Any] = {"rows": rows, "lake_build_s": built.get("build_s")}
    figures["install_rows"] = built.get("install_rows")
    with tempfile.TemporaryDirectory(prefix="rates-bench-") as tmp:
        for name, body in TEMPLATES.items():
            template = parse_template(body)
            window = run_window(template.report_period, NOW)
            query = compile_template(template, Scope(PartnerKind.IHV, PARTNER), window, report_id=1)
            timings = []
            for i in range(repetitions + 1):  # the first run warms the views and caches
                started = time.perf_counter()
                out = engine.run_to_file(query, Path(tmp) / f"{name}-{i}.csv", OutputFormat.CSV, None)
                timings.append((time.perf_counter() - started) * 1000)
            figures[f"{name}_ms"] = round(statistics.median(timings[1:]), 1)
            figures[f"{name}_rows"] = out.rows
            if name == "version":
                text = (Path(tmp) / f"{name}-0.csv").read_text().splitlines()
                figures["regressed"] = sum(line.endswith(",true") for line in text[1:])
    figures["load"] = round(os.getloadavg()[0], 2)
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repetitions", type=int, default=5)
    args = parser.parse_args(argv if argv is not None else [])
    figures = run(args.rows, args.repetitions)
    print("rates_bench " + " ".join(f"{k}={v}" for k, v in figures.items()), flush=True)
    return 0


if __name__ == "__main__":
    import sys

    raise SystemExit(main(sys.argv[1:]))
