"""The asyncio client against the real server: concurrent calls share one token."""

from __future__ import annotations

import asyncio
from pathlib import Path

from driverlens.client import AsyncDriverLensClient, ReportRun
from tests.api.events_lookup import busiest_failure
from tests.api.server import Server
from tests.client.conftest import IHV, ihv_template


def test_async_client_runs_calls_concurrently(
    live_server: Server, completed_run: tuple[int, ReportRun], tmp_path: Path
) -> None:
    report_id, run = completed_run
    creds = live_server.partners[IHV]
    application_id, failure_hash, count = busiest_failure(live_server.data_dir, IHV)

    async def scenario() -> tuple[int, int, int, bool]:
        args = (live_server.base_url, creds.tenant_id, creds.client_id, creds.secret)
        async with AsyncDriverLensClient(*args) as client:
            template_id = await client.create_template(ihv_template())
            template, reports, latest = await asyncio.gather(
                client.get_template(template_id), client.list_reports(), client.latest_run(report_id)
            )
            assert template.template_id == template_id and report_id in {r.report_id for r in reports}
            saved = await client.download(latest, tmp_path / "async.csv")
            cabs = [item async for item in client.cab_batch(application_id, failure_hash, top=100)]
            return saved.bytes, len(cabs), client.sync.transport.token_requests, latest.due == run.due

    size, cabs, tokens, same_run = asyncio.run(scenario())
    assert size > 0 and cabs == count and tokens == 1 and same_run
