"""Crash dump collection: collectors upload cabinets (HTTP Basic with a collector credential).

The body is streamed to a file under the data directory, hashed on the way, and refused with a 413 as
soon as it passes the size limit, so no upload is ever held in memory whole. The use case then checks,
reads and stores it (``driverlens.cabs.collection``).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any, BinaryIO

from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from driverlens.api.context import ApiContext, get_context
from driverlens.api.envelope import ok
from driverlens.api.schemas import errors
from driverlens.auth.collectors import authenticate_collector, basic_credentials
from driverlens.cabs.collection import EventTargets, collect_cab, limits_for
from driverlens.errors import PayloadTooLarge

UPLOAD_PATH = "/collector/cabs"
_FLUSH = 1 << 20  # write to disk in 1 MB pieces: bounded memory, few thread hops
router = APIRouter(tags=["crash dump collection"])

_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            media: {"schema": {"type": "string", "format": "binary"}}
            for media in ("application/octet-stream",)
        },
    }
}


def _authenticate(ctx: ApiContext, header: str | None) -> str:
    collector_id, secret = basic_credentials(header)
    with ctx.db.session() as session:
        return authenticate_collector(session, collector_id, secret)


def _write(handle: BinaryIO, data: bytes | bytearray) -> None:
    handle.write(data)


async def _receive(request: Request, handle: BinaryIO, limit: int) -> tuple[int, str]:
    """Stream the body into ``handle``: (bytes, sha256); 413 the moment it passes ``limit``."""
    digest = hashlib.sha256()
    size = 0
    pending = bytearray()
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"cabinet is larger than the limit of {limit} bytes", target="body")
        digest.update(chunk)
        pending += chunk
        if len(pending) >= _FLUSH:
            await run_in_threadpool(_write, handle, bytes(pending))
            pending.clear()
    if pending:
        await run_in_threadpool(_write, handle, bytes(pending))
    await run_in_threadpool(handle.flush)
    return size, digest.hexdigest()


@router.post(
    UPLOAD_PATH,
    summary="Upload a crash dump cabinet (collectors)",
    status_code=201,
    openapi_extra=_BODY,
    responses={
        200: {"description": "The same cabinet was already stored; links were added."},
        **errors(401, 409, 413),
    },
)
async def upload_cab(
    request: Request,
    event_id: list[str] = Query([], alias="eventId", description="EventId of a failure event of this CAB."),
    cab_id_hash: list[str] = Query(
        [], alias="cabIdHash", description="CabIdHash carried by failure events of this CAB."
    ),
    ctx: ApiContext = Depends(get_context),
) -> Response:
    """Store a CAB once (by content) and link it to its failure events; the answer says what is inside."""
    collector = await run_in_threadpool(_authenticate, ctx, request.headers.get("authorization"))
    request.scope.setdefault("state", {})["client_id"] = collector
    ctx.limiter.check(f"collector:{collector}")
    targets = EventTargets(tuple(v.strip() for v in event_id), tuple(v.strip() for v in cab_id_hash))
    targets.validate()
    limits = limits_for(ctx.settings)
    uploads = ctx.settings.uploads_dir
    uploads.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix="upload-", suffix=".cab", dir=uploads)
    path = Path(name)
    try:
        with os.fdopen(fd, "wb") as handle:
            _, digest = await _receive(request, handle, limits.max_bytes)
        result = await run_in_threadpool(
            lambda: collect_cab(
                path,
                db=ctx.db,
                blobs=ctx.blobs,
                events=ctx.events,
                limits=limits,
                targets=targets,
                collected_by=collector,
                now=ctx.now(),
                sha256=digest,
                move=True,
            )
        )
    finally:
        path.unlink(missing_ok=True)
    return ok(result.to_json(), status=201 if result.created else 200)
