"""Measure the event store: seed and ingest throughput, per-partner queries by physical layout.

``python -m driverlens.events.bench --rows 2000000 --out bench-events.json`` prints one stable line
per figure and saves them as JSON. Layouts compared on the same rows: the store as written (the IHV
view's table clustered by IHV partner, FailureDate, OEM partner; OEM queries read the OEM-clustered copy),
arrival order (rows shuffled), and date-major order.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from driverlens.events.demo import DEMO_PARTNERS
from driverlens.events.schema import OEM_TABLE, TABLE
from driverlens.events.seed import seed_events, write_sample_file
from driverlens.events.store import EventStore

NOW = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)
LAYOUTS = {
    "clustered": None,
    "arrival": "hash(EventId)",
    "date_major": "FailureDate, IhvPartner, OemPartner",
}
QUERIES = {
    # Template 3: IHV, bucket ranking with distinct devices, last 30 days.
    "ihv_buckets_30d": (
        "IhvPartner",
        30,
        "SELECT DriverName, DriverVersion, FailureName, FailureHash, sum(EventCount),"
        " count(DISTINCT DeviceId) FROM {t} WHERE IhvPartner = $p AND FailureDate >= $s AND FailureDate < $e"
        " GROUP BY ALL ORDER BY 6 DESC",
    ),
    # Template 1-like: every row of one IHV for 7 days, touching many columns.
    "ihv_rows_7d": (
        "IhvPartner",
        7,
        "SELECT count(*), max(Symbol), max(OSVersion), max(CPUName), max(HardwareId), max(CabIdHash),"
        " max(DeviceId), max(CabExpirationTime) FROM {t}"
        " WHERE IhvPartner = $p AND FailureDate >= $s AND FailureDate < $e",
    ),
    # Template 4: OEM, kernel failures, SUM(EventCount) > threshold, last 7 days.
    "oem_kernel_7d": (
        "OemPartner",
        7,
        "SELECT FailureName, FailureHash, sum(EventCount) FROM {t}"
        " WHERE OemPartner = $p AND FailureDate >= $s AND FailureDate < $e AND EventType = 'Kernel'"
        " GROUP BY ALL HAVING sum(EventCount) > 10",
    ),
    # Template 5: IHV, DCOUNT(DeviceId) by driver, 90 days.
    "ihv_drivers_90d": (
        "IhvPartner",
        90,
        "SELECT DriverName, count(DISTINCT DeviceId) d FROM {t}"
        " WHERE IhvPartner = $p AND FailureDate >= $s AND FailureDate < $e"
        " GROUP BY ALL ORDER BY d DESC LIMIT 10",
    ),
}


def _best_of(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        con.execute(sql, params).fetchall()
        best = min(best, time.perf_counter() - started)
    return best


def measure_layouts(store: EventStore, repeat: int = 3) -> dict[str, dict[str, float]]:
    """Seconds per query (best of ``repeat``) for each layout of the same rows."""
    con = store.connect(read_only=False)
    try:
        # The machine is shared: keep the re-sorted copies from taking most of its memory.
        con.execute("SET memory_limit = '2GB'")
        for name, order in LAYOUTS.items():
            if order is not None:
                con.execute(
                    f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM failure_events ORDER BY {order}"
                )
        con.execute("CHECKPOINT")
        ihv = DEMO_PARTNERS[0].name
        oem = next(p.name for p in DEMO_PARTNERS if p.kind.value == "OEM")
        today = NOW.date()
        out: dict[str, dict[str, float]] = {}
        for qname, (owner, days, template) in QUERIES.items():
            params: dict[str, str | date] = {
                "p": ihv if owner == "IhvPartner" else oem,
                "s": today - timedelta(days=days),
                "e": today,
            }
            stored = TABLE if owner == "IhvPartner" else OEM_TABLE
            out[qname] = {
                layout: _best_of(con, template.format(t=stored if order is None else layout), params, repeat)
                for layout, order in LAYOUTS.items()
            }
            if stored != TABLE:  # what the OEM copy saves: the same query on the IHV-major table
                out[qname]["ihv_major_table"] = _best_of(con, template.format(t=TABLE), params, repeat)
        return out
    finally:
        con.close()


def measure_ingest(work: Path, rows: int) -> dict[str, float]:
    """Rows per second loading a sample file of each format into an empty store."""
    out: dict[str, float] = {}
    for fmt in ("parquet", "csv", "jsonl"):
        path = write_sample_file(work / f"sample.{fmt}", rows, fmt, seed=5, now=NOW)
        store = EventStore(work / f"ingest-{fmt}")
        started = time.perf_counter()
        report = store.ingest([path])
        out[fmt] = report.loaded / (time.perf_counter() - started)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--ingest-rows", type=int, default=500_000)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--no-layouts", action="store_true")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="driverlens-events-bench-"))
    figures: dict[str, Any] = {"rows": args.rows}
    try:
        store = EventStore(work / "seeded")
        report = seed_events(store, rows=args.rows, seed=1, now=NOW)
        figures["seed_rows_per_s"] = report.rows_per_second
        print(
            f"seed rows={report.rows} seconds={report.seconds:.2f} rows_per_s={report.rows_per_second:,.0f}"
        )
        if not args.no_layouts:
            figures["query_s"] = measure_layouts(store)
            for q, by_layout in figures["query_s"].items():
                base = by_layout["arrival"]
                cells = " ".join(f"{k}={v * 1000:.1f}ms" for k, v in by_layout.items())
                print(f"query {q}: {cells} clustered_speedup={base / by_layout['clustered']:.2f}x")
        if args.ingest_rows:
            figures["ingest_rows_per_s"] = measure_ingest(work, args.ingest_rows)
            cells = " ".join(f"{k}={v:,.0f}" for k, v in figures["ingest_rows_per_s"].items())
            print(f"ingest rows={args.ingest_rows} rows_per_s {cells}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.out:
        args.out.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
