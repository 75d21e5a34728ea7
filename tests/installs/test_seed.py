"""The demo install base agrees with the demo events: failing devices are a subset of installed ones, and
failures per installed device are flat across versions except where a version regressed.

Figures come from the seeded tables themselves (the install base's Parquet files, the event view), and
last through the failure-rate query the dashboard's Rates page runs.
"""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path

import duckdb
import pytest

from driverlens.auth.principal import Principal
from driverlens.catalog import PartnerKind
from driverlens.engines.factory import engine_for
from driverlens.events import EventStore, seed_events
from driverlens.events import vocabulary as voc
from driverlens.events.demo import DEMO_PARTNERS
from driverlens.events.rollout import DEMO_REGRESSIONS
from driverlens.installs.seed import seed_installs
from driverlens.settings import Settings
from driverlens.usecases.glance import Filters
from driverlens.usecases.version_rates import version_rates

ROWS = 60_000
DAYS = 30
NOW = datetime(2026, 3, 31, 12, tzinfo=UTC)
KEY = '"InstallDate", "IhvPartner", "OemPartner", "DriverName", "DriverVersion", "OSVersion"'
MIN_FAILING = 500  # devices on both sides of a transition, so that its ratio is not noise


def _seed(data_dir: Path, seed: int = 0) -> EventStore:
    store = EventStore(data_dir)
    seed_events(store, rows=ROWS, days=DAYS, seed=seed, now=NOW)
    seed_installs(store, rows=ROWS, days=DAYS, now=NOW)
    return store


def _joined(store: EventStore) -> duckdb.DuckDBPyConnection:
    """A connection with ``installs`` (the install base files) and ``failing`` (distinct failing devices
    per install base key, from the events) as tables."""
    con = duckdb.connect()
    files = [f.path for f in store.installs.snapshot().files]
    con.execute(
        "CREATE TABLE installs AS SELECT * FROM read_parquet(?, hive_partitioning = true, "
        "hive_types = {'InstallDate': DATE})",
        [files],
    )
    with store.reading() as reader:
        failing = reader.sql(
            """SELECT "FailureDate" AS "InstallDate", "IhvPartner", "OemPartner", "DriverName",
                       "DriverVersion", "OSVersion", count(DISTINCT "DeviceId") AS failing
                FROM failure_events GROUP BY ALL"""
        ).to_arrow_table()
    con.register("failing_arrow", failing)
    con.execute("CREATE TABLE failing AS SELECT * FROM failing_arrow")
    return con


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> EventStore:
    return _seed(tmp_path_factory.mktemp("installs-seed") / "var")


@pytest.fixture(scope="module")
def rates(seeded: EventStore) -> dict[tuple[str, str], tuple[int, int]]:
    """(driver, version) -> (failing devices summed over days and keys, installed devices summed)."""
    con = _joined(seeded)
    rows = con.execute(
        f"""SELECT "DriverName", "DriverVersion", coalesce(sum(f.failing), 0), sum(i."DeviceCount")
            FROM installs i LEFT JOIN failing f USING ({KEY}) GROUP BY ALL"""
    ).fetchall()
    return {(d, v): (int(failing), int(installed)) for d, v, failing, installed in rows}


def test_failing_devices_are_a_subset_of_installed_devices_for_every_key(seeded: EventStore) -> None:
    con = _joined(seeded)
    keys, exceeding = con.execute(
        f"""SELECT count(*), count(*) FILTER (WHERE coalesce(i."DeviceCount", 0) < f.failing)
            FROM failing f LEFT JOIN installs i USING ({KEY})"""
    ).fetchall()[0]
    assert keys > 1000
    assert exceeding == 0
    assert con.execute('SELECT min("DeviceCount") FROM installs').fetchall()[0][0] > 0


def test_regressed_versions_fail_about_three_times_as_often_as_their_predecessor(
    rates: dict[tuple[str, str], tuple[int, int]],
) -> None:
    for r in DEMO_REGRESSIONS:
        (f_new, i_new), (f_old, i_old) = rates[(r.driver, r.version)], rates[(r.driver, r.predecessor)]
        assert f_new >= 300 and f_old >= 300  # a 3x change stands well out of this much noise
        ratio = (f_new / i_new) / (f_old / i_old)
        print(f"regressed {r.driver} {r.predecessor} -> {r.version}: rate ratio {ratio:.2f}")
        assert 2.0 < ratio < 4.0


