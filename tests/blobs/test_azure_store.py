"""The Azure Blob adapter against Azurite: uploads, SAS downloads with a plain HTTP client, expiry,
tampering, read-only links, retention, streaming uploads and readiness."""

from __future__ import annotations

import hashlib
import os
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
import pytest
from azure.storage.blob import ContainerClient

from driverlens.blobs.azure_sas import AzureSasLinks
from driverlens.blobs.azure_store import AzureBlobStore
from driverlens.blobs.backend import BlobBackend, blob_backend_from_settings
from driverlens.blobs.retention import purge_blobs
from driverlens.clock import FrozenClock, SystemClock
from driverlens.errors import BlobStoreUnavailable, NotFound
from driverlens.settings import Settings
from tests.fixtures_azurite import ACCOUNT, ACCOUNT_KEY, Azurite

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def azure_settings(azurite: Azurite, container: str, data_dir: Path) -> Settings:
    env = azurite.settings_env(container)
    return Settings(
        data_dir=data_dir,
        blob_store="azure",
        azure_blob_container_url=env["DRIVERLENS_AZURE_BLOB_CONTAINER_URL"],
        azure_storage_connection_string=env["DRIVERLENS_AZURE_STORAGE_CONNECTION_STRING"],
    )


@pytest.fixture
def backend(azurite: Azurite, azure_container: str, tmp_path: Path) -> BlobBackend:
    """The backend the API builds from Azure settings (factory included), on the real clock."""
    return blob_backend_from_settings(azure_settings(azurite, azure_container, tmp_path), SystemClock())


def put(backend: BlobBackend, key: str, content: bytes, tmp_path: Path) -> None:
    src = tmp_path / f"src-{hashlib.sha256(key.encode()).hexdigest()[:8]}"
    src.write_bytes(content)
    backend.store.put_file(key, src, move=True)
    assert not src.exists()  # move=True: the source goes once the upload is committed


