"""``GET /files/{key}``: signed-link downloads streamed from the blob store, with Range support."""

from __future__ import annotations

import base64
import logging
import re
import uuid
from collections.abc import Generator
from typing import BinaryIO

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from driverlens.api.encoding import COMPRESSIBLE_EXTENSIONS, accepts_gzip, gzip_chunks
from driverlens.blobs.content import attachment_disposition, content_type_for
from driverlens.blobs.links import LinkSigner
from driverlens.blobs.store import BlobStore, validate_key
from driverlens.errors import DriverLensError

log = logging.getLogger("driverlens.api.files")

CHUNK = 64 * 1024
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


class _RangeNotSatisfiable(Exception):
    pass


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(first, last) inclusive for a single ``bytes=`` range; None to send everything.

    Multi-range or syntactically invalid headers are ignored (RFC 9110 allows it); a valid but
    unsatisfiable one raises ``_RangeNotSatisfiable``.
    """
    if not header:
        return None
    match = _RANGE.fullmatch(header.strip())
    if match is None or (not match.group(1) and not match.group(2)):
        return None
    first_s, last_s = match.groups()
    if not first_s:  # suffix: the last n bytes
        suffix = int(last_s)
        if suffix == 0 or size == 0:
            raise _RangeNotSatisfiable
        return max(0, size - suffix), size - 1
    first = int(first_s)
    last = int(last_s) if last_s else size - 1
    if last_s and last < first:
        return None
    if first >= size:
        raise _RangeNotSatisfiable
    return first, min(last, size - 1)


def _error(status: int, code: str, message: str, target: str | None = None) -> JSONResponse:
    tracking_id = uuid.uuid4().hex
    log.info("files error status=%s code=%s trackingId=%s", status, code, tracking_id)
    body = {
        "data": None,
        "errors": [{"code": code, "message": message, "target": target, "trackingId": tracking_id}],
    }
    return JSONResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


def _stream(handle: BinaryIO, start: int, length: int) -> Generator[bytes, None, None]:
    try:
        handle.seek(start)
        remaining = length
        while remaining > 0:
            chunk = handle.read(min(CHUNK, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk
    finally:
        handle.close()


def build_files_router(store: BlobStore, signer: LinkSigner) -> APIRouter:
    """The router serving signed download links; no bearer token (the signature is the credential)."""
    router = APIRouter(tags=["files"])

    @router.api_route("/files/{key:path}", methods=["GET", "HEAD"], include_in_schema=True)
    def download(key: str, request: Request) -> Response:
        """Stream a report file or CAB named by a signed, expiring link."""
        params = request.query_params
        filename = params.get("fn")
        sha256 = params.get("sha256")
        try:
            # The key's syntax is checked first: traversal attempts never reach the signer or the disk.
            store_key = validate_key(key)
            signer.verify(
                store_key, params.get("exp"), params.get("kid"), params.get("sig"), filename, sha256
            )
            info = store.stat(store_key)
        except DriverLensError as exc:
            return _error(exc.status, exc.code, exc.message, exc.target)
        try:
            byte_range = parse_range(request.headers.get("range"), info.size)
        except _RangeNotSatisfiable:
            return Response(
                status_code=416,
                headers={"Content-Range": f"bytes */{info.size}", "Cache-Control": "no-store"},
            )

        headers = {
            "Content-Type": content_type_for(store_key),
            "Content-Disposition": attachment_disposition(filename or store_key.rsplit("/", 1)[-1]),
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer",
            "X-Content-Type-Options": "nosniff",
            "Accept-Ranges": "bytes",
        }
        extension = store_key.rsplit(".", 1)[-1].lower()
        compressible = extension in COMPRESSIBLE_EXTENSIONS
        if compressible:
            headers["Vary"] = "Accept-Encoding"
        # gzip only for a whole file: a Range always addresses the stored bytes (driverlens.api.encoding).
        if compressible and byte_range is None and accepts_gzip(request.headers.get("accept-encoding")):
            headers["Content-Encoding"] = "gzip"
            if sha256 is not None:
                headers["X-Checksum-Sha256"] = sha256
            if request.method == "HEAD":
                return Response(status_code=200, headers=headers)
            try:
                handle = store.open_read(store_key)
            except DriverLensError as exc:
                return _error(exc.status, exc.code, exc.message, exc.target)
            return StreamingResponse(gzip_chunks(_stream(handle, 0, info.size)), headers=headers)
        if sha256 is not None:
            # The whole file's digest (RFC 9530), also on partial responses, so resumed downloads verify.
            headers["Repr-Digest"] = f"sha-256=:{base64.b64encode(bytes.fromhex(sha256)).decode()}:"
        status = 200
        start, length = 0, info.size
        if byte_range is not None:
            first, last = byte_range
            start, length = first, last - first + 1
            status = 206
            headers["Content-Range"] = f"bytes {first}-{last}/{info.size}"
        headers["Content-Length"] = str(length)
        if request.method == "HEAD":
            return Response(status_code=status, headers=headers)
        try:
            handle = store.open_read(store_key)
        except DriverLensError as exc:
            return _error(exc.status, exc.code, exc.message, exc.target)
        return StreamingResponse(_stream(handle, start, length), status_code=status, headers=headers)

    return router
