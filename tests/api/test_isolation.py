"""Cross-tenant matrix: another partner's id must behave exactly like a missing id, on every route."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from tests.api.conftest import EMPTY, IHV, IHV2, OEM
from tests.api.events_lookup import busiest_failure, cabs_of
from tests.api.helpers import ihv_template, new_report, new_template, oem_template, schedule_body
from tests.api.server import Server

MISSING_ID = 2_000_000_000
TODAY = datetime.now(UTC).date().isoformat()


@dataclass(frozen=True)
class Victim:
    template_id: int
    report_id: int
    cab_application_id: str
    cab_id_hash: str
    failure_application_id: str
    failure_hash: str
    oem_cab_id_hash: str


@pytest.fixture(scope="module")
def victim(server: Server) -> Victim:
    with server.client(IHV) as api:
        template_id = new_template(api)
        report_id = new_report(api, template_id)
    cab = cabs_of(server.data_dir, "IhvPartner", IHV)[0]
    application_id, failure_hash, _ = busiest_failure(server.data_dir, IHV)
    oem_cab = cabs_of(server.data_dir, "OemPartner", OEM)[0]
    assert cab.application_id is not None
    return Victim(
        template_id,
        report_id,
        cab.application_id,
        cab.cab_id_hash,
        application_id,
        failure_hash,
        oem_cab.cab_id_hash,
    )


Request = Callable[[httpx.Client, int, dict[str, Any]], httpx.Response]


def _body_for(kind_view: str) -> dict[str, Any]:
    return ihv_template() if kind_view == "IHVDriver" else oem_template()


ID_ROUTES: dict[str, Request] = {
    "GET template": lambda api, i, ctx: api.get(f"/analytics/driver/reporttemplate/{i}"),
    "GET template version": lambda api, i, ctx: api.get(f"/analytics/driver/reporttemplate/{i}?version=1"),
    "POST template edit": lambda api, i, ctx: api.post(
        f"/analytics/driver/reporttemplate/{i}", json=_body_for(ctx["view"])
    ),
    "DELETE template": lambda api, i, ctx: api.delete(f"/analytics/driver/reporttemplate/{i}"),
    "GET report": lambda api, i, ctx: api.get(f"/analytics/driver/report/{i}"),
    "POST report edit": lambda api, i, ctx: api.post(
        f"/analytics/driver/report/{i}", json={"schedule": {"recurrence": 2}}
    ),
    "POST report pause": lambda api, i, ctx: api.post(f"/analytics/driver/report/pause/{i}"),
    "POST report resume": lambda api, i, ctx: api.post(f"/analytics/driver/report/resume/{i}"),
    "POST report run": lambda api, i, ctx: api.post(f"/analytics/driver/report/{i}/run"),
    "GET report runs": lambda api, i, ctx: api.get(f"/analytics/driver/report/{i}/runs"),
    "DELETE report": lambda api, i, ctx: api.delete(f"/analytics/driver/report/{i}"),
    "GET report data": lambda api, i, ctx: api.get(
        f"/analytics/driver/reportdata/{i}", params={"startDate": "2020-01-01", "endDate": TODAY}
    ),
    "POST report with template id": lambda api, i, ctx: api.post(
        "/analytics/driver/report", json=schedule_body(i)
    ),
    "POST report edit to template id": lambda api, i, ctx: api.post(
        f"/analytics/driver/report/{ctx['own_report']}", json={"templateId": i}
    ),
}
TEMPLATE_ROUTES = {"GET template", "GET template version", "POST template edit", "DELETE template"}
TEMPLATE_ID_ROUTES = TEMPLATE_ROUTES | {"POST report with template id", "POST report edit to template id"}


def _normalised(response: httpx.Response, used_id: int | str) -> tuple[int, Any]:
    """Status and body with tracking ids and the echoed id blanked out."""
    text = response.text
    tracking = response.headers.get("x-tracking-id")
    if tracking:
        text = text.replace(tracking, "<tracking>")
    text = re.sub(re.escape(str(used_id)), "<id>", text)
    return response.status_code, text


@pytest.mark.parametrize("attacker", [IHV2, OEM, EMPTY])
def test_other_partners_ids_look_missing_everywhere(server: Server, victim: Victim, attacker: str) -> None:
    view = "OEMDriver" if attacker == OEM else "IHVDriver"
    successes: list[str] = []
    leaks: list[str] = []
    with server.client(attacker) as api:
        own_template = new_template(api, _body_for(view))
        context = {"view": view, "own_report": new_report(api, own_template)}
        for name, call in ID_ROUTES.items():
            target = victim.template_id if name in TEMPLATE_ID_ROUTES else victim.report_id
            foreign = call(api, target, context)
            missing = call(api, MISSING_ID, context)
            if foreign.status_code < 300:
                successes.append(f"{name}: {foreign.status_code} {foreign.text[:200]}")
            if _normalised(foreign, target) != _normalised(missing, MISSING_ID):
                leaks.append(f"{name}: {foreign.status_code} {foreign.text[:200]} vs {missing.text[:200]}")
        assert api.get(f"/analytics/driver/report/{context['own_report']}").status_code == 200
    assert successes == []
    assert leaks == []


@pytest.mark.parametrize("attacker", [IHV2, OEM, EMPTY])
def test_other_partners_cabs_look_missing(server: Server, victim: Victim, attacker: str) -> None:
    with server.client(attacker) as api:
        if attacker == OEM:
            pairs = [({"cabIdHash": victim.cab_id_hash}, {"cabIdHash": "0" * 32})]
            path = "/v1.0/my/analytics/hardware/cabdownload"
        else:
            pairs = [
                (
                    {"applicationId": victim.cab_application_id, "cabIdHash": victim.cab_id_hash},
                    {"applicationId": victim.cab_application_id, "cabIdHash": "0" * 32},
                ),
                (
                    {"applicationId": victim.cab_application_id, "cabIdHash": victim.oem_cab_id_hash},
                    {"applicationId": "0", "cabIdHash": "0" * 32},
                ),
            ]
            path = "/v1.0/my/analytics/driver/cabdownload"
        for foreign_params, missing_params in pairs:
            foreign = api.get(path, params=foreign_params)
            missing = api.get(path, params=missing_params)
            assert foreign.status_code == 404, foreign.text
            assert _strip(foreign) == _strip(
                missing, {missing_params["cabIdHash"]: foreign_params["cabIdHash"]}
            )
        if attacker != OEM:
            batch = api.get(
                "/v1.0/my/analytics/driver/cabdownloadbatch",
                params={"applicationId": victim.failure_application_id, "failureHash": victim.failure_hash},
            )
            assert batch.status_code == 200
            assert batch.json()["TotalCount"] == 0 and batch.json()["Value"] == []


def _strip(response: httpx.Response, replace: dict[str, str] | None = None) -> tuple[int, str]:
    text = response.text.replace(response.headers.get("x-tracking-id", "-"), "<tracking>")
    for old, new in (replace or {}).items():
        text = text.replace(old[:100], new[:100])
    return response.status_code, text


def test_victims_resources_are_untouched(server: Server, victim: Victim) -> None:
    with server.client(IHV) as api:
        template = api.get(f"/analytics/driver/reporttemplate/{victim.template_id}")
        report = api.get(f"/analytics/driver/report/{victim.report_id}")
    assert template.status_code == 200 and template.json()["data"]["currentVersion"] == 1
    assert report.status_code == 200
    data = report.json()["data"]
    assert data["isPaused"] is False and data["schedule"]["recurrence"] == 3
