"""The API's use cases on both metadata stores (SQLite and PostgreSQL), in process, with real tokens."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from driverlens.api import create_app
from driverlens.auth import service
from driverlens.catalog import PartnerKind
from driverlens.metadata.database import Database
from driverlens.runs.planner import plan_due_runs
from driverlens.settings import Settings
from tests.api.helpers import ihv_template

Scenario = Callable[[httpx.AsyncClient, dict[str, dict[str, str]]], Awaitable[None]]


def _run(db: Database, tmp_path: Path, scenario: Scenario) -> None:
    with db.session() as session:
        for name in ("Alpha", "Beta"):
            service.add_partner(session, name, PartnerKind.IHV)
        clients = {name: service.add_client(session, name) for name in ("Alpha", "Beta")}
        tenants = {name: service.get_partner(session, name).tenant_id for name in ("Alpha", "Beta")}
    app = create_app(Settings(data_dir=tmp_path / "var"), database=db)
    ctx = app.state.ctx
    headers = {
        name: {
            "Authorization": "Bearer "
            + ctx.issuer.issue(tenant_id=tenants[name], client_id=clients[name][0])["access_token"]
        }
        for name in clients
    }

    async def go() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            await scenario(client, headers)

    try:
        asyncio.run(go())
    finally:
        ctx.db.writer.shutdown(wait=True)


def test_template_and_report_lifecycle(db: Database, tmp_path: Path) -> None:
    async def scenario(api: httpx.AsyncClient, headers: dict[str, dict[str, str]]) -> None:
        alpha, beta = headers["Alpha"], headers["Beta"]
        created = await api.post("/analytics/driver/reporttemplate", json=ihv_template(), headers=alpha)
        template_id = created.json()["data"]["templateId"]
        edited = await api.post(
            f"/analytics/driver/reporttemplate/{template_id}", json=ihv_template(limit=9), headers=alpha
        )
        assert edited.status_code == 201
        v1 = await api.get(f"/analytics/driver/reporttemplate/{template_id}?version=1", headers=alpha)
        assert v1.json()["data"]["template"]["limit"] == 5
        start = (datetime.now(UTC) - timedelta(days=2, minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        body: dict[str, Any] = {
            "templateId": template_id,
            "schedule": {"startTime": start, "recurrenceInterval": 24, "recurrence": 4},
        }
        report = await api.post("/analytics/driver/report", json=body, headers=alpha)
        report_id = report.json()["data"]["reportId"]
        plan_due_runs(db, datetime.now(UTC))
        today = datetime.now(UTC).date()
        params = {"startDate": (today - timedelta(days=5)).isoformat(), "endDate": today.isoformat()}
        data = await api.get(f"/analytics/driver/reportdata/{report_id}", params=params, headers=alpha)
        assert [i["ReportStatus"] for i in data.json()["data"]] == ["Pending"] * 3
        # Beta sees none of it.
        for path in (
            f"/analytics/driver/reporttemplate/{template_id}",
            f"/analytics/driver/report/{report_id}",
            f"/analytics/driver/reportdata/{report_id}?startDate=2020-01-01&endDate=2030-01-01",
        ):
            assert (await api.get(path, headers=beta)).status_code == 404
        assert (await api.get("/analytics/driver/report", headers=beta)).json()["data"] == []
        # Pause and resume round trip; isActive follows.
        assert (
            await api.post(f"/analytics/driver/report/pause/{report_id}", headers=alpha)
        ).status_code == 201
        shown = await api.get(f"/analytics/driver/report/{report_id}", headers=alpha)
        assert shown.json()["data"]["isActive"] is False
        assert (
            await api.post(f"/analytics/driver/report/resume/{report_id}", headers=alpha)
        ).status_code == 201
        edit = {"Schedule": {"Recurrence": 2}}
        assert (
            await api.post(f"/analytics/driver/report/{report_id}", json=edit, headers=alpha)
        ).status_code == 201
        in_use = await api.delete(f"/analytics/driver/reporttemplate/{template_id}", headers=alpha)
        assert in_use.status_code == 409
        assert (await api.delete(f"/analytics/driver/report/{report_id}", headers=alpha)).status_code == 200
        gone = await api.delete(f"/analytics/driver/reporttemplate/{template_id}", headers=alpha)
        assert gone.status_code == 200

    _run(db, tmp_path, scenario)
