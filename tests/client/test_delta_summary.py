"""The SDK's DeltaSummary and the CLI's rendering of it."""

from __future__ import annotations

from datetime import UTC, datetime

from driverlens.cli.client_reports import delta_text
from driverlens.client import DeltaSummary, ReportRun

COMPARED = {
    "baseline": False,
    "comparedWithReportDatetime": "2026-03-01T06:00:00Z",
    "comparedWithManualRun": False,
    "buckets": 412,
    "new": 2,
    "regressed": 1,
    "resolved": 3,
}


def test_report_data_items_carry_the_delta_summary() -> None:
    item = {
        "ReportDatetime": "2026-03-02T06:00:00Z",
        "ReportStatus": "Completed",
        "ReportLocation": "https://x/f",
    }
    run = ReportRun.from_json(7, {**item, "Delta": COMPARED})
    assert run.delta == DeltaSummary(
        baseline=False, new=2, regressed=1, resolved=3, buckets=412,
        compared_with=datetime(2026, 3, 1, 6, tzinfo=UTC),
    )  # fmt: skip
    assert run.delta is not None and run.delta.changed == 6
    assert ReportRun.from_json(7, item).delta is None  # a report without a delta block


def test_the_cli_shows_counts_or_baseline() -> None:
    assert delta_text(DeltaSummary.from_json(COMPARED)) == "2 new, 1 regressed, 3 resolved"
    baseline = {"baseline": True, "reason": "the report has no earlier completed run", "buckets": 9}
    summary = DeltaSummary.from_json({**baseline, "new": 0, "regressed": 0, "resolved": 0})
    assert summary is not None and summary.reason == "the report has no earlier completed run"
    assert delta_text(summary) == "baseline (9 buckets)"
    assert delta_text(DeltaSummary.from_json(None)) == ""
