"""The OEM-clustered copy: the same events as the main copy in every snapshot, in OEM cluster order."""

from __future__ import annotations

from datetime import timedelta

import pytest

from driverlens.catalog import View
from driverlens.compiler.query import EVENTS_TABLES
from driverlens.errors import IngestError
from driverlens.events import EventStore, seed_events
from driverlens.events import write as write_module
from driverlens.events.lake import Snapshot
from driverlens.events.schema import OEM_CLUSTER_KEY, OEM_COLUMN_NAMES, OEM_TABLE, TABLE, TABLE_BY_VIEW

from .conftest import NOW, SampleFactory

_COLS = ", ".join(f'"{c}"' for c in OEM_COLUMN_NAMES)


def _differences(store: EventStore, snapshot: Snapshot | None = None) -> tuple[int, int, int, int]:
    """(main rows, copy rows, rows of main missing from the copy, rows of the copy not in main)."""
    with store.reading(snapshot) as con:
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
    """Rows stored after a row with a greater (OemPartner, FailureDate), in the files of ``table``."""
    files = store.snapshot().paths_of_table(table)
    with store.reading() as con:
        rows = con.execute(
            """SELECT count(*) FROM (
                 SELECT (OemPartner, FailureDate) AS k,
                        lag((OemPartner, FailureDate))
                            OVER (PARTITION BY filename ORDER BY file_row_number) AS p
                 FROM read_parquet(?, filename = true, file_row_number = true, hive_partitioning = true,
                                   hive_types = {'FailureDate': DATE}))
               WHERE p > k""",
            [list(files)],
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
    with store.reading() as con:
        oldest = con.execute(f"SELECT min(FailureDate) FROM {OEM_TABLE}").fetchall()[0][0]
    assert oldest >= NOW.date() - timedelta(days=90)


def test_one_write_is_stored_in_oem_cluster_order(store: EventStore) -> None:
    seed_events(store, rows=20_000, days=30, seed=1, now=NOW)
    assert _oem_out_of_order(store) == 0
    assert _oem_out_of_order(store, TABLE) > 500  # the IHV-major copy is not: the check can fail
    assert _differences(store) == (20_000, 20_000, 0, 0)


def test_a_later_write_is_also_stored_in_oem_cluster_order(store: EventStore) -> None:
    seed_events(store, rows=20_000, days=30, seed=1, now=NOW)
    seed_events(store, rows=2_000, days=30, seed=2, now=NOW)
    assert _differences(store) == (22_000, 22_000, 0, 0)
    assert _oem_out_of_order(store) == 0


def _data_files(store: EventStore) -> set[str]:
    return {str(p.resolve()) for p in store.lake.root.rglob("*.parquet")}


def test_a_failure_while_writing_the_copy_leaves_both_tables_unchanged(
    store: EventStore, sample: SampleFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.ingest([sample("first.csv", rows=400, seed=1)])
    before = store.snapshot()
    real = write_module._order
    main_copy_written: list[bool] = []

    def fail_on_the_oem_copy(copy: str) -> tuple[str, ...]:
        if copy == OEM_CLUSTER_KEY[0]:
            main_copy_written.append(_data_files(store) > {f.path for f in before.files})
            raise IngestError("simulated failure while copying")
        return real(copy)

    monkeypatch.setattr(write_module, "_order", fail_on_the_oem_copy)
    with pytest.raises(IngestError, match="simulated"):
        store.ingest([sample("second.parquet", rows=600, seed=2)])
    assert main_copy_written == [True]  # it failed after the IHV copy's files were written
    assert store.snapshot().version == before.version
    assert _differences(store) == (400, 400, 0, 0)
    assert _data_files(store) == {f.path for f in before.files}  # and they were removed


def test_every_snapshot_holds_the_same_events_in_both_copies(
    store: EventStore, sample: SampleFactory
) -> None:
    """Both copies are added (and compacted, and purged) together: no version holds an event in one only.

    Older snapshots stay readable after compaction and retention (vacuum keeps their files for a grace
    period), so each is checked again at the end.
    """
    snapshots = []
    seed_events(store, rows=2_000, days=20, seed=3, now=NOW)
    snapshots.append(store.snapshot())
    for i in range(5):
        store.ingest([sample(f"{i}.parquet", rows=300, seed=10 + i, days=20)])
        snapshots.append(store.snapshot())
    assert store.compact() > 0
    snapshots.append(store.snapshot())
    assert store.purge(NOW, retention_days=10) > 0
    snapshots.append(store.snapshot())
    assert len({s.version for s in snapshots}) == len(snapshots)
    for snapshot in snapshots:
        main, copy, missing, extra = _differences(store, snapshot)
        assert main == copy == snapshot.rows and missing == extra == 0, snapshot.version
    assert [_differences(store, s)[0] for s in snapshots[:7]] == [2_000 + 300 * i for i in range(6)] + [3_500]
    assert _differences(store, snapshots[-1])[0] < 3_500
