"""The overview and bucket use cases read only the caller's rows, bounded by window and limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from driverlens.auth.principal import Principal
from driverlens.catalog import OWNER_COLUMNS, PartnerKind
from driverlens.compiler.query import EVENTS_TABLES
from driverlens.engines import DuckDBEngine
from driverlens.errors import NotFound, ValidationFailed
from driverlens.events import EventStore, seed_events
from driverlens.metadata.database import Database
from driverlens.usecases.buckets import bucket
from driverlens.usecases.glance import Filters, read_days, read_filters
from driverlens.usecases.overview import TOP_BUCKETS, filter_options, overview

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
CONTOSO = Principal(1, "Contoso Graphics", PartnerKind.IHV, "t1", "c1")
NORTHWIND = Principal(3, "Northwind Systems", PartnerKind.OEM, "t3", "c3")
NOBODY = Principal(4, "Empty Drivers", PartnerKind.IHV, "t4", "c4")


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> EventStore:
    events = EventStore(tmp_path_factory.mktemp("overview"))
    seed_events(events, rows=20_000, days=90, seed=11, now=NOW)
    return events


def _expected(store: EventStore, caller: Principal, days: int, driver: str = "") -> tuple[int, int]:
    """Events and buckets of the caller over the window, straight from the store by owner column."""
    view = caller.kind.view
    start = (NOW - timedelta(days=days - 1)).date()
    sql = (
        f'SELECT coalesce(sum("EventCount"), 0), count(DISTINCT "FailureHash") FROM {EVENTS_TABLES[view]} '
        f'WHERE "{OWNER_COLUMNS[view]}" = ? AND "FailureDate" >= ? AND "FailureDate" <= ?'
    )
    params: list[object] = [caller.partner_name, start, NOW.date()]
    if driver:
        sql += ' AND "DriverName" = ?'
        params.append(driver)
    with store.reading() as conn:
        row = conn.execute(sql, params).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


@pytest.mark.parametrize("caller", [CONTOSO, NORTHWIND], ids=["IHV", "OEM"])
@pytest.mark.parametrize("days", [30, 90])
def test_totals_are_the_callers_rows_only(store: EventStore, caller: Principal, days: int) -> None:
    result = overview(DuckDBEngine(store), caller, days, Filters(), NOW, 30)
    events, buckets = _expected(store, caller, days)
    assert len(result.series) == days and result.series[-1].day == NOW.date()
    assert result.total_events == events > 0
    assert len(result.top_buckets) == min(buckets, TOP_BUCKETS)
    assert sorted((b.events for b in result.top_buckets), reverse=True) == [
        b.events for b in result.top_buckets
    ]
    assert all(b.first_seen and b.first_seen >= NOW.date() - timedelta(days=6) for b in result.new_buckets)
    assert sum(d.events for d in result.drivers) <= events


def test_a_driver_filter_narrows_everything(store: EventStore) -> None:
    engine = DuckDBEngine(store)
    options = filter_options(engine, CONTOSO, 30, Filters(), NOW, 30)
    driver = options.drivers[-1]
    result = overview(engine, CONTOSO, 30, Filters(driver=driver), NOW, 30)
    assert result.total_events == _expected(store, CONTOSO, 30, driver)[0]
    assert {d.driver for d in result.drivers} == {driver}
    narrowed = filter_options(engine, CONTOSO, 30, Filters(driver=driver), NOW, 30)
    assert set(narrowed.versions) < set(options.versions)


def test_a_partner_without_events_sees_zeroes(store: EventStore) -> None:
    result = overview(DuckDBEngine(store), NOBODY, 30, Filters(), NOW, 30)
    assert result.total_events == 0 and result.top_buckets == [] and result.drivers == []


def test_a_bucket_is_found_only_by_its_owner(store: EventStore, sqlite_db: Database) -> None:
    db = sqlite_db
    engine = DuckDBEngine(store)
    top = overview(engine, CONTOSO, 30, Filters(), NOW, 30).top_buckets[0]
    found = bucket(engine, db, CONTOSO, top.failure_hash.upper(), NOW, 30)
    assert found.name == top.name and sum(v for _, v in found.trend) >= top.events
    assert found.cabs == []  # nothing collected in this store: no CAB to offer (the browser test has some)
    with pytest.raises(NotFound):
        bucket(engine, db, NOBODY, top.failure_hash, NOW, 30)
    with pytest.raises(ValidationFailed):
        bucket(engine, db, CONTOSO, "not-a-guid", NOW, 30)


@pytest.mark.parametrize(("raw", "ok"), [(None, 30), ("90", 90), ("7", None), ("x", None)])
def test_the_window_is_30_or_90_days(raw: str | None, ok: int | None) -> None:
    if ok is None:
        with pytest.raises(ValidationFailed):
            read_days(raw)
    else:
        assert read_days(raw) == ok


def test_filters_are_bounded() -> None:
    with pytest.raises(ValidationFailed):
        read_filters("x" * 201, None, None)
    assert read_filters(" a ", None, "") == Filters(driver="a")
