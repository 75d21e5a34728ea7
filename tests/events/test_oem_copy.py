"""The OEM-clustered copy: the same events as the main table after every write, in OEM cluster order."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from driverlens.catalog import View
from driverlens.compiler.query import EVENTS_TABLES
from driverlens.errors import IngestError
from driverlens.events import EventStore, seed_events
from driverlens.events import ingest as ingest_module
from driverlens.events.schema import OEM_COLUMN_NAMES, OEM_TABLE, TABLE, TABLE_BY_VIEW, create_table_sql

from .conftest import NOW, SampleFactory

_COLS = ", ".join(f'"{c}"' for c in OEM_COLUMN_NAMES)


def _differences(store: EventStore) -> tuple[int, int, int, int]:
    """(main rows, copy rows, rows of main missing from the copy, rows of the copy not in main)."""
    with store.connect() as con:
        rows = con.execute(
            f"""SELECT (SELECT count(*) FROM {TABLE}), (SELECT count(*) FROM {OEM_TABLE}),
                (SELECT count(*) FROM (SELECT {_COLS} FROM {TABLE}
                                       EXCEPT ALL SELECT {_COLS} FROM {OEM_TABLE})),
                (SELECT count(*) FROM (SELECT {_COLS} FROM {OEM_TABLE}
                                       EXCEPT ALL SELECT {_COLS} FROM {TABLE}))"""
        ).fetchall()
    main, copy, missing, extra = rows[0]
    return int(main), int(copy), int(missing), int(extra)


def _oem_out_of_order(store: EventStore, table: str = OEM_TABLE) -> int:
    """Rows stored after a row with a greater (OemPartner, FailureDate)."""
    with store.connect() as con:
        rows = con.execute(
            f"""SELECT count(*) FROM (
                 SELECT (OemPartner, FailureDate) AS k,
                        lag((OemPartner, FailureDate)) OVER (ORDER BY rowid) AS p
                 FROM {table}) WHERE p > k"""
        ).fetchall()
    return int(rows[0][0])


def test_the_compiler_reads_the_table_the_store_clusters_for_each_view() -> None:
    assert dict(EVENTS_TABLES) == dict(TABLE_BY_VIEW)
    assert TABLE_BY_VIEW[View.OEM_DRIVER] == OEM_TABLE


def test_seed_ingest_and_purge_keep_the_copy_equal_to_the_main_table(
    store: EventStore, sample: SampleFactory
) -> None:
    seed_events(store, rows=6_000, days=120, seed=4, now=NOW)
    store.ingest([sample("a.parquet", rows=800, seed=8, days=120)])
    store.ingest([sample("a.parquet", rows=800, seed=8, days=120)])  # all duplicates
    seed_events(store, rows=3_000, days=30, seed=5, now=NOW)
    assert _differences(store) == (9_800, 9_800, 0, 0)
    assert store.purge(NOW, retention_days=90) > 0
    main, copy, missing, extra = _differences(store)
    assert main == copy and missing == extra == 0
    with store.connect() as con:
        oldest = con.execute(f"SELECT min(FailureDate) FROM {OEM_TABLE}").fetchall()[0][0]
    assert oldest >= NOW.date() - timedelta(days=90)


def test_one_write_is_stored_in_oem_cluster_order(store: EventStore) -> None:
    seed_events(store, rows=20_000, days=30, seed=1, now=NOW)
    assert _oem_out_of_order(store) == 0
    assert _oem_out_of_order(store, TABLE) > 1_000  # the IHV-major table is not: the check can fail
    store.compact()
    assert _oem_out_of_order(store) == 0
    assert _differences(store) == (20_000, 20_000, 0, 0)


def test_a_failure_while_copying_leaves_both_tables_unchanged(
    store: EventStore, sample: SampleFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.ingest([sample("first.csv", rows=400, seed=1)])

    def fail(con: duckdb.DuckDBPyConnection, mark: int) -> int:
        raise IngestError("simulated failure while copying")

    monkeypatch.setattr(ingest_module, "mirror_appended", fail)
    with pytest.raises(IngestError, match="simulated"):
        store.ingest([sample("second.parquet", rows=600, seed=2)])
    assert _differences(store) == (400, 400, 0, 0)


def test_a_store_written_before_the_copy_existed_gets_it_on_first_use(
    tmp_path: Path, sample: SampleFactory
) -> None:
    old = EventStore(tmp_path / "old")
    seed_events(old, rows=2_000, days=20, seed=3, now=NOW)
    with duckdb.connect(str(old.path)) as con:
        con.execute(f"DROP TABLE {OEM_TABLE}")
        assert con.execute(f"SELECT count(*) FROM {TABLE}").fetchall() == [(2_000,)]
    reopened = EventStore(tmp_path / "old")
    with reopened.connect() as con:
        assert con.execute(f"SELECT count(*) FROM {OEM_TABLE}").fetchall() == [(2_000,)]
    assert _differences(reopened) == (2_000, 2_000, 0, 0)
    assert create_table_sql(OEM_TABLE, OEM_COLUMN_NAMES).count('"EventId"') == 0
