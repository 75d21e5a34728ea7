from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

from driverlens.catalog import PartnerKind
from driverlens.events import EventStore, seed_events
from driverlens.events.demo import DEMO_PARTNERS, OTHER_IHVS, OTHER_OEMS
from driverlens.events.seed import DEMO_IHV_SHARES
from driverlens.events.vocabulary import FAILURE_NAMESPACE

from .conftest import NOW

ROWS = 30_000


def _table(store: EventStore) -> list[tuple[object, ...]]:
    with store.reading() as con:
        return con.execute("SELECT * FROM failure_events ORDER BY EventId").fetchall()


def test_same_seed_gives_the_same_events_and_another_seed_does_not(tmp_path: Path) -> None:
    stores = [EventStore(tmp_path / name) for name in ("a", "b", "c")]
    for s, seed in zip(stores, (11, 11, 12), strict=True):
        assert seed_events(s, rows=5_000, days=20, seed=seed, now=NOW).rows == 5_000
    a, b, c = (_table(s) for s in stores)
    assert len(a) == 5_000
    assert a == b
    assert a != c


def test_seeded_events_have_a_realistic_shape(store: EventStore) -> None:
    report = seed_events(store, rows=ROWS, days=90, seed=3, now=NOW)
    print(
        f"seed shape test: {report.rows} rows in {report.seconds:.2f}s ({report.rows_per_second:,.0f} rows/s)"
    )
    with store.reading() as con:

        def one(sql: str, params: dict[str, str] | None = None) -> tuple[object, ...]:
            row = con.execute(sql, params).fetchone()
            assert row is not None
            return tuple(row)

        rows, devices = one("SELECT count(*), count(DISTINCT DeviceId) FROM failure_events")
        assert rows == ROWS
        assert 0.28 < devices / ROWS < 0.38  # type: ignore[operator]
        # FailureHash is stable per FailureName: one hash per name, and it is uuid5 of the name.
        assert one(
            "SELECT max(n) FROM (SELECT count(DISTINCT FailureHash) n"
            " FROM failure_events GROUP BY FailureName)"
        ) == (1,)
        for name, h in con.execute(
            "SELECT DISTINCT FailureName, FailureHash FROM failure_events LIMIT 20"
        ).fetchall():
            assert uuid.UUID(bytes=h) == uuid.uuid5(FAILURE_NAMESPACE, name)  # stored as its 16 bytes
        assert one(
            "SELECT count(*) FROM failure_events"
            " WHERE CabExpirationTime <> CabCollectionTime + INTERVAL 30 DAY"
            " OR CabCollectionTime < FailureDateTime OR CAST(FailureDateTime AS DATE) <> FailureDate"
        ) == (0,)
        today = NOW.date()
        assert one("SELECT min(FailureDate), max(FailureDate) FROM failure_events") == (
            today - timedelta(days=90),
            today - timedelta(days=1),
        )
        # A shared store: many vendors and makers; each demo partner owns a modest share.
        ihvs = {p.name for p in DEMO_PARTNERS if p.kind is PartnerKind.IHV}
        oem = next(p for p in DEMO_PARTNERS if p.kind is PartnerKind.OEM)
        ihv_share = dict(
            con.execute(
                "SELECT IhvPartner, count(*) / sum(count(*)) OVER () FROM failure_events GROUP BY 1"
            ).fetchall()
        )
        assert set(ihv_share) == ihvs | {o.name for o in OTHER_IHVS}
        assert abs(ihv_share["Contoso Graphics"] - DEMO_IHV_SHARES["Contoso Graphics"]) < 0.001
        assert all(0.05 <= ihv_share[name] <= 0.15 for name in ihvs)
        assert max(ihv_share.values()) < 0.25 and min(ihv_share.values()) > 0.001
        # Each vendor's failures are in its own drivers only.
        for vendor in OTHER_IHVS[:3]:
            drivers = con.execute(
                "SELECT DISTINCT DriverName FROM failure_events WHERE IhvPartner = ?", [vendor.name]
            ).fetchall()
            assert {d for (d,) in drivers} <= set(vendor.drivers)
        oem_share = dict(
            con.execute(
                "SELECT OemPartner, count(*) / sum(count(*)) OVER () FROM failure_events GROUP BY 1"
            ).fetchall()
        )
        assert set(oem_share) == {oem.name, *OTHER_OEMS}
        assert 0.08 < oem_share[oem.name] < 0.16
        assert max(oem_share.values()) < 0.3
        assert one(
            "SELECT count(*) FROM failure_events WHERE (OemPartner = $n) <> (OEMName = $n)", {"n": oem.name}
        ) == (0,)
        # Zipf: the most frequent failure bucket of a driver is far ahead of the tenth.
        counts = [r[0] for r in con.execute(
            "SELECT count(*) c FROM failure_events WHERE DriverName = 'cgfx.sys'"
            " GROUP BY FailureName ORDER BY c DESC"
        ).fetchall()]  # fmt: skip
        assert counts[0] > 5 * counts[9]
        assert one("SELECT min(EventCount) >= 1 AND max(EventCount) < 40 FROM failure_events") == (True,)
        assert one(
            "SELECT count(DISTINCT OSVersion) > 4 AND count(DISTINCT Market) > 10 FROM failure_events"
        ) == (True,)
        assert one("SELECT count(*) FROM failure_events WHERE Architecture NOT IN ('x64','arm64','x86')") == (
            0,
        )


def _out_of_order(store: EventStore, order: str) -> int:
    """Rows after a row with a greater (IhvPartner, OemPartner) in the same data file of the IHV copy,
    taking each file's rows in ``order``. The table is partitioned by day, so within a file (one day)
    cluster order is the order of the owner partner, then the other partner."""
    with store.reading() as con:
        row = con.execute(
            f"""SELECT count(*) FROM (
                 SELECT (IhvPartner, OemPartner) AS k,
                        lag((IhvPartner, OemPartner)) OVER (PARTITION BY filename ORDER BY {order}) AS prev
                 FROM read_parquet(?, filename = true, file_row_number = true))
               WHERE prev > k""",
            [list(store.snapshot().paths_of_table("failure_events"))],
        ).fetchone()
    return int(row[0]) if row else -1


def test_seeded_events_are_stored_in_cluster_order(store: EventStore) -> None:
    seed_events(store, rows=20_000, days=30, seed=1, now=NOW)
    assert _out_of_order(store, "file_row_number") == 0
    # The same check on arrival (random) order finds violations, so it can fail.
    assert _out_of_order(store, "EventId") > 1_000


def test_zero_rows_seeds_nothing(store: EventStore) -> None:
    assert seed_events(store, rows=0, seed=1, now=NOW).rows == 0
    assert store.count() == 0


def test_seeding_reports_its_progress_chunk_by_chunk(store: EventStore) -> None:
    seen: list[tuple[int, str]] = []
    seed_events(store, rows=20_000, seed=3, now=NOW, progress=lambda rows, step: seen.append((rows, step)))
    written = [rows for rows, step in seen if step == "writing events"]
    assert written[0] == 0 and written[-1] == 20_000
    assert len(written) > 10  # one call per chunk (a chunk per vendor), not only at the end
    assert written == sorted(written)
    # Both copies are written sorted, then committed as one version (events.write).
    assert [step for _, step in seen[-3:]] == ["deduplicating", "writing", "committing"]
