"""The database handle: URLs, SQLite pragmas, write transactions, commit and rollback."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from driverlens.auth import service
from driverlens.catalog import PartnerKind
from driverlens.metadata.database import Database, normalize_url
from driverlens.metadata.models import Partner


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u:p@h:5432/d", "postgresql+psycopg://u:p@h:5432/d"),
        ("postgres://u@h/d", "postgresql+psycopg://u@h/d"),
        ("postgresql+psycopg2://u@h/d", "postgresql+psycopg://u@h/d"),
        ("postgresql+psycopg://u@h/d", "postgresql+psycopg://u@h/d"),
        ("sqlite:///x/y.db", "sqlite:///x/y.db"),
    ],
)
def test_urls_use_psycopg3_for_postgresql(given: str, expected: str) -> None:
    assert normalize_url(given).render_as_string(hide_password=False) == expected


def test_sqlite_creates_its_directory_and_enables_wal_busy_timeout_and_foreign_keys(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'a' / 'b' / 'metadata.db'}")
    try:
        with database.session() as session:
            pragma = session.connection().exec_driver_sql
            assert pragma("PRAGMA journal_mode").scalar() == "wal"
            assert pragma("PRAGMA busy_timeout").scalar() == 30_000
            assert pragma("PRAGMA foreign_keys").scalar() == 1
        assert (tmp_path / "a" / "b" / "metadata.db").exists()
        assert database.dialect_name == "sqlite"
    finally:
        database.dispose()


def _can_take_write_lock(path: Path) -> bool:
    """Whether an independent connection could start a write transaction right now."""
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError as exc:
        assert "locked" in str(exc)
        return False
    finally:
        other.close()


def test_write_session_holds_the_sqlite_write_lock_from_its_first_statement(sqlite_db: Database) -> None:
    path = Path(str(sqlite_db.url.database))
    with sqlite_db.write_session() as session:
        session.execute(select(1))
        assert not _can_take_write_lock(path)
    assert _can_take_write_lock(path)
    # The ordinary (deferred) session only reads here, so it must not block writers: this is the
    # difference a claim transaction relies on.
    with sqlite_db.session() as session:
        session.execute(select(1))
        assert _can_take_write_lock(path)
    with sqlite_db.write_connection() as connection:
        connection.execute(select(1))
        assert not _can_take_write_lock(path)


def test_session_commits_on_success_and_rolls_back_on_error(db: Database) -> None:
    created = datetime(2026, 1, 1, tzinfo=UTC)

    def partner(name: str) -> Partner:
        return Partner(
            name=name,
            kind=PartnerKind.OEM,
            tenant_id=name,
            callback_secret="whsec_x",
            entitlements={},
            created_at=created,
        )

    with db.session() as session:
        session.add(partner("kept"))
    with pytest.raises(RuntimeError), db.session() as session:
        session.add(partner("dropped"))
        session.flush()
        raise RuntimeError("boom")
    with db.write_session() as session:
        names = session.scalars(select(Partner.name)).all()
        assert names == ["kept"]
        assert session.scalar(select(func.count()).select_from(Partner)) == 1
        assert session.execute(text("SELECT 1")).scalar() == 1


@pytest.mark.postgres
def test_postgres_tests_run_in_their_own_schema(postgres_db: Database) -> None:
    with postgres_db.session() as session:
        schema = session.execute(text("SELECT current_schema()")).scalar()
    assert isinstance(schema, str) and schema.startswith("dltest_")
    assert postgres_db.url.get_driver_name() == "psycopg"
    assert f"search_path={schema}" in Database(postgres_db.url_text).url_text.replace("%3D", "=")


def test_work_queued_for_the_writer_reads_then_writes_while_another_connection_commits(
    sqlite_db: Database,
) -> None:
    """A deferred transaction that read before another connection committed could not write at all
    ("database is locked" at once, no busy wait: the web sign-in failed that way with a worker
    writing beside it); work run through ``Database.write`` begins IMMEDIATE and waits instead."""
    read_done, other_committed = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def read_then_write() -> None:
        with sqlite_db.session() as session:
            session.execute(select(func.count()).select_from(Partner)).scalar_one()
            read_done.set()
            other_committed.wait(1)  # never set while this transaction holds the write lock
            service.add_partner(session, "Queued Writer", PartnerKind.IHV)

    def another_connection() -> None:
        try:
            assert read_done.wait(10)
            with sqlite_db.write_session() as session:  # a worker's claim, say
                service.add_partner(session, "Other Writer", PartnerKind.IHV)
            other_committed.set()
        except BaseException as exc:
            failures.append(exc)

    other = threading.Thread(target=another_connection)
    other.start()
    try:
        asyncio.run(sqlite_db.write(read_then_write))
    finally:
        read_done.set()
        other.join(30)
    assert failures == []
    with sqlite_db.session() as session:
        names = set(session.execute(select(Partner.name)).scalars())
    assert {"Queued Writer", "Other Writer"} <= names
