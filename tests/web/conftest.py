"""Fixtures: one real server process (with its worker) over seeded demo data, and a headless browser."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.server import Creds, Server, prepare_data_dir, start_server
from tests.web.browser import launch_chromium

IHV = "Contoso Graphics"
IHV2 = "Fabrikam Audio"
OEM = "Northwind Systems"


@pytest.fixture(scope="session")
def web_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data_dir = tmp_path_factory.mktemp("web") / "var"
    partners: dict[str, Creds] = prepare_data_dir(data_dir, install_base=True)
    # The tests play a TLS-terminating proxy on 127.0.0.1 (X-Forwarded-Proto), so the server trusts it.
    instance = start_server(data_dir, partners, {"DRIVERLENS_TRUSTED_PROXIES": "127.0.0.1/32"}, worker=True)
    yield instance
    instance.stop()


# Module-scoped, not session: while Playwright's sync API is open it keeps an asyncio loop running in the
# main thread, and a later test calling asyncio.run() (tests/client/test_aio.py) would fail.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launch_chromium()


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def sign_in(server: Server, who: str) -> httpx.Client:
    """An HTTP client holding a dashboard session of partner ``who``."""
    client = httpx.Client(base_url=server.base_url, timeout=30)
    creds = server.partners[who]
    try:
        nonce = csrf_of(client.get("/ui/signin").text)
        response = client.post(
            "/ui/signin", data={"csrf": nonce, "client_id": creds.client_id, "client_secret": creds.secret}
        )
        assert response.status_code == 303, response.text
    except BaseException:
        client.close()  # else its socket's ResourceWarning fails whichever test runs next
        raise
    return client


@pytest.fixture
def signed_in(web_server: Server) -> Iterator[Any]:
    clients: list[httpx.Client] = []

    def make(who: str = IHV) -> httpx.Client:
        clients.append(sign_in(web_server, who))
        return clients[-1]

    yield make
    for client in clients:
        client.close()


@pytest.fixture(scope="session")
def screenshots_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """docs/screenshots when DRIVERLENS_UPDATE_SCREENSHOTS is set, else a scratch directory."""
    import os

    if os.environ.get("DRIVERLENS_UPDATE_SCREENSHOTS"):
        target = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
        target.mkdir(parents=True, exist_ok=True)
        return target
    return tmp_path_factory.mktemp("screenshots")
