"""Crash dump benchmark: cabinets uploaded through the collector endpoint of a real server process.

Setup (not timed): a fresh data dir (SQLite metadata, empty event store), a collector, and distinct
cabinets of about 1 MB and 50 MB (a kernel dump padded with random pages, MSZIP-compressed by
cabarchive's writer, so they do not shrink). Timed: uploading them one after another; each upload is
streamed, hashed, checked, parsed and stored. Reported: CABs/s and MB/s per size. Then the server's
memory: its peak RSS (VmHWM) before and after a 1 GiB upload streamed to a server whose size limit is
2 GiB (so the whole body is received; it is refused afterwards as not a cabinet). Prints one stable
line; saves ``bench/results/cabs.json``.
"""

from __future__ import annotations

import base64
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from driverlens.auth.collectors import add_collector
from driverlens.cabs.cabinet import pack
from driverlens.cabs.dumpwriter import PAGE, KernelDumpSpec, kernel_dump
from driverlens.events import EventStore
from driverlens.metadata.database import Database
from driverlens.metadata.migrate import migrate

RESULTS = Path(__file__).resolve().parent / "results" / "cabs.json"
SIZES = {"1MB": (1_000_000, 20), "50MB": (50_000_000, 3)}  # target size, how many cabinets
GIB = 1 << 30


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _cabinet(size: int, number: int) -> bytes:
    """A distinct cabinet of about ``size`` bytes: a kernel dump whose pages are random."""
    pages = max(1, size // PAGE)
    dump = bytearray(kernel_dump(KernelDumpSpec(0x9F, (number, 2, 3, 4), 22631, pages=pages)))
    dump[0x2000:] = os.urandom(len(dump) - 0x2000)
    return pack({"MEMORY.DMP": bytes(dump)})


def _peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def _serve(data_dir: Path, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = _port()
    full_env = {
        **os.environ,
        "DRIVERLENS_DATA_DIR": str(data_dir),
        "DRIVERLENS_RATE_LIMIT_PER_MINUTE": "1000000",
        **env,
    }
    full_env.pop("DRIVERLENS_DATABASE_URL", None)
    log = open(data_dir / f"server-{port}.log", "wb")  # noqa: SIM115 - kept open for the server's life
    process = subprocess.Popen(
        [sys.executable, "-m", "driverlens", "serve", "--no-worker", "--port", str(port)],
        env=full_env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return process, base
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("the server did not start")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    process.wait(timeout=30)


def _collector(data_dir: Path) -> dict[str, str]:
    url = f"sqlite:///{data_dir / 'metadata.db'}"
    migrate(url)
    db = Database(url)
    try:
        with db.session() as session:
            collector_id, secret = add_collector(session, "bench")
    finally:
        db.dispose()
    token = base64.b64encode(f"{collector_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {token}", "Content-Type": "application/vnd.ms-cab-compressed"}


def throughput(base: str, headers: dict[str, str], cabinets: list[bytes]) -> dict[str, Any]:
    started = time.perf_counter()
    with httpx.Client(timeout=600) as client:
        for data in cabinets:
            answer = client.post(f"{base}/collector/cabs", content=data, headers=headers)
            if answer.status_code != 201:
                raise RuntimeError(f"upload failed: {answer.status_code} {answer.text[:300]}")
    seconds = time.perf_counter() - started
    megabytes = sum(map(len, cabinets)) / 1e6
    return {
        "cabinets": len(cabinets),
        "mean_mb": round(megabytes / len(cabinets), 2),
        "seconds": round(seconds, 2),
        "cabs_per_s": round(len(cabinets) / seconds, 2),
        "mb_per_s": round(megabytes / seconds, 1),
    }


def big_upload(data_dir: Path, headers: dict[str, str]) -> dict[str, Any]:
    """Stream 1 GiB to a server that accepts up to 2 GiB; its peak RSS before and after."""
    process, base = _serve(data_dir, {"DRIVERLENS_CAB_MAX_BYTES": str(2 * GIB)})
    try:
        before = _peak_rss_mib(process.pid)
        chunk = b"\x00" * (1 << 20)

        def body() -> Iterator[bytes]:
            for _ in range(GIB // len(chunk)):
                yield chunk

        started = time.perf_counter()
        answer = httpx.post(f"{base}/collector/cabs", content=body(), headers=headers, timeout=600)
        seconds = time.perf_counter() - started
        after = _peak_rss_mib(process.pid)
    finally:
        _stop(process)
    return {
        "status": answer.status_code,
        "message": answer.json()["errors"][0]["message"] if answer.status_code >= 400 else "",
        "seconds": round(seconds, 1),
        "mb_per_s": round(GIB / 1e6 / seconds, 1),
        "peak_rss_before_mib": before,
        "peak_rss_after_mib": after,
    }


def main() -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    with tempfile.TemporaryDirectory(prefix="driverlens-cabs-bench-") as tmp:
        data_dir = Path(tmp) / "var"
        data_dir.mkdir()
        headers = _collector(data_dir)
        EventStore(data_dir).count()  # create the (empty) event store up front
        built = {name: [_cabinet(size, i) for i in range(count)] for name, (size, count) in SIZES.items()}
        process, base = _serve(data_dir, {})
        try:
            runs = {name: throughput(base, headers, cabinets) for name, cabinets in built.items()}
            ingest_peak = _peak_rss_mib(process.pid)
        finally:
            _stop(process)
        memory = big_upload(data_dir, headers)
    result = {
        "benchmark": "cabs",
        "when": now.isoformat(),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
        "upload": runs,
        "server_peak_rss_after_uploads_mib": ingest_peak,
        "upload_1gib": memory,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    one, fifty = runs["1MB"], runs["50MB"]
    print(
        f"cabs: 1 MB cabinets {one['cabs_per_s']} CABs/s {one['mb_per_s']} MB/s; "
        f"50 MB cabinets {fifty['cabs_per_s']} CABs/s {fifty['mb_per_s']} MB/s; "
        f"server peak RSS {ingest_peak} MiB after them; 1 GiB upload -> {memory['status']} in "
        f"{memory['seconds']} s, peak RSS {memory['peak_rss_before_mib']} -> "
        f"{memory['peak_rss_after_mib']} MiB"
    )


if __name__ == "__main__":
    main()
