"""The README's five-minute walkthrough, executed as written against real DriverLens processes.

The blocks run in one bash process with `set -euo pipefail`, in a scratch directory laid out like a
clone after `make run` (`./var` is the data dir, `.venv` is this interpreter's environment); only the
`BASE=` line is changed, to the port of the server started here. It runs twice: against
`driverlens demo` (what `make run` starts), and against the "API and several workers on PostgreSQL"
shape of docs/operations.md (`seed --demo`, `serve --no-worker`, two `driverlens worker` processes).
"""

from __future__ import annotations

import csv
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.api.server import free_port
from tests.docs.walkthrough import (
    DEFAULT_BASE_LINE,
    END_MARKER,
    START_MARKER,
    WalkthroughError,
    bash_blocks,
    read_readme,
    walkthrough_script,
    walkthrough_section,
)

ROOT = Path(__file__).resolve().parents[2]
REPORT_HEADER = [
    "ApplicationId",
    "DriverName",
    "FailureName",
    "FailureHash",
    "SUM(EventCount)",
    "DCOUNT(DeviceId)",
]
CLI_REPORT_HEADER = ["Model", "DriverName", "FailureName", "CabIdHash", "SUM(EventCount)"]
SDK_LINE = "rows, columns ['OSVersion', 'SUM(EventCount)']"
BASH = shutil.which("bash")
CURL = shutil.which("curl")

pytestmark = pytest.mark.skipif(BASH is None or CURL is None, reason="the walkthrough needs bash and curl")


