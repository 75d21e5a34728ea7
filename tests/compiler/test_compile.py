"""Compiler unit tests: scope, window, output columns, dialect rendering errors."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlglot import exp

from driverlens.catalog import PartnerKind, ReportPeriod
from driverlens.compiler import (
    CompiledQuery,
    DataWindow,
    Scope,
    UnsupportedQuery,
    compile_template,
    window_for,
)
from driverlens.errors import Forbidden
from driverlens.templates import parse_template
from tests.compiler.cases import SAMPLES, WINDOW, Case


@pytest.mark.parametrize(
    ("period", "due", "start", "end"),
    [
        (ReportPeriod.YESTERDAY, datetime(2024, 5, 8, 3, 0, tzinfo=UTC), date(2024, 5, 7), date(2024, 5, 8)),
        (ReportPeriod.YESTERDAY, datetime(2024, 5, 8, 0, 0, tzinfo=UTC), date(2024, 5, 7), date(2024, 5, 8)),
        (
            ReportPeriod.LAST_7_DAYS,
            datetime(2024, 5, 8, 23, 59, tzinfo=UTC),
            date(2024, 5, 1),
            date(2024, 5, 8),
        ),
        (
            ReportPeriod.LAST_90_DAYS,
            datetime(2024, 3, 1, 12, tzinfo=UTC),
            date(2023, 12, 2),
            date(2024, 3, 1),
        ),
        # 01:00 at UTC+2 is still the previous UTC day.
        (
            ReportPeriod.LAST_3_DAYS,
            datetime(2024, 5, 8, 1, 0, tzinfo=timezone(timedelta(hours=2))),
            date(2024, 5, 4),
            date(2024, 5, 7),
        ),
    ],
)
def test_window_for_counts_whole_utc_days_before_the_due_date(
    period: ReportPeriod, due: datetime, start: date, end: date
) -> None:
    window = window_for(period, due)
    assert window == DataWindow(start, end)
    assert window.days == period.days


def test_window_for_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        window_for(ReportPeriod.YESTERDAY, datetime(2024, 5, 8))


def test_empty_window_is_refused() -> None:
    with pytest.raises(ValueError, match="after its start"):
        DataWindow(date(2024, 5, 8), date(2024, 5, 8))


@pytest.mark.parametrize(("view", "kind"), [("IHVDriver", PartnerKind.OEM), ("OEMDriver", PartnerKind.IHV)])
def test_a_partner_cannot_compile_the_other_view(view: str, kind: PartnerKind) -> None:
    template = parse_template(
        {"view": view, "projection": ["FailureName"], "dateRange": {"reportPeriod": "Yesterday"}}
    )
    with pytest.raises(Forbidden) as info:
        compile_template(template, Scope(kind, "Someone"), WINDOW)
    assert info.value.status == 403


def _conjuncts(query: CompiledQuery) -> list[exp.Expr]:
    where = query.tree.args["where"]
    assert isinstance(where, exp.Where)
    return list(where.this.flatten()) if isinstance(where.this, exp.And) else [where.this]


@pytest.mark.parametrize("case", SAMPLES, ids=[c.name for c in SAMPLES])
def test_scope_and_window_lead_the_where_clause(case: Case) -> None:
    query = compile_template(parse_template(case.body), case.scope, WINDOW, case.report_id)
    owner = "IhvPartner" if case.scope.kind is PartnerKind.IHV else "OemPartner"
    scope, after, before = _conjuncts(query)[:3]
    assert scope == exp.EQ(
        this=exp.column(owner, quoted=True), expression=exp.Literal.string(case.scope.partner)
    )
    assert isinstance(after, exp.GTE) and after.this == exp.column("FailureDate", quoted=True)
    assert isinstance(before, exp.LT) and before.expression.this.this == "2024-05-08"
    assert query.output_columns == parse_template(case.body).output_columns
    assert [e.alias for e in query.tree.expressions] == query.output_columns


def test_partner_names_are_literals_whatever_they_contain() -> None:
    template = parse_template(
        {"view": "IHVDriver", "projection": ["Market"], "dateRange": {"reportPeriod": "Yesterday"}}
    )
    query = compile_template(template, Scope(PartnerKind.IHV, "x' OR '1'='1"), WINDOW)
    assert "\"IhvPartner\" = 'x'' OR ''1''=''1'" in query.sql("duckdb")
    assert len(_conjuncts(query)) == 3


def test_output_columns_are_projection_then_aggregates() -> None:
    template = parse_template(
        {
            "view": "OEMDriver",
            "projection": ["Model", "ReportId"],
            "dateRange": {"reportPeriod": "Yesterday"},
            "aggregation": {"aggregatedColumns": ["sum(eventcount)", "DCOUNT(DeviceId)"]},
        }
    )
    query = compile_template(template, Scope(PartnerKind.OEM, "Fabrikam"), WINDOW, 5)
    assert query.output_columns == ["Model", "ReportId", "SUM(EventCount)", "DCOUNT(DeviceId)"]
    group = query.tree.args["group"]
    assert [e.name for e in group.expressions] == ["OEMModel"]  # ReportId is a constant, not a key


def test_unsupported_constructs_raise_instead_of_being_rewritten() -> None:
    tree = exp.select(
        exp.IgnoreNulls(this=exp.FirstValue(this=exp.column("Market", quoted=True))), copy=False
    ).from_(exp.to_table("failure_events"), copy=False)
    query = CompiledQuery(tree=tree, output_columns=["x"])
    assert "IGNORE NULLS" in query.sql("duckdb")
    with pytest.raises(UnsupportedQuery, match="postgres"):
        query.sql("postgres")
