"""Read the event store through one warm DuckDB instance per process, and hand the file over to writers.

Opening a DuckDB database costs more than most report queries: on the 1M-row store a fresh connection
(open, ``SELECT 1``, close) took 10-11 ms, and a fresh in-memory instance 9.6 ms, against 2-15 ms for the
five sample reports on a warm connection. Yet a connection held open for good would lock out ``ingest``,
``seed`` and ``purge``: DuckDB lets one process write the file only while no other process has it open.

So each process keeps one in-memory DuckDB instance (thread pool, memory limit and caches stay warm) with
the store file attached read-only, and ``attached`` gives each block of reads its own cursor on it. The
attachment is kept between blocks, so DuckDB's cache of the file's blocks survives from one report to the
next; it is detached (releasing the file lock) when it has been idle for ``KEEP_IDLE_S``, or as soon as
no block uses it once a writer has announced itself. A writer announces itself with a file in
``<events dir>/writers/`` while it waits for the lock (``writer_waiting``), and blocks that start
meanwhile wait for it to go first: overlapping reports would otherwise never leave it a gap.

Measured on the 1M store, per sample report (hand-written COPY): 2.0-14.8 ms with the file kept
attached, 3.3-17.7 ms attaching it per report (ATTACH plus DETACH cost 0.4-0.6 ms, and the block cache
is lost), 17-36 ms with a fresh connection each; on the 10M store template 3 took 45 ms kept attached and
65 ms attached per report.

If this process already has the file open read-write through ``duckdb.connect`` (a writer in the same
process), DuckDB refuses to attach it; ``attached`` then reads through the caller's ``fallback``.
"""

from __future__ import annotations

import atexit
import itertools
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

from driverlens.errors import ServiceUnavailable
from driverlens.settings import Settings, get_settings

KEEP_IDLE_S = 2.0  # a kept attachment that no block used for this long is detached
_JANITOR_PERIOD_S = 0.2  # how often a process looks for idle attachments and waiting writers
WRITERS_DIR = "writers"  # beside the store file: one file per process waiting for the write lock
ANNOUNCEMENT_TTL_S = 30.0  # an announcement not renewed for this long is stale

_LOCK = threading.Lock()  # guards everything below
_ALIASES = itertools.count(1)


@dataclass
class _Instance:
    """This process's in-memory DuckDB instance and the settings object last applied to it."""

    pid: int
    connection: duckdb.DuckDBPyConnection
    applied: Settings | None


@dataclass
class _Kept:
    """The store file attached to the instance between blocks, and how many blocks use it now."""

    path: Path
    alias: str
    users: int = 0
    last_used: float = 0.0
    release_requested: bool = False


_instance: _Instance | None = None
_kept: dict[Path, _Kept] = {}
_janitor_pid = 0
_attaching = threading.Lock()  # one attach at a time: threads wanting the same file wait for it


