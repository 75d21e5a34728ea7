"""JSON log lines: one object per line, each carrying the trackingId of the request that produced it,
whichever thread logged it (event loop, thread pool, the API's writer thread)."""

from __future__ import annotations

import io
import json
import logging
import warnings
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import APIRouter, Request
from starlette.exceptions import StarletteDeprecationWarning

from driverlens.api.app import create_app
from driverlens.metadata.migrate import migrate
from driverlens.observability.logs import configure_logging
from driverlens.settings import Settings
from tests.api.server import start_server
from tests.observability.capture import entries, json_log, value

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

probe = logging.getLogger("driverlens.probe")
router = APIRouter()


@router.get("/probe/loop")
async def in_the_loop() -> dict[str, str]:
    probe.info("in the event loop")
    return {}


@router.get("/probe/pool")
def in_the_pool() -> dict[str, str]:
    probe.info("in the thread pool")
    return {}


@router.get("/probe/writer")
async def in_the_writer(request: Request) -> dict[str, str]:
    await request.app.state.ctx.write(probe.warning, "in the writer thread")
    return {}


@pytest.fixture
def log() -> Iterator[io.StringIO]:
    with json_log() as buffer:
        yield buffer


def test_every_line_of_a_request_carries_its_tracking_id(settings: Settings, log: io.StringIO) -> None:
    migrate(settings.metadata_url)
    app = create_app(settings, extra_routers=[router])
    with TestClient(app) as client:
        ids = {}
        for path in ("/probe/loop", "/probe/pool", "/probe/writer", "/probe/loop"):
            response = client.get(path)
            assert response.status_code == 200
            ids.setdefault(path, []).append(response.headers["x-tracking-id"])
    lines = entries(log)
    assert all({"time", "level", "logger", "message"} <= line.keys() for line in lines)
    said = {line["message"]: line for line in lines if line["logger"] == "driverlens.probe"}
    assert said["in the thread pool"]["trackingId"] == ids["/probe/pool"][0]
    assert said["in the writer thread"]["trackingId"] == ids["/probe/writer"][0]
    assert said["in the writer thread"]["level"] == "WARNING"
    loop_lines = [line for line in lines if line["message"] == "in the event loop"]
    assert [line["trackingId"] for line in loop_lines] == ids["/probe/loop"]  # each its own request's
    access = [line for line in lines if line["logger"] == "driverlens.api.access"]
    assert len(access) == 4
    assert all(line["trackingId"] in line["message"] for line in access)
    # Outside any request (start-up, shutdown) no trackingId is invented.
    assert all("trackingId" in line for line in lines if line["logger"].startswith("driverlens.api"))


def test_text_stays_the_default(settings: Settings) -> None:
    assert settings.log_format == "text"
    buffer = io.StringIO()
    with json_log():  # (only to restore the root logger's handlers afterwards)
        configure_logging(settings.log_format, "INFO", stream=buffer)
        probe.info("plain %s", "words")
    assert buffer.getvalue().rstrip().endswith("INFO driverlens.probe plain words")


def test_serve_logs_json_and_exposes_its_workers_counters(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    data_dir.mkdir()
    server = start_server(data_dir, {}, {"DRIVERLENS_LOG_FORMAT": "json"}, worker=True)
    try:
        refused = httpx.get(server.base_url + "/analytics/driver/reporttemplate", timeout=10)
        assert refused.status_code == 401
        metrics = httpx.get(server.base_url + "/metrics", timeout=10).text
    finally:
        server.stop()
    # The in-process worker's counters are on the API's /metrics, labelled with the process role.
    assert value(metrics, "driverlens_worker_runs_total", role="api", event="claimed") == 0
    assert value(metrics, "driverlens_run_queue_up", role="api") == 1
    assert 'driverlens_http_requests_total{method="GET"' in metrics
    lines = [json.loads(line) for line in server.log_text().splitlines() if line.strip()]
    tracking = refused.headers["x-tracking-id"]
    mine = [line for line in lines if line.get("trackingId") == tracking]
    assert mine and any(line["logger"] == "driverlens.api.access" for line in mine)
    assert any("DriverLens API at" in line["message"] for line in lines)
