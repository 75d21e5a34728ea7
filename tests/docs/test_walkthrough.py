"""The README's five-minute walkthrough, executed as written against a real `driverlens demo` process.

The blocks run in one bash process with `set -euo pipefail`, in a scratch directory laid out like a
clone after `make run` (`./var` is the data dir, `.venv` is this interpreter's environment); only the
`BASE=` line is changed, to the port of the server started here.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
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
BASH = shutil.which("bash")
CURL = shutil.which("curl")

pytestmark = pytest.mark.skipif(BASH is None or CURL is None, reason="the walkthrough needs bash and curl")


@dataclass
class DemoServer:
    base_url: str
    workdir: Path
    log_path: Path
    process: subprocess.Popen[bytes]

    def log_tail(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")[-4000:]


def _clean_environment(workdir: Path) -> dict[str, str]:
    """This environment without DriverLens settings, so `./var` and the defaults apply as after `make run`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRIVERLENS_")}
    env["DRIVERLENS_CLIENT_CONFIG"] = str(workdir / "client-config.json")
    env["HOME"] = str(workdir)
    return env


@pytest.fixture
def demo_server(tmp_path: Path) -> Iterator[DemoServer]:
    """`driverlens demo` (what `make run` starts) on a free port, with the scratch directory as cwd."""
    workdir = tmp_path / "clone"
    workdir.mkdir()
    (workdir / ".venv").symlink_to(Path(sys.prefix), target_is_directory=True)
    port = free_port()
    log_path = tmp_path / "demo.log"
    command = [sys.executable, "-m", "driverlens", "demo", "--rows", "20000", "--port", str(port)]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command, cwd=workdir, env=_clean_environment(workdir), stdout=log, stderr=subprocess.STDOUT
        )
    server = DemoServer(f"http://127.0.0.1:{port}", workdir, log_path, process)
    try:
        _wait_ready(server)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def _wait_ready(server: DemoServer) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"driverlens demo exited with {server.process.returncode}:\n{server.log_tail()}"
            )
        try:
            if httpx.get(f"{server.base_url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"driverlens demo did not become ready:\n{server.log_tail()}")


def _run_bash(
    script: str, cwd: Path, env: dict[str, str], timeout: float
) -> subprocess.CompletedProcess[str]:
    assert BASH is not None
    return subprocess.run(
        [BASH, "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def test_readme_walkthrough_runs_as_written_against_make_run(demo_server: DemoServer) -> None:
    script = walkthrough_script(read_readme(ROOT), demo_server.base_url)
    started = time.monotonic()
    result = _run_bash(script, demo_server.workdir, _clean_environment(demo_server.workdir), timeout=150)
    elapsed = time.monotonic() - started
    assert result.returncode == 0, (
        f"the README walkthrough failed (exit {result.returncode}) after {elapsed:.1f} s\n"
        f"--- stdout\n{result.stdout[-4000:]}\n--- stderr\n{result.stderr[-4000:]}\n"
        f"--- server log\n{demo_server.log_tail()}"
    )
    out = demo_server.workdir / "var" / "walkthrough"
    with open(out / "top-failures.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == REPORT_HEADER
    assert 1 <= len(rows) - 1 <= 20, "the template asks for at most 20 rows and the demo has data"
    assert all(row[0] and int(row[4]) >= 1 for row in rows[1:])
    assert (out / "crash.cab").stat().st_size > 0
    with open(out / "recent-cabs.csv", newline="", encoding="utf-8") as fh:
        cli_rows = list(csv.reader(fh))
    assert cli_rows[0] == CLI_REPORT_HEADER
    assert 1 <= len(cli_rows) - 1 <= 10, "the CLI template asks for at most 10 rows and the demo has data"
    assert (out / "northwind.cab").stat().st_size > 0
    sdk = [
        line
        for line in result.stdout.splitlines()
        if "rows, columns ['OSVersion', 'SUM(EventCount)']" in line
    ]
    assert len(sdk) == 1 and " 0 rows" not in sdk[0], "the SDK example reads its report"
    assert "Completed" in result.stdout
    blocks = len(bash_blocks(walkthrough_section(read_readme(ROOT))))
    print(f"README walkthrough: {blocks} bash blocks, {len(rows) - 1} report rows, {elapsed:.1f} s")


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
