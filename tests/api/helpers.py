"""Small builders shared by the API tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from driverlens.blobs.backend import blob_store_from_settings
from driverlens.engines import DuckDBEngine
from driverlens.events import EventStore
from driverlens.metadata.database import Database
from driverlens.runs.planner import plan_due_runs
from driverlens.runs.worker import Worker
from driverlens.settings import Settings


def ihv_template(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "view": "IHVDriver",
        "projection": ["FailureName", "DriverName"],
        "dateRange": {"reportPeriod": "Last7Days"},
        "aggregation": {"aggregatedColumns": ["SUM(EventCount)"]},
        "limit": 5,
    }
    body.update(overrides)
    return body


def oem_template(**overrides: Any) -> dict[str, Any]:
    return ihv_template(view="OEMDriver", projection=["FailureName", "Model"], **overrides)


def schedule_body(template_id: int, **schedule: Any) -> dict[str, Any]:
    start = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "templateId": template_id,
        "schedule": {"startTime": start, "recurrenceInterval": 24, "recurrence": 3, **schedule},
    }


def created_id(response: httpx.Response, key: str) -> int:
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["errors"] == []
    return int(body["data"][key])


def error_targets(response: httpx.Response) -> list[str | None]:
    return [e["target"] for e in response.json()["errors"]]


def error_text(response: httpx.Response) -> str:
    return " | ".join(e["message"] for e in response.json()["errors"])


def run_due_runs(data_dir: Any, **overrides: Any) -> int:
    """Plan due runs and execute them in this process, like the worker would; returns runs executed."""
    settings = Settings(data_dir=data_dir, **overrides)
    db = Database(settings.metadata_url)
    events = EventStore(settings.data_dir)
    worker = Worker(db, DuckDBEngine(events), blob_store_from_settings(settings), settings)
    try:
        plan_due_runs(db, datetime.now(UTC))
        done = 0
        while worker.run_one():
            done += 1
        return done
    finally:
        db.dispose()


def new_template(api: httpx.Client, body: dict[str, Any] | None = None) -> int:
    return created_id(api.post("/analytics/driver/reporttemplate", json=body or ihv_template()), "templateId")


def new_report(api: httpx.Client, template_id: int, **schedule: Any) -> int:
    return created_id(
        api.post("/analytics/driver/report", json=schedule_body(template_id, **schedule)), "reportId"
    )
