"""The same events give the same file: byte-identical output whatever order the rows were stored in.

Two stores hold the same events inserted in two different orders, with many rows tied on the
template's sort key. Each format's files from both stores must have the same sha256. The broken variant
(the compiled query with the compiler's tie-breaks removed) must give different files, which proves the
stores really expose the tie order and the test can fail.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pyarrow.parquet as pq
import pytest

from driverlens.catalog import PartnerKind
from driverlens.compiler import CompiledQuery, DataWindow, Scope, compile_template
from driverlens.engines import DuckDBEngine, OutputFormat
from driverlens.templates import parse_template
from tests.engines.conftest import FileEventSource, _event, store_rows

PARTNER = "Contoso Graphics"
WINDOW = DataWindow(date(2026, 3, 1), date(2026, 3, 8))
DRIVERS = [f"drv{i:02}.sys" for i in range(40)]
FAILURES = [f"0x9F_drv!F{i:02}" for i in range(25)]

# Every (driver, failure) group sums to the same count, so the sort key alone ties 1000 groups.
AGGREGATED = {
    "view": "IHVDriver",
    "projection": ["DriverName", "FailureName"],
    "dateRange": {"reportPeriod": "Last7Days"},
    "aggregation": {"aggregatedColumns": ["SUM(EventCount)", "DCOUNT(DeviceId)"]},
    "orderby": [{"attribute": "SUM(EventCount)", "sort": "desc"}],
    "limit": 300,
}
# Detail rows ordered by a column with only two values.
DETAIL = {
    "view": "IHVDriver",
    "projection": ["EventType", "DriverName", "FailureName", "DeviceId", "FailureDateTime", "EventCount"],
    "dateRange": {"reportPeriod": "Last7Days"},
    "orderby": [{"attribute": "EventType", "sort": "asc"}],
}


def _events() -> list[dict[str, Any]]:
    rows = []
    for d, driver in enumerate(DRIVERS):
        for f, failure in enumerate(FAILURES):
            for k in range(2):
                rows.append(
                    _event(
                        EventId=f"e{d}-{f}-{k}",
                        DriverName=driver,
                        FailureName=failure,
                        EventType="Kernel" if (d + f) % 2 else "System",
                        DeviceId=UUID(int=d * 1000 + f * 10 + k),
                        FailureDate=date(2026, 3, 1) + timedelta(days=(d + f + k) % 7),
                        FailureDateTime=datetime(2026, 3, 1, 0, 0) + timedelta(minutes=d * 97 + f * 13 + k),
                        EventCount=2 + k,  # each group: 2 + 3
                    )
                )
    return rows


@dataclass(frozen=True)
class Stores:
    first: FileEventSource
    second: FileEventSource


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> Stores:
    """The same events twice, in two shuffled orders (module-scoped: built once for all cases)."""
    rows = _events()
    built = []
    for seed in (1, 2):
        shuffled = rows[:]
        random.Random(seed).shuffle(shuffled)
        store = FileEventSource(tmp_path_factory.mktemp("determinism") / f"events-{seed}")
        store_rows(store, shuffled)
        built.append(store)
    return Stores(*built)


def _compile(body: dict[str, Any]) -> CompiledQuery:
    return compile_template(parse_template(body), Scope(PartnerKind.IHV, PARTNER), WINDOW, report_id=7)


def _without_tie_breaks(query: CompiledQuery, body: dict[str, Any]) -> CompiledQuery:
    """The broken variant: ORDER BY only the template's own keys, as the compiler once did."""
    tree = query.tree.copy()
    order = tree.args["order"]
    order.set("expressions", order.expressions[: len(body["orderby"])])
    return CompiledQuery(tree=tree, output_columns=query.output_columns)


def _sha256s(stores: Stores, query: CompiledQuery, fmt: OutputFormat, tmp_path: Path) -> tuple[str, str]:
    first = DuckDBEngine(stores.first).run_to_file(query, tmp_path / f"a.{fmt.extension}", fmt, 30)
    second = DuckDBEngine(stores.second).run_to_file(query, tmp_path / f"b.{fmt.extension}", fmt, 30)
    assert first.rows == second.rows > 0
    return first.sha256, second.sha256


FORMATS = list(OutputFormat)
TEMPLATES: dict[str, dict[str, Any]] = {"aggregated": AGGREGATED, "detail": DETAIL}


@pytest.mark.parametrize("fmt", FORMATS, ids=[f.value for f in FORMATS])
@pytest.mark.parametrize("name", list(TEMPLATES))
def test_same_events_in_another_order_give_the_same_bytes(
    stores: Stores, tmp_path: Path, fmt: OutputFormat, name: str
) -> None:
    first, second = _sha256s(stores, _compile(TEMPLATES[name]), fmt, tmp_path)
    assert first == second


@pytest.mark.parametrize("name", list(TEMPLATES))
def test_broken_variant_without_tie_breaks_differs(stores: Stores, tmp_path: Path, name: str) -> None:
    body = TEMPLATES[name]
    broken = _without_tie_breaks(_compile(body), body)
    first, second = _sha256s(stores, broken, OutputFormat.CSV, tmp_path)
    assert first != second, "the stores must expose the order of tied rows, or the test above proves nothing"


def test_integer_aggregates_stay_integers_in_parquet(stores: Stores, tmp_path: Path) -> None:
    dest = tmp_path / "agg.parquet"
    DuckDBEngine(stores.first).run_to_file(_compile(AGGREGATED), dest, OutputFormat.PARQUET, 30)
    schema = pq.read_schema(dest)
    assert str(schema.field("SUM(EventCount)").type) == "int64"
    assert str(schema.field("DCOUNT(DeviceId)").type) == "int64"
    first = pq.read_table(dest).to_pylist()[0]
    assert first["SUM(EventCount)"] == 5 and isinstance(first["SUM(EventCount)"], int)
