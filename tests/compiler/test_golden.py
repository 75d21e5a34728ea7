"""Golden compile tests: template in, expected SQL per dialect out (guards SQLGlot upgrades).

Expected SQL lives in ``golden/<case>.sql`` with one ``-- <dialect>`` section per dialect. To accept a
deliberate change, run with ``DRIVERLENS_UPDATE_GOLDEN=1`` and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from driverlens.compiler import DIALECTS, compile_template
from driverlens.templates import parse_template
from tests.compiler.cases import CASES, WINDOW, Case

GOLDEN = Path(__file__).parent / "golden"


def render(case: Case) -> str:
    query = compile_template(parse_template(case.body), case.scope, WINDOW, case.report_id)
    return "".join(f"-- {dialect}\n{query.sql(dialect, pretty=True)}\n" for dialect in DIALECTS)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_compiled_sql_matches_golden(case: Case) -> None:
    path = GOLDEN / f"{case.name}.sql"
    actual = render(case)
    if os.environ.get("DRIVERLENS_UPDATE_GOLDEN") == "1":
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"missing golden file {path}; run with DRIVERLENS_UPDATE_GOLDEN=1 and review it"
    assert actual == path.read_text(encoding="utf-8")


def test_every_golden_file_belongs_to_a_case() -> None:
    names = {c.name for c in CASES}
    assert {p.stem for p in GOLDEN.glob("*.sql")} == names
