"""Fixtures: one real server process (with its worker) on a small seeded store, and client builders."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from driverlens.client import DriverLensClient, ReportRun
from tests.api.server import Creds, Server, prepare_data_dir
from tests.client.server import start_server_with_worker

IHV = "Contoso Graphics"
OEM = "Northwind Systems"

ClientFactory = Callable[..., DriverLensClient]


def ihv_template(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "view": "IHVDriver",
        "projection": ["FailureName", "DriverName"],
        "dateRange": {"reportPeriod": "Last30Days"},
        "aggregation": {"aggregatedColumns": ["SUM(EventCount)"]},
        "orderby": [{"attribute": "FailureName", "sort": "asc"}],
    }
    body.update(overrides)
    return body


def tomorrow() -> datetime:
    return (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)


@pytest.fixture(scope="session")
def client_data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Creds]]:
    data_dir = tmp_path_factory.mktemp("client") / "var"
    return data_dir, prepare_data_dir(data_dir, rows=10_000)


@pytest.fixture(scope="session")
def live_server(client_data: tuple[Path, dict[str, Creds]]) -> Iterator[Server]:
    data_dir, partners = client_data
    instance = start_server_with_worker(data_dir, partners)
    yield instance
    instance.stop()


@pytest.fixture
def make_client(live_server: Server) -> Iterator[ClientFactory]:
    """Builds clients of the live server for a partner (closed after the test)."""
    made: list[DriverLensClient] = []

    def build(who: str = IHV, **kwargs: Any) -> DriverLensClient:
        creds = live_server.partners[who]
        client = DriverLensClient(
            kwargs.pop("base_url", live_server.base_url),
            kwargs.pop("tenant_id", creds.tenant_id),
            kwargs.pop("client_id", creds.client_id),
            kwargs.pop("client_secret", creds.secret),
            **kwargs,
        )
        made.append(client)
        return client

    yield build
    for client in made:
        client.close()


@pytest.fixture(scope="session")
def completed_run(live_server: Server) -> tuple[int, ReportRun]:
    """(report id, its completed manual run): a report file the worker really produced."""
    creds = live_server.partners[IHV]
    with DriverLensClient(live_server.base_url, creds.tenant_id, creds.client_id, creds.secret) as client:
        template_id = client.create_template(ihv_template())
        report_id = client.schedule_report(template_id, tomorrow(), 24, 2)
        started = client.run_now(report_id)
        run = client.wait_for_completed_run(report_id, after=started.due, timeout=60, poll=0.2)
    return report_id, run
