"""Issue 10.4 and 10.5 against real server processes: forwarded headers and slow clients."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.conftest import IHV
from tests.api.server import Creds, Server, start_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def strict_server(api_data: tuple[Path, dict[str, Creds]]) -> Iterator[Server]:
    """1 s for headers and for the body."""
    data_dir, partners = api_data
    env = {"DRIVERLENS_HEADER_TIMEOUT_SECONDS": "1", "DRIVERLENS_BODY_TIMEOUT_SECONDS": "1"}
    instance = start_server(data_dir, partners, env)
    yield instance
    instance.stop()


def token_statuses(server: Server, forwarded: list[str]) -> list[int]:
    creds = server.partners[IHV]
    form = {
        "grant_type": "client_credentials",
        "client_id": creds.client_id,
        "client_secret": "wrong",
        "resource": "https://manage.devcenter.microsoft.com",
    }
    statuses = []
    for address in forwarded:
        response = httpx.post(
            f"{server.base_url}/{creds.tenant_id}/oauth2/token",
            data=form,
            headers={"X-Forwarded-For": address},
            timeout=10,
        )
        statuses.append(response.status_code)
    return statuses


def test_forwarded_for_from_an_untrusted_peer_does_not_open_new_buckets(
    api_data: tuple[Path, dict[str, Creds]],
) -> None:
    """Before the fix a new X-Forwarded-For per request bypassed the token endpoint's per-IP limit."""
    data_dir, partners = api_data
    server = start_server(data_dir, partners, {"DRIVERLENS_RATE_LIMIT_PER_MINUTE": "5"})
    try:
        statuses = token_statuses(server, [f"203.0.113.{i}" for i in range(1, 9)])
    finally:
        server.stop()
    assert statuses.count(429) >= 2, statuses
    assert set(statuses) <= {401, 429}


def test_forwarded_for_from_a_trusted_proxy_is_believed(api_data: tuple[Path, dict[str, Creds]]) -> None:
    data_dir, partners = api_data
    env = {"DRIVERLENS_RATE_LIMIT_PER_MINUTE": "5", "DRIVERLENS_TRUSTED_PROXIES": "127.0.0.0/8, ::1/128"}
    server = start_server(data_dir, partners, env)
    try:
        distinct = token_statuses(server, [f"198.51.100.{i}" for i in range(1, 9)])
        same = token_statuses(server, ["192.0.2.7"] * 8)
    finally:
        server.stop()
    assert distinct == [401] * 8  # one bucket per real client behind the proxy
    assert 429 in same  # and the limit still holds for each


def read_until_closed(sock: socket.socket, limit_s: float) -> tuple[bytes, float]:
    started = time.monotonic()
    sock.settimeout(limit_s)
    chunks = []
    while True:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks), time.monotonic() - started


def test_a_request_line_alone_is_answered_408_and_closed(strict_server: Server) -> None:
    port = int(strict_server.base_url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\n")
        received, waited = read_until_closed(sock, 8)
    assert received.startswith(b"HTTP/1.1 408 "), received[:200]
    assert b'"code":"RequestTimeout"' in received
    assert waited < 5, f"connection held {waited:.1f} s"


def test_a_silent_connection_is_closed(strict_server: Server) -> None:
    port = int(strict_server.base_url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        _, waited = read_until_closed(sock, 8)
    assert waited < 5


def test_headers_dribbled_byte_by_byte_are_cut_off(strict_server: Server) -> None:
    port = int(strict_server.base_url.rsplit(":", 1)[1])
    request = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 40
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        started = time.monotonic()
        try:
            for byte in request:
                sock.sendall(bytes([byte]))
                time.sleep(0.1)
        except OSError:
            pass  # closed by the server while we dribbled: what we want
        received, _ = read_until_closed(sock, 3)
        waited = time.monotonic() - started
    assert received.startswith(b"HTTP/1.1 408 ")
    assert waited < 4.5


def test_a_body_that_never_completes_is_answered_408(strict_server: Server) -> None:
    port = int(strict_server.base_url.rsplit(":", 1)[1])
    token = strict_server.token(IHV)
    head = (
        "POST /analytics/driver/reporttemplate HTTP/1.1\r\nHost: x\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(head.encode() + b'{"view": ')
        received, waited = read_until_closed(sock, 8)
    assert received.startswith(b"HTTP/1.1 408 "), received[:300]
    assert b'"code":"RequestTimeout"' in received and b'"target":"body"' in received
    assert waited < 5


def test_normal_requests_are_unaffected(strict_server: Server) -> None:
    with strict_server.client(IHV) as api:
        assert api.get("/healthz").status_code == 200
