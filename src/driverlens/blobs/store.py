"""The blob port and its local-directory adapter; keys are strictly validated relative paths."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, Protocol

from driverlens.clock import Clock, SystemClock, ensure_utc
from driverlens.errors import NotFound, Problem, ValidationFailed

MAX_KEY_LENGTH = 512
_SEGMENT = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}")
_TEMP_PREFIX = ".tmp-"


@dataclass(frozen=True)
class BlobInfo:
    key: str
    size: int
    created_at: datetime


class BlobStore(Protocol):
    """Where report files and CABs live: ``LocalBlobStore`` (embedded default) or ``AzureBlobStore``."""

    def put_file(self, key: str, src_path: Path, *, move: bool = False, synced: bool = False) -> BlobInfo: ...

    def open_read(self, key: str) -> BinaryIO: ...

    def stat(self, key: str) -> BlobInfo: ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> bool: ...

    def iter_older_than(self, cutoff: datetime) -> Iterator[BlobInfo]: ...

    def keys_starting(self, prefix: str) -> list[str]: ...

    def readiness(self) -> str:
        """``ok``, or ``failed: <why>`` without secrets (for ``/healthz``)."""
        ...


def validate_key(key: str) -> str:
    """Return ``key`` if it is a safe relative slash path, else raise ``ValidationFailed``.

    Segments start with a letter, digit or underscore (so no ``.``/``..``, no hidden or temp names) and
    use only ``A-Z a-z 0-9 . _ -``; no leading or trailing slash, no empty segment.
    """
    problem: str | None = None
    if not isinstance(key, str) or not key:
        problem = "blob key must be a non-empty string"
    elif len(key) > MAX_KEY_LENGTH:
        problem = f"blob key is longer than {MAX_KEY_LENGTH} characters"
    elif "\x00" in key or "\\" in key:
        problem = "blob key must not contain NUL or backslash"
    elif key.startswith("/"):
        problem = "blob key must be relative (no leading '/')"
    else:
        for segment in key.split("/"):
            if not segment:
                problem = "blob key must not contain empty segments ('//' or a trailing '/')"
                break
            if segment in (".", ".."):
                problem = "blob key must not contain '.' or '..' segments"
                break
            if not _SEGMENT.fullmatch(segment):
                problem = (
                    f"blob key segment {segment[:40]!r} is not allowed: use letters, digits, '.', '_' "
                    "and '-', starting with a letter, digit or '_'"
                )
                break
    if problem is not None:
        raise ValidationFailed([Problem(path="key", message=problem, value=key[:80] if key else key)])
    return key


class LocalBlobStore:
    """Blobs as files under ``root``; writes are atomic (temp file in the same directory, then rename)."""

    def __init__(self, root: Path, clock: Clock | None = None) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._root_resolved = self.root.resolve()
        self._clock: Clock = clock or SystemClock()

    def path_for(self, key: str) -> Path:
        """The file path of ``key``; refuses keys that would escape the root, even through symlinks."""
        validate_key(key)
        resolved = (self._root_resolved / key).resolve()
        if not resolved.is_relative_to(self._root_resolved) or resolved == self._root_resolved:
            raise ValidationFailed([Problem(path="key", message="blob key escapes the blob store root")])
        return resolved

    def put_file(self, key: str, src_path: Path, *, move: bool = False, synced: bool = False) -> BlobInfo:
        """Store ``src_path`` under ``key`` atomically; the blob is on disk when this returns.

        "On disk" covers the data and the name: after the rename the directory is fsynced, and so is the
        parent of every directory this call created, so a crash right after a run is committed cannot
        lose its file.

        ``move=True`` renames the source into place when it is on the same file system (else copies and
        deletes it). ``synced=True`` promises the source's data is already fsynced (the report engine
        fsyncs its output): a rename keeps the same inode and data, so the blob is renamed straight into
        place without a second fsync; a cross-device copy is a new file and is still fsynced.
        """
        dest = self.path_for(key)
        _make_dirs_durably(dest.parent)
        # Re-check after creating directories: a symlinked parent must not lead outside the root.
        dest = self.path_for(key)
        if move and synced and self._rename_synced(Path(src_path), dest):
            _fsync_dir(dest.parent)  # the new name survives a crash too, not only the data
            return self.stat(key)
        fd, tmp_name = tempfile.mkstemp(prefix=_TEMP_PREFIX, dir=dest.parent)
        tmp = Path(tmp_name)
        try:
            os.close(fd)
            if move:
                try:
                    os.replace(src_path, tmp)
                except OSError:
                    shutil.copyfile(src_path, tmp)
                    Path(src_path).unlink()
            else:
                shutil.copyfile(src_path, tmp)
            with open(tmp, "rb+") as handle:
                os.fsync(handle.fileno())
            stamp = self._clock.now().timestamp()
            os.utime(tmp, (stamp, stamp))
            os.replace(tmp, dest)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        _fsync_dir(dest.parent)
        return self.stat(key)

    def _rename_synced(self, src: Path, dest: Path) -> bool:
        """Rename an already-fsynced file into place; False when it must be copied (another device)."""
        stamp = self._clock.now().timestamp()
        try:
            os.utime(src, (stamp, stamp))
            os.replace(src, dest)
        except OSError:
            return False
        return True

    def open_read(self, key: str) -> BinaryIO:
        path = self.path_for(key)
        try:
            return open(path, "rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise NotFound("file not found; it may have been deleted after its retention period") from exc

    def stat(self, key: str) -> BlobInfo:
        path = self.path_for(key)
        try:
            st = path.stat()
        except (FileNotFoundError, NotADirectoryError) as exc:
            raise NotFound("file not found; it may have been deleted after its retention period") from exc
        if not path.is_file():
            raise NotFound("file not found")
        return BlobInfo(key=key, size=st.st_size, created_at=datetime.fromtimestamp(st.st_mtime, UTC))

    def exists(self, key: str) -> bool:
        return self.path_for(key).is_file()

    def delete(self, key: str) -> bool:
        path = self.path_for(key)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        self._prune_empty_dirs(path.parent)
        return True

    def keys_starting(self, prefix: str) -> list[str]:
        """Keys of the blobs in ``prefix``'s folder whose name starts with its last segment."""
        folder, _, start = prefix.rpartition("/")
        directory = self.path_for(folder) if folder else self._root_resolved
        try:
            names = sorted(os.listdir(directory))
        except (FileNotFoundError, NotADirectoryError):
            return []
        return [
            f"{folder}/{name}" if folder else name
            for name in names
            if name.startswith(start) and not name.startswith(".")
        ]

    def iter_older_than(self, cutoff: datetime) -> Iterator[BlobInfo]:
        """Blobs created strictly before ``cutoff`` (for retention purges)."""
        limit = ensure_utc(cutoff).timestamp()
        for dirpath, dirnames, filenames in os.walk(self._root_resolved):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                if name.startswith("."):
                    continue
                full = Path(dirpath) / name
                key = full.relative_to(self._root_resolved).as_posix()
                try:
                    st = full.lstat()
                    validate_key(key)
                except (OSError, ValidationFailed):
                    continue
                if st.st_mtime < limit:
                    yield BlobInfo(
                        key=key, size=st.st_size, created_at=datetime.fromtimestamp(st.st_mtime, UTC)
                    )

    def readiness(self) -> str:
        """``ok`` while the root is a writable directory (a full disk is ``/healthz``'s disk check)."""
        if not self._root_resolved.is_dir():
            return "failed: the blob directory is missing"
        if not os.access(self._root_resolved, os.W_OK | os.X_OK):
            return "failed: the blob directory is not writable"
        return "ok"

    def _prune_empty_dirs(self, directory: Path) -> None:
        while directory != self._root_resolved and directory.is_relative_to(self._root_resolved):
            try:
                directory.rmdir()
            except OSError:
                return
            directory = directory.parent


def _make_dirs_durably(directory: Path) -> None:
    """Create ``directory`` and its missing parents, fsyncing each directory that gained an entry."""
    missing: list[Path] = []
    while not directory.exists():
        missing.append(directory)
        directory = directory.parent
    for created in reversed(missing):
        try:
            created.mkdir()
        except FileExistsError:  # another worker created it meanwhile, and synced its parent
            continue
        _fsync_dir(created.parent)


def _fsync_dir(directory: Path) -> None:
    """Make the entries of ``directory`` (a rename or a new name in it) durable."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
