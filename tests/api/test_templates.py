"""Templates through HTTP: tolerance, every problem listed, versions, delete, preview, dataset."""

from __future__ import annotations

from driverlens.events import EventStore
from driverlens.usecases.timestamps import iso_utc
from tests.api.conftest import IHV, OEM
from tests.api.helpers import (
    created_id,
    error_targets,
    error_text,
    ihv_template,
    new_report,
    new_template,
    oem_template,
)
from tests.api.server import Server

COMMENTED = b"""// Copied from the documentation
{
    "view": " ihvdriver ",          // any case, stray spaces
    "Projection": ["FailureName"],  /* keys in any case too */
    "dateRange": {"ReportPeriod": "last3days"},
    "condition": {"and": [{"attribute": "EventCount", "operator": "gt", "value": "0"}]},
    "aggregation": {"aggregatedColumns": ["sum(EventCount)", "dcount(DeviceId)"]}
}"""


def test_template_with_comments_is_accepted_and_shown_canonically(server: Server) -> None:
    with server.client(IHV) as api:
        template_id = created_id(
            api.post("/analytics/driver/reporttemplate", content=COMMENTED), "templateId"
        )
        shown = api.get(f"/analytics/driver/reporttemplate/{template_id}")
    assert shown.status_code == 200
    template = shown.json()["data"]["template"]
    assert template["view"] == "IHVDriver"
    assert template["dateRange"] == {"reportPeriod": "Last3Days"}
    assert template["aggregation"]["aggregatedColumns"] == ["SUM(EventCount)", "DCOUNT(DeviceId)"]
    assert template["condition"]["and"][0] == {"attribute": "EventCount", "operator": "GT", "value": 0}


def test_nonexistent_columns_are_a_400_naming_each(server: Server) -> None:
    body = ihv_template(projection=["FailureName", "Colour", "Model"])
    body["orderby"] = [{"attribute": "Flavour", "sort": "asc"}]
    with server.client(IHV) as api:
        response = api.post("/analytics/driver/reporttemplate", json=body)
    assert response.status_code == 400
    text = error_text(response)
    assert "Colour" in text and "Flavour" in text
    # Model exists, but only in the OEMDriver view: the message names column and view.
    assert "Model" in text and "IHVDriver" in text
    assert len(response.json()["errors"]) >= 3
    assert all(e["trackingId"] == response.headers["x-tracking-id"] for e in response.json()["errors"])


def test_server_owned_and_unknown_keys_are_refused(server: Server) -> None:
    body = ihv_template(templateId=5, createdDatetime="2020-01-01T00:00:00Z", colour="red")
    with server.client(IHV) as api:
        response = api.post("/analytics/driver/reporttemplate", json=body)
    assert response.status_code == 400
    targets = error_targets(response)
    assert "templateId" in targets and "createdDatetime" in targets and "colour" in targets


def test_bad_json_and_wrong_types_are_400_not_422(server: Server) -> None:
    with server.client(IHV) as api:
        for content in (b"{", b"[]", b"", b'"text"', b"\xff\xfe", b'{"view": NaN}'):
            response = api.post("/analytics/driver/reporttemplate", content=content)
            assert response.status_code == 400, (content, response.text)
            assert response.json()["data"] is None
        assert api.get("/analytics/driver/reporttemplate/notanumber").status_code == 400
        assert api.get("/analytics/driver/reporttemplate/1?version=zero").status_code == 400


def test_versions_edit_and_older_version(server: Server) -> None:
    with server.client(IHV) as api:
        template_id = new_template(api)
        edited = api.post(f"/analytics/driver/reporttemplate/{template_id}", json=ihv_template(limit=7))
        assert created_id(edited, "templateId") == template_id
        current = api.get(f"/analytics/driver/reporttemplate/{template_id}").json()["data"]
        first = api.get(f"/analytics/driver/reporttemplate/{template_id}?version=1").json()["data"]
        missing = api.get(f"/analytics/driver/reporttemplate/{template_id}?version=9")
    assert (current["version"], current["template"]["limit"]) == (2, 7)
    assert (first["version"], first["currentVersion"], first["template"]["limit"]) == (1, 2, 5)
    assert missing.status_code == 404