@dataclass
class Deployment:
    """DriverLens processes sharing one scratch "clone" directory (their cwd; `./var` is the data dir)."""

    workdir: Path
    env: dict[str, str]
    base_url: str = ""
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def log(self, name: str) -> str:
        return (self.workdir.parent / f"{name}.log").read_text(encoding="utf-8", errors="replace")

    def logs(self) -> str:
        return "\n".join(f"--- {name} log\n{self.log(name)[-3000:]}" for name in self.processes)

    def start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        with open(self.workdir.parent / f"{name}.log", "wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "driverlens", *args],
                cwd=self.workdir,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.processes[name] = process
        return process

    def run(self, *args: str) -> None:
        done = subprocess.run(
            [sys.executable, "-m", "driverlens", *args],
            cwd=self.workdir,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, f"driverlens {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            for name, process in self.processes.items():
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited with {process.returncode}:\n{self.logs()}")
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"DriverLens did not become ready:\n{self.logs()}")

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


def _deployment(tmp_path: Path, extra_env: Mapping[str, str] | None = None) -> Deployment:
    workdir = tmp_path / "clone"
    workdir.mkdir()
    (workdir / ".venv").symlink_to(Path(sys.prefix), target_is_directory=True)
    # No inherited DriverLens settings, so `./var` and the defaults apply as after `make run`.
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRIVERLENS_")}
    env.update(DRIVERLENS_CLIENT_CONFIG=str(workdir / "client-config.json"), HOME=str(workdir))
    env.update(extra_env or {})
    return Deployment(workdir, env)


@pytest.fixture
def demo_deployment(tmp_path: Path) -> Iterator[Deployment]:
    """`driverlens demo` (what `make run` starts) on a free port."""
    deployment = _deployment(tmp_path)
    port = free_port()
    deployment.base_url = f"http://127.0.0.1:{port}"
    try:
        deployment.start("demo", "demo", "--rows", "20000", "--port", str(port))
        deployment.wait_ready()
        yield deployment
    finally:
        deployment.stop()


@pytest.fixture
def scaled_deployment(tmp_path: Path, fresh_postgres_url: Callable[[], str]) -> Iterator[Deployment]:
    """An API without a worker and two worker processes on a PostgreSQL metadata store."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {"DRIVERLENS_DATABASE_URL": fresh_postgres_url(), "DRIVERLENS_PUBLIC_BASE_URL": base_url}
    deployment = _deployment(tmp_path, env)
    deployment.base_url = base_url
    try:
        deployment.run("seed", "--demo", "--rows", "20000")
        deployment.start("api", "serve", "--no-worker", "--port", str(port))
        deployment.start("worker-1", "worker", "--concurrency", "1", "--poll-seconds", "0.5")
        deployment.start("worker-2", "worker", "--concurrency", "1", "--poll-seconds", "0.5")
        deployment.wait_ready()
        yield deployment
    finally:
        deployment.stop()


def _run_bash(
    script: str, cwd: Path, env: dict[str, str], timeout: float
) -> subprocess.CompletedProcess[str]:
    assert BASH is not None
    return subprocess.run(
        [BASH, "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def _read_csv(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def _run_walkthrough(deployment: Deployment) -> str:
    """Run every README block against the deployment; check what it downloaded; return its output."""
    script = walkthrough_script(read_readme(ROOT), deployment.base_url)
    started = time.monotonic()
    result = _run_bash(script, deployment.workdir, deployment.env, timeout=150)
    elapsed = time.monotonic() - started
    assert result.returncode == 0, (
        f"the README walkthrough failed (exit {result.returncode}) after {elapsed:.1f} s\n"
        f"--- stdout\n{result.stdout[-4000:]}\n--- stderr\n{result.stderr[-4000:]}\n{deployment.logs()}"
    )
    out = deployment.workdir / "var" / "walkthrough"
    rows = _read_csv(out / "top-failures.csv")
    assert rows[0] == REPORT_HEADER
    assert 1 <= len(rows) - 1 <= 20, "the template asks for at most 20 rows and the demo has data"
    assert all(row[0] and int(row[4]) >= 1 for row in rows[1:])
    assert (out / "crash.cab").read_bytes()[:4] == b"MSCF"  # a real cabinet
    assert "osBuild: " in result.stdout and "faultingModule: " in result.stdout  # inspect-cab read its dump
    assert "Completed" in result.stdout
    cli_rows = _read_csv(out / "recent-cabs.csv")
    assert cli_rows[0] == CLI_REPORT_HEADER
    assert 1 <= len(cli_rows) - 1 <= 10, "the CLI template asks for at most 10 rows and the demo has data"
    assert (out / "northwind.cab").read_bytes()[:4] == b"MSCF"
    sdk = [line for line in result.stdout.splitlines() if SDK_LINE in line]
    assert len(sdk) == 1 and " 0 rows" not in sdk[0], "the SDK example reads its report"
    blocks = len(bash_blocks(walkthrough_section(read_readme(ROOT))))
    print(f"README walkthrough: {blocks} bash blocks, {len(rows) - 1} report rows, {elapsed:.1f} s")
    return result.stdout


def test_readme_walkthrough_runs_as_written_against_make_run(demo_deployment: Deployment) -> None:
    _run_walkthrough(demo_deployment)


def test_readme_walkthrough_runs_against_an_api_and_two_workers_on_postgresql(
    scaled_deployment: Deployment,
) -> None:
    _run_walkthrough(scaled_deployment)
    assert "worker: off" in scaled_deployment.log("api"), "the API must not run reports itself here"
    # Graceful stop, as docs/operations.md describes it: SIGTERM, exit 0, "stopped" in the log.
    for name in ("worker-1", "worker-2"):
        process = scaled_deployment.processes[name]
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        assert "stopping after the runs in hand" in scaled_deployment.log(name)
        assert " stopped" in scaled_deployment.log(name)


def test_the_runner_fails_when_a_block_fails(tmp_path: Path) -> None:
    """The broken variant: a failing command in any block fails the run (strict mode is on)."""
    readme = (
        f'intro\n{START_MARKER}\n```bash\n{DEFAULT_BASE_LINE}\necho "base $BASE"\n```\n'
        "```sh\nexit 7\n```\n"  # not bash: not run
        f"```bash\nfalse\necho unreachable\n```\n{END_MARKER}\n"
    )
    script = walkthrough_script(readme, "http://127.0.0.1:1")
    result = _run_bash(script, tmp_path, dict(os.environ), timeout=30)
    assert result.returncode == 1
    assert result.stdout == "base http://127.0.0.1:1\n"


def test_the_runner_refuses_a_walkthrough_it_cannot_point_elsewhere() -> None:
    no_base = f"{START_MARKER}\n```bash\necho hi\n```\n{END_MARKER}"
    with pytest.raises(WalkthroughError, match="BASE="):
        walkthrough_script(no_base, "http://127.0.0.1:1")
    with pytest.raises(WalkthroughError, match="no ```bash blocks"):
        walkthrough_script(f"{START_MARKER}\ntext\n{END_MARKER}", "http://127.0.0.1:1")
    with pytest.raises(WalkthroughError, match="exactly one"):
        walkthrough_script("no markers", "http://127.0.0.1:1")
