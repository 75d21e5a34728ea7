"""Failure-rate reports on Spark: the same snapshot (events and install base) gives the same bytes as
DuckDB in every format, compareVersions and Wilson bounds included."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from driverlens.catalog import PartnerKind
from driverlens.compiler import Scope, compile_template, window_for
from driverlens.compiler.spreadsheet import neutralise_formulas
from driverlens.engines import DuckDBEngine, OutputFormat
from driverlens.engines.spark_engine import SparkEngine, spark_session, stop_spark
from driverlens.events import EventStore, seed_events
from driverlens.installs.synthetic import synthetic_installs
from driverlens.templates import parse_template
from tests.engines.test_spark import MASTER, _java_missing, _read_csv

NOW = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)
DUE = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
PARTNER = "Contoso Graphics"
RATE = "FAILURERATE(DeviceId)"


def _body(projection: list[str], **aggregation: Any) -> dict[str, Any]:
    return {
        "view": "IHVDriver",
        "projection": projection,
        "dateRange": {"reportPeriod": "Last30Days"},
        "aggregation": {"aggregatedColumns": [RATE], **aggregation},
    }


TEMPLATES: dict[str, dict[str, Any]] = {
    "driver-version-compare": _body(["DriverName", "DriverVersion"], compareVersions=True),
    "os-build": _body(["DriverName", "OSVersion"]),
    "per-day": {**_body(["FailureDate", "DriverName"]), "dateRange": {"reportPeriod": "Last7Days"}},
    "whole-window": _body([]),
    "mixed-aggregates-having-order-limit": {
        **_body(
            ["ReportId", "DriverName", "DriverVersion", "OSVersion"],
            aggregatedColumns=["SUM(EventCount)", RATE, "DCOUNT(Market)"],
            compareVersions=True,
            condition={
                "or": [
                    {"attribute": "FailureRate", "operator": "GT", "value": 0.002},
                    {"attribute": "Regressed", "operator": "EQ", "value": True},
                ]
            },
        ),
        "condition": {"and": [{"attribute": "EventType", "operator": "EQ", "value": "Kernel"}]},
        "orderby": [{"attribute": "FailureRateLow", "sort": "desc"}],
        "limit": 25,
    },
    "filtered-denominator": {
        **_body(["DriverVersion"], compareVersions=True),
        "condition": {"and": [{"attribute": "OSVersion", "operator": "LIKE", "value": "10.0.22%"}]},
        "orderby": [{"attribute": "RateRatio", "sort": "desc"}],
    },
}


@pytest.fixture(scope="module")
def engines(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DuckDBEngine, SparkEngine]]:
    reason = _java_missing()
    if reason is not None:
        pytest.skip(reason)
    store = EventStore(tmp_path_factory.mktemp("spark-rates"))
    seed_events(store, rows=3000, days=30, seed=21, now=NOW)
    synthetic_installs(store, days=30, now=NOW, seed=21)
    spark_session(MASTER)
    yield DuckDBEngine(store), SparkEngine(store, MASTER)
    stop_spark()


@pytest.mark.parametrize("name", list(TEMPLATES))
def test_rate_reports_are_byte_identical(
    engines: tuple[DuckDBEngine, SparkEngine], tmp_path: Path, name: str
) -> None:
    template = parse_template(TEMPLATES[name])
    scope = Scope(PartnerKind.IHV, PARTNER)
    query = compile_template(template, scope, window_for(template.report_period, DUE), report_id=99)
    formats = list(OutputFormat) if name == "driver-version-compare" else [OutputFormat.CSV]
    for fmt in formats:
        duck_out = engines[0].run_to_file(query, tmp_path / f"duck.{fmt.value}", fmt, timeout_s=120)
        spark_out = engines[1].run_to_file(query, tmp_path / f"spark.{fmt.value}", fmt, timeout_s=120)
        duck_bytes = (tmp_path / f"duck.{fmt.value}").read_bytes()
        assert (tmp_path / f"spark.{fmt.value}").read_bytes() == duck_bytes, (fmt, query.sql("spark"))
        assert spark_out.sha256 == duck_out.sha256 and duck_out.rows > 0
    # A CSV run wraps the query to make text cells formula-safe (compiler.spreadsheet): the same there.
    safe = neutralise_formulas(query, template)
    engines[0].run_to_file(safe, tmp_path / "duck-safe.csv", OutputFormat.CSV, timeout_s=120)
    engines[1].run_to_file(safe, tmp_path / "spark-safe.csv", OutputFormat.CSV, timeout_s=120)
    assert (tmp_path / "spark-safe.csv").read_bytes() == (tmp_path / "duck-safe.csv").read_bytes()
    header, rows = _read_csv(tmp_path / "duck.csv")
    assert header == template.output_columns
    rate = header.index("FailureRate")
    assert any(r[rate] not in ("", "0.0") for r in rows), "a vacuous comparison: no rate at all"
    if "Regressed" in header:
        previous = header.index("PreviousVersion")
        assert any(r[previous] for r in rows), "no version had a predecessor"
