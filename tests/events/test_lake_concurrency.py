"""Concurrent ingest, reports, compaction and retention on the event lake, in separate processes.

Readers (other processes) count both copies of the table at one snapshot, over and over, while batches of
known, binary-distinct sizes commit: every count must be a whole number of batches, the same in both
copies. Each scenario also runs against a deliberately broken writer that commits a batch in two halves;
the same checks must catch it (proof that they can fail).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import timedelta
from itertools import combinations
from pathlib import Path

import pytest

from driverlens.events import EventStore, write_sample_file
from tests.events.conftest import NOW

pytestmark = pytest.mark.slow

BASE = 256
SIZES = (512, 1024, 2048, 4096)  # binary-distinct: any sum of whole batches is unique
OLD = 128  # a batch older than the retention window, deleted while readers read
READERS = 5
REPORTS_PER_READER = 10  # 50 reports in all, at least

_READER = r"""
import json, sys
from pathlib import Path
from driverlens.events import EventStore
store = EventStore(Path(sys.argv[1]))
seen, errors, n, until = [], [], 0, Path(sys.argv[2])
while n < int(sys.argv[3]) or not until.exists():
    try:
        with store.reading() as con:
            ihv, oem = con.execute(
                "SELECT (SELECT count(*) FROM failure_events), (SELECT count(*) FROM failure_events_by_oem)"
            ).fetchone()
        seen.append([ihv, oem])
    except Exception as exc:
        errors.append(repr(exc))
    n += 1
print(json.dumps({"seen": seen, "errors": errors}))
"""

_SPLIT_WRITER = r"""
import sys, time
from pathlib import Path
from driverlens.events import EventStore
store = EventStore(Path(sys.argv[1]))
# Broken on purpose: one batch committed as two commits (first half, pause, second half).
for path in sys.argv[2:]:
    import duckdb
    stem = Path(path).with_suffix("")
    half = f"{stem}.a.parquet", f"{stem}.b.parquet"
    con = duckdb.connect()
    n = con.execute(f"SELECT count(*) FROM read_parquet('{path}')").fetchone()[0]
    src = f"SELECT * FROM read_parquet('{path}')"
    con.execute(f"COPY ({src} LIMIT {n // 2}) TO '{half[0]}' (FORMAT parquet)")
    con.execute(f"COPY ({src} OFFSET {n // 2}) TO '{half[1]}' (FORMAT parquet)")
    store.ingest([half[0]])
    time.sleep(0.5)
    store.ingest([half[1]])
"""

_MAINTAINER = r"""
import sys
from datetime import datetime
from pathlib import Path
from driverlens.events import EventStore
store = EventStore(Path(sys.argv[1]))
now = datetime.fromisoformat(sys.argv[2])
until = Path(sys.argv[3])
while not until.exists():
    store.lake.compact(min_files=1)
    store.purge(now, 90)
"""


def _valid_counts() -> set[int]:
    sums = {BASE + sum(c) for k in range(len(SIZES) + 1) for c in combinations(SIZES, k)}
    return sums | {s + OLD for s in sums}


def _run(tmp_path: Path, *, broken: bool, maintenance: bool) -> tuple[list[list[int]], list[str]]:
    store = EventStore(tmp_path / "var")
    store.ingest([write_sample_file(tmp_path / "base.parquet", BASE, "parquet", seed=1, now=NOW, days=3)])
    old = write_sample_file(
        tmp_path / "old.parquet", OLD, "parquet", seed=2, now=NOW - timedelta(days=120), days=3
    )
    store.ingest([old])
    batches = [
        write_sample_file(tmp_path / f"b{i}.parquet", n, "parquet", seed=10 + i, now=NOW, days=3)
        for i, n in enumerate(SIZES)
    ]
    done = tmp_path / "done"
    readers = [
        subprocess.Popen(
            [sys.executable, "-c", _READER, str(store.data_dir), str(done), str(REPORTS_PER_READER)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(READERS)
    ]
    keeper = None
    if maintenance:
        keeper = subprocess.Popen(
            [sys.executable, "-c", _MAINTAINER, str(store.data_dir), NOW.isoformat(), str(done)]
        )
    time.sleep(1.0)  # readers are reading before the first commit
    writers = []
    if broken:
        writers.append(
            subprocess.Popen([sys.executable, "-c", _SPLIT_WRITER, str(store.data_dir), *map(str, batches)])
        )
    else:
        # Two ingest processes at once, each committing its batches one by one.
        for part in (batches[0::2], batches[1::2]):
            code = (
                "import sys; from pathlib import Path; from driverlens.events import EventStore\n"
                "s = EventStore(Path(sys.argv[1]))\n"
                "for p in sys.argv[2:]: s.ingest([Path(p)])"
            )
            writers.append(
                subprocess.Popen([sys.executable, "-c", code, str(store.data_dir), *map(str, part)])
            )
    for writer in writers:
        assert writer.wait(timeout=240) == 0
    time.sleep(0.5)
    done.touch()
    seen: list[list[int]] = []
    errors: list[str] = []
    for reader in readers:
        out, _ = reader.communicate(timeout=240)
        result = json.loads(out)
        seen += result["seen"]
        errors += result["errors"]
    if keeper is not None:
        assert keeper.wait(timeout=240) == 0
    return seen, errors


def _violations(seen: list[list[int]]) -> list[list[int]]:
    valid = _valid_counts()
    return [pair for pair in seen if pair[0] != pair[1] or pair[0] not in valid]


@pytest.mark.parametrize("maintenance", [False, True], ids=["ingest", "ingest+compaction+retention"])
def test_readers_see_whole_batches_while_ingests_commit(tmp_path: Path, maintenance: bool) -> None:
    seen, errors = _run(tmp_path, broken=False, maintenance=maintenance)
    assert errors == []
    assert len(seen) >= READERS * REPORTS_PER_READER
    assert _violations(seen) == []
    final = EventStore(tmp_path / "var").count()
    assert final == BASE + sum(SIZES) + (0 if maintenance else OLD)
    distinct = len({p[0] for p in seen})
    print(f"lake-concurrency maintenance={maintenance} reports={len(seen)} distinct_counts={distinct}")


def test_a_writer_that_splits_batches_is_caught(tmp_path: Path) -> None:
    seen, errors = _run(tmp_path, broken=True, maintenance=False)
    assert errors == []
    assert _violations(seen), "the split writer's half batches went unnoticed: the check cannot fail"
