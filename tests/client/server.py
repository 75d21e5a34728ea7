"""A real server process with its in-process worker (runs complete), on the API tests' seeded data."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import httpx

from tests.api.server import Creds, Server, free_port


def start_server_with_worker(
    data_dir: Path, partners: dict[str, Creds], env: Mapping[str, str] | None = None
) -> Server:
    """``python -m driverlens serve`` (worker on) on a free 127.0.0.1 port; returns once healthy."""
    port = free_port()
    log_path = data_dir / f"client-server-{port}.log"
    environment = {
        **os.environ,
        "DRIVERLENS_DATA_DIR": str(data_dir),
        "DRIVERLENS_RATE_LIMIT_PER_MINUTE": "1000000",
        "DRIVERLENS_ENGINE_THREADS": "1",
        **(env or {}),
    }
    for name in ("DRIVERLENS_PUBLIC_BASE_URL", "DRIVERLENS_DATABASE_URL"):
        environment.pop(name, None)
    command = [sys.executable, "-m", "driverlens", "serve", "--worker", "--port", str(port)]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, env=environment, stdout=log, stderr=subprocess.STDOUT)
    server = Server(f"http://127.0.0.1:{port}", data_dir, log_path, process, dict(partners))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{server.log_text()[-3000:]}")
        try:
            if httpx.get(f"{server.base_url}/healthz", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"server did not become ready:\n{server.log_text()[-3000:]}")
