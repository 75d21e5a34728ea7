"""Failure-rate reports equal their recomputation from the raw rows (tests/compiler/rates_oracle.py)."""

from __future__ import annotations

import random
from collections.abc import Iterator

import duckdb
import pytest

from driverlens.catalog import PartnerKind
from driverlens.compiler import DataWindow, Scope, compile_template
from driverlens.templates import parse_template
from tests.compiler import rates_oracle as oracle

DATASETS = 6
TEMPLATES_PER_DATASET = 25
REPORT_ID = 7


@pytest.fixture(scope="module")
def rates_con() -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect(":memory:")
    yield con
    con.close()


@pytest.mark.parametrize("seed", range(DATASETS))
def test_every_measure_equals_the_oracle(rates_con: duckdb.DuckDBPyConnection, seed: int) -> None:
    events, installs = oracle.generate(seed)
    oracle.load(rates_con, events, installs)
    rng = random.Random(1000 + seed)
    window = DataWindow(oracle.WINDOW_START, oracle.WINDOW_END)
    compared = 0
    for _ in range(TEMPLATES_PER_DATASET):
        body = oracle.random_template(rng)
        template = parse_template(body)
        query = compile_template(template, Scope(PartnerKind.IHV, oracle.PARTNER), window, REPORT_ID)
        got = [tuple(r) for r in rates_con.execute(query.sql("duckdb")).fetchall()]
        want = oracle.expected_rows(body, events, installs, REPORT_ID)
        assert got == want, body
        compared += len(want)
    assert compared > 0


def test_the_data_covers_the_edge_cases() -> None:
    """Zero installs, fewer installs than failing devices, installs without failures and null versions
    all occur in the generated data, so the oracle test exercises them."""
    body = {
        "view": "IHVDriver",
        "projection": ["DriverName", "DriverVersion", "OSVersion", "FailureDate"],
        "dateRange": {"reportPeriod": "Last7Days"},
        "aggregation": {"aggregatedColumns": ["FAILURERATE(DeviceId)"], "compareVersions": True},
    }
    seen = {"no installs": 0, "clamped": 0, "no failures": 0, "null version": 0, "regressed": 0}
    for seed in range(DATASETS):
        events, installs = oracle.generate(seed)
        for row in oracle.expected_rows(body, events, installs, REPORT_ID):
            version, failing, installed, regressed = row[1], row[4], row[5], row[-1]
            seen["no installs"] += installed == 0
            seen["clamped"] += 0 < installed < failing
            seen["no failures"] += failing == 0 and installed > 0
            seen["null version"] += version is None
            seen["regressed"] += regressed
    assert all(seen.values()), seen
