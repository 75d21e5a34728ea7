"""Hints that point the right way: did-you-mean for names, the other CAB endpoint, the next due time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from driverlens.auth import Principal
from driverlens.catalog import PartnerKind
from driverlens.cli.client_reports import next_due
from driverlens.client.models import Schedule
from driverlens.errors import Forbidden, ValidationFailed
from driverlens.templates import parse_template
from driverlens.usecases.cab_downloads import require_kind


def _messages(body: dict[str, object]) -> list[str]:
    with pytest.raises(ValidationFailed) as caught:
        parse_template(body)
    return [p.message for p in caught.value.problems()]


def test_a_misspelled_column_or_period_gets_a_suggestion_before_the_list() -> None:
    messages = _messages(
        {"view": "IHVDriver", "projection": ["DriverNme"], "dateRange": {"reportPeriod": "Last7Day"}}
    )
    column = next(m for m in messages if "DriverNme" in m)
    assert column.index("did you mean 'DriverName'?") < column.index("its columns are:")
    period = next(m for m in messages if "Last7Day" in m)
    assert "did you mean 'Last7Days'?" in period


def test_nothing_close_gets_no_suggestion() -> None:
    messages = _messages({"view": "IHVDriver", "projection": ["zzzz"], "dateRange": {"reportPeriod": "x"}})
    assert not any("did you mean" in m for m in messages)


@pytest.mark.parametrize(
    ("kind", "endpoint", "names"),
    [
        (PartnerKind.OEM, "driver/cabdownload", "hardware/cabdownload?cabIdHash"),
        (PartnerKind.IHV, "hardware/cabdownload", "driver/cabdownload?applicationId"),
    ],
)
def test_the_wrong_cab_endpoint_names_the_right_one(kind: PartnerKind, endpoint: str, names: str) -> None:
    caller = Principal(1, "P", kind, "tenant", client_id="c")
    other = PartnerKind.IHV if kind is PartnerKind.OEM else PartnerKind.OEM
    with pytest.raises(Forbidden, match="download a CAB with") as caught:
        require_kind(caller, other, endpoint)
    assert names in caught.value.message


def test_next_due_of_a_schedule() -> None:
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    later = Schedule(now + timedelta(hours=11), 24, 7, None)
    assert next_due(later, now) == now + timedelta(hours=11)
    started = Schedule(now - timedelta(hours=30), 24, 7, None)
    assert next_due(started, now) == now + timedelta(hours=18)
    finished = Schedule(now - timedelta(days=10), 24, 3, None)
    assert next_due(finished, now) is None
