"""Delta reports against an oracle: random events, two runs of a real worker, every output row and count
recomputed in plain Python from the raw events (``delta_harness``)."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from driverlens.metadata.database import Database
from driverlens.settings import Settings
from tests.runs.conftest import Scheduled
from tests.runs.delta_harness import (
    DeltaHarness,
    expected_baseline,
    expected_delta,
    full_result,
    random_events,
)

SHAPES: list[tuple[list[str], list[str]]] = [
    (["FailureHash"], ["FailureHash"]),
    (["DriverName", "FailureHash"], ["DriverName", "FailureHash"]),
    (["FailureHash", "FailureName"], ["FailureHash"]),  # FailureName follows the hash: key stays unique
]
MEASURES = ["SUM(EventCount)", "DCOUNT(DeviceId)", "COUNT(DeviceId)", "AVG(EventCount)", "MAX(EventCount)"]


def random_body(rng: random.Random) -> dict[str, Any]:
    projection, key = rng.choice(SHAPES)
    aggregates = rng.sample(MEASURES, rng.randint(1, 3))
    body: dict[str, Any] = {
        "view": "IHVDriver",
        "projection": projection,
        "dateRange": {"reportPeriod": "Last7Days"},
        "aggregation": {"aggregatedColumns": aggregates},
        "delta": {
            "key": key,
            "measure": rng.choice(aggregates),
            "regressedRatio": rng.choice([1.5, 2, 2.5, 4]),
        },
    }
    if rng.random() < 0.5:
        body["orderby"] = [{"attribute": rng.choice(aggregates), "sort": rng.choice(["asc", "desc"])}]
    if rng.random() < 0.3:
        body["limit"] = rng.randint(1, 6)
    return body


def _same(got: list[tuple[Any, ...]], want: list[tuple[Any, ...]]) -> None:
    assert len(got) == len(want), (got, want)
    for g, w in zip(got, want, strict=True):
        assert g == pytest.approx(w), (got, want)


@pytest.mark.parametrize("seed", range(20))
def test_delta_output_equals_the_oracle(
    seed: int, sqlite_db: Database, settings: Settings, tmp_path: Path, make_report: Callable[..., Scheduled]
) -> None:
    rng = random.Random(seed)
    body = random_body(rng)
    harness = DeltaHarness.build(sqlite_db, settings, tmp_path, make_report, body)
    hashes = [uuid.UUID(int=rng.getrandbits(128)) for _ in range(10)]
    first_days = [date(2026, 2, 21) + timedelta(days=i) for i in range(9)]  # around run 0's window
    later_days = [date(2026, 2, 23) + timedelta(days=i) for i in range(7)]  # inside run 1's window
    old_days = [date(2026, 2, 21), date(2026, 2, 22)]  # in run 0's window or before it, not in run 1's
    harness.add(random_events(rng, first_days, hashes[:7], rng.randint(20, 80)))
    harness.add(random_events(rng, old_days, hashes[7:9], rng.randint(1, 6)))
    first = harness.run_next()
    assert first.state.value == "Completed", first.error
    harness.add(random_events(rng, later_days, hashes[3:7] + hashes[9:], rng.randint(5, 60)))
    second = harness.run_next()
    assert second.state.value == "Completed", second.error

    projection, aggregates = body["projection"], body["aggregation"]["aggregatedColumns"]
    window_of = {run.id: (run.window_start, run.window_end) for run in (first, second)}
    columns, rows = harness.rows_of(first)
    assert columns == [*projection, *aggregates, "DeltaStatus", "DeltaPrevious"]
    initial = full_result(harness.seen[first.id], window_of[first.id], projection, aggregates)
    _same(rows, expected_baseline(initial, body))
    assert first.delta_summary is not None and first.delta_summary["baseline"] is True
    assert first.delta_summary["buckets"] == len(initial)

    now = full_result(harness.seen[second.id], window_of[second.id], projection, aggregates)
    want, counts = expected_delta(now, initial, body)
    _same(harness.rows_of(second)[1], want)
    summary = second.delta_summary
    assert summary is not None and summary["baseline"] is False
    assert {k: summary[k] for k in ("new", "regressed", "resolved")} == {
        "new": counts["New"], "regressed": counts["Regressed"], "resolved": counts["Resolved"]
    }  # fmt: skip
    assert summary["buckets"] == len(now)