def test_upload_then_sas_download_with_a_plain_http_client(backend: BlobBackend, tmp_path: Path) -> None:
    content = b"FailureName,SUM(EventCount)\nx,3\n" * 100
    put(backend, "reports/1/2/run-3-1.csv", content, tmp_path)
    info = backend.store.stat("reports/1/2/run-3-1.csv")
    assert info.size == len(content)

    url = backend.links.url("reports/1/2/run-3-1.csv", "report-2-20260301T000000Z.csv", "ab" * 32)
    assert url.startswith(backend.store.container.url + "/reports/1/2/run-3-1.csv?")  # type: ignore[attr-defined]
    query = dict(parse_qsl(urlsplit(url).query))
    assert query["sp"] == "r" and query["sr"] == "b" and "sig" in query
    expires = datetime.strptime(query["se"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert timedelta(hours=11, minutes=59) < expires - datetime.now(UTC) <= timedelta(hours=12)

    response = httpx.get(url)
    assert response.status_code == 200, response.text
    assert response.content == content
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;") and 'filename="report-2-20260301T000000Z.csv"' in disposition


def test_cab_links_name_the_cab_and_its_type(backend: BlobBackend, tmp_path: Path) -> None:
    put(backend, "cabs/ab/abcdef.cab", b"MSCF\x00\x00\x00\x00cabinet", tmp_path)
    response = httpx.get(backend.links.url("cabs/ab/abcdef.cab", "1234-cab-id.cab"))
    assert response.status_code == 200 and response.content.startswith(b"MSCF")
    assert response.headers["content-type"] == "application/vnd.ms-cab-compressed"
    assert 'filename="1234-cab-id.cab"' in response.headers["content-disposition"]


def test_sas_link_only_reads(backend: BlobBackend, tmp_path: Path) -> None:
    put(backend, "reports/ro.csv", b"a\n1\n", tmp_path)
    url = backend.links.url("reports/ro.csv", "ro.csv")
    overwrite = httpx.put(url, content=b"evil", headers={"x-ms-blob-type": "BlockBlob"})
    delete = httpx.delete(url)
    assert (overwrite.status_code, delete.status_code) == (403, 403)
    assert httpx.get(url).content == b"a\n1\n"


def test_expired_sas_is_refused(azurite: Azurite, azure_container: str, tmp_path: Path) -> None:
    settings = azure_settings(azurite, azure_container, tmp_path)
    now = datetime.now(UTC).replace(microsecond=0)
    clock = FrozenClock(now)
    backend = blob_backend_from_settings(settings, clock)
    put(backend, "reports/exp.csv", b"a\n1\n", tmp_path)
    fresh = backend.links.url("reports/exp.csv", "exp.csv")
    clock.advance(timedelta(hours=-12, seconds=-30))  # a link made 12 h 30 s ago has expired 30 s ago
    stale = backend.links.url("reports/exp.csv", "exp.csv")
    assert httpx.get(fresh).status_code == 200
    refused = httpx.get(stale)
    assert refused.status_code == 403
    assert "AuthenticationFailed" in refused.text or "AuthorizationFailure" in refused.text


def test_a_short_lived_sas_stops_working_when_it_expires(backend: BlobBackend, tmp_path: Path) -> None:
    put(backend, "reports/short.csv", b"a\n1\n", tmp_path)
    links = backend.links
    assert isinstance(links, AzureSasLinks)
    short = AzureSasLinks(
        links.container_url, ACCOUNT, timedelta(seconds=2), SystemClock(), account_key=ACCOUNT_KEY
    )
    url = short.url("reports/short.csv", "short.csv")
    assert httpx.get(url).status_code == 200
    expiry = datetime.strptime(dict(parse_qsl(urlsplit(url).query))["se"], "%Y-%m-%dT%H:%M:%SZ")
    time.sleep(max(0.0, (expiry.replace(tzinfo=UTC) - datetime.now(UTC)).total_seconds()) + 1.2)
    assert httpx.get(url).status_code == 403


def _with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.update(changes)
    return urlunsplit(parts._replace(query=urlencode(query)))


def _flip_signature(url: str) -> str:
    sig = dict(parse_qsl(urlsplit(url).query))["sig"]
    return _with_query(url, sig=("B" if sig[0] != "B" else "C") + sig[1:])


TAMPERINGS: dict[str, Callable[[str], str]] = {
    "signature": _flip_signature,
    "permissions": lambda url: _with_query(url, sp="rwd"),
    "expiry": lambda url: _with_query(url, se="2099-01-01T00:00:00Z"),
    "download name": lambda url: _with_query(url, rscd='attachment; filename="other.csv"'),
    "content type": lambda url: _with_query(url, rsct="text/html"),
    "other blob": lambda url: url.replace("/reports/mine.csv?", "/reports/theirs.csv?"),
}


@pytest.mark.parametrize("what", list(TAMPERINGS))
def test_a_tampered_sas_is_refused(backend: BlobBackend, tmp_path: Path, what: str) -> None:
    put(backend, "reports/mine.csv", b"mine\n", tmp_path)
    put(backend, "reports/theirs.csv", b"theirs\n", tmp_path)
    url = backend.links.url("reports/mine.csv", "mine.csv")
    assert httpx.get(url).status_code == 200  # the genuine link works: the refusal is the tampering's
    tampered = TAMPERINGS[what](url)
    assert tampered != url
    response = httpx.get(tampered)
    assert response.status_code == 403, (what, response.status_code)
    assert b"theirs" not in response.content


def test_retention_deletes_old_blobs_and_their_links_stop_working(
    azurite: Azurite, azure_container: str, tmp_path: Path
) -> None:
    clock = FrozenClock(T0)
    backend = blob_backend_from_settings(azure_settings(azurite, azure_container, tmp_path), clock)
    put(backend, "reports/1/old.csv", b"old\n", tmp_path)
    put(backend, "cabs/aa/old.cab", b"MSCFold", tmp_path)
    clock.advance(timedelta(days=20))
    put(backend, "reports/1/new.csv", b"new\n", tmp_path)
    assert backend.store.stat("reports/1/old.csv").created_at == T0  # the service's clock, not Azure's
    clock.current = datetime.now(UTC)
    old_link = backend.links.url("reports/1/old.csv", "old.csv")
    assert httpx.get(old_link).status_code == 200

    report = purge_blobs(backend.store, T0 + timedelta(days=31), retention_days=30)

    assert sorted(report.deleted_keys) == ["cabs/aa/old.cab", "reports/1/old.csv"]
    assert report.bytes_freed == len(b"old\n") + len(b"MSCFold")
    assert not backend.store.exists("reports/1/old.csv") and backend.store.exists("reports/1/new.csv")
    assert httpx.get(old_link).status_code == 404
    with pytest.raises(NotFound):
        backend.store.stat("cabs/aa/old.cab")
    assert backend.store.delete("cabs/aa/old.cab") is False


def test_keys_starting_lists_one_folder_like_the_local_store(backend: BlobBackend, tmp_path: Path) -> None:
    for key in ("r/1/run-5-1.csv", "r/1/run-5-2.csv", "r/1/run-50-1.csv", "r/1/run-5-1.csv.d/x", "r/2/a"):
        put(backend, key, b"x", tmp_path)
    assert backend.store.keys_starting("r/1/run-5-") == ["r/1/run-5-1.csv", "r/1/run-5-2.csv"]
    assert backend.store.keys_starting("r/1/run-9") == []


def test_open_read_streams_from_any_offset(backend: BlobBackend, tmp_path: Path) -> None:
    content = os.urandom(300_000)
    put(backend, "reports/r.parquet", content, tmp_path)
    with backend.store.open_read("reports/r.parquet") as handle:
        assert handle.read(10) == content[:10]
        handle.seek(250_000)
        assert handle.read() == content[250_000:]
        handle.seek(5)
        assert handle.read(5) == content[5:10]
    with pytest.raises(NotFound):
        backend.store.open_read("reports/missing.csv")


def test_large_uploads_stream_in_blocks(azurite: Azurite, azure_container: str, tmp_path: Path) -> None:
    block = 256 * 1024
    container = ContainerClient.from_connection_string(
        azurite.connection_string, azure_container, max_single_put_size=block, max_block_size=block
    )
    store = AzureBlobStore(container)
    src = tmp_path / "big.csv"
    digest = hashlib.sha256()
    with open(src, "wb") as handle:
        for _ in range(32):  # 8 MiB
            chunk = os.urandom(block)
            digest.update(chunk)
            handle.write(chunk)

    tracemalloc.start()
    try:
        store.put_file("reports/big.csv", src)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert peak < 8 * block, f"upload held {peak} bytes at once: it read the file whole"
    committed, _ = container.get_blob_client("reports/big.csv").get_block_list("committed")
    assert len(committed) == 32 and {b.size for b in committed} == {block}
    sas = AzureSasLinks(container.url, ACCOUNT, timedelta(hours=1), SystemClock(), account_key=ACCOUNT_KEY)
    with httpx.stream("GET", sas.url("reports/big.csv", "big.csv")) as response:
        received = hashlib.sha256()
        for piece in response.iter_bytes():
            received.update(piece)
    assert received.hexdigest() == digest.hexdigest()


def test_readiness_says_ok_missing_or_unreachable_without_secrets(
    azurite: Azurite, backend: BlobBackend, tmp_path: Path
) -> None:
    assert backend.store.readiness() == "ok"
    missing = blob_backend_from_settings(azure_settings(azurite, "nosuchcontainer", tmp_path), SystemClock())
    assert missing.store.readiness() == "failed: container 'nosuchcontainer' does not exist"

    closed = tmp_path / "closed"
    closed.mkdir()
    env = azurite.settings_env("c")
    unreachable = Settings(
        data_dir=closed,
        blob_store="azure",
        azure_blob_container_url=f"http://127.0.0.1:{_closed_port()}/{ACCOUNT}/c",
        azure_storage_connection_string=env["DRIVERLENS_AZURE_STORAGE_CONNECTION_STRING"],
    )
    started = time.monotonic()
    verdict = blob_backend_from_settings(unreachable, SystemClock()).store.readiness()
    assert verdict.startswith("failed: ") and time.monotonic() - started < 10
    assert ACCOUNT_KEY not in verdict and "127.0.0.1" not in verdict
    with pytest.raises(BlobStoreUnavailable):
        blob_backend_from_settings(unreachable, SystemClock()).store.exists("reports/x.csv")


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
