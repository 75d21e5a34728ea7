"""Delta blocks through HTTP: accepted and shown canonically, every problem a 400 with its path."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import IHV
from tests.api.helpers import created_id, error_targets, error_text
from tests.api.server import Server


def _body(delta: Any, aggregates: list[str] | None = None) -> dict[str, Any]:
    return {
        "view": "IHVDriver",
        "projection": ["DriverName", "FailureHash"],
        "dateRange": {"reportPeriod": "Last7Days"},
        "aggregation": {
            "aggregatedColumns": aggregates
            if aggregates is not None
            else ["SUM(EventCount)", "MAX(FailureName)"]
        },
        "delta": delta,
    }


def test_a_delta_block_is_accepted_leniently_and_shown_canonically(server: Server) -> None:
    body = _body({"Key": [" failurehash"], "MEASURE": "sum(eventcount)", "regressedratio": "1.5"})
    with server.client(IHV) as api:
        template_id = created_id(api.post("/analytics/driver/reporttemplate", json=body), "templateId")
        shown = api.get(f"/analytics/driver/reporttemplate/{template_id}").json()["data"]["template"]
    assert shown["delta"] == {"key": ["FailureHash"], "measure": "SUM(EventCount)", "regressedRatio": 1.5}


@pytest.mark.parametrize(
    ("delta", "aggregates", "target", "fragment"),
    [
        ({"key": ["OSVersion"], "measure": "SUM(EventCount)"}, None, "delta.key[0]", "not projected"),
        (
            {"key": ["Colour"], "measure": "SUM(EventCount)"},
            None,
            "delta.key[0]",
            "not in the IHVDriver view",
        ),
        ({"key": [], "measure": "SUM(EventCount)"}, None, "delta.key", "non-empty"),
        ({"measure": "SUM(EventCount)"}, None, "delta.key", "'key' is required"),
        ({"key": ["DriverName"], "measure": "MAX(FailureName)"}, None, "delta.measure", "not a number"),
        ({"key": ["DriverName"], "measure": "DCOUNT(DeviceId)"}, None, "delta.measure", "not in aggregation"),
        ({"key": ["DriverName"], "measure": "DriverName"}, None, "delta.measure", "not an aggregate"),
        ({"key": ["DriverName"]}, None, "delta.measure", "'measure' is required"),
        (
            {"key": ["DriverName"], "measure": "SUM(EventCount)", "regressedRatio": 1},
            None,
            "delta.regressedRatio",
            "above 1",
        ),
        (
            {"key": ["DriverName"], "measure": "SUM(EventCount)", "regressedRatio": "lots"},
            None,
            "delta.regressedRatio",
            "above 1",
        ),
        (
            {"key": ["DriverName"], "measure": "SUM(EventCount)", "ratio": 2},
            None,
            "delta.ratio",
            "unknown key",
        ),
        ({"key": ["DriverName"], "measure": "SUM(EventCount)"}, [], "delta", "aggregated buckets"),
        ("yes", None, "delta", "JSON object"),
    ],
)
def test_a_bad_delta_block_is_a_400_naming_the_field(
    server: Server, delta: Any, aggregates: list[str] | None, target: str, fragment: str
) -> None:
    with server.client(IHV) as api:
        response = api.post("/analytics/driver/reporttemplate", json=_body(delta, aggregates))
    assert response.status_code == 400, response.text
    assert target in error_targets(response)
    assert fragment in error_text(response)
