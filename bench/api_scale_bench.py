"""Report data through two API processes on PostgreSQL, against one API process on SQLite.

Both stacks hold the same data (a partner, 20k events, one report with 30 planned runs) and get the same
load: two load generator processes (``bench.loadgen``, 16 keep-alive connections each). On SQLite both
send to the one ``driverlens serve --no-worker`` process (the baseline); on PostgreSQL each sends to its
own API process, as a load balancer would spread them. Rounds are interleaved so that other load on the
machine hits both; requests/s are the medians of the rounds (the two generators' sum). Load targets only
127.0.0.1. ``BENCH_API_SECONDS`` sets the measured seconds per scenario (default 6, over three rounds).
Prints a table and one stable line; saves ``bench/results/api_scale.json``.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from bench.api_bench import AUDIENCE, TEMPLATE, _free_ports, _prepare, _wait
from bench.pg import postgres_schema
from driverlens.metadata.database import Database
from driverlens.runs.planner import plan_due_runs

RESULTS = Path(__file__).resolve().parent / "results" / "api_scale.json"
ROOT = Path(__file__).resolve().parent.parent
GENERATORS = 2
CONNECTIONS = 16
ROUNDS = 3


@dataclass
class Stack:
    """Running API processes over one metadata store, and a report-data URL on each."""

    name: str
    urls: list[str]
    headers: dict[str, str]
    processes: list[subprocess.Popen[bytes]]


def start_stack(name: str, root: Path, apis: int, database_url: str | None) -> Stack:
    """``apis`` API processes sharing a data dir (and ``database_url``, else SQLite in it)."""
    data_dir = root / name
    data_dir.mkdir()
    tenant, client_id, secret = _prepare(data_dir, database_url)
    ports = _free_ports(apis)
    env = {
        **os.environ,
        "DRIVERLENS_DATA_DIR": str(data_dir),
        "DRIVERLENS_RATE_LIMIT_PER_MINUTE": "100000000",
        # One public URL for every process (tokens name it as their issuer), as behind a load balancer.
        "DRIVERLENS_PUBLIC_BASE_URL": f"http://127.0.0.1:{ports[0]}",
    }
    env.pop("DRIVERLENS_DATABASE_URL", None)
    if database_url:
        env["DRIVERLENS_DATABASE_URL"] = database_url
    processes = []
    for port in ports:
        command = [sys.executable, "-m", "driverlens", "serve", "--no-worker", "--port", str(port)]
        with open(root / f"{name}-{port}.log", "wb") as log:
            processes.append(
                subprocess.Popen([*command, "--log-level", "warning"], env=env, stdout=log, stderr=log)
            )
    bases = [f"http://127.0.0.1:{port}" for port in ports]
    for base, process in zip(bases, processes, strict=True):
        _wait(base + "/healthz", process)
    token = httpx.post(
        f"{bases[0]}/{tenant}/oauth2/token",
        content=f"grant_type=client_credentials&client_id={client_id}&client_secret={secret}"
        f"&resource={AUDIENCE}",
    ).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    template_id = httpx.post(
        f"{bases[0]}/analytics/driver/reporttemplate", json=TEMPLATE, headers=auth
    ).json()["data"]["templateId"]
    start = (datetime.now(UTC) - timedelta(days=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    report_id = httpx.post(
        f"{bases[0]}/analytics/driver/report",
        headers=auth,
        json={
            "templateId": template_id,
            "schedule": {"startTime": start, "recurrenceInterval": 24, "recurrence": 30},
        },
    ).json()["data"]["reportId"]
    db = Database(database_url or f"sqlite:///{(data_dir / 'metadata.db').resolve()}")
    plan_due_runs(db, datetime.now(UTC))
    db.dispose()
    today = datetime.now(UTC).date()
    query = f"startDate={(today - timedelta(days=14)).isoformat()}&endDate={today.isoformat()}"
    urls = [f"{base}/analytics/driver/reportdata/{report_id}?{query}" for base in bases]
    for url in urls:  # every process answers the same data before any load starts
        response = httpx.get(url, headers=auth)
        if response.status_code != 200 or len(response.json()["data"]) < 10:
            raise RuntimeError(f"{url}: {response.status_code} {response.text[:300]}")
    return Stack(name, urls, auth, processes)


def load_round(stack: Stack, seconds: float) -> dict[str, Any]:
    """GENERATORS load generators at once, spread over the stack's processes; their summed figures."""
    procs = []
    for n in range(GENERATORS):
        spec = {
            "url": stack.urls[n % len(stack.urls)],
            "method": "GET",
            "headers": stack.headers,
            "connections": CONNECTIONS,
            "seconds": seconds,
            "warmup": 1.0,
        }
        command = [sys.executable, "-m", "bench.loadgen", json.dumps(spec)]
        procs.append(subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True))
    results = [json.loads(proc.communicate()[0]) for proc in procs]
    statuses: dict[str, int] = {}
    for result in results:
        for status, count in result["statuses"].items():
            statuses[status] = statuses.get(status, 0) + count
    return {
        "rps": sum(r["rps"] for r in results),
        "p99_ms": max(r["p99_ms"] for r in results),
        "statuses": statuses,
    }


