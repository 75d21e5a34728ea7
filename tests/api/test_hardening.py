"""Issue 10 (hardening): each defect the hostile review found, shown fixed against the real app."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from driverlens.auth import service
from driverlens.blobs.keyring import derived_key
from driverlens.blobs.links import LinkSigner
from driverlens.catalog import PartnerKind
from driverlens.clock import SystemClock
from driverlens.errors import Conflict
from tests.api.conftest import EMPTY, IHV, IHV2
from tests.api.helpers import ihv_template, run_due_runs
from tests.api.inproc import InProcess, start_in_process

TEMPLATES = "/analytics/driver/reporttemplate"
BASE = '{"view":"IHVDriver","projection":["DriverName"],"dateRange":{"reportPeriod":"Last7Days"}%s}'


def post_raw(inproc: InProcess, path: str, raw: str, who: str = IHV) -> Any:
    headers = {"Content-Type": "application/json"}
    return inproc.request("POST", path, who, content=raw.encode("utf-8"), headers=headers)


def predicate(attribute: str, operator: str, value: str) -> str:
    item = {"attribute": attribute, "operator": operator, "value": "VALUE"}
    return ',"condition":{"and":[' + json.dumps(item).replace('"VALUE"', value) + "]}"


# --- 1. Invalid Unicode ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "target"),
    [
        (BASE % predicate("DriverName", "EQ", r'"\ud800"'), "condition.and[0].value"),
        (BASE % predicate("DriverName", "EQ", r'"abc\udfffdef"'), "condition.and[0].value"),
        (BASE % predicate("DriverName", "IN", r'["ok", "\ud83d"]'), "condition.and[0].value[1]"),
        (BASE % r',"\ud800x":1', "\ufffdx"),
        (BASE % r',"condition":{"and":[{"\udc00":"DriverName"}]}', "condition.and[0].\ufffd"),
    ],
)
@pytest.mark.parametrize("path", [TEMPLATES, TEMPLATES + "/preview"])
def test_lone_surrogates_are_refused_at_the_door(inproc: InProcess, raw: str, target: str, path: str) -> None:
    response = post_raw(inproc, path, raw)
    assert response.status_code == 400, response.text
    (error,) = response.json()["errors"]
    assert error["code"] == "InvalidInput" and error["target"] == target
    assert "lone UTF-16 surrogate" in error["message"]
    # The list stays readable (before the fix it answered 500 until the template was deleted).
    assert inproc.request("GET", TEMPLATES, IHV).status_code == 200


def test_a_valid_surrogate_pair_is_accepted(inproc: InProcess) -> None:
    response = post_raw(inproc, TEMPLATES, BASE % predicate("DriverName", "EQ", r'"\ud83d\ude00.sys"'))
    assert response.status_code == 201, response.text


def test_envelope_never_fails_to_serialise_a_surrogate() -> None:
    from driverlens.api.envelope import error_item, failure

    body = bytes(failure(400, [error_item("InvalidInput", "bad \ud800 key", "\ud800", "t")]).body)
    assert json.loads(body)["errors"][0]["target"] == "\ufffd"


# --- 2. Timestamps near the limits -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "target"),
    [
        (predicate("FailureDateTime", "GT", '"0001-01-01T00:00:00+14:00"'), "condition.and[0].value"),
        (predicate("FailureDateTime", "LT", '"9999-12-31T23:59:59-14:00"'), "condition.and[0].value"),
        (predicate("CabCollectionTime", "GTE", '"0001-01-01T05:00:00+05:01"'), "condition.and[0].value"),
        (
            ',"aggregation":{"aggregatedColumns":["MAX(FailureDateTime)"],"condition":{"and":['
            '{"attribute":"MAX(FailureDateTime)","operator":"GT","value":"9999-12-31T23:59:59-14:00"}]}}',
            "aggregation.condition.and[0].value",
        ),
    ],
)
@pytest.mark.parametrize("path", [TEMPLATES, TEMPLATES + "/preview"])
def test_timestamps_that_overflow_in_utc_are_a_400(
    inproc: InProcess, extra: str, target: str, path: str
) -> None:
    response = post_raw(inproc, path, BASE % extra)
    assert response.status_code == 400, response.text
    (error,) = response.json()["errors"]
    assert error["target"] == target and "outside years 1 to 9999" in error["message"]


def test_timestamps_at_the_limits_without_overflow_still_work(inproc: InProcess) -> None:
    for value in ('"0001-01-01T00:00:00Z"', '"9999-12-31T23:59:59+00:00"', '"0001-01-01T14:00:00+14:00"'):
        response = post_raw(inproc, TEMPLATES + "/preview", BASE % predicate("FailureDateTime", "GT", value))
        assert response.status_code == 200, response.text


# --- 3. Forgeable links --------------------------------------------------------------------------------


def test_links_signed_with_the_old_default_secret_are_refused(inproc: InProcess) -> None:
    """Before the fix anyone could sign reports/<p>/<r>/<run>-<attempt>.csv with "development"."""
    template = inproc.request("POST", TEMPLATES, IHV2, json=ihv_template()).json()["data"]["templateId"]
    start = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    schedule = {"startTime": start, "recurrenceInterval": 24, "recurrence": 1}
    body = {"templateId": template, "schedule": schedule}
    report = inproc.request("POST", "/analytics/driver/report", IHV2, json=body).json()["data"]["reportId"]
    run_due_runs(inproc.settings.data_dir)
    day = start[:10]
    data = inproc.request("GET", f"/analytics/driver/reportdata/{report}?startDate={day}&endDate={day}", IHV2)
    (row,) = data.json()["data"]
    assert row["ReportStatus"] == "Completed"
    parts = urlsplit(row["ReportLocation"])
    assert inproc.client.get(f"{parts.path}?{parts.query}").status_code == 200
    key = parts.path.removeprefix("/files/")
    name = key.rsplit("/", 1)[1]
    assert len(name.split("-")[2].split(".")[0]) == 32  # 128 random bits: the ids do not name the file
    kid, secret = derived_key("development")
    forged = LinkSigner({kid: secret}, kid, timedelta(hours=12), SystemClock()).sign(key)
    response = inproc.client.get(forged.path_and_query)
    assert response.status_code == 403
    query = parse_qs(parts.query)
    assert query["kid"][0].startswith("g-")  # the generated key signs


# --- 6. Per-partner limits -------------------------------------------------------------------------------


def schedule_now(inproc: InProcess, who: str, **schedule: Any) -> int:
    template = inproc.request("POST", TEMPLATES, who, json=ihv_template()).json()["data"]["templateId"]
    start = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = {"templateId": template, "schedule": {"startTime": start, "recurrenceInterval": 24, **schedule}}
    response = inproc.request("POST", "/analytics/driver/report", who, json=body)
    assert response.status_code == 201, response.text
    return int(response.json()["data"]["reportId"])


def test_manual_runs_beyond_the_partner_limit_are_a_429(inproc_data: tuple[Any, Any]) -> None:
    data_dir, partners = inproc_data
    for limited in start_in_process(data_dir, partners, partner_max_active_runs=3):
        report = schedule_now(limited, EMPTY, recurrence=1)  # its run 0 is planned by a worker later
        run_path = f"/analytics/driver/report/{report}/run"
        statuses = [limited.request("POST", run_path, EMPTY) for _ in range(4)]
        assert [r.status_code for r in statuses] == [201, 201, 201, 429]
        (error,) = statuses[3].json()["errors"]
        assert error["code"] == "RunQuotaExceeded" and "at once is 3" in error["message"]
        assert statuses[3].headers["Retry-After"] == "60"
        run_due_runs(data_dir)  # the queue drains: the partner may run again
        again = limited.request("POST", f"/analytics/driver/report/{report}/run", EMPTY)
        assert again.status_code == 201, again.text


def test_a_partner_over_its_storage_gets_409_and_failed_runs(inproc_data: tuple[Any, Any]) -> None:
    data_dir, partners = inproc_data
    for limited in start_in_process(data_dir, partners, partner_max_stored_bytes=1):
        report = schedule_now(limited, EMPTY, recurrence=1)
        run_due_runs(data_dir)  # completes under the default limit: now over a 1-byte limit
        refused = limited.request("POST", f"/analytics/driver/report/{report}/run", EMPTY)
        assert refused.status_code == 409, refused.text
        (error,) = refused.json()["errors"]
        assert error["code"] == "StorageQuotaExceeded"
        assert "DELETE /analytics/driver/report" in error["message"]
        # A scheduled run that falls due anyway fails with the same advice instead of filling the disk.
        second = schedule_now(limited, EMPTY, recurrence=1)
        run_due_runs(data_dir, partner_max_stored_bytes=1)
        (run,) = limited.request("GET", f"/analytics/driver/report/{second}/runs", EMPTY).json()["data"]
        assert run["ReportStatus"] == "Failed" and "DELETE /analytics/driver/report" in run["error"]


# --- 13. Callback hosts that do not resolve yet ------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("https://hooks.not-live-yet.invalid/driverlens", 201),  # .invalid never resolves (RFC 2606)
        ("https://split-horizon.partner.invalid:8443/x?y=1", 201),
        ("http://10.0.0.1/hook", 400),  # literal address in a refused range: refused at once
        ("http://[::1]/hook", 400),
        ("http:///no-host", 400),
        ("ftp://hooks.example.com/x", 400),
        ("https://user:pw@hooks.example.com/x", 400),
    ],
)
def test_callback_urls_at_scheduling(inproc: InProcess, url: str, status: int) -> None:
    template = inproc.request("POST", TEMPLATES, IHV, json=ihv_template()).json()["data"]["templateId"]
    body = {
        "templateId": template,
        "schedule": {"startTime": "2030-01-01T00:00:00Z", "recurrenceInterval": 24, "recurrence": 1},
        "callbackUrl": url,
    }
    response = inproc.request("POST", "/analytics/driver/report", IHV, json=body)
    assert response.status_code == status, response.text
    if status == 400:
        (error,) = response.json()["errors"]
        assert error["target"] == "callbackUrl"


# --- 12. Smaller ones --------------------------------------------------------------------------------------


def test_links_to_a_deleted_reports_files_stop_working(inproc: InProcess) -> None:
    report = schedule_now(inproc, IHV2, recurrence=1)
    run_due_runs(inproc.settings.data_dir)
    day = datetime.now(UTC).strftime("%Y-%m-%d")
    data = inproc.request("GET", f"/analytics/driver/reportdata/{report}?startDate={day}&endDate={day}", IHV2)
    (row,) = data.json()["data"]
    link = urlsplit(row["ReportLocation"])
    assert inproc.client.get(f"{link.path}?{link.query}").status_code == 200
    assert inproc.request("DELETE", f"/analytics/driver/report/{report}", IHV2).status_code == 200
    response = inproc.client.get(f"{link.path}?{link.query}")
    assert response.status_code == 404, "a link to a deleted report's file must not keep working"


def test_healthz_reports_a_full_disk(inproc_data: tuple[Any, Any]) -> None:
    data_dir, partners = inproc_data
    for full in start_in_process(data_dir, partners, min_free_disk_bytes=10**18):
        response = full.client.get("/healthz")
        assert response.status_code == 503
        body = response.json()
        assert body["ready"] is False and body["checks"]["disk"].startswith("failed: ")
        assert "runs cannot write their files" in body["checks"]["disk"]


@pytest.mark.parametrize(
    "path",
    [
        "/{tenant}/discovery/keys",
        "/{tenant}/discovery/v2.0/keys",
        "/{tenant}/.well-known/openid-configuration",
        "/{tenant}/v2.0/.well-known/openid-configuration",
    ],
)
def test_discovery_documents_only_for_known_tenants(inproc: InProcess, path: str) -> None:
    known = inproc.partners[IHV].tenant_id
    assert inproc.client.get(path.format(tenant=known)).status_code == 200
    assert inproc.client.get(path.format(tenant=known.upper())).status_code == 200
    for unknown in ("00000000-0000-0000-0000-000000000000", "anything-at-all", "common"):
        response = inproc.client.get(path.format(tenant=unknown))
        assert response.status_code == 404, response.text
        assert response.json()["error"] == "invalid_tenant"


@pytest.mark.parametrize(
    "twin", ["contoso graphics", "CONTOSO GRAPHICS", "Contoso  Graphics", " Contoso\tGraphics "]
)
def test_partner_names_differing_only_in_case_or_spaces_are_refused(inproc: InProcess, twin: str) -> None:
    db = inproc.client.app.state.ctx.db  # type: ignore[attr-defined]
    with pytest.raises(Conflict, match="differing only in case or spaces"), db.session() as session:
        service.add_partner(session, twin, PartnerKind.IHV)
