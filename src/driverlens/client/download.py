"""Streamed, resumable downloads of report files and CABs, verified by SHA-256 when a checksum is known."""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import os
import random
import re
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx

from driverlens.client.errors import ChecksumMismatchError, NetworkError, error_from_response
from driverlens.client.models import DownloadResult, TransferProgress
from driverlens.retry import RetryPolicy

log = logging.getLogger("driverlens.client")

_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)")
_UNSATISFIED = re.compile(r"bytes\s+\*/(\d+)")
_HEX64 = re.compile(r"[0-9a-fA-F]{64}")
Progress = Callable[[TransferProgress], None]


class _Incomplete(Exception):
    """The body ended before the announced size."""


def part_path(dest: Path) -> Path:
    """Where a download in progress is kept until it is complete and verified."""
    return dest.with_name(dest.name + ".part")


def checksum_from_headers(headers: httpx.Headers) -> str | None:
    """The file's SHA-256 (hex) if the server announced it.

    Understood: ``X-Checksum-Sha256: <hex>``, ``Repr-Digest: sha-256=:<base64>:`` (RFC 9530) and the
    older ``Digest: SHA-256=<base64>``; all describe the whole file, so they also hold for a 206.
    """
    direct = headers.get("x-checksum-sha256")
    if direct and _HEX64.fullmatch(direct.strip()):
        return direct.strip().lower()
    for name, pattern in (("repr-digest", r"sha-256=:([^:]+):"), ("digest", r"sha-256=([A-Za-z0-9+/=]+)")):
        value = headers.get(name)
        if not value:
            continue
        match = re.search(pattern, value, flags=re.IGNORECASE)
        if match:
            try:
                raw = base64.b64decode(match.group(1), validate=True)
            except (binascii.Error, ValueError):
                continue
            if len(raw) == 32:
                return raw.hex()
    return None


def file_name_from_url(url: str) -> str:
    """The download name a signed link carries (``fn``), else the last path segment."""
    parts = urlsplit(url)
    names = parse_qs(parts.query).get("fn")
    if names and names[0]:
        return os.path.basename(names[0])
    return os.path.basename(parts.path) or "download"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


class Downloader:
    """Downloads one URL to a file via ``<dest>.part``, resuming with Range after a broken transfer."""

    def __init__(
        self,
        http: httpx.Client,
        policy: RetryPolicy,
        sleep: Callable[[float], None],
        rng: random.Random,
    ) -> None:
        self.http = http
        self.policy = policy
        self.sleep = sleep
        self.rng = rng
        self._resumed_from = 0

    def download(
        self,
        url: str,
        dest: Path,
        *,
        resume: bool = True,
        expected_sha256: str | None = None,
        progress: Progress | None = None,
    ) -> DownloadResult:
        dest = Path(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        part = part_path(dest)
        if not resume:
            part.unlink(missing_ok=True)
        self._resumed_from = part.stat().st_size if part.exists() else 0
        started = time.monotonic()
        announced: str | None = None
        attempt = 0
        while True:
            attempt += 1
            try:
                announced = self._transfer(url, part, progress) or announced
                break
            except (httpx.TransportError, _Incomplete) as exc:
                if attempt >= self.policy.max_attempts:
                    raise NetworkError(
                        f"the download of {dest.name} broke off ({exc}); {part} is kept: run the same "
                        "download again to resume it"
                    ) from exc
                delay = self.policy.delay(attempt, self.rng)
                log.info("download %s broke off (%s); resuming in %.2fs", dest.name, exc, delay)
                self.sleep(delay)
        actual = sha256_of(part)
        wanted = (expected_sha256 or announced or "").lower() or None
        if wanted is not None and actual != wanted:
            part.unlink(missing_ok=True)
            raise ChecksumMismatchError(
                f"{dest.name}: SHA-256 is {actual}, expected {wanted}; the partial file was removed, "
                "download it again"
            )
        size = part.stat().st_size
        os.replace(part, dest)
        seconds = time.monotonic() - started
        return DownloadResult(dest, size, actual, self._resumed_from, wanted is not None, seconds)

    def _transfer(self, url: str, part: Path, progress: Progress | None) -> str | None:
        """One request appending to ``part``; returns the announced checksum, if any."""
        offset = part.stat().st_size if part.exists() else 0
        headers = {"Range": f"bytes={offset}-"} if offset else {}
        attempt = 0
        while True:
            attempt += 1
            with self.http.stream("GET", url, headers=headers) as response:
                status = response.status_code
                if status == 416 and offset:
                    response.read()
                    match = _UNSATISFIED.fullmatch(response.headers.get("content-range", "").strip())
                    if match and int(match.group(1)) == offset:
                        return None  # the partial file is already the whole file
                    part.unlink(missing_ok=True)
                    offset, headers, self._resumed_from = 0, {}, 0
                    continue
                if status in (429, 500, 502, 503, 504) and attempt < self.policy.max_attempts:
                    response.read()
                    self.sleep(self.policy.delay(attempt, self.rng))
                    continue
                if not response.is_success:
                    response.read()
                    raise error_from_response(response)
                announced = checksum_from_headers(response.headers)
                total = self._total(response, offset)
                if status == 206:
                    match = _CONTENT_RANGE.fullmatch(response.headers.get("content-range", "").strip())
                    if match is None or int(match.group(1)) != offset:
                        raise _Incomplete(
                            f"unexpected Content-Range {response.headers.get('content-range')!r}"
                        )
                    mode = "ab"
                else:
                    offset, mode = 0, "wb"  # the server sent the whole file
                    self._resumed_from = 0
                received = offset
                with part.open(mode) as fh:
                    for chunk in response.iter_bytes():  # as received: a break loses nothing written
                        fh.write(chunk)
                        received += len(chunk)
                        if progress is not None:
                            progress(TransferProgress(received, total, self._resumed_from))
                if total is not None and received != total:
                    raise _Incomplete(f"received {received} of {total} bytes")
                return announced

    @staticmethod
    def _total(response: httpx.Response, offset: int) -> int | None:
        if response.headers.get("content-encoding", "identity").lower() != "identity":
            return None  # lengths count encoded bytes; nothing to compare with
        match = _CONTENT_RANGE.fullmatch(response.headers.get("content-range", "").strip())
        if match and match.group(3) != "*":
            return int(match.group(3))
        length = response.headers.get("content-length")
        if length and length.isdigit() and response.status_code == 200:
            return int(length)
        if length and length.isdigit():
            return offset + int(length)
        return None
