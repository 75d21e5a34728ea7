"""Metadata-store fixtures for every test area (loaded by ``tests/conftest.py`` as a plugin).

- ``sqlite_db``: a migrated SQLite store in a temporary file.
- ``postgres_db``: a migrated PostgreSQL store in a schema unique to this test session (tables emptied
  before each test), so parallel test runs do not collide. Skips when PostgreSQL is unreachable,
  fails instead when ``DRIVERLENS_REQUIRE_POSTGRES=1``.
- ``db``: parametrized over both.
- ``fresh_postgres_url``: factory for URLs of new, empty schemas (dropped at teardown).
- ``make_partner``: factory that stores a partner with overridable defaults.
Hand ``database.url_text`` to a subprocess to reach the same store (it carries the search_path).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text

from driverlens.catalog import PartnerKind
from driverlens.metadata.database import Database, normalize_url
from driverlens.metadata.migrate import migrate_database
from driverlens.metadata.models import Base, Partner
from driverlens.metadata.repositories import Entitlements, partners

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def postgres_base_url() -> str:
    return os.environ.get("DRIVERLENS_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


def _postgres_unreachable_reason() -> str | None:
    url = normalize_url(postgres_base_url())
    try:
        conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(conninfo, connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return f"PostgreSQL at {url.render_as_string()} is unreachable: {exc}".strip()


def _require_postgres() -> None:
    reason = _postgres_unreachable_reason()
    if reason is None:
        return
    if os.environ.get("DRIVERLENS_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"{reason} (DRIVERLENS_REQUIRE_POSTGRES=1)")
    pytest.skip(reason)


def schema_url(base_url: str, schema: str) -> str:
    """``base_url`` with every connection's search_path set to ``schema``."""
    url = normalize_url(base_url)
    url = url.update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class _Schemas:
    """Creates uniquely named schemas and drops them all at the end."""

    def __init__(self, base_url: str) -> None:
        self.admin = Database(base_url)
        self.names: list[str] = []
        self._reap_stale()

    def _reap_stale(self) -> None:
        """Drop schemas left by test sessions on this machine that died before their teardown."""
        with self.admin.session() as session:
            names = session.scalars(
                text("SELECT nspname FROM pg_namespace WHERE nspname ~ '^dl(test|fresh)_[0-9]+_[0-9a-f]{8}$'")
            ).all()
            for name in names:
                if not _pid_alive(int(name.split("_")[1])):
                    session.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))

    def create(self, prefix: str) -> str:
        name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        with self.admin.session() as session:
            session.execute(text(f'CREATE SCHEMA "{name}"'))
        self.names.append(name)
        return schema_url(postgres_base_url(), name)

    def drop_all(self) -> None:
        try:
            for name in self.names:
                with self.admin.session() as session:
                    session.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
        finally:
            self.admin.dispose()


@pytest.fixture(scope="session")
def _postgres_schemas() -> Iterator[_Schemas]:
    _require_postgres()
    schemas = _Schemas(postgres_base_url())
    yield schemas
    schemas.drop_all()


@pytest.fixture(scope="session")
def postgres_session_url(_postgres_schemas: _Schemas) -> str:
    """URL of a migrated schema shared by this test session's ``postgres_db`` fixtures."""
    url = _postgres_schemas.create("dltest")
    database = Database(url)
    try:
        migrate_database(database)
    finally:
        database.dispose()
    return url


@pytest.fixture
def fresh_postgres_url(_postgres_schemas: _Schemas) -> Callable[[], str]:
    """Factory: each call returns the URL of a new, empty schema."""
    return lambda: _postgres_schemas.create("dlfresh")


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'metadata' / 'metadata.db'}")
    try:
        migrate_database(database)
        yield database
    finally:
        database.dispose()


@pytest.fixture
def postgres_db(postgres_session_url: str) -> Iterator[Database]:
    database = Database(postgres_session_url)
    try:
        tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
        with database.session() as session:
            session.execute(text("SET LOCAL lock_timeout = '10s'"))
            session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        yield database
    finally:
        database.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest) -> Database:
    """The metadata store, once per backend."""
    database: Database = request.getfixturevalue(f"{request.param}_db")
    return database


@pytest.fixture
def make_partner() -> Callable[..., Partner]:
    """Factory: ``make_partner(database, name=..., kind=..., application_ids=[...])`` -> stored Partner."""
    counter = iter(range(1, 1_000_000))

    def build(
        database: Database,
        *,
        name: str | None = None,
        kind: PartnerKind = PartnerKind.IHV,
        tenant_id: str | None = None,
        now: datetime | None = None,
        application_ids: tuple[str, ...] = (),
        submission_ids: tuple[str, ...] = (),
        oem_names: tuple[str, ...] = (),
    ) -> Partner:
        with database.session() as session:
            return partners.add_partner(
                session,
                name=name or f"Partner {next(counter)} {uuid.uuid4().hex[:6]}",
                kind=kind,
                tenant_id=tenant_id,
                now=now or datetime(2026, 1, 1, tzinfo=UTC),
                entitlements=Entitlements(tuple(application_ids), tuple(submission_ids), tuple(oem_names)),
            )

    return build
