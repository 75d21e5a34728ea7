"""Engine benchmark: the five sample templates over the event lake, against the old store and a naive file.

For each size (default 1M rows; ``BENCH_FULL=1`` or ``--full`` adds 10M, ``--rows N`` picks sizes) it
1. seeds N synthetic events into a lake in a temporary directory, in a child process (rows/s, CPU
   seconds, peak RSS; target < 1 GiB), and measures the store on disk;
2. rebuilds the same events in the layout of the store DriverLens had before the lake (``old``: one
   DuckDB file with the two clustered tables, UUIDs as DuckDB UUID; ``bench.baselines``), writes the naive
   baseline (one Parquet file in arrival order, ids as text) and two ingest files (new EventIds);
3. times each sample template, median of several repetitions run interleaved in rotating order, each
   run writing a new CSV file (removed outside the timing), after one warm-up run each:
   - ``driverlens``: parse + compile + ``DuckDBEngine.run_to_file`` over the lake (newest snapshot, CSV,
     sha256, fsync, atomic rename), as a worker runs a report;
   - ``old``: the query hand-written as one ``COPY`` on the old store, under the old store's connection
     policy (one warm in-memory instance, the file kept attached); target: driverlens within 1.3x;
   - ``naive``: the hand-written query over the naive file; target: driverlens >= 2x faster for the
     aggregation templates (3-5);
   - for the breakdown, the compiled query as one ``COPY`` on a cursor bound to the snapshot once
     (``bound``: the lake's layout without DriverLens's per-run work) and on views holding only the
     files of the template's date window (``pruned``);
   wall and CPU seconds of this process (every thread) are both recorded: the machine is shared;
4. measures DriverLens's per-run work apart (newest snapshot; cursor + view binding) and the peak RSS
   of a child exporting template 1 (7 and 90 days);
5. ingests the first ingest file into the seeded lake in a child (validated rows/s; target >= 300,000;
   peak RSS), then the second while child processes run reports on the same lake without pause.
Prints one table plus one stable summary line per size; saves ``bench/results/engine.json``.

``--scale`` is the 100M-event run (not part of ``make bench``; hours here): seed, store size, every
template in a child (time, peak RSS; target < 2 GiB) and the ingestion of a 20M-row file (target < 1 GiB).
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import duckdb

from bench.baselines import DUE, PARTNERS, build_old_store, hand_sql, write_ingest_file, write_naive
from driverlens.compiler import CompiledQuery, Scope, compile_template, window_for
from driverlens.engines import DuckDBEngine, OutputFormat
from driverlens.engines.formats import RunOutput
from driverlens.engines.samples import SAMPLE_TEMPLATES, SampleTemplate
from driverlens.events import EventStore, duck
from driverlens.events.lake import Snapshot
from driverlens.events.schema import COPY_OF_TABLE, TABLE_BY_VIEW
from driverlens.settings import get_settings
from driverlens.templates import parse_template

RESULTS = Path(__file__).resolve().parent / "results" / "engine.json"
NOW = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)
REPORT_ID = 1
RATIO_TARGET = 1.3
SPEEDUP_TARGET = 2.0
INGEST_TARGET_RPS = 300_000
RSS_TARGET_MIB = 1024.0
QUERY_RSS_TARGET_MIB = 2048.0
INGEST_ROWS_MAX = 500_000
CONCURRENT_READERS = 2
SCALE_ROWS = 100_000_000
SCALE_INGEST_ROWS = 20_000_000
SIDES = ("driverlens", "old", "naive", "bound", "pruned")
ROOT = Path(__file__).resolve().parents[1]


def _sql_path(path: Path | str) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def compiled(sample: SampleTemplate, body: dict[str, Any] | None = None) -> CompiledQuery:
    template = parse_template(copy.deepcopy(body or sample.body))
    scope = Scope(sample.kind, PARTNERS[sample.number])
    return compile_template(template, scope, window_for(template.report_period, DUE), REPORT_ID)


def run_report(
    store: EventStore, sample: SampleTemplate, dest: Path, body: dict[str, Any] | None = None
) -> RunOutput:
    """One report run as the worker does it: parse, compile, export (sha256, fsync, rename)."""
    query = compiled(sample, body)
    return DuckDBEngine(store).run_to_file(query, dest, OutputFormat.CSV, timeout_s=None)


def run_driverlens(
    store: EventStore, sample: SampleTemplate, dest: Path, body: dict[str, Any] | None = None
) -> int:
    return run_report(store, sample, dest, body).rows


class OldStore:
    """Hand-written exports on the old store under its connection policy (``events/reader.py`` before the
    lake): one in-memory DuckDB instance with the engine's settings and the file attached read-only, kept
    for the whole benchmark; each export runs on its own cursor."""

    def __init__(self, path: Path) -> None:
        settings = get_settings()
        config: dict[str, str | bool | int | float | list[str]] = {
            "memory_limit": settings.engine_memory_limit
        }
        if settings.engine_threads > 0:
            config["threads"] = settings.engine_threads
        self._instance = duckdb.connect(":memory:", config=config)
        self._instance.execute(f"ATTACH {_sql_path(path)} AS store (READ_ONLY)")

    def close(self) -> None:
        self._instance.close()

    def copy(self, sql: str, dest: Path, *, on_store: bool = True) -> int:
        with self._instance.cursor() as cursor:
            script = "SET SESSION preserve_insertion_order = false; "
            if on_store:
                script = f"USE store; {script}"
            row = cursor.execute(f"{script}COPY ({sql}) TO {_sql_path(dest)} (FORMAT csv, HEADER)").fetchone()
        return int(row[0]) if row else 0


def _bound_cursor(store: EventStore, snapshot: Snapshot) -> duckdb.DuckDBPyConnection:
    """A cursor of the process's warm instance with ``snapshot``'s views bound once, for many runs."""
    con = duck.cursor(store.engine)
    duck.bind_snapshot(con, snapshot)
    con.execute("SET SESSION preserve_insertion_order = false")
    return con


def _copy_on(con: duckdb.DuckDBPyConnection, sql: str, dest: Path) -> int:
    row = con.execute(f"COPY ({sql}) TO {_sql_path(dest)} (FORMAT csv, HEADER)").fetchone()
    return int(row[0]) if row else 0


def _in_window(snapshot: Snapshot, sample: SampleTemplate) -> Snapshot:
    """The snapshot with only the files of the template's date window (what pruning before binding keeps)."""
    window = window_for(parse_template(copy.deepcopy(sample.body)).report_period, DUE)
    files = tuple(f for f in snapshot.files if window.start <= f.day < window.end)
    return Snapshot(version=snapshot.version, files=files, newest_event=snapshot.newest_event)


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _timings(
    runs: dict[str, Callable[[Path], int]], repetitions: int, out: Path
) -> tuple[dict[str, list[float]], dict[str, list[float]], dict[str, int]]:
    """Run each export once to warm up, then ``repetitions`` times interleaved: wall and CPU seconds.

    The order rotates with each repetition, so that no side always runs right after the same other one.
    Each run writes a new file (a report run never overwrites one), deleted after its timing.
    """
    rows: dict[str, int] = {}
    wall: dict[str, list[float]] = {name: [] for name in runs}
    cpu: dict[str, list[float]] = {name: [] for name in runs}
    names = list(runs)
    for repetition in range(-1, repetitions):
        shift = max(repetition, 0) % len(names)
        for name in names[shift:] + names[:shift]:
            dest = out / f"{name}-{repetition + 1}.csv"
            started, cpu_started = time.perf_counter(), _cpu_s()
            count = runs[name](dest)
            elapsed, cpu_elapsed = time.perf_counter() - started, _cpu_s() - cpu_started
            dest.unlink(missing_ok=True)
            if repetition < 0:
                rows[name] = count
            else:
                wall[name].append(elapsed)
                cpu[name].append(cpu_elapsed)
    return wall, cpu, rows


