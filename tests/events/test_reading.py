"""``EventStore.reading``: each block reads one table version, without locks, beside ingests elsewhere.

These replace the tests of the old reader/writer hand-over of the DuckDB file (``events/reader.py``):
readers no longer make a writer wait, nor a writer readers; what remains to show is that a block sees
one whole version from start to end, and that reads and ingests in other processes never block each
other.
"""

from __future__ import annotations

import threading
import time

import duckdb
import pytest

from driverlens.events import EventStore, seed_events

from .conftest import NOW, SampleFactory, ingest_paused_before_commit


def _count(con: duckdb.DuckDBPyConnection, table: str = "failure_events") -> int:
    row = con.execute(f"SELECT count(*) FROM {table}").fetchone()
    return int(row[0]) if row else -1


def test_a_block_reads_one_version_while_another_process_ingests(
    store: EventStore, sample: SampleFactory
) -> None:
    seed_events(store, rows=500, seed=1, now=NOW)
    more = sample("more.parquet", rows=200, seed=2)
    with store.reading() as conn:
        assert _count(conn) == 500
        # Workers and the API have no terminal: DuckDB must not draw progress bars on their output.
        assert conn.execute("SELECT current_setting('enable_progress_bar')").fetchone() == (False,)
        with ingest_paused_before_commit(store, more) as loaded:
            assert _count(conn) == 500  # written files that are not committed are not seen
        assert loaded == [200]
        # The ingest committed while this block was open: the block still reads its own version.
        assert _count(conn) == 500 and _count(conn, "failure_events_by_oem") == 500
    with store.reading() as conn:  # the next block reads the newest version
        assert _count(conn) == 700
        assert _count(conn, "failure_events_by_oem") == 700


def test_a_failing_query_does_not_stop_later_reads_or_writes(
    store: EventStore, sample: SampleFactory
) -> None:
    seed_events(store, rows=100, seed=1, now=NOW)
    with pytest.raises(duckdb.Error), store.reading() as conn:
        conn.execute("SELECT no_such_column FROM failure_events")
    assert store.ingest([sample("a.csv", rows=50, seed=2)]).loaded == 50
    with store.reading() as conn:
        assert _count(conn) == 150


def test_blocks_in_one_process_may_overlap_and_read_different_versions(
    store: EventStore, sample: SampleFactory
) -> None:
    seed_events(store, rows=100, seed=1, now=NOW)
    with store.reading() as first:
        assert store.ingest([sample("a.csv", rows=10, seed=2)]).loaded == 10
        with store.reading() as second:
            assert _count(first) == 100
            assert _count(second) == 110
        assert _count(first) == 100


def test_a_block_reads_the_snapshot_it_is_given(store: EventStore, sample: SampleFactory) -> None:
    seed_events(store, rows=100, seed=1, now=NOW)
    old = store.snapshot()
    store.ingest([sample("a.csv", rows=10, seed=2)])
    assert store.snapshot().version == old.version + 1
    with store.reading(old) as conn:
        assert _count(conn) == 100
    with store.reading() as conn:
        assert _count(conn) == 110


def test_an_empty_store_reads_as_empty_tables(store: EventStore) -> None:
    with store.reading() as conn:
        assert _count(conn) == 0 and _count(conn, "failure_events_by_oem") == 0
    assert store.count() == 0


def test_a_stream_of_reads_neither_waits_for_nor_delays_an_ingest(
    store: EventStore, sample: SampleFactory
) -> None:
    """Two threads read back to back while another process ingests: every read sees either all of the
    batch or none of it, the reads go on while the ingest is mid-way, and the ingest completes."""
    seed_events(store, rows=100, seed=1, now=NOW)
    stop = threading.Event()
    counts: list[int] = []
    by_thread: dict[int, list[int]] = {0: [], 1: []}
    errors: list[BaseException] = []

    def read_continuously(i: int) -> None:
        try:
            while not stop.is_set():
                with store.reading() as conn:  # overlapping blocks
                    row = conn.execute("SELECT count(*), sleep_ms(20) FROM failure_events").fetchone()
                    counts.append(int(row[0]) if row else -1)
                    by_thread[i].append(counts[-1])
        except BaseException as exc:  # reported by the test thread
            errors.append(exc)

    readers = [threading.Thread(target=read_continuously, args=(i,)) for i in range(2)]
    for thread in readers:
        thread.start()
    try:
        time.sleep(0.3)
        with ingest_paused_before_commit(store, sample("more.parquet", rows=300, seed=2)) as loaded:
            during = len(counts)
            time.sleep(0.5)
            assert len(counts) > during  # reads carried on while the ingest was mid-way
        time.sleep(0.3)
    finally:
        stop.set()
        for thread in readers:
            thread.join(timeout=30)
    assert errors == []
    assert loaded == [300]
    assert counts[0] == 100 and counts[-1] == 400
    assert set(counts) == {100, 400}
    for seen in by_thread.values():  # once a thread's read has seen the batch, its later reads do
        assert seen == sorted(seen)
