"""Child processes of the engine benchmark: what must be measured in a process of its own.

``python -m bench.engine_child VERB ARGS...`` prints one JSON line: the figures of the work, with the
process's peak RSS (``VmHWM``, the resident high-water mark; not getrusage, whose maxrss survives exec
from the parent on Linux), its RSS before the work, and its wall and CPU seconds (user + system of every
thread: on a shared machine the CPU seconds say what the work costs when the wall clock is stretched).

Verbs:
- ``seed DATA_DIR ROWS NOW``: seed ROWS events over 90 days into the store.
- ``ingest DATA_DIR FILE``: validated ingestion of FILE.
- ``export DATA_DIR OUT NUMBER PERIOD``: one DriverLens run of sample template NUMBER (report period
  PERIOD, or ``-`` for its own).
- ``templates DATA_DIR OUT REPETITIONS``: every sample template REPETITIONS times (median seconds each).
- ``reports DATA_DIR OUT STOP``: DriverLens runs of the sample templates in turn until file STOP exists
  (reports running while an ingest commits): runs, errors and the table versions they read.
"""

from __future__ import annotations

import copy
import json
import resource
import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from driverlens.engines.samples import SAMPLE_TEMPLATES, sample_template
from driverlens.events import EventStore, seed_events


def high_water_rss_mib() -> float:
    for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status (Linux only)")


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _measured(work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    baseline = high_water_rss_mib()
    started, cpu = time.perf_counter(), _cpu_s()
    figures = work()
    return {
        **figures,
        "seconds": time.perf_counter() - started,
        "cpu_s": _cpu_s() - cpu,
        "peak_rss_mib": high_water_rss_mib(),
        "baseline_rss_mib": baseline,
    }


def _seed(data_dir: str, rows: str, now: str) -> dict[str, Any]:
    report = seed_events(
        EventStore(Path(data_dir)), rows=int(rows), days=90, seed=1, now=datetime.fromisoformat(now)
    )
    return {"rows": report.rows}


def _ingest(data_dir: str, file: str) -> dict[str, Any]:
    report = EventStore(Path(data_dir)).ingest([Path(file)])
    return {"rows": report.loaded, "duplicates": report.duplicates, "rejected": report.rejected}


def _export(data_dir: str, out: str, number: str, period: str) -> dict[str, Any]:
    from bench.engine_bench import run_driverlens

    sample = sample_template(int(number))
    body = copy.deepcopy(sample.body)
    if period != "-":
        body["dateRange"]["reportPeriod"] = period
    return {"rows": run_driverlens(EventStore(Path(data_dir)), sample, Path(out), body)}


def _templates(data_dir: str, out: str, repetitions: str) -> dict[str, Any]:
    from bench.engine_bench import run_driverlens

    store = EventStore(Path(data_dir))
    seconds: dict[str, list[float]] = {str(s.number): [] for s in SAMPLE_TEMPLATES}
    rows: dict[str, int] = {}
    for _ in range(int(repetitions)):
        for sample in SAMPLE_TEMPLATES:
            dest = Path(out) / f"t{sample.number}.csv"
            started = time.perf_counter()
            rows[str(sample.number)] = run_driverlens(store, sample, dest)
            seconds[str(sample.number)].append(time.perf_counter() - started)
            dest.unlink()
    return {
        "rows_by_template": rows,
        "seconds_by_template": {k: statistics.median(v) for k, v in seconds.items()},
    }


def _reports(data_dir: str, out: str, stop: str) -> dict[str, Any]:
    from bench.engine_bench import run_report

    store = EventStore(Path(data_dir))
    runs, errors, versions = 0, [], set[int | None]()
    while not Path(stop).exists():
        sample = SAMPLE_TEMPLATES[runs % len(SAMPLE_TEMPLATES)]
        dest = Path(out) / f"report-{runs}.csv"
        try:
            versions.add(run_report(store, sample, dest).store_version)
        except Exception as exc:  # counted and reported: a report must never fail during an ingest
            errors.append(f"{type(exc).__name__}: {exc}")
        dest.unlink(missing_ok=True)
        runs += 1
    return {"runs": runs, "errors": errors[:5], "error_count": len(errors), "versions": sorted(versions)}


VERBS: dict[str, Callable[..., dict[str, Any]]] = {
    "seed": _seed,
    "ingest": _ingest,
    "export": _export,
    "templates": _templates,
    "reports": _reports,
}


def main(argv: list[str]) -> int:
    verb, *args = argv
    print(json.dumps(_measured(lambda: VERBS[verb](*args))), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
