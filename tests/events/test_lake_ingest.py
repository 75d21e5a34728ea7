"""Ingest into the lake: one atomic, idempotent commit per call, every EventId stored once, crash-safe."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from driverlens.events import EventStore, write_sample_file
from driverlens.events.convert import convert_legacy_store
from driverlens.events.ingest import RowsRejected
from driverlens.events.schema import COLUMN_NAMES, COLUMN_TYPES
from tests.events.conftest import NOW

_INGEST = (
    "import sys; from pathlib import Path; from driverlens.events import EventStore\n"
    "r = EventStore(Path(sys.argv[1])).ingest([Path(p) for p in sys.argv[2:]])\n"
    "print(r.loaded, r.duplicates, flush=True)"
)


def _ids(store: EventStore) -> tuple[int, int]:
    with store.reading() as con:
        row = con.execute('SELECT count(*), count(DISTINCT "EventId") FROM failure_events').fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def test_a_call_is_one_commit_and_running_it_again_adds_nothing(tmp_path: Path) -> None:
    store = EventStore(tmp_path / "var")
    a = write_sample_file(tmp_path / "a.csv", 700, "csv", seed=1, now=NOW, days=5)
    b = write_sample_file(tmp_path / "b.jsonl", 300, "jsonl", seed=2, now=NOW, days=5)
    before = store.snapshot().version
    report = store.ingest([a, b])
    assert (report.loaded, report.version) == (1000, before + 1)
    again = store.ingest([a, b])
    assert (again.loaded, again.already_committed) == (0, True)
    assert store.snapshot().version == before + 1
    # The same events in another file (another batch): nothing is stored twice either.
    c = write_sample_file(tmp_path / "c.parquet", 700, "parquet", seed=1, now=NOW, days=5)
    assert store.ingest([c]).loaded == 0
    assert _ids(store) == (1000, 1000)
    history = store.lake.history(10)
    assert any(h.get("driverlens.operation") == "ingest" for h in history)


def test_concurrent_ingests_of_overlapping_files_store_each_event_once(tmp_path: Path) -> None:
    store = EventStore(tmp_path / "var")
    store.ingest([write_sample_file(tmp_path / "seed.csv", 50, "csv", seed=9, now=NOW, days=2)])
    same = write_sample_file(tmp_path / "x.csv", 3000, "csv", seed=3, now=NOW, days=3)
    other = write_sample_file(tmp_path / "y.parquet", 3000, "parquet", seed=3, now=NOW, days=3)  # same events
    procs = [
        subprocess.Popen([sys.executable, "-c", _INGEST, str(store.data_dir), str(p)], stdout=subprocess.PIPE)
        for p in (same, other, same)
    ]
    loaded = []
    for proc in procs:
        out, _ = proc.communicate(timeout=240)
        assert proc.returncode == 0
        loaded.append(int(out.split()[0]))
    assert sum(loaded) == 3000
    assert _ids(store) == (3050, 3050)


@pytest.mark.slow
def test_kill_9_at_random_points_leaves_all_or_nothing_and_a_rerun_completes(tmp_path: Path) -> None:
    store = EventStore(tmp_path / "var")
    path = write_sample_file(tmp_path / "big.csv", 6000, "csv", seed=5, now=NOW, days=10)
    rng = random.Random(20261205)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import driverlens.events"], check=True)
    import_s = time.perf_counter() - started
    seen: set[int] = set()
    for _ in range(20):
        proc = subprocess.Popen([sys.executable, "-c", _INGEST, str(store.data_dir), str(path)])
        time.sleep(rng.uniform(import_s * 0.5, import_s + 2.5))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        count, distinct = _ids(store)
        assert count == distinct and count in (0, 6000)
        seen.add(count)
    done = subprocess.run(
        [sys.executable, "-c", _INGEST, str(store.data_dir), str(path)], capture_output=True, check=True
    )
    assert _ids(store) == (6000, 6000)
    assert store.count() == 6000
    print(f"lake-kill9 kills=20 outcomes={sorted(seen)} rerun={done.stdout.decode().strip()!r}")


def test_an_old_duckdb_store_is_converted_once(tmp_path: Path) -> None:
    sample = write_sample_file(tmp_path / "s.parquet", 400, "parquet", seed=4, now=NOW, days=5)
    legacy = tmp_path / "var" / "events" / "events.duckdb"
    legacy.parent.mkdir(parents=True)
    with duckdb.connect(str(legacy)) as con:  # the layout DriverLens wrote before the lake
        cols = ", ".join(f'CAST("{c}" AS {COLUMN_TYPES[c].duckdb_type}) AS "{c}"' for c in COLUMN_NAMES)
        con.execute(f"CREATE TABLE failure_events AS SELECT {cols} FROM read_parquet('{sample}')")
    store = EventStore(tmp_path / "var")
    first = convert_legacy_store(store)
    assert (first.rows_in_source, first.loaded) == (400, 400)
    assert convert_legacy_store(store).already_converted
    with store.reading() as con:
        lake = con.execute(
            'SELECT "EventId", lower(hex("DeviceId")), "EventCount" FROM failure_events ORDER BY 1'
        ).fetchall()
    with duckdb.connect(str(legacy), read_only=True) as con:
        old = con.execute(
            """SELECT "EventId", replace(CAST("DeviceId" AS VARCHAR), '-', ''), "EventCount"
               FROM failure_events ORDER BY 1"""
        ).fetchall()
    assert lake == old


def test_a_csv_row_opening_an_unterminated_quote_is_refused_with_its_line(tmp_path: Path) -> None:
    good = write_sample_file(tmp_path / "a.csv", 3, "csv", seed=1, now=NOW)
    lines = good.read_text().splitlines()
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join([*lines[:2], '"' + lines[2], *lines[3:]]) + "\n")
    store = EventStore(tmp_path / "var")
    with pytest.raises(RowsRejected) as caught:
        store.ingest([bad])
    assert "line 3: unterminated quoted value" in caught.value.message
    assert "column EventId" in caught.value.message
    assert store.count() == 0


def test_a_nul_inside_a_value_is_refused_with_line_and_column(tmp_path: Path) -> None:
    good = write_sample_file(tmp_path / "a.csv", 2, "csv", seed=1, now=NOW)
    lines = good.read_text().splitlines()
    bad = tmp_path / "nul.csv"
    bad.write_text("\n".join([lines[0], lines[1].replace(".sys", "\x00.sys", 1), lines[2]]) + "\n")
    store = EventStore(tmp_path / "var")
    with pytest.raises(RowsRejected) as caught:
        store.ingest([bad])
    assert "line 2, column DriverName: contains a NUL character" in caught.value.message
    assert store.count() == 0


def test_a_commit_that_loses_the_race_drops_what_the_winner_stored_and_retries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = EventStore(tmp_path / "var")
    store.ingest([write_sample_file(tmp_path / "base.csv", 100, "csv", seed=1, now=NOW, days=3)])
    stale = store.snapshot()
    ours = write_sample_file(tmp_path / "ours.parquet", 400, "parquet", seed=2, now=NOW, days=3)
    # The winner commits half of our events (and others) after we took our snapshot.
    with duckdb.connect() as con:
        half = tmp_path / "half.parquet"
        con.execute(f"COPY (SELECT * FROM read_parquet('{ours}') LIMIT 200) TO '{half}' (FORMAT parquet)")
    winner = store.ingest([half, write_sample_file(tmp_path / "w.csv", 50, "csv", seed=3, now=NOW, days=3)])
    assert winner.loaded == 250
    real_snapshot = store.lake.snapshot
    calls = iter([stale])
    monkeypatch.setattr(store.lake, "snapshot", lambda: next(calls, None) or real_snapshot())
    report = store.ingest([ours])
    assert (report.loaded, report.duplicates) == (200, 200)
    assert _ids(store) == (550, 550)
    with store.reading() as con:
        oem = con.execute("SELECT count(*) FROM failure_events_by_oem").fetchone()
    assert oem == (550,)
