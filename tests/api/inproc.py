"""The real app in this process (FastAPI TestClient) over its own seeded data dir, for table-driven tests."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from starlette.exceptions import StarletteDeprecationWarning

from driverlens.api.app import create_app
from driverlens.settings import Settings
from tests.api.server import AUDIENCE, Creds, prepare_data_dir

with warnings.catch_warnings():
    # Starlette 1.x deprecates its httpx-based TestClient in favour of httpx2 (not a dependency yet).
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient


@dataclass
class InProcess:
    """A TestClient on the real app, the data dir and settings behind it, and tokens per partner."""

    client: TestClient
    settings: Settings
    partners: dict[str, Creds]
    _tokens: dict[str, str] = field(default_factory=dict)

    def token(self, who: str) -> str:
        if who not in self._tokens:
            creds = self.partners[who]
            form = {
                "grant_type": "client_credentials",
                "client_id": creds.client_id,
                "client_secret": creds.secret,
                "resource": AUDIENCE,
            }
            response = self.client.post(f"/{creds.tenant_id}/oauth2/token", data=form)
            assert response.status_code == 200, response.text
            self._tokens[who] = response.json()["access_token"]
        return self._tokens[who]

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(who)}"}

    def request(self, method: str, path: str, who: str | None = None, **kwargs: Any) -> Any:
        headers = {**(self.auth(who) if who else {}), **kwargs.pop("headers", {})}
        return self.client.request(method, path, headers=headers, **kwargs)


def start_in_process(data_dir: Path, partners: dict[str, Creds], **overrides: Any) -> Iterator[InProcess]:
    settings = Settings(data_dir=data_dir, rate_limit_per_minute=1_000_000, **overrides)
    app = create_app(settings)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield InProcess(client, settings, partners)
    app.state.ctx.close()


@pytest.fixture(scope="session")
def inproc_data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Creds]]:
    data_dir = tmp_path_factory.mktemp("inproc") / "var"
    return data_dir, prepare_data_dir(data_dir, rows=4000)


@pytest.fixture(scope="session")
def inproc(inproc_data: tuple[Path, dict[str, Creds]]) -> Iterator[InProcess]:
    yield from start_in_process(*inproc_data)
