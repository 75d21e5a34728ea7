"""The demo seed gives working credentials, and a demo report is due at start."""

from __future__ import annotations

import json
import socket

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from driverlens.auth import service as auth
from driverlens.cli.listen import PortUnavailable, claim_port
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


def test_demo_report_is_scheduled_once_and_restarts_add_no_runs(settings: Settings) -> None:
    assert CliRunner().invoke(app, ["seed", "--demo", "--rows", "1000"]).exit_code == 0
    db = Database(settings.metadata_url)
    clock = SystemClock()

    def runs_of(report_id: int) -> int:
        with db.session() as session:
            return len(list(session.scalars(select(Run).where(Run.report_id == report_id))))

    try:
        partner, report_id, created = schedule_demo_report(db, clock)
        assert partner == DEMO_PARTNERS[0].name and created
        before = runs_of(report_id)
        for _ in range(2):  # two restarts
            assert schedule_demo_report(db, clock) == (partner, report_id, False)
        assert runs_of(report_id) == before
        with db.session() as session:
            owner = auth.get_partner(session, partner)
            reports = report_repo.list_reports(session, partner_id=owner.id)
            manual = list(
                session.scalars(select(Run).where(Run.report_id == report_id, Run.manual.is_(True)))
            )
        assert len(reports) == 1
        assert manual == []
    finally:
        db.dispose()


def test_a_busy_port_stops_demo_before_seeding_and_says_how_to_choose_another(settings: Settings) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        result = CliRunner().invoke(app, ["demo", "--port", str(port)])
    assert result.exit_code == 1
    output = result.output
    assert f"port {port} on 127.0.0.1 is already in use" in output
    assert "DRIVERLENS_PORT=" in output and "--port" in output
    assert "seeding" not in output and "demo credentials" not in output
    assert not (settings.data_dir / "metadata.db").exists(), "nothing may be written before the port check"


def test_a_busy_port_stops_serve_too() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        result = CliRunner().invoke(app, ["serve", "--port", str(busy.getsockname()[1])])
    assert result.exit_code == 1 and "already in use" in result.output


def test_claim_port_picks_a_free_port_and_refuses_a_taken_one() -> None:
    first = claim_port("127.0.0.1", 0)
    try:
        with pytest.raises(PortUnavailable, match="already in use"):
            claim_port("127.0.0.1", first.getsockname()[1])
    finally:
        first.close()


def test_demo_on_events_seeded_before_the_install_base_adds_an_install_base_covering_them(
    settings: Settings,
) -> None:
    from driverlens.demo import seed_demo
    from driverlens.events import event_store, seed_events
    from driverlens.metadata.migrate import migrate

    clock = SystemClock()
    store = event_store(settings)
    seed_events(store, rows=3000, days=30, seed=0, now=clock.now())  # as an older release left them
    migrate(settings.metadata_url)
    db = Database(settings.metadata_url)
    try:
        backfilled = seed_demo(settings, db, rows=3000, days=30, seed=0, clock=clock, events=False)
        again = seed_demo(settings, db, rows=3000, days=30, seed=0, clock=clock, events=False)
    finally:
        db.dispose()
    assert backfilled.installs_added > 0 and again.installs_added == 0
    with store.reading(store.snapshot()) as con:
        uncovered = con.execute(
            """SELECT count(*) FROM (
                 SELECT "FailureDate" AS d, "IhvPartner", "OemPartner", "DriverName", "DriverVersion",
                        "OSVersion", count(DISTINCT "DeviceId") AS failing
                 FROM failure_events GROUP BY ALL) e
               LEFT JOIN install_base i ON i."InstallDate" = e.d AND i."IhvPartner" = e."IhvPartner"
                 AND i."OemPartner" = e."OemPartner" AND i."DriverName" = e."DriverName"
                 AND i."DriverVersion" = e."DriverVersion" AND i."OSVersion" = e."OSVersion"
               WHERE e.d < current_date AND coalesce(i."DeviceCount", 0) < e.failing"""
        ).fetchall()[0][0]
    assert uncovered == 0, "every failing device must be among the installed ones"
