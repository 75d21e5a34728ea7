"""Dashboard benchmark: server time of each dashboard page on a large event store (target: median < 200 ms).

Seeds N events (default 10M over 90 days; ``BENCH_DASHBOARD_ROWS`` or ``--rows`` picks another size)
for the demo partners into a temporary data directory, starts a real ``driverlens serve --no-worker``,
signs in as an IHV (Contoso Graphics, about 12% of the events) and as an OEM (Northwind Systems), and
times each page: one warm-up request, then ``REPEATS`` requests one after another, timed by the client
over loopback (so the figure includes HTTP and HTML rendering; it is the server's time plus well under
a millisecond). Prints a table plus one stable summary line; saves ``bench/results/dashboard.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from driverlens.auth import service
from driverlens.events import EventStore, seed_events
from driverlens.events.demo import DEMO_PARTNERS
from driverlens.metadata.database import Database
from driverlens.metadata.migrate import migrate

RESULTS = Path(__file__).resolve().parent / "results" / "dashboard.json"
DEFAULT_ROWS = 10_000_000
REPEATS = 9
TARGET_MS = 200.0
IHV, OEM = "Contoso Graphics", "Northwind Systems"


def _prepare(data_dir: Path, rows: int) -> tuple[dict[str, tuple[str, str]], float]:
    """Partners with a client each and ``rows`` events; returns the credentials and the seed time."""
    url = f"sqlite:///{(data_dir / 'metadata.db').resolve()}"
    migrate(url)
    db = Database(url)
    creds: dict[str, tuple[str, str]] = {}
    try:
        with db.session() as session:
            for partner in DEMO_PARTNERS:
                service.add_partner(session, partner.name, partner.kind, partner.tenant_id)
                creds[partner.name] = service.add_client(session, partner.name)
    finally:
        db.dispose()
    started = time.perf_counter()
    seed_events(EventStore(data_dir), rows=rows, days=90, seed=7, now=datetime.now(UTC))
    return creds, time.perf_counter() - started


def _start(data_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    env = {**os.environ, "DRIVERLENS_DATA_DIR": str(data_dir), "DRIVERLENS_RATE_LIMIT_PER_MINUTE": "1000000"}
    env.pop("DRIVERLENS_DATABASE_URL", None)
    env.pop("DRIVERLENS_PUBLIC_BASE_URL", None)
    log = open(data_dir / "server.log", "wb")  # noqa: SIM115 (kept open for the server's lifetime)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "driverlens",
            "serve",
            "--no-worker",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}; see {data_dir / 'server.log'}")
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return process, base
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError("server did not start within 120 s")


def _sign_in(base: str, client_id: str, secret: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=60)
    page = client.get("/ui/signin").text
    nonce = re.search(r'name="csrf" value="([^"]+)"', page)
    assert nonce is not None
    response = client.post(
        "/ui/signin", data={"csrf": nonce.group(1), "client_id": client_id, "client_secret": secret}
    )
    if response.status_code != 303:
        raise RuntimeError(f"sign-in failed: {response.status_code}")
    return client


def _time(client: httpx.Client, path: str) -> list[float]:
    assert client.get(path).status_code == 200, path  # warm-up
    samples = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        response = client.get(path)
        samples.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"{path}: {response.status_code}")
    return samples


def _first_bucket(client: httpx.Client) -> str:
    found = re.search(r'href="(/ui/buckets/[0-9a-f-]+)"', client.get("/ui/").text)
    assert found is not None, "the overview lists no bucket"
    return found.group(1)


def _first_driver(client: httpx.Client) -> str:
    found = re.search(r'<select id="f-driver".*?<option value="([^"]+)"', client.get("/ui/").text, re.DOTALL)
    assert found is not None
    return found.group(1)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=int(os.environ.get("BENCH_DASHBOARD_ROWS", DEFAULT_ROWS)))
    args = parser.parse_args(argv if argv is not None else [])
    with tempfile.TemporaryDirectory(prefix="driverlens-dashboard-bench-") as tmp:
        data_dir = Path(tmp) / "var"
        data_dir.mkdir()
        print(f"dashboard bench: seeding {args.rows:,} events ...", flush=True)
        creds, seed_s = _prepare(data_dir, args.rows)
        process, base = _start(data_dir)
        pages: dict[str, dict[str, float]] = {}
        try:
            for who in (IHV, OEM):
                client = _sign_in(base, *creds[who])
                kind = "IHV" if who == IHV else "OEM"
                paths = {
                    "overview 30 d": "/ui/",
                    "overview 90 d": "/ui/?days=90",
                    "charts, driver filter": f"/ui/overview/charts?days=90&driver={_first_driver(client)}",
                    "bucket": _first_bucket(client),
                    "templates": "/ui/templates",
                    "dataset": "/ui/dataset",
                }
                for name, path in paths.items():
                    samples = _time(client, path)
                    pages[f"{kind} {name}"] = {
                        "median_ms": round(statistics.median(samples), 1),
                        "max_ms": round(max(samples), 1),
                    }
                client.close()
        finally:
            process.terminate()
            process.wait(timeout=30)
    worst = max(p["median_ms"] for p in pages.values())
    print(f"\n{'page':<32} {'median ms':>10} {'max ms':>8}")
    for name, figures in pages.items():
        flag = "" if figures["median_ms"] < TARGET_MS else "  (over target)"
        print(f"{name:<32} {figures['median_ms']:>10.1f} {figures['max_ms']:>8.1f}{flag}")
    verdict = "met" if worst < TARGET_MS else "NOT met"
    print(
        f"dashboard rows={args.rows} seed_s={seed_s:.0f} worst_median_ms={worst:.1f} "
        f"target_ms={TARGET_MS:.0f} {verdict}"
    )
    results = {
        "rows": args.rows,
        "seed_seconds": round(seed_s, 1),
        "repeats": REPEATS,
        "pages": pages,
        "worst_median_ms": worst,
        "target_ms": TARGET_MS,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    return results


if __name__ == "__main__":
    main(sys.argv[1:])
