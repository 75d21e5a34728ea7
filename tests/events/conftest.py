"""Fixtures of the event-store tests: a fresh store and a sample-file factory."""

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
    return EventStore(tmp_path / "var", busy_timeout_s=0.5)


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


@contextmanager
def writer_in_another_process(store: EventStore) -> Iterator[None]:
    """Another process holds the store's write lock for the block's duration."""
    writer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; from driverlens.events import EventStore;"
            "s = EventStore(Path(sys.argv[1]));\n"
            "with s.writer():\n print('locked', flush=True); sys.stdin.readline()",
            str(store.data_dir),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == b"locked"
        yield
    finally:
        writer.communicate(b"\n", timeout=60)
