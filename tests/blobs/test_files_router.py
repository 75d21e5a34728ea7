"""HTTP behaviour of signed-link downloads (FastAPI TestClient)."""

from __future__ import annotations

import base64
import gzip
import hashlib
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from starlette.exceptions import StarletteDeprecationWarning

with warnings.catch_warnings():
    # Starlette 1.x deprecates its httpx-based TestClient in favour of httpx2 (not a dependency yet).
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

from driverlens.api.files import build_files_router
from driverlens.blobs import EXPIRED_MESSAGE, INVALID_MESSAGE, LinkSigner, LocalBlobStore
from driverlens.blobs.content import content_type_for
from driverlens.clock import FrozenClock

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)
CONTENT = bytes(range(256)) * 40  # 10240 bytes
KEY = "reports/7/run-3.csv"


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(T0)


@pytest.fixture
def signer(clock: FrozenClock) -> LinkSigner:
    return LinkSigner({"a": b"A" * 32}, "a", timedelta(hours=12), clock)


@pytest.fixture
def store(tmp_path: Path, clock: FrozenClock) -> LocalBlobStore:
    store = LocalBlobStore(tmp_path / "blobs", clock)
    src = tmp_path / "src"
    src.write_bytes(CONTENT)
    store.put_file(KEY, src)
    (tmp_path / "secret.csv").write_text("top secret")
    return store


@pytest.fixture
def client(store: LocalBlobStore, signer: LinkSigner) -> TestClient:
    app = FastAPI()
    app.include_router(build_files_router(store, signer))
    # The stored bytes unless a test asks for gzip (httpx would otherwise offer it on every request).
    return TestClient(app, headers={"Accept-Encoding": "identity"})


def test_full_download_headers(client: TestClient, signer: LinkSigner) -> None:
    link = signer.sign(KEY, filename="report 7.csv")
    r = client.get(link.path_and_query)
    assert r.status_code == 200
    assert r.content == CONTENT
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    assert r.headers["content-length"] == str(len(CONTENT))
    assert r.headers["content-disposition"].startswith('attachment; filename="report 7.csv"')
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert r.headers["accept-ranges"] == "bytes"


def test_signed_checksum_is_sent_as_repr_digest_on_full_and_partial_responses(
    client: TestClient, signer: LinkSigner
) -> None:
    digest = hashlib.sha256(CONTENT).hexdigest()
    link = signer.sign(KEY, sha256=digest)
    expected = f"sha-256=:{base64.b64encode(hashlib.sha256(CONTENT).digest()).decode()}:"
    assert client.get(link.path_and_query).headers["repr-digest"] == expected
    partial = client.get(link.path_and_query, headers={"Range": "bytes=2-5"})
    assert partial.status_code == 206 and partial.headers["repr-digest"] == expected
    assert "repr-digest" not in client.get(signer.sign(KEY).path_and_query).headers
    forged = link.path_and_query.replace(digest, hashlib.sha256(b"other").hexdigest())
    assert client.get(forged).status_code == 403


def test_default_filename_is_basename(client: TestClient, signer: LinkSigner) -> None:
    r = client.get(signer.sign(KEY).path_and_query)
    assert r.headers["content-disposition"].startswith('attachment; filename="run-3.csv"')


def test_head(client: TestClient, signer: LinkSigner) -> None:
    r = client.head(signer.sign(KEY).path_and_query)
    assert r.status_code == 200 and r.content == b""
    assert r.headers["content-length"] == str(len(CONTENT))
    r = client.head(signer.sign(KEY).path_and_query, headers={"Range": "bytes=0-9"})
    assert r.status_code == 206 and r.headers["content-length"] == "10"


@pytest.mark.parametrize(
    ("header", "first", "last"),
    [
        ("bytes=0-99", 0, 99),
        ("bytes=100-", 100, len(CONTENT) - 1),
        ("bytes=-10", len(CONTENT) - 10, len(CONTENT) - 1),
        ("bytes=-999999", 0, len(CONTENT) - 1),
        ("bytes=10000-20000", 10000, len(CONTENT) - 1),
        ("bytes=5-5", 5, 5),
    ],
)
def test_ranges(client: TestClient, signer: LinkSigner, header: str, first: int, last: int) -> None:
    r = client.get(signer.sign(KEY).path_and_query, headers={"Range": header})
    assert r.status_code == 206
    assert r.content == CONTENT[first : last + 1]
    assert r.headers["content-range"] == f"bytes {first}-{last}/{len(CONTENT)}"
    assert r.headers["content-length"] == str(last - first + 1)


@pytest.mark.parametrize("header", ["bytes=10240-", "bytes=99999-100000", "bytes=-0"])
def test_unsatisfiable_range(client: TestClient, signer: LinkSigner, header: str) -> None:
    r = client.get(signer.sign(KEY).path_and_query, headers={"Range": header})
    assert r.status_code == 416
    assert r.headers["content-range"] == f"bytes */{len(CONTENT)}"


@pytest.mark.parametrize("header", ["bytes=0-1,5-6", "items=0-5", "bytes=9-3", "bytes=x-"])
def test_unsupported_range_sends_everything(client: TestClient, signer: LinkSigner, header: str) -> None:
    r = client.get(signer.sign(KEY).path_and_query, headers={"Range": header})
    assert r.status_code == 200 and r.content == CONTENT


