"""Health, metrics, OpenAPI, tracking ids in responses and logs, and last-resort 500s."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import httpx
import pytest
from fastapi import APIRouter

from driverlens.api import create_app
from driverlens.metadata.migrate import migrate
from driverlens.settings import Settings
from tests.api.conftest import IHV
from tests.api.server import Server


def test_healthz_reports_every_store(server: Server) -> None:
    response = httpx.get(server.base_url + "/healthz")
    assert response.status_code == 200
    checks = {"metadata": "ok", "events": "ok", "blobs": "ok", "disk": "ok"}
    assert response.json() == {"live": True, "ready": True, "checks": checks}


def test_metrics_count_requests_and_runs(server: Server) -> None:
    with server.client(IHV) as api:
        api.get("/analytics/driver/reporttemplate")
    text = httpx.get(server.base_url + "/metrics").text
    assert (
        'driverlens_http_requests_total{method="GET",route="/analytics/driver/reporttemplate",status="200"}'
        in text
    )
    assert (
        'driverlens_http_request_duration_seconds_bucket{route="/analytics/driver/reporttemplate",le="+Inf"}'
        in text
    )
    assert 'driverlens_runs{state="Pending"}' in text


def test_openapi_documents_bearer_auth_and_bodies(server: Server) -> None:
    spec = httpx.get(server.base_url + "/openapi.json").json()
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"].lower() == "bearer"
    create = spec["paths"]["/analytics/driver/reporttemplate"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"]["required"] == [
        "view",
        "projection",
        "dateRange",
    ]
    assert "400" in create["responses"] and "401" in create["responses"]
    assert "/{tenantId}/oauth2/token" in spec["paths"]
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            needs_token = path.startswith(("/analytics/", "/v1.0/"))
            assert (operation.get("security") == [{"bearerAuth": []}]) is needs_token, (method, path)
            assert "422" not in operation["responses"], (method, path)
    assert httpx.get(server.base_url + "/docs").status_code == 200


def test_tracking_id_is_in_header_body_and_log(server: Server) -> None:
    with server.client(IHV) as api:
        response = api.get("/analytics/driver/reporttemplate/2000000000")
    tracking = response.headers["x-tracking-id"]
    assert response.json()["errors"][0]["trackingId"] == tracking
    # The access line is written just after the response is sent: give it a moment.
    deadline = time.monotonic() + 5
    while f"trackingId={tracking}" not in server.log_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert f"trackingId={tracking}" in server.log_text()


def test_unknown_path_and_method_use_the_envelope(server: Server) -> None:
    missing = httpx.get(server.base_url + "/analytics/driver/nothing")
    assert missing.status_code == 404 and missing.json()["errors"][0]["code"] == "NotFound"
    wrong = httpx.put(server.base_url + "/analytics/driver/reporttemplate")
    assert wrong.status_code == 405 and wrong.json()["data"] is None


def test_unexpected_errors_are_500_with_only_a_tracking_id(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(data_dir=tmp_path)
    migrate(settings.metadata_url)
    broken = APIRouter()

    @broken.get("/broken")
    def explode() -> None:
        raise RuntimeError("secret internals /etc/passwd")

    app = create_app(settings, extra_routers=[broken])

    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.get("/broken")

    with caplog.at_level(logging.ERROR, logger="driverlens.api"):
        response = asyncio.run(call())
    app.state.ctx.close()
    assert response.status_code == 500
    error = response.json()["errors"][0]
    assert error["code"] == "InternalError"
    assert "secret" not in response.text and "Traceback" not in response.text
    assert error["trackingId"] == response.headers["x-tracking-id"]
    assert any(error["trackingId"] in record.getMessage() for record in caplog.records)
