"""One fsync per report file: the engine syncs its output, the blob store trusts ``synced=True`` moves."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import pytest

from driverlens.blobs.store import LocalBlobStore
from driverlens.engines import DuckDBEngine, OutputFormat
from tests.engines.conftest import FileEventSource, RawQuery

SIMPLE = RawQuery("SELECT EventId, DriverName FROM failure_events ORDER BY EventId")


class _SyncLog:
    """Records which files and directories ``os.fsync`` was called on (by inode), then really syncs them."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.inodes: list[int] = []  # regular files
        self.directories: list[int] = []
        real = os.fsync

        def fsync(fd: int) -> None:
            st = os.fstat(fd)
            (self.directories if stat.S_ISDIR(st.st_mode) else self.inodes).append(st.st_ino)
            real(fd)

        monkeypatch.setattr(os, "fsync", fsync)


def test_run_to_file_fsyncs_the_file_it_returns_and_records_the_version_it_read(
    tiny_source: FileEventSource, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = _SyncLog(monkeypatch)
    dest = tmp_path / "out" / "r.csv"
    output = DuckDBEngine(tiny_source).run_to_file(SIMPLE, dest, OutputFormat.CSV, timeout_s=5)
    assert log.inodes == [dest.stat().st_ino]
    assert output.sha256 == hashlib.sha256(dest.read_bytes()).hexdigest()
    assert output.bytes == dest.stat().st_size
    assert output.store_version == tiny_source.snapshot().version


def test_synced_move_is_renamed_into_place_without_a_second_fsync(
    tiny_source: FileEventSource, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blobs = LocalBlobStore(tmp_path / "blobs")
    src = tmp_path / "work" / "r.csv"
    output = DuckDBEngine(tiny_source).run_to_file(SIMPLE, src, OutputFormat.CSV, timeout_s=5)
    inode = src.stat().st_ino
    log = _SyncLog(monkeypatch)
    info = blobs.put_file("reports/1/1/1-1.csv", src, move=True, synced=True)
    stored = blobs.path_for("reports/1/1/1-1.csv")
    assert log.inodes == []
    # The new directories and the name are durable too: each directory that gained an entry is synced.
    blobs_root, reports = tmp_path / "blobs", tmp_path / "blobs" / "reports"
    parents = [blobs_root, reports, reports / "1", reports / "1" / "1"]
    assert sorted(log.directories) == sorted(p.stat().st_ino for p in parents)
    assert stored.stat().st_ino == inode  # the very file the engine fsynced
    assert not src.exists()
    assert info.size == output.bytes
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == output.sha256
    assert [p.name for p in stored.parent.iterdir()] == ["1-1.csv"]  # no temp file left behind


def test_unsynced_move_is_still_fsynced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blobs = LocalBlobStore(tmp_path / "blobs")
    src = tmp_path / "r.csv"
    src.write_bytes(b"a,b\n1,2\n")
    log = _SyncLog(monkeypatch)
    blobs.put_file("reports/r.csv", src, move=True)
    assert log.inodes == [blobs.path_for("reports/r.csv").stat().st_ino]
    assert log.directories[-1] == (tmp_path / "blobs" / "reports").stat().st_ino  # after the rename


def test_synced_move_across_devices_falls_back_to_a_synced_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blobs = LocalBlobStore(tmp_path / "blobs")
    src = tmp_path / "r.csv"
    src.write_bytes(b"a,b\n1,2\n")
    real_replace = os.replace

    def replace(a: str | Path, b: str | Path) -> None:
        if Path(a) == src:
            raise OSError(18, "Invalid cross-device link")
        real_replace(a, b)

    monkeypatch.setattr(os, "replace", replace)
    log = _SyncLog(monkeypatch)
    blobs.put_file("reports/r.csv", src, move=True, synced=True)
    stored = blobs.path_for("reports/r.csv")
    assert stored.read_bytes() == b"a,b\n1,2\n"
    assert log.inodes == [stored.stat().st_ino]  # a copy is a new file: synced again
    assert not src.exists()
