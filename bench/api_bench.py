"""API load benchmark: GET report data and POST template at 32 connections vs a bare FastAPI endpoint.

Both servers run the same way (one uvicorn process, same event loop and HTTP implementation, access log
off); the load comes from a separate process (``bench.loadgen``, keep-alive HTTP/1.1 over asyncio).
Targets (issue 3): each DriverLens endpoint reaches at least 50% of the bare endpoint's requests/s, and
its p99 latency stays under 50 ms. Prints one table and one stable summary line; saves
``bench/results/api.json``. ``BENCH_API_SECONDS`` sets the measured seconds per scenario (default 6),
split over three interleaved rounds; requests/s and latencies are the medians of the rounds.
``BENCH_API_STORE=postgresql`` keeps the metadata in a throw-away PostgreSQL schema (``bench.pg``) instead of
SQLite; the summary line names the store.
"""

from __future__ import annotations

import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psutil

from bench.pg import postgres_schema
from driverlens.auth import service
from driverlens.catalog import PartnerKind
from driverlens.events import EventStore, seed_events
from driverlens.metadata.database import Database
from driverlens.metadata.migrate import migrate
from driverlens.runs.planner import plan_due_runs

RESULTS = Path(__file__).resolve().parent / "results" / "api.json"
CONNECTIONS = 32
ROUNDS = 3
AUDIENCE = "https://manage.devcenter.microsoft.com"
RATIO_TARGET = 0.5
P99_TARGET_MS = 50.0
TEMPLATE = {
    "view": "IHVDriver",
    "projection": ["FailureName", "DriverName", "DriverVersion"],
    "dateRange": {"reportPeriod": "Last7Days"},
    "condition": {"and": [{"attribute": "Architecture", "operator": "EQ", "value": "x64"}]},
    "aggregation": {
        "aggregatedColumns": ["SUM(EventCount)"],
        "condition": {"and": [{"attribute": "SUM(EventCount)", "operator": "GT", "value": "10"}]},
    },
    "orderby": [{"attribute": "SUM(EventCount)", "sort": "desc"}],
    "limit": 10,
}


def _server_stack(env: dict[str, str]) -> dict[str, str]:
    """The HTTP parser and event loop uvicorn picks ("auto") in the servers' interpreter and environment;
    both servers run that interpreter with that environment, so both get the same ones."""
    probe = (
        "import importlib.util as u;"
        "print('httptools' if u.find_spec('httptools') else 'h11',"
        " 'uvloop' if u.find_spec('uvloop') else 'asyncio')"
    )
    http, loop = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    return {"http": http, "loop": loop}


def _free_ports(count: int) -> list[int]:
    """Distinct free ports (all sockets are held open together, so no port is handed out twice)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _wait(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    last = "no answer"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            response = httpx.get(url, timeout=2)
            if response.status_code == 200:
                return
            last = f"{response.status_code} {response.text[:300]}"
        except httpx.HTTPError as exc:
            last = repr(exc)
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer 200 within 60 s (last: {last})")


def _prepare(data_dir: Path, url: str | None = None) -> tuple[str, str, str]:
    """Partner, client and 20k events (metadata at ``url``, else SQLite in the data dir); returns
    (tenant id, client id, secret)."""
    url = url or f"sqlite:///{(data_dir / 'metadata.db').resolve()}"
    migrate(url)
    db = Database(url)
    try:
        with db.session() as session:
            partner = service.add_partner(session, "Contoso Graphics", PartnerKind.IHV)
            tenant = partner.tenant_id
            client_id, secret = service.add_client(session, "Contoso Graphics")
    finally:
        db.dispose()
    seed_events(EventStore(data_dir), rows=20_000, days=30, seed=1, now=datetime.now(UTC))
    return tenant, client_id, secret


def _load(url: str, method: str, seconds: float, headers: dict[str, str], body: str = "") -> dict[str, Any]:
    spec = {
        "url": url,
        "method": method,
        "headers": headers,
        "body": body,
        "connections": CONNECTIONS,
        "seconds": seconds,
        "warmup": 1.0,
    }
    out = subprocess.run(
        [sys.executable, "-m", "bench.loadgen", json.dumps(spec)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def _combine(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Sum requests over rounds; latency percentiles are the median of the rounds' values."""
    statuses: dict[str, int] = {}
    for result in results:
        for status, count in result["statuses"].items():
            statuses[status] = statuses.get(status, 0) + count
    return {
        "requests": sum(r["requests"] for r in results),
        "rps": statistics.median(r["rps"] for r in results),
        "p50_ms": statistics.median(r["p50_ms"] for r in results),
        "p99_ms": statistics.median(r["p99_ms"] for r in results),
        "cpu_ms_per_request": statistics.median(r["cpu_ms_per_request"] for r in results),
        "statuses": statuses,
        "rounds": [round(r["rps"]) for r in results],
    }