def test_other_version_transitions_are_flat(rates: dict[tuple[str, str], tuple[int, int]]) -> None:
    regressed = {(r.driver, r.version) for r in DEMO_REGRESSIONS}
    ratios: list[float] = []
    for driver in sorted({d for d, _ in rates}):
        versions = voc.driver_versions(driver)  # newest first
        for newer, older in pairwise(versions):
            if (driver, newer) in regressed or (driver, older) in regressed:
                continue
            new, old = rates.get((driver, newer)), rates.get((driver, older))
            if new is None or old is None or min(new[0], old[0]) < MIN_FAILING:
                continue
            ratio = (new[0] / new[1]) / (old[0] / old[1])
            assert 0.8 <= ratio <= 1.25, f"{driver} {older} -> {newer}: {ratio:.2f}"
            ratios.append(ratio)
    print(f"flat transitions: {len(ratios)}, rate ratio {min(ratios):.2f}..{max(ratios):.2f}")
    assert len(ratios) >= 5


def test_seeding_again_adds_nothing(seeded: EventStore) -> None:
    version = seeded.installs.snapshot().version
    again = seed_installs(seeded, rows=ROWS, days=DAYS, now=NOW)
    assert (again.added, again.raised, again.version) == (0, 0, None)
    assert again.rows == seeded.installs.snapshot().rows
    assert seeded.installs.snapshot().version == version


def test_the_same_seed_gives_the_same_install_base(seeded: EventStore, tmp_path: Path) -> None:
    other = _seed(tmp_path / "var")
    order = f"ORDER BY {KEY}"
    first = _joined(seeded).execute(f"SELECT * FROM installs {order}").fetchall()
    second = _joined(other).execute(f"SELECT * FROM installs {order}").fetchall()
    assert first == second


def test_seeding_more_events_raises_counts_and_never_lowers_one(tmp_path: Path) -> None:
    store = EventStore(tmp_path / "var")
    seed_events(store, rows=5_000, days=DAYS, seed=0, now=NOW)
    seed_installs(store, rows=5_000, days=DAYS, now=NOW)
    before = dict(_counts(store))
    seed_events(store, rows=5_000, days=DAYS, seed=1, now=NOW)  # another batch: more failing devices
    again = seed_installs(store, rows=5_000, days=DAYS, now=NOW)
    after = dict(_counts(store))
    assert again.raised > 0
    assert all(after[key] >= count for key, count in before.items())
    exceeding = (
        _joined(store)
        .execute(
            f"""SELECT count(*) FROM failing f LEFT JOIN installs i USING ({KEY})
            WHERE coalesce(i."DeviceCount", 0) < f.failing"""
        )
        .fetchall()[0][0]
    )
    assert exceeding == 0


def _counts(store: EventStore) -> list[tuple[tuple[object, ...], int]]:
    rows = _joined(store).execute(f'SELECT {KEY}, "DeviceCount" FROM installs').fetchall()
    return [(tuple(r[:-1]), int(r[-1])) for r in rows]


def test_the_rates_page_query_flags_exactly_the_seeded_regressions(
    seeded: EventStore, tmp_path: Path
) -> None:
    """Through FAILURERATE with compareVersions on the real engine, as the dashboard and a scheduled
    report compute it: every demo IHV's versions, and only the seeded ones regressed."""
    engine = engine_for(Settings(data_dir=tmp_path), seeded)
    flagged: set[tuple[str | None, str | None]] = set()
    compared = 0
    for partner in (p for p in DEMO_PARTNERS if p.kind is PartnerKind.IHV):
        caller = Principal(1, partner.name, partner.kind, partner.tenant_id, "client")
        rates = version_rates(engine, caller, NOW, DAYS, Filters(None, None, None), timeout_s=120)
        compared += sum(r.previous_version is not None for r in rates.rows)
        flagged |= {(r.driver, r.version) for r in rates.regressed}
    print(f"versions compared with their predecessor: {compared}, flagged: {sorted(flagged)}")
    assert compared >= 10
    assert flagged == {(r.driver, r.version) for r in DEMO_REGRESSIONS}
