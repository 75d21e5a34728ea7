"""Streamed, resumable, verified downloads against a local server that drops connections on purpose."""

from __future__ import annotations

import base64
import hashlib
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from driverlens.client import ChecksumMismatchError, DriverLensClient, NetworkError, TransferProgress
from driverlens.client.download import checksum_from_headers, part_path
from tests.client.stub import FileSpec, Stub, running_stub

CONTENT = bytes(random.Random(5).getrandbits(8) for _ in range(300_000))
SHA = hashlib.sha256(CONTENT).hexdigest()
PATH = "/files/reports/r.csv"


@pytest.fixture
def stub() -> Iterator[Stub]:
    with running_stub() as instance:
        yield instance


@pytest.fixture
def client(stub: Stub) -> Iterator[DriverLensClient]:
    with DriverLensClient(stub.base_url, "t", "c", "s", sleep=lambda s: None, retries=3) as instance:
        yield instance


def test_a_dropped_connection_is_resumed_with_range_and_verified(
    stub: Stub, client: DriverLensClient, tmp_path: Path
) -> None:
    stub.files[PATH] = FileSpec(CONTENT, {"X-Checksum-Sha256": SHA}, drop_after=[100_000, 50_000])
    seen: list[TransferProgress] = []
    result = client.download(f"{stub.base_url}{PATH}?fn=r.csv", tmp_path / "r.csv", progress=seen.append)
    assert (tmp_path / "r.csv").read_bytes() == CONTENT
    assert result.sha256 == SHA and result.verified and result.bytes == len(CONTENT)
    ranges = [s.headers.get("Range") for s in stub.hits(PATH)]
    assert ranges == [None, "bytes=100000-", "bytes=150000-"]
    assert seen[-1].received == len(CONTENT) and seen[-1].total == len(CONTENT)
    assert not part_path(tmp_path / "r.csv").exists()
    assert not any("Authorization" in s.headers for s in stub.hits(PATH))  # links carry no token


def test_a_partial_file_left_by_an_earlier_process_is_resumed(
    stub: Stub, client: DriverLensClient, tmp_path: Path
) -> None:
    digest = base64.b64encode(hashlib.sha256(CONTENT).digest()).decode()
    stub.files[PATH] = FileSpec(CONTENT, {"Repr-Digest": f"sha-256=:{digest}:"})
    dest = tmp_path / "r.csv"
    part_path(dest).write_bytes(CONTENT[:123_456])
    result = client.download(f"{stub.base_url}{PATH}", dest)
    assert result.resumed_from == 123_456 and result.verified
    assert dest.read_bytes() == CONTENT
    assert [s.headers.get("Range") for s in stub.hits(PATH)] == ["bytes=123456-"]


def test_a_complete_partial_file_is_finished_without_a_body(
    stub: Stub, client: DriverLensClient, tmp_path: Path
) -> None:
    stub.files[PATH] = FileSpec(CONTENT)
    dest = tmp_path / "r.csv"
    part_path(dest).write_bytes(CONTENT)
    result = client.download(f"{stub.base_url}{PATH}", dest, expected_sha256=SHA)
    assert result.verified and dest.read_bytes() == CONTENT


def test_a_corrupt_partial_file_fails_the_checksum_and_is_removed(
    stub: Stub, client: DriverLensClient, tmp_path: Path
) -> None:
    stub.files[PATH] = FileSpec(CONTENT, {"X-Checksum-Sha256": SHA})
    dest = tmp_path / "r.csv"
    part_path(dest).write_bytes(b"X" * 1000)  # not the file's first bytes
    with pytest.raises(ChecksumMismatchError, match="download it again"):
        client.download(f"{stub.base_url}{PATH}", dest)
    assert not dest.exists() and not part_path(dest).exists()
    # the next attempt starts afresh and succeeds
    assert client.download(f"{stub.base_url}{PATH}", dest).verified


def test_a_server_that_ignores_range_gets_the_whole_file_again(
    stub: Stub, client: DriverLensClient, tmp_path: Path
) -> None:
    stub.files[PATH] = FileSpec(CONTENT, ranges=False)
    dest = tmp_path / "r.csv"
    part_path(dest).write_bytes(CONTENT[:5000])
    result = client.download(f"{stub.base_url}{PATH}", dest, expected_sha256=SHA)
    assert result.resumed_from == 0 and dest.read_bytes() == CONTENT  # overwritten, not appended


def test_no_resume_starts_over(stub: Stub, client: DriverLensClient, tmp_path: Path) -> None:
    stub.files[PATH] = FileSpec(CONTENT)
    dest = tmp_path / "r.csv"
    part_path(dest).write_bytes(b"garbage")
    result = client.download(f"{stub.base_url}{PATH}", dest, resume=False, expected_sha256=SHA)
    assert result.resumed_from == 0 and dest.read_bytes() == CONTENT


def test_a_transfer_that_keeps_breaking_keeps_the_part_file(
    stub: Stub, client: DriverLensClient, tmp_path: Path
) -> None:
    stub.files[PATH] = FileSpec(CONTENT, drop_after=[10_000] * 4)
    dest = tmp_path / "r.csv"
    with pytest.raises(NetworkError, match="run the same download again"):
        client.download(f"{stub.base_url}{PATH}", dest)
    assert part_path(dest).stat().st_size == 40_000
    result = client.download(f"{stub.base_url}{PATH}", dest, expected_sha256=SHA)
    assert result.resumed_from == 40_000 and dest.read_bytes() == CONTENT


def test_checksum_headers_are_understood() -> None:
    import httpx

    raw = hashlib.sha256(b"x").digest()
    assert checksum_from_headers(httpx.Headers({"x-checksum-sha256": raw.hex().upper()})) == raw.hex()
    b64 = base64.b64encode(raw).decode()
    assert (
        checksum_from_headers(httpx.Headers({"Repr-Digest": f"sha-512=:AA==:, sha-256=:{b64}:"})) == raw.hex()
    )
    assert checksum_from_headers(httpx.Headers({"Digest": f"SHA-256={b64}"})) == raw.hex()
    assert checksum_from_headers(httpx.Headers({"Digest": "SHA-256=short"})) is None
    assert checksum_from_headers(httpx.Headers({})) is None
