"""The blob port on Azure Blob Storage (one container); keys are blob names, validated like local keys.

Uploads stream from the file in blocks (``max_block_size``), never reading a whole file into memory,
and a block blob becomes visible only when its block list is committed, so a reader never sees half a
file. Each blob carries the time it was made by this service's clock (metadata ``driverlens_created``),
which retention reads, so a test that moves the clock moves retention with it, as with the local store.
Failures of the service or the network become ``BlobStoreUnavailable`` (503, retried by runs).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from azure.core.exceptions import AzureError, ResourceNotFoundError
from azure.storage.blob import BlobProperties, ContainerClient, ContentSettings

from driverlens.blobs.content import content_type_for
from driverlens.blobs.store import BlobInfo, validate_key
from driverlens.clock import Clock, SystemClock, ensure_utc
from driverlens.errors import BlobStoreUnavailable, NotFound, ValidationFailed

log = logging.getLogger(__name__)

CREATED_METADATA = "driverlens_created"
READ_CHUNK = 4 * 1024 * 1024
_GONE = "file not found; it may have been deleted after its retention period"


class AzureBlobStore:
    """Blobs in one Azure Blob Storage container (or Azurite), reached through ``container``."""

    def __init__(self, container: ContainerClient, clock: Clock | None = None) -> None:
        self.container = container
        self._clock: Clock = clock or SystemClock()

    @property
    def container_name(self) -> str:
        return str(self.container.container_name)

    def put_file(self, key: str, src_path: Path, *, move: bool = False, synced: bool = False) -> BlobInfo:
        """Upload ``src_path`` as blob ``key`` (streamed in blocks); committed when this returns.

        ``synced`` is meaningless here (the service makes the blob durable); ``move=True`` deletes the
        source once the upload is committed.
        """
        validate_key(key)
        src = Path(src_path)
        created = ensure_utc(self._clock.now())
        settings = ContentSettings(content_type=content_type_for(key))
        try:
            with open(src, "rb") as handle:
                self.container.upload_blob(
                    key,
                    handle,
                    length=src.stat().st_size,
                    overwrite=True,
                    content_settings=settings,
                    metadata={CREATED_METADATA: created.isoformat()},
                    max_concurrency=2,
                )
        except AzureError as exc:
            raise _unavailable("upload", exc) from exc
        if move:
            src.unlink(missing_ok=True)
        return self.stat(key)

    def open_read(self, key: str) -> BinaryIO:
        """A seekable reader that downloads the blob in ranges as it is read."""
        info = self.stat(key)
        return io.BufferedReader(_BlobReader(self.container, key, info.size), READ_CHUNK)

    def stat(self, key: str) -> BlobInfo:
        validate_key(key)
        try:
            props = self.container.get_blob_client(key).get_blob_properties()
        except ResourceNotFoundError as exc:
            raise NotFound(_GONE) from exc
        except AzureError as exc:
            raise _unavailable("stat", exc) from exc
        return _info(key, props)

    def exists(self, key: str) -> bool:
        validate_key(key)
        try:
            return bool(self.container.get_blob_client(key).exists())
        except AzureError as exc:
            raise _unavailable("exists", exc) from exc

    def delete(self, key: str) -> bool:
        validate_key(key)
        try:
            self.container.delete_blob(key)
        except ResourceNotFoundError:
            return False
        except AzureError as exc:
            raise _unavailable("delete", exc) from exc
        return True

    def keys_starting(self, prefix: str) -> list[str]:
        """Keys of the blobs in ``prefix``'s folder whose name starts with its last segment."""
        folder, _, _start = prefix.rpartition("/")
        depth = folder.count("/") + 1 if folder else 0
        try:
            names = [str(b) for b in self.container.list_blob_names(name_starts_with=prefix)]
        except AzureError as exc:
            raise _unavailable("list", exc) from exc
        # Same folder only (the local store lists one directory), and only names the port accepts.
        return sorted(n for n in names if n.count("/") == depth and _valid(n))

    def iter_older_than(self, cutoff: datetime) -> Iterator[BlobInfo]:
        """Blobs made strictly before ``cutoff`` (for retention purges)."""
        limit = ensure_utc(cutoff)
        try:
            for props in self.container.list_blobs(include=["metadata"]):
                name = str(props.name)
                if not _valid(name):
                    continue
                info = _info(name, props)
                if info.created_at < limit:
                    yield info
        except AzureError as exc:
            raise _unavailable("list", exc) from exc

    def readiness(self) -> str:
        """``ok`` when the container answers; else the failure's kind (never a URL or a secret)."""
        try:
            self.container.get_container_properties(timeout=5, retry_total=0)
        except ResourceNotFoundError:
            return f"failed: container {self.container_name!r} does not exist"
        except AzureError as exc:
            return f"failed: {type(exc).__name__}"
        return "ok"

    def ensure_container(self) -> None:
        """Create the container when it is missing (``driverlens`` commands call this at start)."""
        try:
            if not self.container.exists():
                self.container.create_container()
        except AzureError as exc:
            if getattr(exc, "error_code", None) == "ContainerAlreadyExists":
                return
            raise _unavailable("create container", exc) from exc


class _BlobReader(io.RawIOBase):
    """Reads a blob from the current position with ranged downloads; seeking starts a new range."""

    def __init__(self, container: ContainerClient, key: str, size: int) -> None:
        self._blob = container.get_blob_client(key)
        self._size = size
        self._pos = 0
        self._chunks: Iterator[bytes] | None = None
        self._pending = b""

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        target = max(0, base + offset)
        if target != self._pos:
            self._pos = target
            self._chunks, self._pending = None, b""
        return self._pos

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        if self._pos >= self._size or len(view) == 0:
            return 0
        if not self._pending:
            if self._chunks is None:
                try:
                    downloader = self._blob.download_blob(offset=self._pos, max_concurrency=1)
                except ResourceNotFoundError as exc:
                    raise NotFound(_GONE) from exc
                except AzureError as exc:
                    raise _unavailable("download", exc) from exc
                self._chunks = iter(downloader.chunks())
            try:
                self._pending = next(self._chunks, b"")
            except AzureError as exc:
                raise _unavailable("download", exc) from exc
            if not self._pending:
                return 0
        count = min(len(view), len(self._pending))
        view[:count] = self._pending[:count]
        self._pending = self._pending[count:]
        self._pos += count
        return count


def _valid(name: str) -> bool:
    try:
        validate_key(name)
    except ValidationFailed:
        return False
    return True


def _info(key: str, props: BlobProperties) -> BlobInfo:
    created = props.creation_time
    stamp = (props.metadata or {}).get(CREATED_METADATA)
    if stamp:
        try:
            created = datetime.fromisoformat(stamp)
        except ValueError:
            log.warning("blob %s has an unreadable %s: %r", key, CREATED_METADATA, stamp[:40])
    return BlobInfo(key=key, size=int(props.size), created_at=ensure_utc(created))


def _unavailable(action: str, exc: AzureError) -> BlobStoreUnavailable:
    # The SDK's messages can carry request URLs; the log keeps the kind, the error the rest.
    log.warning("azure blob %s failed: %s", action, type(exc).__name__)
    return BlobStoreUnavailable(f"the blob store did not answer ({action}: {type(exc).__name__}); try again")
