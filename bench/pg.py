"""A throw-away PostgreSQL schema for a benchmark, on ``BENCH_POSTGRES_URL`` (default: the test database).

Benchmarks that compare PostgreSQL with SQLite measure both in the same run; where PostgreSQL is not
reachable they say so and measure SQLite alone.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from driverlens.metadata.database import normalize_url

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _conninfo(url: str) -> str:
    return normalize_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def postgres_schema(prefix: str = "dlbench") -> Iterator[str | None]:
    """The URL of a new, empty schema (dropped afterwards), or None when PostgreSQL is unreachable."""
    base = os.environ.get("BENCH_POSTGRES_URL", DEFAULT_URL)
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    try:
        with psycopg.connect(_conninfo(base), connect_timeout=3, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{name}"')
    except psycopg.Error as exc:
        print(f"PostgreSQL at {normalize_url(base).render_as_string()} is unreachable ({exc}); skipped")
        yield None
        return
    url = normalize_url(base).update_query_dict({"options": f"-csearch_path={name}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with psycopg.connect(_conninfo(base), autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
