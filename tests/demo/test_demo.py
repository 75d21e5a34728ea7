"""The demo seed gives working credentials, and a demo report is due at start."""

from __future__ import annotations

import json

from sqlalchemy import select
from typer.testing import CliRunner

from driverlens.auth import service as auth
from driverlens.cli.main import app
from driverlens.clock import SystemClock
from driverlens.demo import schedule_demo_report
from driverlens.events.demo import DEMO_PARTNERS
from driverlens.metadata import Run
from driverlens.metadata.database import Database
from driverlens.metadata.repositories import reports as report_repo
from driverlens.settings import Settings


def _credentials(settings: Settings) -> dict[str, dict[str, str]]:
    raw = json.loads((settings.data_dir / "demo-credentials.json").read_text(encoding="utf-8"))
    return {entry["name"]: entry for entry in raw["partners"]}


def test_seed_demo_writes_credentials_that_authenticate_and_keeps_them_on_reseed(settings: Settings) -> None:
    runner = CliRunner()
    first = runner.invoke(app, ["seed", "--demo", "--rows", "3000"])
    assert first.exit_code == 0, first.output
    creds = _credentials(settings)
    assert set(creds) == {p.name for p in DEMO_PARTNERS}
    db = Database(settings.metadata_url)
    try:
        for entry in creds.values():
            assert entry["clientId"] and entry["clientSecret"]
            assert entry["callbackSecret"].startswith("whsec_")
            with db.session() as session:
                principal = auth.authenticate_client(
                    session, entry["tenantId"], entry["clientId"], entry["clientSecret"]
                )
            assert principal.partner_name == entry["name"]
        again = runner.invoke(app, ["seed", "--demo", "--rows", "1000"])
        assert again.exit_code == 0, again.output
        assert _credentials(settings) == creds, "working credentials must survive a re-seed"
    finally:
        db.dispose()


def test_demo_report_is_scheduled_once_then_runs_again_on_each_start(settings: Settings) -> None:
    assert CliRunner().invoke(app, ["seed", "--demo", "--rows", "1000"]).exit_code == 0
    db = Database(settings.metadata_url)
    clock = SystemClock()
    try:
        partner, report_id = schedule_demo_report(db, clock)
        assert partner == DEMO_PARTNERS[0].name
        again_partner, again_id = schedule_demo_report(db, clock)
        assert (again_partner, again_id) == (partner, report_id)
        with db.session() as session:
            owner = auth.get_partner(session, partner)
            reports = report_repo.list_reports(session, partner_id=owner.id)
            manual = len(
                list(session.scalars(select(Run).where(Run.report_id == report_id, Run.manual.is_(True))))
            )
        assert len(reports) == 1
        assert manual == 1
    finally:
        db.dispose()
