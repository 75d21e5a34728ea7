"""The demo: partners with working credentials, synthetic telemetry, and a report due at start.

Used by ``driverlens seed --demo`` and by ``driverlens demo`` (what ``make run`` starts).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from driverlens.auth import Principal
from driverlens.auth import service as auth
from driverlens.blobs.backend import blob_store_from_settings
from driverlens.cabs.seeding import SeededCabs, seed_demo_cabs
from driverlens.clock import Clock
from driverlens.events import EventStore, event_store, seed_events
from driverlens.events.demo import DEMO_PARTNERS, DemoPartner, credentials_entry, write_demo_credentials
from driverlens.events.seed import SeedProgress
from driverlens.installs.seed import seed_installs
from driverlens.installs.table import VIEW as INSTALLS_VIEW
from driverlens.metadata.database import Database
from driverlens.metadata.repositories import cabs as cab_repo
from driverlens.metadata.repositories import partners as partner_repo
from driverlens.metadata.repositories import reports as report_repo
from driverlens.settings import Settings
from driverlens.usecases import report_templates, scheduled_reports

CREDENTIALS_FILE = "demo-credentials.json"

# Issue 2's third standard sample: failures of the partner's drivers, devices hit, most devices first.
DEMO_TEMPLATE: dict[str, Any] = {
    "view": "IHVDriver",
    "projection": ["DriverName", "DriverVersion", "FailureName", "FailureHash"],
    "dateRange": {"reportPeriod": "Last30Days"},
    "aggregation": {"aggregatedColumns": ["SUM(EventCount)", "DCOUNT(DeviceId)"]},
    "orderby": [{"attribute": "DCOUNT(DeviceId)", "sort": "desc"}],
}


@dataclass(frozen=True)
class DemoSeed:
    events_added: int
    credentials_path: Path
    partners: tuple[str, ...]
    cabs: SeededCabs | None = None
    installs_added: int = 0  # install base keys added (0 when seeding the same demo again)


def credentials_path(settings: Settings) -> Path:
    return settings.data_dir / CREDENTIALS_FILE


def _read_credentials(path: Path) -> dict[str, dict[str, str]]:
    """Entries of an existing credentials file by partner name; an unreadable file counts as none."""
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))["partners"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    return {e["name"]: e for e in entries if isinstance(e, dict) and "name" in e}


def _ensure_partner(
    db: Database, demo: DemoPartner, known: dict[str, str] | None, clock: Clock
) -> dict[str, str]:
    """Create the partner and a client unless a working client is already on record; return its entry."""
    with db.write_session() as session:
        partner = partner_repo.get_partner_by_name(session, demo.name)
        if partner is None:
            partner = auth.add_partner(session, demo.name, demo.kind, demo.tenant_id, clock=clock)
        auth.set_entitlements(
            session,
            demo.name,
            application_ids=demo.application_ids or None,
            submission_ids=demo.submission_ids or None,
            oem_names=demo.oem_names or None,
        )
        callback_secret = partner.callback_secret
        tenant_id = partner.tenant_id
    if known and known.get("clientSecret") and _client_works(db, tenant_id, known):
        client_id, secret = known["clientId"], known["clientSecret"]
    else:
        with db.write_session() as session:
            client_id, secret = auth.add_client(session, demo.name, name="demo client", clock=clock)
    return credentials_entry(
        demo, tenantId=tenant_id, clientId=client_id, clientSecret=secret, callbackSecret=callback_secret
    )


def _client_works(db: Database, tenant_id: str, known: dict[str, str]) -> bool:
    from driverlens.errors import Unauthorized

    try:
        with db.session() as session:
            auth.authenticate_client(session, tenant_id, known["clientId"], known["clientSecret"])
    except Unauthorized:
        return False
    return True


def seed_demo(
    settings: Settings,
    db: Database,
    *,
    rows: int,
    days: int,
    seed: int,
    clock: Clock,
    events: bool = True,
    progress: SeedProgress | None = None,
) -> DemoSeed:
    """Demo partners with clients (credentials written once, reused while they work), their events and
    the install base behind them."""
    path = credentials_path(settings)
    known = _read_credentials(path)
    entries = [_ensure_partner(db, demo, known.get(demo.name), clock) for demo in DEMO_PARTNERS]
    write_demo_credentials(path, entries)
    added = installs_added = 0
    store = event_store(settings)
    if events:
        now = clock.now()
        added = seed_events(store, rows=rows, days=days, seed=seed, now=now, progress=progress).rows
        steps = (lambda step: progress(added, step)) if progress is not None else None
        installs_added = seed_installs(store, rows=rows, days=days, now=now, progress=steps).added
    elif _lacks_install_base(store):  # events seeded before the install base existed: add it beside them
        installs_added = seed_installs(store, rows=rows, days=days, now=clock.now()).added
    cabs: SeededCabs | None = None
    if events or not _has_cabs(db):
        if progress is not None:
            progress(added, "writing crash dump cabinets")
        cabs = seed_demo_cabs(db, blob_store_from_settings(settings, clock), store, clock.now())
    return DemoSeed(added, path, tuple(d.name for d in DEMO_PARTNERS), cabs, installs_added)


def _lacks_install_base(store: EventStore) -> bool:
    with store.reading(store.snapshot()) as con:
        found = con.execute(f"SELECT count(*) FROM (SELECT 1 FROM {INSTALLS_VIEW} LIMIT 1)").fetchall()
    return found[0][0] == 0


def _has_cabs(db: Database) -> bool:
    with db.session() as session:
        return cab_repo.any_cab(session)


def schedule_demo_report(db: Database, clock: Clock) -> tuple[str, int, bool]:
    """The first demo IHV's report: scheduled, first run due now, on the first start (``True``); later
    starts find it and add nothing, so restarts do not pile extra runs onto it (``False``)."""
    demo = DEMO_PARTNERS[0]
    now = clock.now().replace(microsecond=0)
    with db.session() as session:
        partner = partner_repo.get_partner_by_name(session, demo.name)
        if partner is None:
            raise LookupError(f"demo partner {demo.name!r} is missing; run `driverlens seed --demo` first")
        caller = Principal(partner.id, partner.name, demo.kind, partner.tenant_id, client_id="demo")
        existing = report_repo.list_reports(session, partner_id=partner.id)
    if existing:
        return demo.name, existing[0].id, False
    template_id = report_templates.create_template(db, caller, DEMO_TEMPLATE, now)
    body = {
        "templateId": template_id,
        "schedule": {
            "startTime": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "recurrenceInterval": 24,
            "recurrence": 30,
        },
    }
    report_id = scheduled_reports.create_report(db, caller, body, now + timedelta(seconds=1), _no_callback)
    return demo.name, report_id, True


def _no_callback(url: str) -> None:
    raise AssertionError(f"the demo report has no callback, got {url!r}")


def curl_walkthrough(base_url: str, entry: dict[str, str], report_id: int, today: datetime) -> str:
    """The copy-paste sequence printed at start: token, report data, download."""
    day = today.strftime("%Y-%m-%d")
    return "\n".join(
        [
            "TOKEN=$(curl -s -X POST "
            f"{base_url}/{entry['tenantId']}/oauth2/token "
            "-d grant_type=client_credentials "
            f"--data-urlencode client_id={entry['clientId']} "
            f"--data-urlencode client_secret='{entry['clientSecret']}' "
            "-d resource=https://manage.devcenter.microsoft.com "
            "| python3 -c 'import json,sys; print(json.load(sys.stdin)[\"access_token\"])')",
            f'curl -s -H "Authorization: Bearer $TOKEN" '
            f"'{base_url}/analytics/driver/reportdata/{report_id}?startDate={day}&endDate={day}'",
            "# then download the file named in ReportLocation:",
            'curl -s -o report.csv "$(curl -s -H "Authorization: Bearer $TOKEN" '
            f"'{base_url}/analytics/driver/reportdata/{report_id}?startDate={day}&endDate={day}' "
            '| python3 -c \'import json,sys; print(json.load(sys.stdin)["data"][-1]["ReportLocation"])\')"',
        ]
    )