def main() -> dict[str, Any]:
    seconds = float(os.environ.get("BENCH_API_SECONDS", "6"))
    store = os.environ.get("BENCH_API_STORE", "sqlite").lower()
    if store not in ("sqlite", "postgresql"):
        raise SystemExit(f"BENCH_API_STORE must be sqlite or postgresql, not {store!r}")
    processes: list[subprocess.Popen[bytes]] = []
    with ExitStack() as stack_of_resources:
        tmp = stack_of_resources.enter_context(tempfile.TemporaryDirectory(prefix="driverlens-api-bench-"))
        data_dir = Path(tmp) / "var"
        data_dir.mkdir()
        database_url = f"sqlite:///{(data_dir / 'metadata.db').resolve()}"
        if store == "postgresql":
            schema_url = stack_of_resources.enter_context(postgres_schema("dlapibench"))
            if schema_url is None:
                raise SystemExit("BENCH_API_STORE=postgresql, but PostgreSQL is unreachable")
            database_url = schema_url
        tenant, client_id, secret = _prepare(data_dir, database_url)
        env = {
            **os.environ,
            "DRIVERLENS_DATA_DIR": str(data_dir),
            "DRIVERLENS_RATE_LIMIT_PER_MINUTE": "100000000",
            "DRIVERLENS_DATABASE_URL": database_url,
        }
        env.pop("DRIVERLENS_PUBLIC_BASE_URL", None)
        stack = _server_stack(env)
        api_port, bare_port = _free_ports(2)
        server_log = open(Path(tmp) / "server.log", "wb")  # noqa: SIM115 (closed in finally)
        try:
            processes.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "driverlens",
                        "serve",
                        "--no-worker",
                        "--port",
                        str(api_port),
                        "--log-level",
                        "warning",
                    ],
                    env=env,
                    stdout=server_log,
                    stderr=subprocess.STDOUT,
                )
            )
            processes.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "uvicorn",
                        "bench.bare_app:app",
                        "--port",
                        str(bare_port),
                        "--no-access-log",
                        "--log-level",
                        "warning",
                    ],
                    cwd=Path(__file__).resolve().parent.parent,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
            api, bare = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{bare_port}"
            try:
                _wait(api + "/healthz", processes[0])
            except RuntimeError:
                server_log.flush()
                print((Path(tmp) / "server.log").read_text(errors="replace")[-3000:], file=sys.stderr)
                raise
            _wait(bare + "/const", processes[1])
            token = httpx.post(
                f"{api}/{tenant}/oauth2/token",
                content=f"grant_type=client_credentials&client_id={client_id}&client_secret={secret}"
                f"&resource={AUDIENCE}",
            ).json()["access_token"]
            auth = {"Authorization": f"Bearer {token}"}
            template_id = httpx.post(
                f"{api}/analytics/driver/reporttemplate", json=TEMPLATE, headers=auth
            ).json()["data"]["templateId"]
            start = (datetime.now(UTC) - timedelta(days=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
            report_id = httpx.post(
                f"{api}/analytics/driver/report",
                headers=auth,
                json={
                    "templateId": template_id,
                    "schedule": {"startTime": start, "recurrenceInterval": 24, "recurrence": 30},
                },
            ).json()["data"]["reportId"]
            db = Database(database_url)
            plan_due_runs(db, datetime.now(UTC))
            db.dispose()
            today = datetime.now(UTC).date()
            data_url = (
                f"{api}/analytics/driver/reportdata/{report_id}?startDate="
                f"{(today - timedelta(days=14)).isoformat()}&endDate={today.isoformat()}"
            )
            json_headers = {**auth, "Content-Type": "application/json"}
            api_process, bare_process = psutil.Process(processes[0].pid), psutil.Process(processes[1].pid)
            plans = {
                "bare FastAPI constant": (bare_process, bare + "/const", "GET", {}, ""),
                "GET report data": (api_process, data_url, "GET", auth, ""),
                "POST template": (
                    api_process,
                    f"{api}/analytics/driver/reporttemplate",
                    "POST",
                    json_headers,
                    json.dumps(TEMPLATE),
                ),
            }
            # Interleaved rounds, so that load from other processes on the machine hits every scenario.
            rounds: dict[str, list[dict[str, Any]]] = {name: [] for name in plans}
            for _ in range(ROUNDS):
                for name, (server, url, method, headers, body) in plans.items():
                    cpu_before = sum(server.cpu_times()[:2])
                    result = _load(url, method, seconds / ROUNDS, headers, body)
                    cpu = sum(server.cpu_times()[:2]) - cpu_before
                    result["cpu_ms_per_request"] = cpu * 1000 / max(1, result["all_requests"])
                    rounds[name].append(result)
            scenarios = {name: _combine(results) for name, results in rounds.items()}
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                process.wait(timeout=15)
            server_log.close()
    ceiling = scenarios["bare FastAPI constant"]["rps"] or 1.0
    bare_cpu = scenarios["bare FastAPI constant"]["cpu_ms_per_request"] or 1e-9
    print(
        f"{'scenario':<24} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'ratio':>6} {'cpu ms/req':>10}  statuses"
    )
    for name, figures in scenarios.items():
        figures["ratio"] = figures["rps"] / ceiling
        figures["cpu_ratio"] = bare_cpu / max(figures["cpu_ms_per_request"], 1e-9)
        print(
            f"{name:<24} {figures['rps']:>9.0f} {figures['p50_ms']:>8.1f} {figures['p99_ms']:>8.1f} "
            f"{figures['ratio']:>6.2f} {figures['cpu_ms_per_request']:>10.2f}  {figures['statuses']}"
        )
    data, post = scenarios["GET report data"], scenarios["POST template"]
    ok = all(s["ratio"] >= RATIO_TARGET and s["p99_ms"] < P99_TARGET_MS for s in (data, post))
    print(
        f"api_bench store={store} connections={CONNECTIONS} seconds={seconds:g} "
        f"http={stack['http']} loop={stack['loop']} "
        f"ceiling_rps={ceiling:.0f} "
        f"reportdata_rps={data['rps']:.0f} reportdata_p99_ms={data['p99_ms']:.1f} "
        f"reportdata_ratio={data['ratio']:.2f} template_rps={post['rps']:.0f} "
        f"template_p99_ms={post['p99_ms']:.1f} template_ratio={post['ratio']:.2f} "
        f"cpu_ms_per_req bare={bare_cpu:.2f} reportdata={data['cpu_ms_per_request']:.2f} "
        f"template={post['cpu_ms_per_request']:.2f} "
        f"targets={'met' if ok else 'MISSED'}"
    )
    results = {
        "store": store,
        "connections": CONNECTIONS,
        "seconds": seconds,
        "machine": platform.platform(),
        "cpus": os.cpu_count(),
        "server": stack,
        "scenarios": scenarios,
        "targets_met": ok,
        "measured_at": datetime.now(UTC).isoformat(),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    results_file = RESULTS if store == "sqlite" else RESULTS.with_name(f"api-{store}.json")
    results_file.write_text(json.dumps(results, indent=2) + "\n")
    return results


if __name__ == "__main__":
    main()