def test_template_of_the_other_view_is_forbidden(server: Server) -> None:
    with server.client(IHV) as api:
        response = api.post("/analytics/driver/reporttemplate", json=oem_template())
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "Forbidden"


def test_delete_is_refused_while_a_report_uses_the_template(server: Server) -> None:
    with server.client(IHV) as api:
        template_id = new_template(api)
        report_id = new_report(api, template_id)
        refused = api.delete(f"/analytics/driver/reporttemplate/{template_id}")
        assert refused.status_code == 409
        assert str(report_id) in error_text(refused)
        assert api.delete(f"/analytics/driver/report/{report_id}").status_code == 200
        assert api.delete(f"/analytics/driver/reporttemplate/{template_id}").status_code == 200
        assert api.get(f"/analytics/driver/reporttemplate/{template_id}").status_code == 404
        listed = api.get("/analytics/driver/reporttemplate").json()["data"]
    assert template_id not in [t["templateId"] for t in listed]


def test_preview_returns_first_rows_for_the_callers_scope(server: Server) -> None:
    body = ihv_template(projection=["DriverName"], limit=0)
    body["orderby"] = [{"attribute": "SUM(EventCount)", "sort": "desc"}]
    with server.client(IHV) as api:
        response = api.post("/analytics/driver/reporttemplate/preview", json=body)
        stored = api.get("/analytics/driver/reporttemplate").json()["data"]
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["columns"] == ["DriverName", "SUM(EventCount)"]
    assert 1 <= data["rowCount"] <= 100
    # Contoso's scope: only Contoso's drivers (cgfx*) appear.
    assert all(str(row[0]).startswith("cgfx") for row in data["rows"]), data["rows"]
    assert all(t["template"] != body for t in stored)


def test_preview_honours_top_and_refuses_it_out_of_range(server: Server) -> None:
    body = ihv_template(projection=["DriverName", "DriverVersion"], limit=0)
    with server.client(IHV) as api:
        two = api.post("/analytics/driver/reporttemplate/preview?top=2", json=body)
        too_many = api.post("/analytics/driver/reporttemplate/preview?top=101", json=body)
    assert two.status_code == 200, two.text
    assert two.json()["data"]["rowCount"] == 2 and len(two.json()["data"]["rows"]) == 2
    assert too_many.status_code == 400
    assert "top" in error_targets(too_many) or "top" in error_text(too_many)


def test_preview_for_an_oem(server: Server) -> None:
    with server.client(OEM) as api:
        response = api.post("/analytics/driver/reporttemplate/preview", json=oem_template(limit=3))
    assert response.status_code == 200, response.text
    assert response.json()["data"]["rowCount"] <= 3


def test_dataset_describes_views_operators_and_limits(server: Server) -> None:
    with server.client(IHV) as api:
        response = api.get("/analytics/driver/dataset", headers={"Content-Type": "application/json"})
    assert response.status_code == 200
    data = response.json()["data"]
    views = {v["name"]: {c["name"] for c in v["columns"]} for v in data["views"]}
    assert "OEMModel" in views["IHVDriver"] and "Model" in views["OEMDriver"]
    assert "ApplicationId" not in views["OEMDriver"]
    assert {o["name"] for o in data["operators"]} >= {"EQ", "IN", "LIKE"}
    assert data["limits"]["previewRows"] == 100
    # Freshness of the events: the table version now and its newest failure (the server seeded events).
    snapshot = EventStore(server.data_dir).snapshot()
    assert data["freshness"]["storeVersion"] == snapshot.version >= 1
    assert snapshot.newest_event is not None
    assert data["freshness"]["newestEventDatetime"] == iso_utc(snapshot.newest_event)