def _sha256_s(export: Callable[[Path], int], out: Path) -> tuple[int, float]:
    """Size of one export's file and the seconds to sha256 it (median of 3), as every run must."""
    dest = out / "digest.csv"
    export(dest)
    seconds: list[float] = []
    for _ in range(3):
        started = time.perf_counter()
        with dest.open("rb") as handle:
            hashlib.file_digest(handle, "sha256")
        seconds.append(time.perf_counter() - started)
    size = dest.stat().st_size
    dest.unlink()
    return size, statistics.median(seconds)


def child(verb: str, *args: str | Path, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run ``bench.engine_child`` and return its figures."""
    command = [sys.executable, "-m", "bench.engine_child", verb, *map(str, args)]
    done = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT, env=env)
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def _mib(path: Path) -> float:
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files) / 2**20


@dataclass
class TemplateFigures:
    number: int
    title: str
    partner: str
    aggregated: bool
    rows: int
    output_bytes: int
    median_s: dict[str, float]  # wall seconds per side (SIDES)
    median_cpu_s: dict[str, float]  # CPU seconds of this process per side
    ratio: float  # driverlens / old (target <= RATIO_TARGET)
    ratio_cpu: float  # the same on CPU seconds
    ratio_of_minimums: float  # fastest repetition of each (less noise)
    speedup_vs_naive: float  # naive / driverlens (target >= SPEEDUP_TARGET for aggregations)
    layout_vs_old: float  # bound / old: the lake's layout alone, without DriverLens's per-run work
    sha256_s: float  # hashing the output once (required of every run), measured apart
    ratio_ok: bool
    speedup_ok: bool | None


@dataclass
class SizeFigures:
    rows: int
    repetitions: int
    seed: dict[str, Any]  # child figures: seconds, cpu_s, peak_rss_mib, rows
    seed_rows_per_s: float
    lake_files: int
    store_mib: float  # the lake (both copies), right after seeding
    old_store_mib: float
    naive_file_mib: float
    templates: list[TemplateFigures]
    snapshot_ms: float  # newest snapshot when nothing changed (every run)
    bind_ms: float  # cursor + binding the snapshot's views + close (every run)
    temp_views_ms: float  # the same, creating the views per read (before they were kept per version)
    export_rss_mib: float  # peak RSS of a child exporting template 1 (7 days)
    export_rss_mib_90days: float
    child_baseline_rss_mib: float
    ingest: dict[str, Any]  # child figures of the ingest alone
    ingest_rows_per_s: float
    ingest_concurrent: dict[str, Any]  # the same with report processes running
    ingest_concurrent_rows_per_s: float
    readers: list[dict[str, Any]]  # figures of each report process during the concurrent ingest
    load_average: tuple[float, float]  # 1-minute load before and after: the machine is shared


def _time_templates(
    store: EventStore, old: OldStore, naive: Path, out: Path, reps: int
) -> list[TemplateFigures]:
    figures: list[TemplateFigures] = []
    snapshot = store.snapshot()
    for sample in SAMPLE_TEMPLATES:
        n = sample.number
        sql = compiled(sample).sql("duckdb")
        bound, pruned = _bound_cursor(store, snapshot), _bound_cursor(store, _in_window(snapshot, sample))
        runs: dict[str, Callable[[Path], int]] = {
            "driverlens": partial(run_driverlens, store, sample),
            "old": partial(old.copy, hand_sql(n, TABLE_BY_VIEW[sample.kind.view])),
            "naive": partial(old.copy, hand_sql(n, f"read_parquet({_sql_path(naive)})"), on_store=False),
            "bound": partial(_copy_on, bound, sql),
            "pruned": partial(_copy_on, pruned, sql),
        }
        try:
            wall, cpu, counts = _timings(runs, reps, out)
        finally:
            bound.close()
            pruned.close()
        if len(set(counts.values())) != 1:
            raise RuntimeError(f"template {n}: row counts differ {counts}")
        output_bytes, sha256_s = _sha256_s(partial(run_driverlens, store, sample), out)
        med = {name: statistics.median(values) for name, values in wall.items()}
        med_cpu = {name: statistics.median(values) for name, values in cpu.items()}
        ratio = med["driverlens"] / med["old"]
        speedup = med["naive"] / med["driverlens"]
        figures.append(
            TemplateFigures(
                number=n,
                title=sample.title,
                partner=PARTNERS[n],
                aggregated=sample.aggregated,
                rows=counts["driverlens"],
                output_bytes=output_bytes,
                median_s=med,
                median_cpu_s=med_cpu,
                ratio=ratio,
                ratio_cpu=med_cpu["driverlens"] / med_cpu["old"],
                ratio_of_minimums=min(wall["driverlens"]) / min(wall["old"]),
                speedup_vs_naive=speedup,
                layout_vs_old=med["bound"] / med["old"],
                sha256_s=sha256_s,
                ratio_ok=ratio <= RATIO_TARGET,
                speedup_ok=speedup >= SPEEDUP_TARGET if sample.aggregated else None,
            )
        )
    return figures


def _per_run_ms(store: EventStore) -> tuple[float, float, float]:
    """Median ms of DriverLens's per-run work on the event table: the newest snapshot (table unchanged),
    a cursor with the snapshot's views bound, and, for comparison, the same cursor with the views created
    as temporary views per read (how ``events.duck`` bound them before it kept them per version)."""
    snapshot = store.snapshot()

    def bind() -> None:
        con = duck.cursor(store.engine)
        duck.bind_snapshot(con, snapshot)
        con.close()

    def temp_views() -> None:
        con = duck.cursor(store.engine)
        con.execute(
            "; ".join(
                f"CREATE OR REPLACE TEMP VIEW {t} AS {duck.source_sql(snapshot, t)}" for t in COPY_OF_TABLE
            )
        )
        con.close()

    medians = []
    for fn in (store.snapshot, bind, temp_views):
        fn()
        seconds = []
        for _ in range(30):
            started = time.perf_counter()
            fn()
            seconds.append(time.perf_counter() - started)
        medians.append(statistics.median(seconds) * 1000)
    return medians[0], medians[1], medians[2]


def _ingest_with_readers(
    data_dir: Path, source: Path, out: Path, readers: int
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Ingest ``source`` while ``readers`` processes run reports on the same lake without pause."""
    stop = out / "stop-readers"
    env = {**os.environ, "DRIVERLENS_ENGINE_THREADS": "1"}
    command = [sys.executable, "-m", "bench.engine_child", "reports", str(data_dir), str(out), str(stop)]
    procs = [
        subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(readers)
    ]
    try:
        time.sleep(2.0)  # the readers are past their imports and running reports
        ingest = child("ingest", data_dir, source)
    finally:
        stop.touch()
        outputs = [proc.communicate(timeout=600) for proc in procs]
    reader_figures = []
    for proc, (stdout, stderr) in zip(procs, outputs, strict=True):
        if proc.returncode != 0:
            raise RuntimeError(f"report process failed: {stderr[-2000:]}")
        reader_figures.append(json.loads(stdout.strip().splitlines()[-1]))
    return ingest, reader_figures


def bench_size(rows: int, repetitions: int, work: Path, readers: int = CONCURRENT_READERS) -> SizeFigures:
    load_before = os.getloadavg()[0]
    data_dir = work / "store"
    seeded = child("seed", data_dir, rows, NOW.isoformat())
    store = EventStore(data_dir)
    snapshot = store.snapshot()
    store_mib = _mib(store.lake.root)

    old_path, naive = work / "old.duckdb", work / "naive.parquet"
    build_old_store(store, old_path, work)
    write_naive(store, naive, work)
    ingest_rows = min(rows, INGEST_ROWS_MAX)
    ingest_files = [work / "ingest-1.parquet", work / "ingest-2.parquet"]
    for path in ingest_files:
        write_ingest_file(store, path, work, ingest_rows)

    out = work / "out"
    out.mkdir()
    old = OldStore(old_path)
    try:
        templates = _time_templates(store, old, naive, out, repetitions)
    finally:
        old.close()
    snapshot_ms, bind_ms, temp_views_ms = _per_run_ms(store)
    export = child("export", data_dir, out / "rss.csv", 1, "-")
    export90 = child("export", data_dir, out / "rss90.csv", 1, "Last90Days")

    ingest = child("ingest", data_dir, ingest_files[0])
    concurrent, reader_figures = _ingest_with_readers(data_dir, ingest_files[1], out, readers)
    for figures in (ingest, concurrent):
        if figures["rows"] != ingest_rows:
            raise RuntimeError(f"ingest stored {figures['rows']} of {ingest_rows} rows")
    return SizeFigures(
        rows=rows,
        repetitions=repetitions,
        seed=seeded,
        seed_rows_per_s=seeded["rows"] / seeded["seconds"],
        lake_files=len(snapshot.files),
        store_mib=store_mib,
        old_store_mib=_mib(old_path),
        naive_file_mib=_mib(naive),
        templates=templates,
        snapshot_ms=snapshot_ms,
        bind_ms=bind_ms,
        temp_views_ms=temp_views_ms,
        export_rss_mib=export["peak_rss_mib"],
        export_rss_mib_90days=export90["peak_rss_mib"],
        child_baseline_rss_mib=export["baseline_rss_mib"],
        ingest=ingest,
        ingest_rows_per_s=ingest["rows"] / ingest["seconds"],
        ingest_concurrent=concurrent,
        ingest_concurrent_rows_per_s=concurrent["rows"] / concurrent["seconds"],
        readers=reader_figures,
        load_average=(load_before, os.getloadavg()[0]),
    )


def _print_table(size: SizeFigures) -> None:
    print(
        f"\nengine benchmark, {size.rows:,} rows (median of {size.repetitions}; CSV output; target: "
        f"driverlens <= {RATIO_TARGET}x old, >= {SPEEDUP_TARGET}x faster than naive for templates 3-5)"
    )
    print(
        "ms = wall median; old = hand-written COPY on the pre-lake DuckDB file (warm, attached); bound / "
        "pruned = the compiled query on a cursor bound once to all files / to the window's files"
    )
    heads = "".join(
        f"{h:>10}" for h in ("rows", "MB", "driverlens", "old", "ratio", "cpu", "naive", "speedup")
    )
    heads += "".join(f"{h:>9}" for h in ("bound", "pruned", "sha256"))
    print(f"{'template':<9}{heads}  ok")
    for t in size.templates:
        ok = t.ratio_ok and (t.speedup_ok is not False)
        ms = {k: v * 1000 for k, v in t.median_s.items()}
        print(
            f"{t.number:<9}{t.rows:>10,}{t.output_bytes / 1e6:>10.1f}{ms['driverlens']:>10.1f}"
            f"{ms['old']:>10.1f}{t.ratio:>10.2f}{t.ratio_cpu:>10.2f}{ms['naive']:>10.1f}{t.speedup_vs_naive:>9.2f}x"
            f"{ms['bound']:>9.1f}{ms['pruned']:>9.1f}{t.sha256_s * 1000:>9.1f}  {'yes' if ok else 'NO'}"
        )
    seed, ingest, conc = size.seed, size.ingest, size.ingest_concurrent
    print(
        f"seed {size.seed_rows_per_s:,.0f} rows/s ({seed['seconds']:.1f} s, {seed['cpu_s']:.1f} CPU s, "
        f"peak RSS {seed['peak_rss_mib']:.0f} MiB); lake {size.store_mib:.0f} MiB in {size.lake_files} "
        "files, "
        f"old store {size.old_store_mib:.0f} MiB, naive file {size.naive_file_mib:.0f} MiB"
    )
    reader_runs = sum(r["runs"] for r in size.readers)
    reader_errors = sum(r["error_count"] for r in size.readers)
    print(
        f"ingest {size.ingest_rows_per_s:,.0f} rows/s ({ingest['rows']:,} rows, {ingest['seconds']:.1f} s, "
        f"{ingest['cpu_s']:.1f} CPU s, peak RSS {ingest['peak_rss_mib']:.0f} MiB); with {len(size.readers)} "
        f"report processes {size.ingest_concurrent_rows_per_s:,.0f} rows/s ({conc['seconds']:.1f} s, "
        f"peak RSS {conc['peak_rss_mib']:.0f} MiB; the readers ran {reader_runs} reports, "
        f"{reader_errors} errors); "
        f"target >= {INGEST_TARGET_RPS:,} rows/s"
    )
    print(
        f"per run: newest snapshot {size.snapshot_ms:.2f} ms, cursor + views bound {size.bind_ms:.2f} ms "
        f"(creating them per read: {size.temp_views_ms:.2f} ms); peak RSS exporting template 1: "
        f"{size.export_rss_mib:.0f} MiB (90 days {size.export_rss_mib_90days:.0f} MiB; idle child "
        f"{size.child_baseline_rss_mib:.0f} MiB); load average {size.load_average[0]:.1f} -> "
        f"{size.load_average[1]:.1f}"
    )
    ratios = " ".join(f"t{t.number}={t.ratio:.2f}" for t in size.templates)
    speedups = " ".join(f"t{t.number}={t.speedup_vs_naive:.1f}x" for t in size.templates if t.aggregated)
    print(
        f"ENGINE rows={size.rows} vs_old[{ratios}] vs_naive[{speedups}] "
        f"ingest_rps={size.ingest_rows_per_s:.0f} "
        f"ingest_rps_with_reports={size.ingest_concurrent_rows_per_s:.0f} "
        f"seed_rps={size.seed_rows_per_s:.0f} store_mib={size.store_mib:.0f} "
        f"rss_mib[seed={seed['peak_rss_mib']:.0f} ingest={ingest['peak_rss_mib']:.0f} "
        f"export={size.export_rss_mib:.0f}] reader_errors={reader_errors}"
    )


def bench_scale(rows: int, ingest_rows: int, work: Path) -> dict[str, Any]:
    """The 100M-event run: seed, size, every template in one child, a large ingest in another."""
    data_dir = work / "store"
    load_before = os.getloadavg()[0]
    seeded = child("seed", data_dir, rows, NOW.isoformat())
    store = EventStore(data_dir)
    store_mib = _mib(store.lake.root)
    out = work / "out"
    out.mkdir()
    templates = child("templates", data_dir, out, 3)
    source = work / "ingest.parquet"
    write_ingest_file(store, source, work, ingest_rows)
    ingest = child("ingest", data_dir, source)
    figures = {
        "rows": rows,
        "seed": seeded,
        "seed_rows_per_s": seeded["rows"] / seeded["seconds"],
        "store_mib": store_mib,
        "lake_files": len(store.snapshot().files),
        "templates": templates,
        "ingest": ingest,
        "ingest_rows_per_s": ingest["rows"] / ingest["seconds"],
        "load_average": (load_before, os.getloadavg()[0]),
    }
    per_template = " ".join(f"t{k}={v:.2f}s" for k, v in templates["seconds_by_template"].items())
    print(
        f"SCALE rows={rows} seed_s={seeded['seconds']:.0f} store_mib={store_mib:.0f} "
        f"templates[{per_template}] "
        f"rss_mib[seed={seeded['peak_rss_mib']:.0f} queries={templates['peak_rss_mib']:.0f} "
        f"ingest={ingest['peak_rss_mib']:.0f}] ingest_rps={figures['ingest_rows_per_s']:.0f} "
        f"(targets: queries < {QUERY_RSS_TARGET_MIB:.0f} MiB, seed and ingest < {RSS_TARGET_MIB:.0f} MiB)"
    )
    return figures


def _parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.engine_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="also run 10M rows (or set BENCH_FULL=1)")
    parser.add_argument("--rows", type=int, action="append", help="size(s) to run instead of the defaults")
    parser.add_argument("--repetitions", type=int, default=0, help="timed repetitions (default 5, 3 at 10M)")
    parser.add_argument(
        "--readers", type=int, default=CONCURRENT_READERS, help="report processes during ingest"
    )
    parser.add_argument(
        "--scale", action="store_true", help=f"the {SCALE_ROWS:,}-event run instead (--rows sets its size)"
    )
    parser.add_argument("--results", type=Path, default=RESULTS, help=f"JSON output (default {RESULTS})")
    parser.add_argument("--work-dir", type=Path, help="where the stores go (default: a temporary directory)")
    return parser.parse_args(list(argv))