@contextmanager
def attached(
    path: Path, *, busy_timeout_s: float, fallback: Callable[[], duckdb.DuckDBPyConnection]
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A cursor on which the tables of the DuckDB file ``path`` are queryable by their plain names.

    While another process writes the file, attaching is retried for ``busy_timeout_s`` and then
    ``ServiceUnavailable`` is raised. The caller closes nothing.
    """
    deadline = time.monotonic() + busy_timeout_s
    _wait_for_writers(path, deadline)
    kept = _hold(path, deadline)
    if kept is None:
        with fallback() as own:
            yield own
        return
    cursor = _cursor()
    try:
        cursor.execute(f"USE {kept.alias}")
        yield cursor
    finally:
        cursor.close()
        _let_go(kept)


def _wait_for_writers(path: Path, deadline: float) -> None:
    """Let a waiting writer go first: blocks starting one after another would never leave it a gap."""
    delay = 0.01
    while writer_waiting(path):
        if time.monotonic() >= deadline:
            raise ServiceUnavailable(f"event store {path} is about to be written by another process")
        time.sleep(delay)
        delay = min(delay * 2, 0.2)


def release(path: Path) -> None:
    """Detach this process's kept attachment of ``path`` now, or when its last block ends.

    A writer in this process calls it first: DuckDB refuses a read-write connection to a file that the
    same process has attached elsewhere.
    """
    with _LOCK:
        kept = _kept.get(path)
        if kept is None or _instance is None or _instance.pid != os.getpid():
            return
        kept.release_requested = True
        if kept.users == 0:
            _detach_kept(kept)


@contextmanager
def announced_writer(path: Path) -> Iterator[Callable[[], None]]:
    """Tell readers in every process that a writer waits for ``path``'s lock, for the block's duration.

    Yields ``still_waiting``, to call at least every ``ANNOUNCEMENT_TTL_S`` while waiting: older
    announcements count as stale (their process may have died, and its pid been reused).
    """
    directory = path.parent / WRITERS_DIR
    directory.mkdir(parents=True, exist_ok=True)
    flag = directory / f"{os.getpid()}.{secrets.token_hex(4)}"
    flag.touch()
    try:
        release(path)
        yield flag.touch
    finally:
        flag.unlink(missing_ok=True)


def writer_waiting(path: Path) -> bool:
    """Whether a live process has announced that it waits to write ``path`` (stale announcements go)."""
    directory = path.parent / WRITERS_DIR
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return False
    for name in names:
        flag = directory / name
        try:
            age = time.time() - flag.stat().st_mtime
        except FileNotFoundError:
            continue  # its writer got the lock meanwhile
        if age < ANNOUNCEMENT_TTL_S and _alive(name.partition(".")[0]):
            return True
        flag.unlink(missing_ok=True)  # its process died while waiting
    return False


def _alive(pid_text: str) -> bool:
    try:
        os.kill(int(pid_text), 0)
    except ValueError:
        return False  # not one of ours
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, under another user
    return True


def _hold(path: Path, deadline: float) -> _Kept | None:
    """The kept attachment of ``path``, attached now if needed, with one more user; None if refused."""
    with _LOCK:
        kept = _join(path)
    if kept is not None:
        return kept
    with _attaching:
        with _LOCK:
            kept = _join(path)  # another thread may have attached it while this one waited
        if kept is not None:
            return kept
        alias = f"events_{next(_ALIASES)}"
        cursor = _cursor()
        try:
            if not _attach(cursor, path, alias, deadline):
                return None
        finally:
            cursor.close()
        with _LOCK:
            kept = _kept[path] = _Kept(path, alias, users=1)
            _start_janitor()
        return kept


def _join(path: Path) -> _Kept | None:
    """One more user of this process's kept attachment of ``path``, if it may take new blocks (under lock)."""
    kept = _kept.get(path)
    if kept is None or kept.release_requested:
        return None
    if _instance is None or _instance.pid != os.getpid():
        _kept.clear()  # inherited through fork: that instance is not ours
        return None
    kept.users += 1
    return kept


def _let_go(kept: _Kept) -> None:
    with _LOCK:
        kept.users -= 1
        kept.last_used = time.monotonic()
        if kept.users == 0 and (kept.release_requested or writer_waiting(kept.path)):
            _detach_kept(kept)


def _detach_kept(kept: _Kept) -> None:
    """Detach an unused kept attachment, releasing the file lock (under lock)."""
    if _kept.get(kept.path) is kept:
        del _kept[kept.path]
    with _cursor_unlocked() as cursor:
        cursor.execute(f"DETACH {kept.alias}")


def _start_janitor() -> None:
    """Start this process's janitor thread once (under lock); it is stopped before the interpreter exits."""
    global _janitor_pid
    if _janitor_pid == os.getpid():
        return
    _janitor_pid = os.getpid()
    stop = threading.Event()
    thread = threading.Thread(target=_janitor, args=(stop,), name="events-reader-janitor", daemon=True)
    thread.start()

    def stop_janitor() -> None:
        # A daemon thread killed inside a DuckDB call at exit aborts the process ("exception not
        # rethrown"): let it finish its round first.
        stop.set()
        thread.join()

    atexit.register(stop_janitor)


def _janitor(stop: threading.Event) -> None:
    """Detach kept attachments that are idle, or unused while a writer waits."""
    while not stop.wait(_JANITOR_PERIOD_S):
        with _LOCK:
            now = time.monotonic()
            for kept in list(_kept.values()):
                if kept.users == 0 and (now - kept.last_used >= KEEP_IDLE_S or writer_waiting(kept.path)):
                    _detach_kept(kept)


def _attach(cursor: duckdb.DuckDBPyConnection, path: Path, alias: str, deadline: float) -> bool:
    """Attach ``path`` read-only as ``alias``, retrying until ``deadline``; False if this process has
    it open read-write."""
    statement = f"ATTACH {_string_literal(str(path))} AS {alias} (READ_ONLY)"
    delay = 0.05
    while True:
        try:
            cursor.execute(statement)
            return True
        except duckdb.ResourceInUseException:
            return False  # open read-write through duckdb.connect in this process
        except duckdb.IOException as exc:
            # Another process holds the write lock (an ingest, seed or purge is running).
            if time.monotonic() >= deadline:
                raise ServiceUnavailable(f"event store {path} is locked by another process") from exc
            time.sleep(delay)
            delay = min(delay * 2, 0.5)


def _cursor() -> duckdb.DuckDBPyConnection:
    """A new connection to this process's in-memory DuckDB instance (cursors start without progress bars)."""
    with _LOCK:
        return _cursor_unlocked()


def _cursor_unlocked() -> duckdb.DuckDBPyConnection:
    """``_cursor`` for callers holding ``_LOCK``; applies changed engine settings to the instance."""
    global _instance
    settings = get_settings()
    if _instance is None or _instance.pid != os.getpid():
        _instance = _Instance(os.getpid(), duckdb.connect(":memory:"), applied=None)
    if _instance.applied is not settings:  # once per settings object, not on every read
        spill = Path(settings.data_dir).resolve() / "tmp" / "duckdb"  # larger work spills here
        statements = [
            f"SET GLOBAL memory_limit = {_string_literal(settings.engine_memory_limit)}",
            f"SET GLOBAL temp_directory = {_string_literal(str(spill))}",
        ]
        if settings.engine_threads > 0:
            statements.append(f"SET GLOBAL threads = {int(settings.engine_threads)}")
        else:
            statements.append("RESET GLOBAL threads")  # one per core
        _instance.connection.execute("; ".join(statements))
        _instance.applied = settings
    return _instance.connection.cursor()


def _string_literal(text: str) -> str:
    """A DuckDB string literal (quotes doubled); the text is a path or setting of ours, never user input."""
    return "'" + text.replace("'", "''") + "'"
