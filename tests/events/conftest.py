"""Fixtures of the event-store tests: a fresh store, a sample-file factory, a paused ingest elsewhere."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest

from driverlens.events import EventStore, write_sample_file
from driverlens.events.seed import SampleFormat

NOW = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> EventStore:
    return EventStore(tmp_path / "var")


SampleFactory = Callable[..., Path]


@pytest.fixture
def sample(tmp_path: Path) -> SampleFactory:
    """Builds an ingestible file of synthetic events: ``sample("a.csv", rows=100, seed=1)``."""

    def build(name: str, *, rows: int = 2_000, seed: int = 0, days: int = 30) -> Path:
        fmt: SampleFormat
        for suffix in ("csv.gz", "csv", "jsonl", "parquet"):
            if name.endswith("." + suffix):
                fmt = suffix
                break
        else:
            raise ValueError(name)
        return write_sample_file(tmp_path / "in" / name, rows, fmt, seed=seed, now=NOW, days=days)

    return build


# Another process ingests a file and stops just before its commit, with its data files written, until
# told to go on (a line on stdin); it then prints how many events it loaded.
_PAUSED_INGEST = """
import sys
from pathlib import Path
from driverlens.events import EventStore
from driverlens.events.lake import Lake
real = Lake.commit_files
def paused(self, *args, **kwargs):
    print("staged", flush=True)
    sys.stdin.readline()
    return real(self, *args, **kwargs)
Lake.commit_files = paused
print(EventStore(Path(sys.argv[1])).ingest([Path(sys.argv[2])]).loaded, flush=True)
"""


@contextmanager
def ingest_paused_before_commit(store: EventStore, path: Path) -> Iterator[list[int]]:
    """Another process is mid-ingest of ``path`` (files written, not committed) for the block's duration.

    The yielded list receives the number of events that ingest loaded once the block has ended.
    """
    writer = subprocess.Popen(
        [sys.executable, "-c", _PAUSED_INGEST, str(store.data_dir), str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    loaded: list[int] = []
    staged = False
    try:
        assert writer.stdout is not None
        staged = writer.stdout.readline().strip() == b"staged"
        if staged:
            yield loaded
    finally:
        out, err = writer.communicate(b"\n", timeout=120)
    if not staged or writer.returncode != 0:
        raise AssertionError(f"the ingest in the other process failed: {err.decode()}")
    loaded.append(int(out.strip()))