def main() -> dict[str, Any] | None:
    seconds = float(os.environ.get("BENCH_API_SECONDS", "6"))
    load_before = os.getloadavg()
    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="driverlens-api-scale-") as tmp:
        url = stack.enter_context(postgres_schema())
        if url is None:
            return None
        root = Path(tmp)
        stacks: list[Stack] = []
        try:
            stacks.append(start_stack("sqlite-1-api", root, 1, None))
            stacks.append(start_stack("postgres-2-apis", root, 2, url))
            rounds: dict[str, list[dict[str, Any]]] = {s.name: [] for s in stacks}
            for _ in range(ROUNDS):
                for s in stacks:
                    rounds[s.name].append(load_round(s, seconds / ROUNDS))
        finally:
            for s in stacks:
                for process in s.processes:
                    process.terminate()
                for process in s.processes:
                    process.wait(15)
    load = [round(x, 1) for x in (*load_before, *os.getloadavg())]
    figures = {
        name: {
            "rps": statistics.median(r["rps"] for r in results),
            "p99_ms": statistics.median(r["p99_ms"] for r in results),
            "rounds": [round(r["rps"]) for r in results],
            "statuses": {k: sum(r["statuses"].get(k, 0) for r in results) for k in results[0]["statuses"]},
        }
        for name, results in rounds.items()
    }
    baseline = figures["sqlite-1-api"]["rps"] or 1.0
    print(f"{'report data':<18} {'req/s':>8} {'p99 ms':>8} {'ratio':>6}  rounds, statuses")
    for name, f in figures.items():
        f["ratio"] = f["rps"] / baseline
        print(
            f"{name:<18} {f['rps']:>8.0f} {f['p99_ms']:>8.1f} {f['ratio']:>6.2f}  "
            f"{f['rounds']} {f['statuses']}"
        )
    two = figures["postgres-2-apis"]
    print(
        f"api_scale_bench generators={GENERATORS}x{CONNECTIONS} seconds={seconds:g} "
        f"sqlite_1_api_rps={baseline:.0f} postgres_2_apis_rps={two['rps']:.0f} ratio={two['ratio']:.2f} "
        f"p99_ms={figures['sqlite-1-api']['p99_ms']:.1f}/{two['p99_ms']:.1f} cpus={os.cpu_count()} "
        f"load={load[0]}->{load[3]}"
    )
    result = {
        "seconds": seconds,
        "machine": platform.platform(),
        "cpus": os.cpu_count(),
        "loadavg_before_after": load,
        "scenarios": figures,
        "measured_at": datetime.now(UTC).isoformat(),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()
