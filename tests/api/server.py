"""A real DriverLens server process on 127.0.0.1 with demo partners, clients and events."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx

from driverlens.auth import service
from driverlens.blobs.store import BlobStore, LocalBlobStore
from driverlens.cabs.seeding import seed_demo_cabs
from driverlens.catalog import PartnerKind
from driverlens.events import EventStore, seed_events
from driverlens.events.demo import DEMO_PARTNERS
from driverlens.installs.seed import seed_installs
from driverlens.metadata.database import Database
from driverlens.metadata.migrate import migrate

AUDIENCE = "https://manage.devcenter.microsoft.com"


@dataclass(frozen=True)
class Creds:
    """A partner and one of its clients."""

    name: str
    kind: PartnerKind
    tenant_id: str
    client_id: str
    secret: str


@dataclass
class Server:
    base_url: str
    data_dir: Path
    log_path: Path
    process: subprocess.Popen[bytes]
    partners: dict[str, Creds] = field(default_factory=dict)
    _tokens: dict[str, str] = field(default_factory=dict)

    def token(self, who: str) -> str:
        """A bearer token for partner ``who`` (v1 form, values sent raw), cached per server."""
        if who not in self._tokens:
            creds = self.partners[who]
            body = (
                f"grant_type=client_credentials&client_id={creds.client_id}"
                f"&client_secret={creds.secret}&resource={AUDIENCE}"
            )
            response = httpx.post(
                f"{self.base_url}/{creds.tenant_id}/oauth2/token",
                content=body,
                headers={"Content-Type": "application/x-www-form-urlencoded"},
                timeout=30,
            )
            response.raise_for_status()
            self._tokens[who] = response.json()["access_token"]
        return self._tokens[who]

    def client(self, who: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.token(who)}"} if who else {}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=30)

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prepare_data_dir(
    data_dir: Path, *, rows: int = 20_000, blobs: BlobStore | None = None, install_base: bool = False
) -> dict[str, Creds]:
    """Migrate, create the demo partners (plus one extra IHV with no data) and clients, seed events and
    CABs (into ``blobs``, by default the local store in the data dir), and the demo install base behind
    the events if asked."""
    data_dir.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{(data_dir / 'metadata.db').resolve()}"
    migrate(url)
    db = Database(url)
    creds: dict[str, Creds] = {}
    try:
        with db.session() as session:
            for partner in DEMO_PARTNERS:
                service.add_partner(session, partner.name, partner.kind, partner.tenant_id)
                service.set_entitlements(
                    session,
                    partner.name,
                    application_ids=partner.application_ids if partner.kind is PartnerKind.IHV else None,
                    submission_ids=partner.submission_ids if partner.kind is PartnerKind.IHV else None,
                    oem_names=partner.oem_names if partner.kind is PartnerKind.OEM else None,
                )
            service.add_partner(session, "Empty Drivers", PartnerKind.IHV)
            for name in [p.name for p in DEMO_PARTNERS] + ["Empty Drivers"]:
                client_id, secret = service.add_client(session, name)
                partner_row = service.get_partner(session, name)
                creds[name] = Creds(name, partner_row.kind, partner_row.tenant_id, client_id, secret)
    finally:
        db.dispose()
    store = EventStore(data_dir)
    now = datetime.now(UTC)
    seed_events(store, rows=rows, days=30, seed=7, now=now)
    if install_base:
        seed_installs(store, rows=rows, days=30, now=now)
    db = Database(url)
    try:
        seed_demo_cabs(db, blobs or LocalBlobStore(data_dir / "blobs"), store, datetime.now(UTC))
    finally:
        db.dispose()
    return creds


def start_server(
    data_dir: Path,
    partners: dict[str, Creds],
    env: Mapping[str, str] | None = None,
    *,
    worker: bool = False,
) -> Server:
    """`python -m driverlens serve` on a free 127.0.0.1 port (worker only if asked); returns once healthy."""
    port = free_port()
    log_path = data_dir / f"server-{port}.log"
    environment = {
        **os.environ,
        "DRIVERLENS_DATA_DIR": str(data_dir),
        "DRIVERLENS_CALLBACK_ALLOWED_NETWORKS": "127.0.0.0/8",
        "DRIVERLENS_RATE_LIMIT_PER_MINUTE": "1000000",
        "PYTHONUNBUFFERED": "1",
        **(env or {}),
    }
    environment.pop("DRIVERLENS_PUBLIC_BASE_URL", None)
    environment.pop("DRIVERLENS_DATABASE_URL", None)
    command = [sys.executable, "-m", "driverlens", "serve", "--worker" if worker else "--no-worker"]
    command += ["--port", str(port)]
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
