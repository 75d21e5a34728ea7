"""The compiled Wilson interval: coverage by simulation, and a seeded regression found by compareVersions."""

from __future__ import annotations

import math
import random
import uuid
from datetime import timedelta
from typing import Any

import duckdb
from sqlglot import exp

from driverlens.catalog import PartnerKind
from driverlens.compiler import DataWindow, Scope, compile_template
from driverlens.compiler.rates import wilson
from driverlens.templates import parse_template
from tests.compiler import rates_oracle as oracle

DRAWS = 2000
Z = 1.959963984540054


def _intervals(con: duckdb.DuckDBPyConnection, draws: list[tuple[int, int]]) -> list[tuple[float, float]]:
    """Bounds computed by the compiled expression (``compiler.rates.wilson``) for (failing, n) pairs."""
    n, k = exp.column("n"), exp.column("k")
    p = exp.Div(this=k, expression=n.copy(), typed=False, safe=False)
    low, high = wilson(p, n.copy())
    select = exp.select(low.as_("low"), high.as_("high")).from_("draws")
    con.execute("CREATE OR REPLACE TABLE draws (i INTEGER, k DOUBLE, n DOUBLE)")
    con.executemany("INSERT INTO draws VALUES (?, ?, ?)", [(i, k, n) for i, (k, n) in enumerate(draws)])
    return [(lo, hi) for lo, hi in con.execute(select.order_by("i").sql("duckdb")).fetchall()]


def _binomial(rng: random.Random, n: int, p: float) -> int:
    return sum(rng.random() < p for _ in range(n))


def _coverage(con: duckdb.DuckDBPyConnection, n: int, p: float, seed: int) -> tuple[float, float]:
    """Share of simulated Wilson intervals, and of naive (Wald) ones, that contain the true rate."""
    rng = random.Random(seed)
    draws = [(_binomial(rng, n, p), n) for _ in range(DRAWS)]
    wilson_hits = sum(lo <= p <= hi for lo, hi in _intervals(con, draws))
    wald_hits = 0
    for k, _ in draws:
        rate = k / n
        half = Z * math.sqrt(rate * (1 - rate) / n)
        wald_hits += rate - half <= p <= rate + half
    return wilson_hits / DRAWS, wald_hits / DRAWS


def test_about_95_percent_of_intervals_contain_the_true_rate() -> None:
    con = duckdb.connect()
    figures = []
    for seed, (n, p) in enumerate([(200, 0.05), (500, 0.01), (1000, 0.2), (100, 0.3), (2000, 0.005)]):
        covered, _ = _coverage(con, n, p, seed)
        figures.append(f"n={n} p={p}: {covered:.3f}")
        assert 0.93 <= covered <= 0.97, figures
    print("wilson coverage: " + "; ".join(figures))


def test_wilson_beats_the_naive_interval_at_small_n() -> None:
    con = duckdb.connect()
    for seed, (n, p) in enumerate([(20, 0.05), (30, 0.02), (15, 0.1)]):
        covered, naive = _coverage(con, n, p, 100 + seed)
        print(f"n={n} p={p}: wilson {covered:.3f}, naive {naive:.3f}")
        assert covered >= 0.90
        assert covered > naive + 0.1


def test_bounds_at_the_edges() -> None:
    con = duckdb.connect()
    (low0, high0), (low1, high1) = _intervals(con, [(0, 50), (50, 50)])
    # The bare expression leaves rounding dust at the edges; the report makes them exact (oracle test).
    assert abs(low0) < 1e-15 and 0 < high0 < 0.1
    assert abs(high1 - 1.0) < 1e-15 and 0.9 < low1 < 1.0


