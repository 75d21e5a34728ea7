"""The PostgreSQL rendering runs on a real PostgreSQL and returns the same rows as DuckDB."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import duckdb
import psycopg
import pytest

from driverlens.catalog import STORED_COLUMNS
from driverlens.compiler import compile_template
from driverlens.events.schema import duckdb_type
from driverlens.metadata.database import normalize_url
from driverlens.templates import parse_template
from tests.compiler.cases import CASES, WINDOW, Case
from tests.compiler.conftest import stored
from tests.compiler.events import ROWS

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def pg(fresh_postgres_url_module: str) -> Iterator[psycopg.Connection[Any]]:
    conninfo = normalize_url(fresh_postgres_url_module).set(drivername="postgresql")
    with psycopg.connect(conninfo.render_as_string(hide_password=False), autocommit=True) as connection:
        # The event table stores UUIDs as 16 bytes; the compiler renders them with HEX / UNHEX, which
        # DuckDB and Spark have and PostgreSQL spells encode / decode: the schema gets the two names.
        connection.execute(
            "CREATE FUNCTION hex(bytea) RETURNS text IMMUTABLE LANGUAGE sql AS $$ SELECT encode($1, 'hex') $$"
        )
        connection.execute(
            "CREATE FUNCTION unhex(text) RETURNS bytea IMMUTABLE LANGUAGE sql "
            "AS $$ SELECT decode($1, 'hex') $$"
        )
        types = {"BLOB": "BYTEA"}
        columns = ", ".join(
            f'"{name}" {types.get(duckdb_type(name), duckdb_type(name))}' for name, _ in STORED_COLUMNS
        )
        connection.execute(f"CREATE TABLE failure_events ({columns})")
        connection.execute("CREATE VIEW failure_events_by_oem AS SELECT * FROM failure_events")
        names = [name for name, _ in STORED_COLUMNS]
        placeholders = ", ".join("%s" for _ in names)
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO failure_events VALUES ({placeholders})",
                [[stored(row[n]) for n in names] for row in ROWS],
            )
        yield connection


@pytest.fixture(scope="module")
def fresh_postgres_url_module(_postgres_schemas: Any) -> str:
    url: str = _postgres_schemas.create("dlfresh")
    return url


def normalise(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    def value(v: Any) -> Any:
        if isinstance(v, Decimal | float) or (isinstance(v, int) and not isinstance(v, bool)):
            return round(float(v), 6)
        return v

    return sorted((tuple(value(v) for v in row) for row in rows), key=repr)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_postgres_returns_what_duckdb_returns(
    pg: psycopg.Connection[Any], con: duckdb.DuckDBPyConnection, case: Case
) -> None:
    query = compile_template(parse_template(case.body), case.scope, WINDOW, case.report_id)
    with pg.cursor() as cursor:
        cursor.execute(query.sql("postgres"))
        assert cursor.description is not None
        assert [d.name for d in cursor.description] == query.output_columns
        pg_rows = cursor.fetchall()
    duck_rows = con.execute(query.sql("duckdb")).fetchall()
    assert normalise(pg_rows) == normalise(duck_rows)
