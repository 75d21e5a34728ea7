"""A multi-process deployment for tests: API processes and workers as separate OS processes.

Every member runs the real command (``python -m driverlens serve --no-worker`` or ``driverlens worker``)
with the environment of docs/deployment.md: one metadata store (PostgreSQL), one data dir (event lake,
signing and link keys, local blobs unless the environment names another blob store). A member can be
killed with SIGKILL and restarted; API outages (kill until healthy again) are recorded so that a client's
connection error can be told apart from one no kill explains. Each incarnation logs to its own file.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_ports(count: int) -> list[int]:
    """Distinct free 127.0.0.1 ports (held together while chosen, so none is handed out twice)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


@dataclass
class Member:
    """One process of the deployment (restarted under the same name, and for an API the same port)."""

    name: str
    command: list[str]
    port: int | None = None
    process: subprocess.Popen[bytes] | None = None
    incarnations: int = 0
    logs: list[Path] = field(default_factory=list)
    #: (killed at, serving again at) in time.monotonic(); the end is None while it is still down.
    outages: list[list[float | None]] = field(default_factory=list)

    @property
    def is_api(self) -> bool:
        return self.port is not None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class Deployment:
    """``apis`` API processes and ``workers`` worker processes sharing ``env``'s stores."""

    def __init__(
        self,
        root: Path,
        env: Mapping[str, str],
        *,
        apis: int = 2,
        workers: int = 3,
        worker_command: list[str] | None = None,
    ) -> None:
        self.root = root
        self.log_dir = root / "logs"
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1", **env}
        self.env.pop("DRIVERLENS_PUBLIC_BASE_URL", None)
        self.env.update({k: v for k, v in env.items() if k == "DRIVERLENS_PUBLIC_BASE_URL"})
        worker_cmd = worker_command or [sys.executable, "-m", "driverlens", "worker"]
        worker_cmd = [*worker_cmd, "--lease-seconds", "5", "--poll-seconds", "0.2", "--grace-seconds", "2"]
        self.members: list[Member] = []
        for n, port in enumerate(free_ports(apis)):
            serve = [sys.executable, "-m", "driverlens", "serve", "--no-worker", "--port", str(port)]
            self.members.append(Member(f"api-{n}", [*serve, "--log-level", "warning"], port))
        self.members += [Member(f"worker-{n}", list(worker_cmd)) for n in range(workers)]
        # Every process must agree on the public URL (token issuer, links, callback notices): in
        # production the load balancer's; here the first API's address stands in for it.
        self.env.setdefault("DRIVERLENS_PUBLIC_BASE_URL", self.members[0].base_url)
        self._lock = threading.Lock()
        #: Restarts that never became healthy (each a finding).
        self.failures: list[str] = []

    @property
    def apis(self) -> list[Member]:
        return [m for m in self.members if m.is_api]

    @property
    def workers(self) -> list[Member]:
        return [m for m in self.members if not m.is_api]

    def start(self) -> None:
        """Start every member; returns once every API answers /healthz with 200."""
        for member in self.members:
            self._spawn(member)
        for member in self.apis:
            self.wait_healthy(member, 120)

    def _spawn(self, member: Member) -> None:
        member.incarnations += 1
        log_path = self.log_dir / f"{member.name}.{member.incarnations}.log"
        member.logs.append(log_path)
        with open(log_path, "wb") as log:
            member.process = subprocess.Popen(
                member.command, cwd=self.root, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )

    def wait_healthy(self, member: Member, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            process = member.process
            if process is not None and process.poll() is not None:
                raise RuntimeError(f"{member.name} exited with {process.returncode}:\n{self.tail(member)}")
            try:
                if httpx.get(f"{member.base_url}/healthz", timeout=2).status_code == 200:
                    with self._lock:
                        if member.outages and member.outages[-1][1] is None:
                            member.outages[-1][1] = time.monotonic()
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{member.name} did not become healthy in {timeout} s:\n{self.tail(member)}")

    def kill_and_restart(self, member: Member) -> None:
        """SIGKILL ``member`` and start it again at once; an API's outage ends (in a background thread)
        once it answers /healthz, so the next kill does not wait for a slow start."""
        process = member.process
        assert process is not None
        with self._lock:
            member.outages.append([time.monotonic(), None])
        process.send_signal(signal.SIGKILL)
        process.wait()
        self._spawn(member)
        if not member.is_api:
            member.outages[-1][1] = time.monotonic()
            return

        def watch() -> None:
            try:
                self.wait_healthy(member, 120)
            except RuntimeError as exc:
                self.failures.append(str(exc))

        threading.Thread(target=watch, name=f"restart-{member.name}", daemon=True).start()

    def up(self) -> list[Member]:
        """Members not killed or restarting at the moment."""
        with self._lock:
            return [m for m in self.members if not (m.outages and m.outages[-1][1] is None)]

    def was_down(self, port: int, start: float, end: float, slack: float = 1.0) -> bool:
        """True if the API on ``port`` was killed or restarting at some moment of [start, end]."""
        with self._lock:
            for member in self.apis:
                if member.port != port:
                    continue
                for began, ended in member.outages:
                    assert began is not None
                    if began - slack <= end and (ended is None or ended + slack >= start):
                        return True
        return False

    def exited(self) -> list[str]:
        """Names of members whose current process has exited (none should, but for a kill)."""
        return [m.name for m in self.members if m.process is not None and m.process.poll() is not None]

    def stop(self) -> None:
        """SIGTERM every member, then SIGKILL what has not stopped after 20 s."""
        for member in self.members:
            if member.process is not None and member.process.poll() is None:
                member.process.terminate()
        for member in self.members:
            if member.process is None:
                continue
            try:
                member.process.wait(20)
            except subprocess.TimeoutExpired:
                member.process.kill()
                member.process.wait()

    def tail(self, member: Member, chars: int = 3000) -> str:
        if not member.logs:
            return ""
        return member.logs[-1].read_text(errors="replace")[-chars:]

    def worker_log_text(self) -> str:
        """Every worker incarnation's log, concatenated (the runs' history as the workers tell it)."""
        return "\n".join(p.read_text(errors="replace") for m in self.workers for p in m.logs if p.exists())
