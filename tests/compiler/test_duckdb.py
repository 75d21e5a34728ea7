"""Compiled queries run on a real in-memory DuckDB over a tiny ``failure_events`` table."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings

from driverlens.catalog import PartnerKind
from driverlens.compiler import CompiledQuery, Scope, compile_template
from driverlens.templates import parse_template
from tests.compiler.cases import CASES, WINDOW, Case
from tests.compiler.events import DEVICES, HASHES, ROWS
from tests.compiler.test_properties import hostile_strings, scope_for
from tests.templates.strategies import template_bodies


def run(con: duckdb.DuckDBPyConnection, query: CompiledQuery) -> tuple[list[str], list[tuple[Any, ...]]]:
    cursor = con.execute(query.sql("duckdb"))
    return [d[0] for d in cursor.description], cursor.fetchall()


def compiled(body: dict[str, Any], partner: str | None = None, report_id: int | None = 1) -> CompiledQuery:
    scope = scope_for(body) if partner is None else scope_for(body, partner)
    return compile_template(parse_template(body), scope, WINDOW, report_id)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_every_golden_case_runs_and_names_its_columns(con: duckdb.DuckDBPyConnection, case: Case) -> None:
    query = compile_template(parse_template(case.body), case.scope, WINDOW, case.report_id)
    columns, _ = run(con, query)
    assert columns == query.output_columns


def test_scope_and_window_keep_other_rows_out(con: duckdb.DuckDBPyConnection) -> None:
    body = {"view": "IHVDriver", "projection": ["EventCount"], "dateRange": {"reportPeriod": "Last7Days"}}
    _, rows = run(con, compiled(body, "Contoso"))
    assert sorted(r[0] for r in rows) == [600 + n for n in range(8)]
    _, rows = run(con, compiled(body, "Northwind"))
    assert rows == [(10_000,)]
    oem = {**body, "view": "OEMDriver"}
    _, rows = run(con, compiled(oem, "Litware"))
    assert rows == [(10_000,)]


def test_report_id_model_mapping_and_dates(con: duckdb.DuckDBPyConnection) -> None:
    body = {
        "view": "OEMDriver",
        "projection": ["ReportId", "Model", "FailureDate"],
        "dateRange": {"reportPeriod": "Last7Days"},
        "condition": {"and": [{"attribute": "model", "operator": "EQ", "value": "Model 1"}]},
    }
    columns, rows = run(con, compiled(body, "Fabrikam", 77))
    assert columns == ["ReportId", "Model", "FailureDate"]
    assert set(rows) == {(77, "Model 1", date(2024, 5, 2))}
    _, rows = run(con, compiled(body, "Fabrikam", None))
    assert {r[0] for r in rows} == {None}


def test_sample_4_having_keeps_groups_over_1000(con: duckdb.DuckDBPyConnection) -> None:
    case = next(c for c in CASES if c.name.startswith("sample_4"))
    _, rows = run(con, compile_template(parse_template(case.body), case.scope, WINDOW, 1))
    # Kernel events are the even n: 0, 2, 4, 6 -> buckets Foo0 (0, 6), Foo2 (2), Foo1 (4).
    # UUIDs come out as canonical text (the table stores their bytes).
    assert sorted(rows) == [("0x9F_nvlddmkm!Foo0", str(HASHES[0]), 1206)]


def test_sample_5_orders_by_distinct_devices_and_limits(con: duckdb.DuckDBPyConnection) -> None:
    case = next(c for c in CASES if c.name.startswith("sample_5"))
    body = {**case.body, "limit": 1}
    _, rows = run(con, compiled(body, "Contoso"))
    assert rows == [("nvlddmkm.sys", 3)]


def test_uuid_in_and_like_filters(con: duckdb.DuckDBPyConnection) -> None:
    body = {
        "view": "IHVDriver",
        "projection": ["CabIdHash"],
        "dateRange": {"reportPeriod": "Last7Days"},
        "condition": {
            "and": [
                {
                    "attribute": "DeviceId",
                    "operator": "IN",
                    "value": f"{DEVICES[1]},{str(DEVICES[2]).upper()}",
                },
                {"attribute": "FailureName", "operator": "LIKE", "value": "%Foo_"},
            ]
        },
        "orderby": [{"attribute": "CabIdHash", "sort": "desc"}],
    }
    _, rows = run(con, compiled(body))
    assert rows == [("cab6",), ("cab5",), ("cab2",), ("cab1",)]


def test_failure_date_is_iso_in_csv_and_json(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    body = {
        "view": "IHVDriver",
        "projection": ["FailureDate", "ReportId"],
        "dateRange": {"reportPeriod": "Last7Days"},
    }
    sql = compiled(body, report_id=3).sql("duckdb")
    con.execute(f"COPY ({sql}) TO '{tmp_path / 'out.csv'}' (HEADER)")
    con.execute(f"COPY ({sql}) TO '{tmp_path / 'out.jsonl'}' (FORMAT JSON)")
    with (tmp_path / "out.csv").open() as handle:
        first = next(csv.DictReader(handle))
    assert first == {"FailureDate": "2024-05-02", "ReportId": "3"}
    record = json.loads((tmp_path / "out.jsonl").read_text().splitlines()[0])
    assert record == {"FailureDate": "2024-05-02", "ReportId": 3}


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(body=template_bodies())
def test_random_valid_templates_run(con: duckdb.DuckDBPyConnection, body: dict[str, Any]) -> None:
    query = compiled(body)
    columns, _ = run(con, query)
    assert columns == query.output_columns


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(hostile=hostile_strings)
def test_hostile_values_run_as_plain_values(con: duckdb.DuckDBPyConnection, hostile: str) -> None:
    body = {
        "view": "IHVDriver",
        "projection": ["DriverName"],
        "dateRange": {"reportPeriod": "Last7Days"},
        "condition": {"or": [{"attribute": "DriverName", "operator": "EQ", "value": hostile}]},
    }
    _, rows = run(con, compiled(body, partner=hostile))
    assert rows == []
    assert con.execute("SELECT count(*) FROM failure_events").fetchone() == (len(ROWS),)


def test_scope_kind_drives_the_owner_column(con: duckdb.DuckDBPyConnection) -> None:
    body = {"view": "OEMDriver", "projection": ["EventCount"], "dateRange": {"reportPeriod": "Last7Days"}}
    query = compile_template(parse_template(body), Scope(PartnerKind.OEM, "Contoso"), WINDOW)
    assert run(con, query)[1] == []  # Contoso is an IHV: it owns no machines
