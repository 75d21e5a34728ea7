"""Scheduled reports through HTTP: tolerant keys, every problem listed, edit, pause, resume, run now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from tests.api.conftest import IHV
from tests.api.helpers import created_id, error_targets, error_text, ihv_template, schedule_body
from tests.api.server import Server


def _template(api: httpx.Client) -> int:
    return created_id(api.post("/analytics/driver/reporttemplate", json=ihv_template()), "templateId")


def test_pascal_case_edit_and_callback_spellings(server: Server) -> None:
    with server.client(IHV) as api:
        first, second = _template(api), _template(api)
        report_id = created_id(api.post("/analytics/driver/report", json=schedule_body(first)), "reportId")
        start = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
        edit = {
            "TemplateId": second,
            "Schedule": {
                "StartTime": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "RecurrenceInterval": "48",
                "Recurrence": 2,
                "CallbackURL": "http://127.0.0.1:9/hook",
            },
        }
        edited = api.post(f"/analytics/driver/report/{report_id}", json=edit)
        assert created_id(edited, "reportId") == report_id
        shown = api.get(f"/analytics/driver/report/{report_id}").json()["data"]
    assert shown["templateId"] == second
    assert shown["schedule"] == {
        "startTime": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "recurrenceInterval": 48,
        "recurrence": 2,
        "callbackUrl": "http://127.0.0.1:9/hook",
    }


def test_every_schedule_problem_is_listed(server: Server) -> None:
    body = {
        "templateId": 999999,
        "schedule": {"startTime": "tomorrow", "recurrenceInterval": 6, "recurrence": 0, "colour": 1},
        "reportId": 4,
        "Callbackurl": "ftp://example.com/x",
    }
    with server.client(IHV) as api:
        response = api.post("/analytics/driver/report", json=body)
    assert response.status_code == 400
    targets = set(error_targets(response))
    assert targets >= {
        "templateId",
        "schedule.startTime",
        "schedule.recurrenceInterval",
        "schedule.recurrence",
        "schedule.colour",
        "reportId",
        "callbackUrl",
    }
    assert "999999" in error_text(response)


def test_tolerant_start_times(server: Server) -> None:
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    with server.client(IHV) as api:
        template_id = _template(api)
        for text in (
            tomorrow.strftime("%Y-%m-%dT%H:%M:%SZ"),
            tomorrow.strftime("%Y-%m-%dT%H:%M:%S.123Z"),
            tomorrow.strftime("%Y-%m-%dT%H:%M:%S+00:00"),
            tomorrow.strftime("%Y-%m-%d %H:%M:%S"),
        ):
            response = api.post("/analytics/driver/report", json=schedule_body(template_id, startTime=text))
            assert response.status_code == 201, (text, response.text)


def test_refused_callback_is_a_400(server: Server) -> None:
    with server.client(IHV) as api:
        template_id = _template(api)
        body = schedule_body(template_id, callbackUrl="http://169.254.169.254/latest/meta-data")
        response = api.post("/analytics/driver/report", json=body)
    assert response.status_code == 400
    assert error_targets(response) == ["callbackUrl"]
    assert "169.254.169.254" in error_text(response)


def test_pause_resume_and_is_active(server: Server) -> None:
    with server.client(IHV) as api:
        report_id = created_id(
            api.post("/analytics/driver/report", json=schedule_body(_template(api))), "reportId"
        )
        paused = api.post(f"/analytics/driver/report/pause/{report_id}")
        assert created_id(paused, "reportId") == report_id
        assert api.get(f"/analytics/driver/report/{report_id}").json()["data"]["isActive"] is False
        resumed = api.post(f"/analytics/driver/report/resume/{report_id}")
        assert created_id(resumed, "reportId") == report_id
        assert api.get(f"/analytics/driver/report/{report_id}").json()["data"]["isActive"] is True


def test_run_now_appears_in_report_data(server: Server) -> None:
    today = datetime.now(UTC).date()
    with server.client(IHV) as api:
        report_id = created_id(
            api.post("/analytics/driver/report", json=schedule_body(_template(api))), "reportId"
        )
        started = api.post(f"/analytics/driver/report/{report_id}/run")
        assert started.status_code == 201, started.text
        data = api.get(
            f"/analytics/driver/reportdata/{report_id}",
            params={"startDate": today.isoformat(), "endDate": today.isoformat()},
        )
        history = api.get(f"/analytics/driver/report/{report_id}/runs")
    assert history.status_code == 200, history.text
    manual = [run for run in history.json()["data"] if run["manual"]]
    assert [(run["ReportStatus"], run["attempts"], run["callback"]) for run in manual] == [
        ("Pending", 0, None)
    ]
    assert data.status_code == 200
    assert [(i["ReportStatus"], i["ReportLocation"]) for i in data.json()["data"]] == [("Pending", "")]


def test_report_data_dates_are_checked(server: Server) -> None:
    with server.client(IHV) as api:
        report_id = created_id(
            api.post("/analytics/driver/report", json=schedule_body(_template(api))), "reportId"
        )
        url = f"/analytics/driver/reportdata/{report_id}"
        assert set(error_targets(api.get(url))) == {"startDate", "endDate"}
        backwards = api.get(url, params={"startDate": "2026-02-10", "endDate": "2026-02-01"})
        assert error_targets(backwards) == ["endDate"]
        malformed = api.get(url, params={"startDate": "02/01/2026", "endDate": "2026-02-31"})
        assert set(error_targets(malformed)) == {"startDate", "endDate"}
        far = api.get(url, params={"startDate": "2026-01-01", "endDate": "9999-12-31"})
        assert far.status_code == 400
