"""Azurite (the Azure Storage emulator, from npm) for tests and scripts, on a free port.

Outside pytest::

    from tests.fixtures_azurite import start_azurite
    with start_azurite() as azurite:          # its own temporary workspace, port chosen by the OS
        env = azurite.settings_env(azurite.create_container())
        # env: DRIVERLENS_BLOB_STORE=azure, DRIVERLENS_AZURE_BLOB_CONTAINER_URL, ..._CONNECTION_STRING

or ``python -m tests.fixtures_azurite`` prints those variables and keeps Azurite up until Ctrl-C.

The binary is ``tools/azurite/node_modules/.bin/azurite-blob`` (``npm ci --prefix tools/azurite``, which
``make test`` and ``.ci/run`` run), or ``DRIVERLENS_AZURITE`` names another. Pytest fixtures (loaded
as a plugin by ``tests/conftest.py``): ``azurite`` (one per test session) and ``azure_container`` (a new
container per test). They skip, saying why, when Azurite is not installed, and fail instead when
``DRIVERLENS_REQUIRE_AZURITE=1`` (CI).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import pytest

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = ROOT / "tools" / "azurite" / "node_modules" / ".bin" / "azurite-blob"
# Azurite's well-known development account (public, documented by Microsoft; not a secret).
ACCOUNT = "devstoreaccount1"
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
_LISTENING = re.compile(r"Blob service (?:is )?successfully listens on (http://\S+?):(\d+)")


def azurite_binary() -> Path | None:
    """The azurite-blob executable to run, or None when neither the bundled one nor DRIVERLENS_AZURITE is."""
    named = os.environ.get("DRIVERLENS_AZURITE")
    candidate = Path(named) if named else BUNDLED
    if candidate.is_file() and os.access(candidate, os.X_OK) and shutil.which("node"):
        return candidate
    return None


def unavailable_reason() -> str | None:
    if not shutil.which("node"):
        return "Node.js is not installed (Azurite, the Azure Storage emulator, runs on it)"
    if azurite_binary() is None:
        where = os.environ.get("DRIVERLENS_AZURITE") or str(BUNDLED.relative_to(ROOT))
        return f"Azurite is not installed at {where}; run `npm ci --prefix tools/azurite` (make test does)"
    return None


@dataclass
class Azurite:
    """A running Azurite blob service; ``stop()`` (or leaving the ``with``) ends it and its workspace."""

    process: subprocess.Popen[bytes]
    host: str
    port: int
    workspace: Path
    log_path: Path
    _own_workspace: bool = False
    _pump: threading.Thread | None = field(default=None, repr=False)
    _stopped: bool = field(default=False, repr=False)

    @property
    def blob_endpoint(self) -> str:
        return f"http://{self.host}:{self.port}/{ACCOUNT}"

    @property
    def connection_string(self) -> str:
        return (
            f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};"
            f"BlobEndpoint={self.blob_endpoint};"
        )

    def container_url(self, container: str) -> str:
        return f"{self.blob_endpoint}/{container}"

    def create_container(self, name: str | None = None) -> str:
        """Create a container (a fresh unique name unless given) and return its name."""
        from azure.storage.blob import BlobServiceClient

        container = name or f"t{uuid.uuid4().hex[:20]}"
        with BlobServiceClient.from_connection_string(self.connection_string) as service:
            service.create_container(container)
        return container

    def settings_env(self, container: str) -> dict[str, str]:
        """The ``DRIVERLENS_*`` variables that put a DriverLens process on ``container`` here."""
        return {
            "DRIVERLENS_BLOB_STORE": "azure",
            "DRIVERLENS_AZURE_BLOB_CONTAINER_URL": self.container_url(container),
            "DRIVERLENS_AZURE_STORAGE_CONNECTION_STRING": self.connection_string,
        }

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        if self._pump is not None:
            self._pump.join(timeout=5)  # it closes the output pipe at end of file
        if self._own_workspace:
            shutil.rmtree(self.workspace, ignore_errors=True)

    def __enter__(self) -> Azurite:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def start_azurite(workspace: Path | None = None, *, timeout: float = 60.0) -> Azurite:
    """Start Azurite's blob service on 127.0.0.1 and a port the OS picks; returns once it listens.

    Data lives in ``workspace`` (a new temporary directory, removed at stop, when not given). Raises
    ``RuntimeError`` saying why when Azurite is not installed or does not come up.
    """
    reason = unavailable_reason()
    binary = azurite_binary()
    if reason is not None or binary is None:
        raise RuntimeError(reason or "Azurite is not installed")
    own = workspace is None
    folder = Path(tempfile.mkdtemp(prefix="azurite-")) if workspace is None else Path(workspace)
    folder.mkdir(parents=True, exist_ok=True)
    log_path = folder / "azurite.log"
    command = [
        str(binary),
        "--blobHost",
        "127.0.0.1",
        "--blobPort",
        "0",  # the OS picks a free port; Azurite prints it
        "--location",
        str(folder),
        "--disableTelemetry",  # never call home (the tests run offline)
        "--skipApiVersionCheck",  # the Python SDK may speak a newer API version than this Azurite
    ]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=folder
    )
    assert process.stdout is not None
    found: list[tuple[str, int]] = []
    ready = threading.Event()

    def pump() -> None:  # copy the output to the log, noting the address once it is printed
        assert process.stdout is not None
        with process.stdout, open(log_path, "ab") as log:
            for line in process.stdout:
                log.write(line)
                log.flush()
                match = _LISTENING.search(line.decode("utf-8", errors="replace"))
                if match and not found:
                    found.append((match.group(1).removeprefix("http://"), int(match.group(2))))
                    ready.set()
        ready.set()

    thread = threading.Thread(target=pump, name="azurite-log", daemon=True)
    thread.start()
    ready.wait(timeout)
    azurite = Azurite(process, "127.0.0.1", 0, folder, log_path, _own_workspace=own, _pump=thread)
    if not found:
        azurite.stop()
        text = log_path.read_text(errors="replace")[-2000:] if log_path.exists() else ""
        raise RuntimeError(f"Azurite did not start within {timeout:.0f} s (exit {process.poll()}):\n{text}")
    azurite.host, azurite.port = found[0]
    return azurite


def _require_azurite() -> None:
    reason = unavailable_reason()
    if reason is None:
        return
    if os.environ.get("DRIVERLENS_REQUIRE_AZURITE") == "1":
        pytest.fail(f"{reason} (DRIVERLENS_REQUIRE_AZURITE=1)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Azurite]:
    """One Azurite per test session, in a temporary workspace; skips (or fails in CI) without it."""
    _require_azurite()
    with start_azurite(tmp_path_factory.mktemp("azurite")) as running:
        yield running


@pytest.fixture
def azure_container(azurite: Azurite) -> str:
    """A new, empty container in the session's Azurite."""
    return azurite.create_container()


if __name__ == "__main__":
    with start_azurite() as running:
        name = running.create_container(sys.argv[1] if len(sys.argv) > 1 else "driverlens")
        for key, value in running.settings_env(name).items():
            print(f"export {key}='{value}'")
        print(f"# Azurite listens on {running.blob_endpoint}; Ctrl-C stops it", flush=True)
        try:
            while running.process.poll() is None:
                time.sleep(1)
        except KeyboardInterrupt:
            pass
