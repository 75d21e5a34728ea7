"""docs/templates.md stays true: every example parses, and the samples are the ones the tests run."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from driverlens.templates import parse_template
from tests.compiler.cases import SAMPLES

DOC = (Path(__file__).resolve().parents[2] / "docs" / "templates.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```(jsonc?)\n(.*?)```", DOC, flags=re.DOTALL)


def test_the_reference_has_examples() -> None:
    assert len(BLOCKS) >= 11


@pytest.mark.parametrize("block", [b for _, b in BLOCKS], ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_every_example_is_a_valid_template(block: str) -> None:
    parse_template(block)


def test_the_lenient_example_has_the_documented_canonical_form() -> None:
    (lenient,) = [b for kind, b in BLOCKS if kind == "jsonc"]
    canonical = BLOCKS[[b for _, b in BLOCKS].index(lenient) + 1][1]
    assert parse_template(lenient).to_canonical() == parse_template(canonical).to_canonical()
    assert parse_template(lenient).to_canonical() == json.loads(canonical)


def test_the_five_samples_match_the_tested_samples() -> None:
    documented = [parse_template(b) for _, b in BLOCKS[2:7]]
    assert documented == [parse_template(case.body) for case in SAMPLES]


def test_the_compiled_example_is_the_golden_sql() -> None:
    (sql,) = re.findall(r"```sql\n(.*?)```", DOC, flags=re.DOTALL)
    golden = (Path(__file__).resolve().parents[1] / "compiler" / "golden").glob("sample_4_*.sql")
    duckdb_section = next(golden).read_text(encoding="utf-8").split("-- spark\n")[0]
    assert duckdb_section == f"-- duckdb\n{sql}"
