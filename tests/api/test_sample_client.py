"""The call sequence of the original sample client, unchanged apart from its two base URLs."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
from datetime import UTC, datetime, timedelta

import httpx

from tests.api.conftest import IHV
from tests.api.helpers import run_due_runs
from tests.api.server import AUDIENCE, Server

SAMPLE_TEMPLATE = """{
    "view": "IHVDriver",
    "projection": ["FailureName", "DriverName", "DriverVersion"],
    "dateRange": {"reportPeriod": "Last7Days"},
    "condition": {
        "and": [
            {"attribute": "Architecture", "operator": "EQ", "value": "x64"},
            {"attribute": "EventType", "operator": "IN", "value": "Kernel,System"},
            {"condition": {"or": [
                {"attribute": "DriverName", "operator": "LIKE", "value": "%.sys"},
                {"attribute": "Market", "operator": "NEQ", "value": "ZZ"}
            ]}, "operator": "NONE"}
        ]
    },
    "aggregation": {
        "aggregatedColumns": ["SUM(EventCount)"],
        "condition": {"and": [{"attribute": "SUM(EventCount)", "operator": "GTE", "value": "1"}]}
    },
    "orderby": [{"attribute": "SUM(EventCount)", "sort": "DESC"}],
    "limit": 10
}"""


def test_sample_client_sequence(server: Server) -> None:
    creds = server.partners[IHV]
    # 1. Token, v1 form, values concatenated without URL-encoding (as the sample does).
    form = (
        f"grant_type=client_credentials&client_id={creds.client_id}&client_secret={creds.secret}"
        f"&resource={AUDIENCE}"
    )
    token_response = httpx.post(
        f"{server.base_url}/{creds.tenant_id}/oauth2/token",
        content=form,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert token_response.status_code == 200, token_response.text
    issued = token_response.json()
    assert issued["token_type"] == "Bearer"
    assert issued["expires_in"] == "3599"
    assert issued["resource"] == AUDIENCE
    headers = {"Authorization": f"Bearer {issued['access_token']}", "Content-Type": "application/json"}

    with httpx.Client(base_url=server.base_url, headers=headers, timeout=30) as api:
        # 2. Template with upper-case operators, a HAVING filter on SUM(EventCount), limit 10.
        created = api.post("/analytics/driver/reporttemplate", content=SAMPLE_TEMPLATE)
        assert created.status_code == 201, created.text
        template_id = created.json()["data"]["templateId"]
        shown = api.get(f"/analytics/driver/reporttemplate/{template_id}").json()["data"]
        assert shown["template"]["aggregation"]["condition"]["and"][0]["value"] == 1
        assert shown["template"]["orderby"] == [{"attribute": "SUM(EventCount)", "sort": "desc"}]

        # 3. Schedule with camelCase keys and a top-level callbackUrl; first run due a minute ago.
        start = (datetime.now(UTC) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        scheduled = api.post(
            "/analytics/driver/report",
            json={
                "templateId": template_id,
                "schedule": {"startTime": start, "recurrenceInterval": 24, "recurrence": 5},
                "callbackUrl": "http://127.0.0.1:9/driverlens-callback",
            },
        )
        assert scheduled.status_code == 201, scheduled.text
        report_id = scheduled.json()["data"]["reportId"]
        listed = api.get("/analytics/driver/report").json()["data"]
        mine = next(r for r in listed if r["reportId"] == report_id)
        assert mine["callbackUrl"] == "http://127.0.0.1:9/driverlens-callback"
        assert mine["isActive"] is True

        # The worker (run here in-process; the server runs with --no-worker) produces run 0.
        assert run_due_runs(server.data_dir) >= 1

        # 4. Report data for the last five days (GET with a JSON content type, as the sample sends).
        today = datetime.now(UTC).date()
        data = api.get(
            f"/analytics/driver/reportdata/{report_id}",
            params={"startDate": (today - timedelta(days=5)).isoformat(), "endDate": today.isoformat()},
        )
    assert data.status_code == 200, data.text
    items = data.json()["data"]
    assert [i["ReportStatus"] for i in items] == ["Completed"]
    location = items[0]["ReportLocation"]
    assert location.startswith(server.base_url + "/files/")

    # The link works without the bearer token and serves the CSV in canonical column order.
    download = httpx.get(location)
    assert download.status_code == 200, download.text
    rows = list(csv.reader(io.StringIO(download.text)))
    assert rows[0] == ["FailureName", "DriverName", "DriverVersion", "SUM(EventCount)"]
    assert 1 <= len(rows) - 1 <= 10
    sums = [int(r[3]) for r in rows[1:]]
    assert sums == sorted(sums, reverse=True)
    # The download states the whole file's SHA-256, as recorded by the run, so clients can verify it.
    # httpx offers gzip, so the body came gzip-encoded with the stored file's digest in X-Checksum-Sha256;
    # asked for the stored bytes, the same digest comes as Repr-Digest.
    assert download.headers["content-encoding"] == "gzip"
    assert download.headers["x-checksum-sha256"] == hashlib.sha256(download.content).hexdigest()
    identity = httpx.get(location, headers={"Accept-Encoding": "identity"})
    digest = base64.b64encode(hashlib.sha256(identity.content).digest()).decode()
    assert identity.content == download.content
    assert identity.headers["repr-digest"] == f"sha-256=:{digest}:"
    # An altered link is refused with a 403 that says so.
    tampered = httpx.get(location.replace("sig=", "sig=A"))
    assert tampered.status_code == 403
