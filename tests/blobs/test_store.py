"""Local blob store: atomic puts, strict keys, root confinement (also through symlinks), retention."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from driverlens.blobs import LocalBlobStore, validate_key
from driverlens.clock import FrozenClock
from driverlens.errors import NotFound, ValidationFailed

T0 = datetime(2026, 3, 1, tzinfo=UTC)

BAD_KEYS = [
    "",
    "../x.csv",
    "a/../../x.csv",
    "..",
    ".",
    "a/./b.csv",
    "/etc/passwd",
    "a\\..\\b",
    "a\x00.csv",
    "a//b.csv",
    "a/",
    "%2e%2e/x.csv",
    "a/b c.csv",
    "a/é.csv",
    ".tmp-123",
    "a/.hidden",
    "x" * 600,
]


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(T0)


@pytest.fixture
def store(tmp_path: Path, clock: FrozenClock) -> LocalBlobStore:
    return LocalBlobStore(tmp_path / "blobs", clock)


def make_src(tmp_path: Path, content: bytes = b"a,b\n1,2\n") -> Path:
    src = tmp_path / "src.csv"
    src.write_bytes(content)
    return src


@pytest.mark.parametrize("key", BAD_KEYS)
def test_bad_keys_refused(store: LocalBlobStore, key: str) -> None:
    with pytest.raises(ValidationFailed):
        validate_key(key)
    with pytest.raises(ValidationFailed):
        store.stat(key)
    with pytest.raises(ValidationFailed):
        store.open_read(key)


@pytest.mark.parametrize("key", ["a.csv", "reports/1/run-0.csv", "cabs/AB_cd-9/x.cab", "_x"])
def test_good_keys(key: str) -> None:
    assert validate_key(key) == key


def test_put_copy_and_read(store: LocalBlobStore, tmp_path: Path) -> None:
    src = make_src(tmp_path)
    info = store.put_file("reports/1/run-0.csv", src)
    assert info.size == 8 and info.created_at == T0 and info.key == "reports/1/run-0.csv"
    assert src.exists()
    with store.open_read("reports/1/run-0.csv") as handle:
        assert handle.read() == b"a,b\n1,2\n"
    assert store.exists("reports/1/run-0.csv")
    # No temp files are left behind.
    assert sorted(p.name for p in (tmp_path / "blobs/reports/1").iterdir()) == ["run-0.csv"]


def test_put_move_replaces_atomically(store: LocalBlobStore, tmp_path: Path) -> None:
    store.put_file("r.csv", make_src(tmp_path, b"old"))
    src = make_src(tmp_path, b"newer")
    info = store.put_file("r.csv", src, move=True)
    assert info.size == 5 and not src.exists()
    with store.open_read("r.csv") as handle:
        assert handle.read() == b"newer"


def test_missing_is_not_found(store: LocalBlobStore) -> None:
    with pytest.raises(NotFound):
        store.stat("nope.csv")
    with pytest.raises(NotFound):
        store.open_read("nope.csv")
    assert not store.exists("nope.csv")
    assert store.delete("nope.csv") is False


def test_symlink_escape_refused(store: LocalBlobStore, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.csv").write_text("secret")
    os.symlink(outside, tmp_path / "blobs" / "link")
    with pytest.raises(ValidationFailed, match="escapes"):
        store.open_read("link/secret.csv")
    with pytest.raises(ValidationFailed, match="escapes"):
        store.put_file("link/new.csv", make_src(tmp_path))
    assert not (outside / "new.csv").exists()


def test_delete_prunes_and_retention(store: LocalBlobStore, clock: FrozenClock, tmp_path: Path) -> None:
    store.put_file("reports/1/old.csv", make_src(tmp_path))
    clock.advance(timedelta(days=31))
    store.put_file("reports/2/new.csv", make_src(tmp_path))
    cutoff = clock.now() - timedelta(days=30)
    old = list(store.iter_older_than(cutoff))
    assert [b.key for b in old] == ["reports/1/old.csv"]
    assert store.delete("reports/1/old.csv") is True
    assert not (tmp_path / "blobs/reports/1").exists()
    assert (tmp_path / "blobs/reports/2/new.csv").exists()
    assert list(store.iter_older_than(cutoff)) == []


def test_purge_blobs_after_retention(store: LocalBlobStore, clock: FrozenClock, tmp_path: Path) -> None:
    from driverlens.blobs import purge_blobs

    store.put_file("reports/1/a.csv", make_src(tmp_path))  # made at T0
    clock.advance(timedelta(days=1))
    store.put_file("cabs/x.cab", make_src(tmp_path, b"cab"))  # made at T0 + 1 day
    assert purge_blobs(store, T0 + timedelta(days=30)).deleted == 0  # exactly 30 days: kept
    report = purge_blobs(store, T0 + timedelta(days=30, seconds=1))
    assert report.deleted_keys == ["reports/1/a.csv"] and report.bytes_freed == 8
    assert store.exists("cabs/x.cab")
    assert purge_blobs(store, T0 + timedelta(days=32)).deleted_keys == ["cabs/x.cab"]
