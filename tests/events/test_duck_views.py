"""Views of a snapshot are created once per process and shared by every read of that snapshot."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from driverlens.events import EventStore, duck, seed_events

NOW = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)


def _snapshot_schemas() -> set[str]:
    con = duck.cursor(duck.EngineOptions())
    try:
        rows = con.execute(
            "SELECT schema_name FROM duckdb_schemas() WHERE schema_name LIKE 'lake_snapshot_%'"
        ).fetchall()
    finally:
        con.close()
    return {str(r[0]) for r in rows}


def _count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    row = con.execute(f"SELECT count(*) FROM {table}").fetchone()
    return int(row[0]) if row else -1


def test_reads_of_one_version_share_its_views_and_see_only_it(tmp_path: Path) -> None:
    store = EventStore(tmp_path / "var")
    seed_events(store, rows=300, days=3, seed=1, now=NOW)
    before = _snapshot_schemas()
    with store.reading() as first:
        assert _count(first, "failure_events") == 300
    with store.reading() as second:
        assert _count(second, "failure_events_by_oem") == 300
    assert len(_snapshot_schemas() - before) == 1  # the second read bound the first one's views

    old = store.snapshot()
    with store.reading(old) as pinned:
        seed_events(store, rows=200, days=3, seed=2, now=NOW)  # a new version lands during the read
        with store.reading() as newer:
            assert _count(newer, "failure_events") == 500
            assert _count(newer, "failure_events_by_oem") == 500
        assert _count(pinned, "failure_events") == 300
    assert len(_snapshot_schemas() - before) == 2


def test_stores_at_the_same_version_read_their_own_files(tmp_path: Path) -> None:
    # Version numbers repeat across tables: a cache keyed by the version alone would hand one store's
    # views to the other.
    small, large = EventStore(tmp_path / "a"), EventStore(tmp_path / "b")
    seed_events(small, rows=100, days=2, seed=1, now=NOW)
    seed_events(large, rows=400, days=2, seed=2, now=NOW)
    assert small.snapshot().version == large.snapshot().version
    for store, rows in ((small, 100), (large, 400), (small, 100)):
        with store.reading() as con:
            assert _count(con, "failure_events") == rows


def test_views_idle_longer_than_any_query_are_dropped(tmp_path: Path) -> None:
    store = EventStore(tmp_path / "var")
    seed_events(store, rows=100, days=2, seed=1, now=NOW)
    with store.reading() as con:
        assert _count(con, "failure_events") == 100
    stale = _snapshot_schemas()
    seed_events(store, rows=100, days=2, seed=2, now=NOW)
    con = duck.cursor(store.engine)
    try:
        # Binding a new version later than VIEWS_IDLE_S after the last read of every other one.
        duck._schema_of(con, store.snapshot(), now=time.monotonic() + duck.VIEWS_IDLE_S + 1)
    finally:
        con.close()
    assert not stale & _snapshot_schemas()
    with store.reading() as again:  # a dropped version's views are created again when a read needs them
        assert _count(again, "failure_events") == 200
