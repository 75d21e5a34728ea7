"""Migrations: from empty, repeated, concurrent, and in step with the models on both backends."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from driverlens.metadata import migrate as migrate_module
from driverlens.metadata.database import Database
from driverlens.metadata.migrate import current_revision, head_revision, migrate
from driverlens.metadata.models import Base

EXPECTED_TABLES = {table.name for table in Base.metadata.sorted_tables} | {"alembic_version"}


def _sqlite_url(tmp_path: Path, name: str = "metadata.db") -> str:
    return f"sqlite:///{tmp_path / name}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return _sqlite_url(tmp_path)
    factory: Callable[[], str] = request.getfixturevalue("fresh_postgres_url")
    return factory()


def _tables(url: str) -> set[str]:
    database = Database(url)
    try:
        return set(inspect(database.engine).get_table_names())
    finally:
        database.dispose()


def test_migrate_from_empty_and_again_is_a_no_op(empty_url: str) -> None:
    assert _tables(empty_url) == set()
    migrate(empty_url)
    assert _tables(empty_url) == EXPECTED_TABLES
    migrate(empty_url)
    database = Database(empty_url)
    try:
        assert current_revision(database) == head_revision()
    finally:
        database.dispose()


def test_migration_head_matches_the_models(empty_url: str) -> None:
    migrate(empty_url)
    database = Database(empty_url)
    try:
        with database.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        database.dispose()


def test_migrations_ship_inside_the_package() -> None:
    directory = migrate_module.MIGRATIONS_DIR
    assert directory.parent.name == "metadata"
    for required in ("env.py", "script.py.mako", "__init__.py", "versions/__init__.py"):
        assert (directory / required).is_file(), required
    assert list((directory / "versions").glob("v*.py")), "no revision files"


# A child process: import everything, wait for the go signal, then migrate. Every CREATE TABLE is
# followed by a pause so the two processes overlap for certain. "unlocked" is the deliberately
# broken variant: the same upgrade in a plain transaction without the migration lock.
_CHILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from alembic import command
    from sqlalchemy import Engine, event
    from driverlens.metadata.database import Database
    from driverlens.metadata.migrate import alembic_config, migrate_database

    url, mode, go = sys.argv[1], sys.argv[2], Path(sys.argv[3])

    @event.listens_for(Engine, "after_cursor_execute")
    def _slow(conn, cursor, statement, params, context, executemany):
        if statement.lstrip().upper().startswith("CREATE TABLE"):
            time.sleep(0.05)

    database = Database(url)
    print("ready", flush=True)
    while not go.exists():
        time.sleep(0.005)
    try:
        if mode == "locked":
            migrate_database(database)
        else:
            config = alembic_config()
            with database.engine.begin() as connection:
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
    finally:
        database.dispose()
    """
)


def _race(url: str, mode: str, tmp_path: Path) -> list[int]:
    go = tmp_path / f"go-{mode}"
    children = [
        subprocess.Popen(
            [sys.executable, "-c", _CHILD, url, mode, str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for child in children:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
    go.touch()
    codes = []
    for child in children:
        _out, err = child.communicate(timeout=120)
        if child.returncode != 0:
            errors = [line for line in err.splitlines() if "Error" in line]
            print(f"{mode} child failed: {errors[-1] if errors else err.strip()[-300:]}")
        codes.append(child.returncode)
    return codes


@pytest.mark.slow
def test_two_processes_migrating_at_once_both_succeed(empty_url: str, tmp_path: Path) -> None:
    started = time.perf_counter()
    assert _race(empty_url, "locked", tmp_path) == [0, 0]
    assert _tables(empty_url) == EXPECTED_TABLES
    database = Database(empty_url)
    try:
        assert current_revision(database) == head_revision()
    finally:
        database.dispose()
    print(f"concurrent migrate: 2 processes ok in {time.perf_counter() - started:.2f}s")


@pytest.mark.slow
def test_the_race_is_real_without_the_lock(empty_url: str, tmp_path: Path) -> None:
    """The broken variant (no lock) must fail in one process, proving the test above can fail."""
    codes = _race(empty_url, "unlocked", tmp_path)
    assert sorted(code != 0 for code in codes) == [False, True]
