"""Fixtures of the install base tests: a fresh store and a builder of install base files."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from driverlens.events import EventStore
from driverlens.installs.table import COLUMN_NAMES

Row = tuple[str, str, str, str, str, str, object]
DAY = date(2026, 3, 1)


def row(
    count: object = 100,
    *,
    day: date | str = DAY,
    ihv: str = "Contoso Graphics",
    oem: str = "Northwind Systems",
    driver: str = "cgfx.sys",
    version: str = "31.0.15.1008",
    os_build: str = "10.0.22631.4317",
) -> Row:
    """One install base row with overridable defaults."""
    return (str(day), ihv, oem, driver, version, os_build, count)


InstallFile = Callable[..., Path]


@pytest.fixture
def store(tmp_path: Path) -> EventStore:
    return EventStore(tmp_path / "var")


@pytest.fixture
def install_file(tmp_path: Path) -> InstallFile:
    """Writes rows as ``name`` (.csv, .jsonl, .parquet): ``install_file("a.csv", [row()])``."""

    def build(name: str, rows: Sequence[Row]) -> Path:
        path = tmp_path / "in" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        records = [dict(zip(COLUMN_NAMES, r, strict=True)) for r in rows]
        if name.endswith(".csv"):
            lines = [",".join(COLUMN_NAMES)] + [",".join(str(v) for v in r) for r in rows]
            path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        elif name.endswith(".jsonl"):
            path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
        elif name.endswith(".parquet"):
            pq.write_table(pa.Table.from_pylist(records), path)
        else:
            raise ValueError(name)
        return path

    return build


def stored(store: EventStore) -> list[tuple[object, ...]]:
    """Every install base row of the newest snapshot, sorted."""
    with store.reading() as con:
        return con.execute("SELECT * FROM install_base ORDER BY ALL").fetchall()
