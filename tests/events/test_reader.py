"""``EventStore.reading``: a warm DuckDB instance per process; the file is handed over to writers."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import duckdb
import pytest

from driverlens.errors import ServiceUnavailable
from driverlens.events import EventStore, reader, seed_events

from .conftest import NOW, writer_in_another_process

# Another process appends one copy of an existing event (new EventId) through the store's writer.
_APPEND = (
    "import sys; from pathlib import Path; from driverlens.events import EventStore;\n"
    "s = EventStore(Path(sys.argv[1]), busy_timeout_s=float(sys.argv[2]))\n"
    "with s.writer() as c:\n"
    " c.execute(\"INSERT INTO failure_events SELECT * REPLACE ('extra-' || EventId AS EventId)"
    ' FROM failure_events LIMIT 1")\n'
    "print('appended')"
)


def _append_from_another_process(store: EventStore, wait_s: float = 5.0) -> subprocess.CompletedProcess[str]:
    """The writer waits up to ``wait_s`` for the lock."""
    return subprocess.run(
        [sys.executable, "-c", _APPEND, str(store.data_dir), str(wait_s)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_writer_gets_the_file_as_soon_as_no_block_reads(store: EventStore) -> None:
    seed_events(store, rows=500, seed=1, now=NOW)
    with store.reading() as conn:
        assert conn.execute("SELECT count(*) FROM failure_events").fetchone() == (500,)
        # Workers and the API have no terminal: DuckDB must not draw progress bars on their output.
        assert conn.execute("SELECT current_setting('enable_progress_bar')").fetchone() == (False,)
        busy = _append_from_another_process(store, wait_s=1.0)
        assert busy.returncode != 0 and "locked by another process" in busy.stderr
    # The block is over: a writer in another process announces itself and gets the file (this process
    # detaches it), and the next block sees what the writer wrote.
    done = _append_from_another_process(store)
    assert done.returncode == 0, done.stderr
    with store.reading() as conn:
        assert conn.execute("SELECT count(*) FROM failure_events").fetchone() == (501,)
        assert conn.execute("SELECT count(*) FROM failure_events_by_oem").fetchone() == (500,)


def test_a_failing_query_still_releases_the_file(store: EventStore) -> None:
    seed_events(store, rows=100, seed=1, now=NOW)
    with pytest.raises(duckdb.Error), store.reading() as conn:
        conn.execute("SELECT no_such_column FROM failure_events")
    done = _append_from_another_process(store)
    assert done.returncode == 0, done.stderr


def test_blocks_in_one_process_may_overlap(store: EventStore) -> None:
    seed_events(store, rows=100, seed=1, now=NOW)
    with store.reading() as first, store.reading() as second:
        assert first.execute("SELECT count(*) FROM failure_events").fetchone() == (100,)
        assert second.execute("SELECT count(*) FROM failure_events").fetchone() == (100,)
    assert _append_from_another_process(store).returncode == 0


def test_a_writer_in_another_process_makes_readers_wait_then_fail_clearly(store: EventStore) -> None:
    seed_events(store, rows=100, seed=1, now=NOW)
    busy = pytest.raises(ServiceUnavailable, match="locked by another process")
    with writer_in_another_process(store), busy, store.reading():
        pass
    with store.reading() as conn:
        assert conn.execute("SELECT count(*) FROM failure_events").fetchone() == (100,)


def test_reads_go_through_a_connection_this_process_already_has(store: EventStore) -> None:
    seed_events(store, rows=100, seed=1, now=NOW)
    with store.writer() as writer:  # DuckDB refuses a second handle on the file in this process
        writer.execute("DELETE FROM failure_events WHERE rowid < 10")
        with store.reading() as conn:
            assert conn.execute("SELECT count(*) FROM failure_events").fetchone() == (90,)


_RAW_WRITE = "import duckdb, sys; duckdb.connect(sys.argv[1]).close(); print('wrote')"


def test_the_file_stays_attached_between_blocks_until_idle(
    store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Kept attached, DuckDB's cache of the file survives from one report to the next."""
    monkeypatch.setattr(reader, "KEEP_IDLE_S", 1.0)
    seed_events(store, rows=100, seed=1, now=NOW)
    with store.reading() as conn:
        conn.execute("SELECT count(*) FROM failure_events").fetchall()
    raw = [sys.executable, "-c", _RAW_WRITE, str(store.path)]
    # A writer that does not announce itself (not DriverLens) finds the file still held ...
    held = subprocess.run(raw, capture_output=True, text=True, timeout=60)
    assert held.returncode != 0 and "lock" in held.stderr.lower()
    # ... until no block has used it for KEEP_IDLE_S.
    time.sleep(1.0 + 0.5)
    free = subprocess.run(raw, capture_output=True, text=True, timeout=60)
    assert free.returncode == 0, free.stderr


@pytest.mark.parametrize("readers_yield", [True, False], ids=["as-built", "broken-readers-never-yield"])
def test_a_stream_of_blocks_does_not_starve_a_writer(
    store: EventStore, monkeypatch: pytest.MonkeyPatch, readers_yield: bool
) -> None:
    """Two threads read back to back while another process's ingest waits for the file.

    The broken variant lets new reads start while the writer waits (as the first design did): the
    reads overlap, the file is never free, and the writer gives up. The test must tell the two apart.
    """
    if not readers_yield:
        monkeypatch.setattr(reader, "_wait_for_writers", lambda path, deadline: None)
    seed_events(store, rows=100, seed=1, now=NOW)
    stop = threading.Event()
    counts: list[int] = []

    def read_continuously() -> None:
        while not stop.is_set():
            with store.reading() as conn:  # overlapping blocks: the kept attachment is never idle
                row = conn.execute("SELECT count(*), sleep_ms(20) FROM failure_events").fetchone()
                counts.append(int(row[0]) if row else -1)

    readers = [threading.Thread(target=read_continuously) for _ in range(2)]
    for thread in readers:
        thread.start()
    try:
        time.sleep(0.3)
        done = _append_from_another_process(store, wait_s=3.0)
        time.sleep(0.3)
    finally:
        stop.set()
        for thread in readers:
            thread.join(timeout=30)
    if readers_yield:
        assert done.returncode == 0, done.stderr
        assert counts[0] == 100 and counts[-1] == 101
    else:
        assert done.returncode != 0 and "locked by another process" in done.stderr
        assert set(counts) == {100}


def test_announcements_of_dead_or_silent_writers_do_not_block_readers(store: EventStore) -> None:
    seed_events(store, rows=100, seed=1, now=NOW)
    writers = store.path.parent / reader.WRITERS_DIR
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    crashed = writers / f"{dead.stdout.strip()}.0001"  # its process is gone
    silent = writers / f"{os.getpid()}.0002"  # alive (its pid may have been reused), not renewed
    for flag in (crashed, silent):
        flag.touch()
    old = time.time() - reader.ANNOUNCEMENT_TTL_S - 1
    os.utime(silent, (old, old))
    started = time.monotonic()
    with store.reading() as conn:
        assert conn.execute("SELECT count(*) FROM failure_events").fetchone() == (100,)
    assert time.monotonic() - started < 0.4  # (the store's busy timeout is 0.5 s)
    assert list(writers.iterdir()) == []
    # A live, renewed announcement does hold readers back, and they fail clearly when it outlasts them.
    live = writers / f"{os.getpid()}.0003"
    live.touch()
    with pytest.raises(ServiceUnavailable, match="about to be written"), store.reading():
        pass
    live.unlink()
