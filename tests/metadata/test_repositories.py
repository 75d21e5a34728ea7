"""Repositories: CRUD on both backends, and another partner's ids behaving exactly like missing ones."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta
from typing import Any

import pytest

from driverlens.catalog import PartnerKind
from driverlens.errors import Conflict, NotFound
from driverlens.metadata.database import Database
from driverlens.metadata.models import Partner
from driverlens.metadata.repositories import UNSET, Entitlements, clients, partners, reports, templates

LATER = timedelta(hours=1)


def test_partners_add_find_list_and_entitlements(db: Database, now: datetime) -> None:
    with db.session() as session:
        ihv = partners.add_partner(
            session,
            name="Contoso Graphics",
            kind=PartnerKind.IHV,
            now=now,
            entitlements=Entitlements(application_ids=("app-1",)),
        )
        oem = partners.add_partner(
            session, name="Fabrikam PCs", kind=PartnerKind.OEM, tenant_id="t-oem", now=now
        )
    assert ihv.callback_secret.startswith("whsec_") and len(ihv.callback_secret) > 40
    assert ihv.tenant_id != oem.tenant_id
    with db.session() as session:
        assert partners.get_partner_by_name(session, "Contoso Graphics") is not None
        found = partners.get_partner_by_tenant(session, "t-oem")
        assert found is not None and found.kind is PartnerKind.OEM and found.created_at == now
        assert [p.name for p in partners.list_partners(session)] == ["Contoso Graphics", "Fabrikam PCs"]
        assert partners.get_partner_by_name(session, "Nobody") is None
        partner = partners.get_partner(session, ihv.id)
        assert partner is not None
        grown = partners.entitlements_of(partner).plus(
            application_ids=["app-2", "app-1"], submission_ids=["s1"]
        )
        partners.set_entitlements(session, partner, grown)
    with db.session() as session:
        partner = partners.get_partner(session, ihv.id)
        assert partner is not None
        assert partners.entitlements_of(partner) == Entitlements(("app-1", "app-2"), ("s1",), ())
        shrunk = partners.entitlements_of(partner).minus(application_ids=["app-1"])
        partners.set_entitlements(session, partner, shrunk)
    with db.session() as session:
        partner = partners.get_partner(session, ihv.id)
        assert partner is not None and partner.entitlements["application_ids"] == ["app-2"]


def test_partner_names_and_tenants_are_unique(db: Database, make_partner: Any, now: datetime) -> None:
    make_partner(db, name="Dup", tenant_id="tenant-1")
    with pytest.raises(Conflict, match="Dup"), db.session() as session:
        partners.add_partner(session, name="Dup", kind=PartnerKind.IHV, now=now)
    with pytest.raises(Conflict, match="tenant-1"), db.session() as session:
        partners.add_partner(session, name="Other", kind=PartnerKind.IHV, tenant_id="tenant-1", now=now)
    with pytest.raises(ValueError, match="unknown entitlement"):
        Entitlements().plus(driver_names=["x"])


def test_clients_add_find_and_revoke(db: Database, make_partner: Any, now: datetime) -> None:
    partner: Partner = make_partner(db)
    with db.session() as session:
        clients.add_client(
            session, partner_id=partner.id, client_id="cid-1", secret_hash="hash", name="ci", now=now
        )
    with pytest.raises(Conflict), db.session() as session:
        clients.add_client(
            session, partner_id=partner.id, client_id="cid-1", secret_hash="h", name="x", now=now
        )
    with db.session() as session:
        client = clients.find_client(session, "cid-1")
        assert client is not None and client.secret_hash == "hash"
        assert client.partner.name == partner.name
        assert clients.revoke_client(session, "cid-1", now=now + LATER) is not None
        assert clients.revoke_client(session, "missing", now=now) is None
    with db.session() as session:
        assert clients.find_client(session, "cid-1") is None
        revoked = clients.find_client(session, "cid-1", include_revoked=True)
        assert revoked is not None and revoked.revoked_at == now + LATER
        clients.revoke_client(session, "cid-1", now=now + 2 * LATER)
        assert [c.revoked_at for c in clients.list_clients(session, partner.id)] == [now + LATER]
        assert clients.list_clients(session, partner.id, include_revoked=False) == []


def test_templates_are_versioned(
    db: Database, make_partner: Any, now: datetime, template_body: dict[str, Any]
) -> None:
    partner: Partner = make_partner(db)
    with db.session() as session:
        created = templates.create_template(session, partner_id=partner.id, body=template_body, now=now)
    assert (created.version, created.current_version, created.body) == (1, 1, template_body)
    edited_body = {**template_body, "limit": 5}
    with db.session() as session:
        edited = templates.edit_template(
            session, partner_id=partner.id, template_id=created.id, body=edited_body, now=now + LATER
        )
    assert edited is not None
    assert (edited.version, edited.current_version, edited.body["limit"]) == (2, 2, 5)
    assert (edited.created_at, edited.modified_at) == (now, now + LATER)
    with db.session() as session:
        current = templates.get_template(session, partner_id=partner.id, template_id=created.id)
        first = templates.get_template(session, partner_id=partner.id, template_id=created.id, version=1)
        missing = templates.get_template(session, partner_id=partner.id, template_id=created.id, version=3)
        assert current is not None and current.version == 2 and current.is_current
        assert first is not None and first.body == template_body and not first.is_current
        assert missing is None
        assert templates.list_versions(session, partner_id=partner.id, template_id=created.id) == [1, 2]
        listed = templates.list_templates(session, partner_id=partner.id)
        assert [(t.id, t.version) for t in listed] == [(created.id, 2)]


def test_template_delete_is_refused_while_a_report_uses_it(
    db: Database, make_partner: Any, now: datetime, template_body: dict[str, Any]
) -> None:
    partner: Partner = make_partner(db)
    with db.session() as session:
        template = templates.create_template(session, partner_id=partner.id, body=template_body, now=now)
        report = reports.create_report(
            session,
            partner_id=partner.id,
            template_id=template.id,
            start_time=now,
            interval_hours=24,
            recurrence=2,
            now=now,
        )
    with pytest.raises(Conflict, match=str(report.id)), db.session() as session:
        templates.delete_template(session, partner_id=partner.id, template_id=template.id, now=now)
    with db.session() as session:
        assert reports.reports_using_template(session, partner_id=partner.id, template_id=template.id)
        assert reports.delete_report(session, partner_id=partner.id, report_id=report.id, now=now)
        assert reports.reports_using_template(session, partner_id=partner.id, template_id=template.id) == []
        assert templates.delete_template(session, partner_id=partner.id, template_id=template.id, now=now)
    with db.session() as session:
        assert templates.get_template(session, partner_id=partner.id, template_id=template.id) is None
        assert templates.list_templates(session, partner_id=partner.id) == []
        assert not templates.delete_template(session, partner_id=partner.id, template_id=template.id, now=now)
        assert reports.get_report(session, partner_id=partner.id, report_id=report.id) is None
        with pytest.raises(NotFound):
            reports.create_report(
                session,
                partner_id=partner.id,
                template_id=template.id,
                start_time=now,
                interval_hours=24,
                recurrence=1,
                now=now,
            )


def test_reports_create_update_pause_resume(
    db: Database, make_partner: Any, now: datetime, template_body: dict[str, Any]
) -> None:
    partner: Partner = make_partner(db)
    with db.session() as session:
        first = templates.create_template(session, partner_id=partner.id, body=template_body, now=now)
        second = templates.create_template(session, partner_id=partner.id, body=template_body, now=now)
        report = reports.create_report(
            session,
            partner_id=partner.id,
            template_id=first.id,
            start_time=now,
            interval_hours=12,
            recurrence=4,
            callback_url="https://example.com/hook",
            now=now,
        )
    assert (report.output_format, report.is_paused, report.deleted_at) == ("csv", False, None)
    with db.session() as session:
        updated = reports.update_report(
            session,
            partner_id=partner.id,
            report_id=report.id,
            now=now + LATER,
            template_id=second.id,
            recurrence=6,
            callback_url=None,
        )
        assert updated is not None
        assert (updated.template_id, updated.recurrence, updated.callback_url) == (second.id, 6, None)
        assert (updated.interval_hours, updated.start_time, updated.modified_at) == (12, now, now + LATER)
        unchanged = reports.update_report(
            session, partner_id=partner.id, report_id=report.id, now=now + LATER, output_format=UNSET
        )
        assert unchanged is not None and unchanged.output_format == "csv"
    with db.session() as session:
        paused = reports.pause_report(
            session, partner_id=partner.id, report_id=report.id, now=now + 2 * LATER
        )
        again = reports.pause_report(session, partner_id=partner.id, report_id=report.id, now=now + 3 * LATER)
        assert paused is not None and again is not None
        assert again.is_paused and again.paused_at == now + 2 * LATER
    with db.session() as session:
        resumed = reports.resume_report(
            session, partner_id=partner.id, report_id=report.id, now=now + 4 * LATER
        )
        assert resumed is not None and not resumed.is_paused and resumed.resumed_at == now + 4 * LATER
        assert [r.id for r in reports.list_reports(session, partner_id=partner.id)] == [report.id]


def test_another_partners_ids_look_missing(
    db: Database, make_partner: Any, now: datetime, template_body: dict[str, Any]
) -> None:
    owner: Partner = make_partner(db)
    intruder: Partner = make_partner(db, kind=PartnerKind.OEM)
    with db.session() as session:
        template = templates.create_template(session, partner_id=owner.id, body=template_body, now=now)
        report = reports.create_report(
            session,
            partner_id=owner.id,
            template_id=template.id,
            start_time=now,
            interval_hours=24,
            recurrence=1,
            now=now,
        )
    pid = intruder.id
    with db.session() as session:
        assert templates.get_template(session, partner_id=pid, template_id=template.id) is None
        assert templates.get_template(session, partner_id=pid, template_id=template.id, version=1) is None
        assert templates.list_templates(session, partner_id=pid) == []
        assert templates.list_versions(session, partner_id=pid, template_id=template.id) == []
        assert (
            templates.edit_template(session, partner_id=pid, template_id=template.id, body={}, now=now)
            is None
        )
        assert templates.delete_template(session, partner_id=pid, template_id=template.id, now=now) is False
        assert reports.get_report(session, partner_id=pid, report_id=report.id) is None
        assert reports.list_reports(session, partner_id=pid) == []
        assert (
            reports.update_report(session, partner_id=pid, report_id=report.id, now=now, recurrence=9) is None
        )
        assert reports.pause_report(session, partner_id=pid, report_id=report.id, now=now) is None
        assert reports.resume_report(session, partner_id=pid, report_id=report.id, now=now) is None
        assert reports.delete_report(session, partner_id=pid, report_id=report.id, now=now) is False
        assert reports.reports_using_template(session, partner_id=pid, template_id=template.id) == []
        with pytest.raises(NotFound):
            reports.create_report(
                session,
                partner_id=pid,
                template_id=template.id,
                start_time=now,
                interval_hours=24,
                recurrence=1,
                now=now,
            )
    with db.session() as session:
        mine = templates.get_template(session, partner_id=owner.id, template_id=template.id)
        assert mine is not None and mine.version == 1  # the intruder's edit changed nothing
        kept = reports.get_report(session, partner_id=owner.id, report_id=report.id)
        assert kept is not None and kept.recurrence == 1 and not kept.is_paused


def test_concurrent_edits_get_consecutive_versions(
    db: Database, make_partner: Any, now: datetime, template_body: dict[str, Any]
) -> None:
    partner: Partner = make_partner(db)
    with db.session() as session:
        template = templates.create_template(session, partner_id=partner.id, body=template_body, now=now)
    errors: list[BaseException] = []

    def edit_many(limit: int) -> None:
        try:
            for _ in range(5):
                with db.session() as session:
                    body = {**template_body, "limit": limit}
                    templates.edit_template(
                        session, partner_id=partner.id, template_id=template.id, body=body, now=now
                    )
                    time.sleep(0.01)  # hold the lock so the other thread has to wait
        except BaseException as exc:  # reported below; a thread must not swallow it
            errors.append(exc)

    threads = [threading.Thread(target=edit_many, args=(limit,)) for limit in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    with db.session() as session:
        assert templates.list_versions(session, partner_id=partner.id, template_id=template.id) == list(
            range(1, 12)
        )
        current = templates.get_template(session, partner_id=partner.id, template_id=template.id)
        assert current is not None and current.current_version == 11
