"""Failure-rate templates through the real HTTP app: created, shown canonically, validated with paths,
discovered, scheduled, run, and the downloaded file equal to a plain-Python recomputation."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from driverlens.events import EventStore
from driverlens.installs.synthetic import synthetic_installs
from tests.api.conftest import IHV
from tests.api.helpers import created_id, error_targets, error_text, run_due_runs
from tests.api.server import Server, prepare_data_dir, start_server
from tests.compiler import rates_oracle as oracle

RATE = "FAILURERATE(DeviceId)"
TEMPLATES = "/analytics/driver/reporttemplate"
BODY: dict[str, Any] = {
    "view": "IHVDriver",
    "projection": ["DriverName", "DriverVersion"],
    "dateRange": {"reportPeriod": "Last30Days"},
    "aggregation": {"aggregatedColumns": [RATE, "SUM(EventCount)"], "compareVersions": True},
    "orderby": [{"attribute": "FailureRate", "sort": "desc"}],
}


@pytest.fixture(scope="module")
def rate_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data_dir = tmp_path_factory.mktemp("rates-api") / "var"
    partners = prepare_data_dir(data_dir, rows=4000)
    synthetic_installs(EventStore(data_dir), days=31, now=datetime.now(UTC) + timedelta(days=1), seed=3)
    instance = start_server(data_dir, partners)
    yield instance
    instance.stop()


def test_a_rate_template_is_shown_canonically(rate_server: Server) -> None:
    lenient = {
        **BODY,
        "aggregation": {"aggregatedcolumns": ["failurerate(deviceid)"], "COMPAREVERSIONS": "true"},
    }
    with rate_server.client(IHV) as api:
        template_id = created_id(api.post(TEMPLATES, json=lenient), "templateId")
        shown = api.get(f"{TEMPLATES}/{template_id}").json()["data"]["template"]
    assert shown["aggregation"] == {"aggregatedColumns": [RATE], "compareVersions": True}


@pytest.mark.parametrize(
    ("change", "target", "fragment"),
    [
        ({"projection": ["DriverName", "Market"]}, "projection[1]", "not in the install base"),
        (
            {"aggregation": {"aggregatedColumns": ["FAILURERATE(EventCount)"]}},
            "aggregation.aggregatedColumns[0]",
            "FAILURERATE(DeviceId)",
        ),
        (
            {"projection": ["DriverName"], "orderby": []},
            "aggregation.compareVersions",
            "project DriverVersion",
        ),
        ({"orderby": [{"attribute": "FailureRatio"}]}, "orderby[0].attribute", "FailureRatio"),
    ],
)
def test_a_bad_rate_template_is_a_400_naming_the_field(
    rate_server: Server, change: dict[str, Any], target: str, fragment: str
) -> None:
    with rate_server.client(IHV) as api:
        response = api.post(TEMPLATES, json={**BODY, **change})
    assert response.status_code == 400, response.text
    assert target in error_targets(response)
    assert fragment in error_text(response)


def test_discovery_lists_the_rate_measure_and_its_columns(rate_server: Server) -> None:
    with rate_server.client(IHV) as api:
        dataset = api.get("/analytics/driver/dataset").json()["data"]
    (rate,) = [a for a in dataset["aggregateFunctions"] if a["name"] == "FAILURERATE"]
    assert rate["example"] == RATE
    assert [c["name"] for c in rate["outputColumns"]][:3] == [
        "FailingDeviceDays",
        "InstalledDeviceDays",
        "FailureRate",
    ]
    assert "Regressed" in [c["name"] for c in rate["compareVersionsColumns"]]
    assert rate["groupColumns"] == ["DriverName", "DriverVersion", "OSVersion", "FailureDate"]


def _store_rows(data_dir: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    with EventStore(data_dir).reading() as con:
        events = con.execute(
            'SELECT "IhvPartner", "FailureDate", "DriverName", "DriverVersion", "OSVersion", "Market", '
            '"DeviceId", "EventCount" FROM failure_events'
        )
        names = [d[0] for d in events.description]
        event_rows = [dict(zip(names, r, strict=True)) for r in events.fetchall()]
        installs = con.execute("SELECT * FROM install_base")
        names = [d[0] for d in installs.description]
        install_rows = [dict(zip(names, r, strict=True)) for r in installs.fetchall()]
    return event_rows, install_rows


def _typed(text: str, like: Any) -> Any:
    if text == "":
        return None
    if isinstance(like, bool):
        return text == "true"
    if isinstance(like, int):
        return int(text)
    if isinstance(like, float):
        return float(text)
    return text


def test_a_scheduled_rate_report_runs_and_its_file_equals_the_recomputation(rate_server: Server) -> None:
    start = datetime.now(UTC).replace(microsecond=0)
    with rate_server.client(IHV) as api:
        template_id = created_id(api.post(TEMPLATES, json=BODY), "templateId")
        schedule = {
            "startTime": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "recurrenceInterval": 24,
            "recurrence": 1,
        }
        report_id = created_id(
            api.post("/analytics/driver/report", json={"templateId": template_id, "schedule": schedule}),
            "reportId",
        )
        assert run_due_runs(rate_server.data_dir) >= 1
        day = start.date().isoformat()
        data = api.get(f"/analytics/driver/reportdata/{report_id}", params={"startDate": day, "endDate": day})
        (item,) = data.json()["data"]
        assert item["ReportStatus"] == "Completed", item
        location = urlsplit(item["ReportLocation"])
        download = api.get(f"{location.path}?{location.query}")
    assert download.status_code == 200
    rows = list(csv.reader(io.StringIO(download.text)))
    header, body = rows[0], rows[1:]
    events, installs = _store_rows(rate_server.data_dir)
    due = start.date()
    window = (due - timedelta(days=30), due)
    want = oracle.expected_rows(BODY, events, installs, report_id, partner=IHV, window=window)
    assert header[:4] == ["DriverName", "DriverVersion", "FailingDeviceDays", "InstalledDeviceDays"]
    assert len(body) == len(want) > 5
    got = [
        tuple(_typed(text, like) for text, like in zip(row, expected, strict=True))
        for row, expected in zip(body, want, strict=True)
    ]
    # Text columns compare as text, numbers as the numbers the file spells (floats round-trip exactly).
    assert got == want
    assert any(r[header.index("PreviousVersion")] for r in body)