def _events_and_installs(
    versions: dict[str, tuple[int, int]], seed: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Per version (installed devices per day, failing devices), spread over the window's seven days."""
    rng = random.Random(seed)
    events: list[dict[str, Any]] = []
    installs: list[dict[str, Any]] = []
    for version, (installed, failing) in versions.items():
        devices = [uuid.UUID(int=rng.getrandbits(128)) for _ in range(failing)]
        for d in range(7):
            day = oracle.WINDOW_START + timedelta(days=d)
            count = installed - rng.randint(0, installed // 10) if d else installed
            installs.append(
                {
                    "InstallDate": day,
                    "IhvPartner": oracle.PARTNER,
                    "OemPartner": oracle.OEM,
                    "DriverName": "a.sys",
                    "DriverVersion": version,
                    "OSVersion": oracle.OS_BUILDS[0],
                    "DeviceCount": count,
                }
            )
        for i, device in enumerate(devices):
            for _ in range(rng.randint(1, 3)):  # several failures on one day count once
                events.append(
                    {
                        "EventId": f"{version}-{i}-{len(events)}",
                        "IhvPartner": oracle.PARTNER,
                        "OemPartner": oracle.OEM,
                        "FailureDate": oracle.WINDOW_START + timedelta(days=rng.randint(0, 6)),
                        "DriverName": "a.sys",
                        "DriverVersion": version,
                        "OSVersion": oracle.OS_BUILDS[0],
                        "Market": "US",
                        "DeviceId": device,
                        "EventCount": 1,
                    }
                )
    return events, installs


def test_a_seeded_regression_is_flagged_and_a_flat_version_is_not() -> None:
    # 31.0.9 -> 31.0.10 (numeric order, not text order) keeps the rate near 1%; 31.0.10 -> 31.1.0
    # triples it. 30.5 has no predecessor.
    versions = {
        "30.5": (4000, 40),
        "31.0.9": (5000, 50),
        "31.0.10": (6000, 62),
        "31.1.0": (5000, 150),
    }
    events, installs = _events_and_installs(versions, seed=14)
    con = duckdb.connect()
    oracle.load(con, events, installs)
    body = {
        "view": "IHVDriver",
        "projection": ["DriverName", "DriverVersion"],
        "dateRange": {"reportPeriod": "Last7Days"},
        "aggregation": {"aggregatedColumns": ["FAILURERATE(DeviceId)"], "compareVersions": True},
    }
    template = parse_template(body)
    window = DataWindow(oracle.WINDOW_START, oracle.WINDOW_END)
    query = compile_template(template, Scope(PartnerKind.IHV, oracle.PARTNER), window)
    rows = {
        r[1]: dict(zip(query.output_columns, r, strict=True)) for r in con.execute(query.sql()).fetchall()
    }
    assert rows["31.1.0"]["PreviousVersion"] == "31.0.10"
    assert rows["31.0.10"]["PreviousVersion"] == "31.0.9"
    assert rows["31.0.9"]["PreviousVersion"] == "30.5"
    assert rows["30.5"]["PreviousVersion"] is None
    assert rows["31.1.0"]["Regressed"] is True
    assert 2.5 < rows["31.1.0"]["RateRatio"] < 3.5
    assert [v for v, r in rows.items() if r["Regressed"]] == ["31.1.0"]
    # Device-days: a device once per day it failed (several events that day count once), installs summed.
    device_days = {(e["DeviceId"], e["FailureDate"]) for e in events if e["DriverVersion"] == "31.0.10"}
    installed = sum(i["DeviceCount"] for i in installs if i["DriverVersion"] == "31.0.10")
    assert len({d for d, _ in device_days}) == 62 and len(device_days) > 62
    assert rows["31.0.10"]["FailingDeviceDays"] == len(device_days)
    assert rows["31.0.10"]["InstalledDeviceDays"] == installed > 6 * 6000
    assert [tuple(r) for r in con.execute(query.sql()).fetchall()] == oracle.expected_rows(
        body, events, installs, 0
    )
    # Only the regressed version, through aggregation.condition.
    body["aggregation"]["condition"] = {"and": [{"attribute": "Regressed", "operator": "EQ", "value": True}]}
    only = compile_template(parse_template(body), Scope(PartnerKind.IHV, oracle.PARTNER), window)
    assert [r[1] for r in con.execute(only.sql()).fetchall()] == ["31.1.0"]
