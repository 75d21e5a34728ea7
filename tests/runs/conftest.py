"""Fixtures of the runs tests: a scheduled-report factory and a fake engine for fast runs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from driverlens.catalog import PartnerKind
from driverlens.metadata import Partner, Report
from driverlens.metadata.database import Database
from driverlens.metadata.repositories import reports, templates
from tests.runs.fakes import template_body

T0 = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)


@dataclass
class Scheduled:
    partner: Partner
    template_id: int
    report: Report


@pytest.fixture
def make_report(make_partner: Callable[..., Partner]) -> Callable[..., Scheduled]:
    """Factory: ``make_report(db, start=..., interval=24, recurrence=5, period="Last7Days", ...)``."""

    def build(
        db: Database,
        *,
        start: datetime = T0,
        interval: int = 24,
        recurrence: int = 5,
        period: str = "Last7Days",
        partner: Partner | None = None,
        partner_name: str | None = None,
        kind: PartnerKind = PartnerKind.IHV,
        callback_url: str | None = None,
        output_format: str = "csv",
        body: dict[str, Any] | None = None,
        now: datetime = T0,
    ) -> Scheduled:
        owner = partner or make_partner(db, name=partner_name, kind=kind)
        view = "IHVDriver" if owner.kind is PartnerKind.IHV else "OEMDriver"
        with db.session() as session:
            stored = templates.create_template(
                session, partner_id=owner.id, body=body or template_body(view, period), now=now
            )
            report = reports.create_report(
                session,
                partner_id=owner.id,
                template_id=stored.id,
                start_time=start,
                interval_hours=interval,
                recurrence=recurrence,
                now=now,
                callback_url=callback_url,
                output_format=output_format,
            )
        return Scheduled(owner, stored.id, report)

    return build
