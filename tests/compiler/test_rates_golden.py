"""Golden compile tests of failure-rate templates: expected DuckDB and Spark SQL (guards SQLGlot upgrades).

Rate reports run on DuckDB and Spark (the engines that read the install base), so only those two
dialects are kept. To accept a deliberate change, run with ``DRIVERLENS_UPDATE_GOLDEN=1`` and review.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from driverlens.compiler import compile_template
from driverlens.templates import parse_template
from tests.compiler.cases import IHV_SCOPE, OEM_SCOPE, WINDOW

GOLDEN = Path(__file__).parent / "golden_rates"
DIALECTS = ("duckdb", "spark")
RATE = "FAILURERATE(DeviceId)"


def _body(view: str, projection: list[str], **rest: Any) -> dict[str, Any]:
    aggregation = rest.pop("aggregation", {"aggregatedColumns": [RATE]})
    return {
        "view": view,
        "projection": projection,
        "dateRange": {"reportPeriod": "Last7Days"},
        "aggregation": aggregation,
        **rest,
    }


CASES: dict[str, tuple[dict[str, Any], Any]] = {
    "whole_window": (_body("IHVDriver", []), IHV_SCOPE),
    "per_day_oem": (_body("OEMDriver", ["FailureDate", "OSVersion"]), OEM_SCOPE),
    "compare_versions_having_order_limit": (
        _body(
            "IHVDriver",
            ["ReportId", "DriverName", "DriverVersion"],
            aggregation={
                "aggregatedColumns": ["SUM(EventCount)", RATE],
                "compareVersions": True,
                "condition": {"and": [{"attribute": "Regressed", "operator": "EQ", "value": True}]},
            },
            condition={
                "and": [
                    {"attribute": "DriverName", "operator": "IN", "value": ["a.sys", "b.sys"]},
                    {"attribute": "Market", "operator": "EQ", "value": "US"},
                ]
            },
            orderby=[{"attribute": "RateRatio", "sort": "desc"}],
            limit=10,
        ),
        IHV_SCOPE,
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_compiled_rate_sql_matches_golden(name: str) -> None:
    body, scope = CASES[name]
    query = compile_template(parse_template(body), scope, WINDOW, 42)
    actual = "".join(f"-- {d}\n{query.sql(d, pretty=True)}\n" for d in DIALECTS)
    path = GOLDEN / f"{name}.sql"
    if os.environ.get("DRIVERLENS_UPDATE_GOLDEN") == "1":
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"missing golden file {path}; run with DRIVERLENS_UPDATE_GOLDEN=1 and review it"
    assert actual == path.read_text(encoding="utf-8")


def test_every_rate_golden_file_belongs_to_a_case() -> None:
    assert {p.stem for p in GOLDEN.glob("*.sql")} == set(CASES)
