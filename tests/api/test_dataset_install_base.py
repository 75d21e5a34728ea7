"""The dataset endpoint describes the caller's install base, scoped to the partner like its events."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from driverlens.events import EventStore
from driverlens.installs.seed import seed_installs
from tests.api.conftest import EMPTY, IHV, IHV2, OEM
from tests.api.inproc import InProcess, start_in_process
from tests.api.server import prepare_data_dir

ROWS = 3000
DAYS = 30  # prepare_data_dir seeds events over the 30 days before now


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcess]:
    data_dir = tmp_path_factory.mktemp("installs-api") / "var"
    partners = prepare_data_dir(data_dir, rows=ROWS)
    seed_installs(EventStore(data_dir), rows=ROWS, days=DAYS, now=datetime.now(UTC))
    yield from start_in_process(data_dir, partners)


def _expected(data_dir: Path, owner: str, partner: str) -> tuple[int, str | None, str | None]:
    """Rows and day range of the partner's install base, read from the Parquet files directly."""
    files = str(data_dir / "installs" / "lake" / "**" / "*.parquet")
    rows, oldest, newest = duckdb.execute(
        f"SELECT count(*), min(InstallDate), max(InstallDate) FROM read_parquet(?, hive_partitioning = true) "
        f"WHERE {owner} = ?",
        [files, partner],
    ).fetchall()[0]
    return rows, (str(oldest) if oldest else None), (str(newest) if newest else None)


def _install_base(app: InProcess, who: str) -> dict[str, object]:
    response = app.request("GET", "/analytics/driver/dataset", who)
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert {"views", "operators", "limits", "freshness"} <= set(data), "the existing fields stay"
    installs: dict[str, object] = data["installBase"]
    return installs


@pytest.mark.parametrize(("who", "owner"), [(IHV, "IhvPartner"), (IHV2, "IhvPartner"), (OEM, "OemPartner")])
def test_install_base_counts_only_the_callers_rows(seeded: InProcess, who: str, owner: str) -> None:
    rows, oldest, newest = _expected(seeded.settings.data_dir, owner, who)
    version = EventStore(seeded.settings.data_dir).installs.snapshot().version
    assert rows > 0
    assert _install_base(seeded, who) == {
        "storeVersion": version,
        "rows": rows,
        "oldestInstallDate": oldest,
        "newestInstallDate": newest,
    }


def test_a_partner_without_installs_gets_zero_rows_and_no_dates(seeded: InProcess) -> None:
    installs = _install_base(seeded, EMPTY)
    assert installs["rows"] == 0
    assert installs["oldestInstallDate"] is None and installs["newestInstallDate"] is None
    assert isinstance(installs["storeVersion"], int) and installs["storeVersion"] >= 1


def test_an_empty_install_base_is_zero_rows(inproc: InProcess) -> None:
    installs = _install_base(inproc, IHV)
    assert installs == {"storeVersion": 0, "rows": 0, "oldestInstallDate": None, "newestInstallDate": None}