def error_of(r: object) -> dict[str, object]:
    body = r.json()  # type: ignore[attr-defined]
    assert body["data"] is None and len(body["errors"]) == 1
    err: dict[str, object] = body["errors"][0]
    assert set(err) == {"code", "message", "target", "trackingId"}
    return err


def test_expired_link(client: TestClient, signer: LinkSigner, clock: FrozenClock) -> None:
    link = signer.sign(KEY, timedelta(hours=1))
    clock.current = link.expires_at - timedelta(seconds=1)
    assert client.get(link.path_and_query).status_code == 200
    clock.current = link.expires_at
    r = client.get(link.path_and_query)
    assert r.status_code == 403
    assert error_of(r)["message"] == EXPIRED_MESSAGE
    assert r.headers["cache-control"] == "no-store"


def test_altered_link(client: TestClient, signer: LinkSigner) -> None:
    link = signer.sign(KEY).path_and_query
    for altered in [
        link.replace("run-3", "run-4"),
        link.replace("kid=a", "kid=b"),
        link.replace("exp=", "exp=1"),
        link.split("&sig=")[0],
        link + "&fn=x.csv",
    ]:
        r = client.get(altered)
        assert r.status_code == 403, altered
        assert error_of(r)["message"] == INVALID_MESSAGE


def test_deleted_file_is_404(client: TestClient, signer: LinkSigner, store: LocalBlobStore) -> None:
    link = signer.sign(KEY).path_and_query
    store.delete(KEY)
    r = client.get(link)
    assert r.status_code == 404 and error_of(r)["code"] == "NotFound"


@pytest.mark.parametrize(
    "raw_path",
    [
        "/files/%2e%2e/secret.csv",
        "/files/%2E%2E/%2e%2e/secret.csv",
        "/files/reports/%2e%2e/%2e%2e/%2e%2e/secret.csv",
        "/files//etc/passwd",
        "/files/%2Fetc%2Fpasswd",
        "/files/reports%5c..%5csecret.csv",
        "/files/secret%00.csv",
        "/files/reports//run-3.csv",
    ],
)
def test_traversal_refused_even_with_a_valid_signature(
    client: TestClient, signer: LinkSigner, raw_path: str
) -> None:
    from urllib.parse import unquote

    key = unquote(raw_path.removeprefix("/files/"))
    # Forge a signature with the real key, as if signing had been bypassed: syntax checks still refuse.
    sig = signer._signature(b"A" * 32, key, "1772409600", "a", None, None)
    r = client.get(f"{raw_path}?exp=1772409600&kid=a&sig={sig}")
    assert r.status_code == 400, r.text
    assert error_of(r)["code"] == "InvalidInput"
    assert "top secret" not in r.text


def test_content_types() -> None:
    assert content_type_for("a/b.tsv").startswith("text/tab-separated-values")
    assert content_type_for("a/b.jsonl") == "application/x-ndjson"
    assert content_type_for("a/b.parquet") == "application/vnd.apache.parquet"
    assert content_type_for("cabs/x.CAB") == "application/vnd.ms-cab-compressed"
    assert content_type_for("x.bin") == "application/octet-stream"
    assert content_type_for("dir.csv/noext") == "application/octet-stream"


def test_gzip_when_accepted_for_a_whole_text_file(client: TestClient, signer: LinkSigner) -> None:
    digest = hashlib.sha256(CONTENT).hexdigest()
    link = signer.sign(KEY, sha256=digest)
    r = client.get(link.path_and_query, headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200 and r.content == CONTENT  # httpx decodes it
    assert r.headers["content-encoding"] == "gzip" and r.headers["vary"] == "Accept-Encoding"
    assert "content-length" not in r.headers and "repr-digest" not in r.headers
    assert r.headers["x-checksum-sha256"] == digest
    with client.stream("GET", link.path_and_query, headers={"Accept-Encoding": "gzip"}) as raw:
        wire = b"".join(raw.iter_raw())
    assert wire[:2] == b"\x1f\x8b" and gzip.decompress(wire) == CONTENT


@pytest.mark.parametrize("accept", ["identity", "gzip;q=0", "br", "*;q=0", "gzip;q=0, *"])
def test_no_gzip_unless_accepted(client: TestClient, signer: LinkSigner, accept: str) -> None:
    r = client.get(signer.sign(KEY).path_and_query, headers={"Accept-Encoding": accept})
    assert "content-encoding" not in r.headers and r.headers["content-length"] == str(len(CONTENT))


def test_a_range_gets_the_stored_bytes_even_when_gzip_is_accepted(
    client: TestClient, signer: LinkSigner
) -> None:
    """A resumed transfer counts stored bytes, so a Range is never answered with a compressed body."""
    r = client.get(signer.sign(KEY).path_and_query, headers={"Accept-Encoding": "gzip", "Range": "bytes=2-5"})
    assert r.status_code == 206 and r.content == CONTENT[2:6]
    assert "content-encoding" not in r.headers


def test_parquet_and_gz_files_are_never_gzipped_again(
    client: TestClient, signer: LinkSigner, store: LocalBlobStore, tmp_path: Path
) -> None:
    for key in ("reports/1/run.parquet", "reports/1/run.csv.gz"):
        source = tmp_path / "blob"
        source.write_bytes(b"PAR1 not really")
        store.put_file(key, source)
        r = client.get(signer.sign(key).path_and_query, headers={"Accept-Encoding": "gzip"})
        assert r.status_code == 200 and "content-encoding" not in r.headers, key
