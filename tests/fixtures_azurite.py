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
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from azure.core.credentials import AccessToken

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = ROOT / "tools" / "azurite" / "node_modules" / ".bin" / "azurite-blob"
# Azurite's well-known development account (public, documented by Microsoft; not a secret).
ACCOUNT = "devstoreaccount1"
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
_LISTENING = re.compile(r"Blob service (?:is )?successfully listens on (https?)://(\S+?):(\d+)")


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
    scheme: str = "http"
    # With ``oauth=True``: the self-signed certificate Azurite serves (clients trust this file).
    cert_path: Path | None = None
    _own_workspace: bool = False
    _pump: threading.Thread | None = field(default=None, repr=False)
    _stopped: bool = field(default=False, repr=False)

    @property
    def blob_endpoint(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}/{ACCOUNT}"

    @property
    def connection_string(self) -> str:
        return (
            f"DefaultEndpointsProtocol={self.scheme};AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};"
            f"BlobEndpoint={self.blob_endpoint};"
        )

    def container_url(self, container: str) -> str:
        return f"{self.blob_endpoint}/{container}"

    def create_container(self, name: str | None = None) -> str:
        """Create a container (a fresh unique name unless given) and return its name."""
        from azure.storage.blob import BlobServiceClient

        container = name or f"t{uuid.uuid4().hex[:20]}"
        verify: str | bool = str(self.cert_path) if self.cert_path else True
        with BlobServiceClient.from_connection_string(
            self.connection_string, connection_verify=verify
        ) as service:
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


def start_azurite(workspace: Path | None = None, *, timeout: float = 60.0, oauth: bool = False) -> Azurite:
    """Start Azurite's blob service on 127.0.0.1 and a port the OS picks; returns once it listens.

    Data lives in ``workspace`` (a new temporary directory, removed at stop, when not given). With
    ``oauth=True`` it serves HTTPS with a fresh self-signed certificate (``cert_path``) and accepts
    Azure AD bearer tokens (``EmulatorAdCredential``), as user delegation keys need. Raises
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
    cert_path: Path | None = None
    if oauth:
        cert_path, key_path = _self_signed_certificate(folder)
        command += ["--oauth", "basic", "--cert", str(cert_path), "--key", str(key_path)]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=folder
    )
    assert process.stdout is not None
    found: list[tuple[str, str, int]] = []
    ready = threading.Event()

    def pump() -> None:  # copy the output to the log, noting the address once it is printed
        assert process.stdout is not None
        with process.stdout, open(log_path, "ab") as log:
            for line in process.stdout:
                log.write(line)
                log.flush()
                match = _LISTENING.search(line.decode("utf-8", errors="replace"))
                if match and not found:
                    found.append((match.group(1), match.group(2), int(match.group(3))))
                    ready.set()
        ready.set()

    thread = threading.Thread(target=pump, name="azurite-log", daemon=True)
    thread.start()
    ready.wait(timeout)
    azurite = Azurite(
        process, "127.0.0.1", 0, folder, log_path, cert_path=cert_path, _own_workspace=own, _pump=thread
    )
    if not found:
        azurite.stop()
        text = log_path.read_text(errors="replace")[-2000:] if log_path.exists() else ""
        raise RuntimeError(f"Azurite did not start within {timeout:.0f} s (exit {process.poll()}):\n{text}")
    azurite.scheme, azurite.host, azurite.port = found[0]
    return azurite


def _self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, valid for a day, and its key (PEM files)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "azurite-cert.pem", folder / "azurite-key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


class EmulatorAdCredential:
    """An Azure AD token credential that Azurite's ``--oauth basic`` accepts (it checks the issuer, the
    audience and the times, not the signature): a stand-in for Azure AD, which is off the machine."""

    TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
    OBJECT_ID = "11059fcc-5514-4800-b5f8-49808b9cfab6"

    def __init__(self) -> None:
        self.requests = 0

    def get_token(self, *scopes: str, **kwargs: object) -> AccessToken:
        import jwt
        from azure.core.credentials import AccessToken

        self.requests += 1
        now = int(time.time())
        claims = {
            "aud": "https://storage.azure.com",
            "iss": f"https://sts.windows.net/{self.TENANT}/",
            "iat": now - 60,
            "nbf": now - 60,
            "exp": now + 3600,
            "oid": self.OBJECT_ID,
            "tid": self.TENANT,
        }
        token = jwt.encode(claims, "not-checked-by-the-emulator-0123456789", algorithm="HS256")
        return AccessToken(token, now + 3600)


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


@pytest.fixture(scope="session")
def azurite_oauth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Azurite]:
    """Azurite over HTTPS accepting Azure AD tokens (for user-delegation SAS), one per test session."""
    _require_azurite()
    with start_azurite(tmp_path_factory.mktemp("azurite-oauth"), oauth=True) as running:
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