def _machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "platform": platform.platform(),
    }


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv or [])
    document: dict[str, Any] = {
        "benchmark": "engine-scale" if args.scale else "engine",
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": _machine(),
        "targets": {
            "ratio_max": RATIO_TARGET,
            "aggregation_speedup_min": SPEEDUP_TARGET,
            "ingest_rows_per_s_min": INGEST_TARGET_RPS,
            "rss_mib_max": RSS_TARGET_MIB,
            "query_rss_mib_max": QUERY_RSS_TARGET_MIB,
        },
    }
    with tempfile.TemporaryDirectory(prefix="driverlens-engine-bench-", dir=args.work_dir) as tmp:
        if args.scale:
            rows = (args.rows or [SCALE_ROWS])[0]
            document["scale"] = bench_scale(rows, min(SCALE_INGEST_ROWS, rows), Path(tmp))
            results = args.results if args.results != RESULTS else RESULTS.with_name("engine-scale.json")
        else:
            full = args.full or os.environ.get("BENCH_FULL", "") not in ("", "0")
            sizes = args.rows or ([1_000_000, 10_000_000] if full else [1_000_000])
            figures: list[SizeFigures] = []
            for i, rows in enumerate(sizes):
                repetitions = args.repetitions or (5 if rows <= 2_000_000 else 3)
                work = Path(tmp) / str(i)
                work.mkdir()
                size = bench_size(rows, repetitions, work, args.readers)
                _print_table(size)
                figures.append(size)
            document["sizes"] = [asdict(s) for s in figures]
            results = args.results
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    print(f"saved {results}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
