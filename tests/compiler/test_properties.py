"""Property tests: every valid template is one scoped SELECT; hostile values never change its shape."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import sqlglot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlglot import exp

from driverlens.catalog import OWNER_COLUMNS, PartnerKind, View
from driverlens.compiler import DIALECTS, CompiledQuery, Scope, compile_template
from driverlens.errors import ValidationFailed
from driverlens.templates import parse_template
from tests.compiler.cases import WINDOW
from tests.templates.strategies import template_bodies

MODEST = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

HOSTILE_PIECES = [
    "'",
    "''",
    "\\'",
    '"',
    "`",
    "\\",
    ";",
    "--",
    "/*",
    "*/",
    "'; DROP TABLE failure_events; --",
    "' OR '1'='1",
    "$$",
    "$1",
    "?",
    "%s",
    "{}",
    "\n",
    "\r\n",
    "\t",
    "\u2028",
    "\ufeff",
    "Ω≈ç√",
    "😀",
    "ʼ",
    "％",
]
hostile_strings = (
    st.lists(
        st.sampled_from(HOSTILE_PIECES)
        | st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=5),
        min_size=1,
        max_size=6,
    )
    .map("".join)
    .filter(lambda s: s not in ("", "other"))
)


def scope_for(body: dict[str, Any], partner: str = "Contoso") -> Scope:
    view = next(v for k, v in body.items() if k.strip().lower() == "view")
    return Scope(PartnerKind.IHV if view.strip().lower() == "ihvdriver" else PartnerKind.OEM, partner)


def shape(tree: exp.Expr) -> str:
    """The query with every literal blanked: equal shapes differ only in values."""
    blank = tree.copy().transform(
        lambda node: exp.Literal.string("?") if isinstance(node, exp.Literal) else node
    )
    return blank.sql("duckdb")


def string_literals(tree: exp.Expr) -> list[str]:
    return [lit.this for lit in tree.find_all(exp.Literal) if lit.is_string]


@MODEST
@given(template_bodies(), st.integers(1, 2**40) | st.none())
def test_valid_templates_compile_to_one_scoped_select(body: dict[str, Any], report_id: int | None) -> None:
    template = parse_template(body)
    scope = scope_for(body)
    query = compile_template(template, scope, WINDOW, report_id)
    tree = query.tree
    assert isinstance(tree, exp.Select)
    assert len(list(tree.find_all(exp.Select))) == 1
    expected_table = {View.IHV_DRIVER: "failure_events", View.OEM_DRIVER: "failure_events_by_oem"}
    assert [t.name for t in tree.find_all(exp.Table)] == [expected_table[scope.kind.view]]
    where = tree.args["where"].this
    conjuncts = list(where.flatten()) if isinstance(where, exp.And) else [where]
    owner = OWNER_COLUMNS[scope.kind.view]
    assert conjuncts[0] == exp.EQ(
        this=exp.column(owner, quoted=True), expression=exp.Literal.string("Contoso")
    )
    assert [e.alias for e in tree.expressions] == template.output_columns
    for dialect in DIALECTS:
        sql = query.sql(dialect)
        parsed = sqlglot.parse(sql, read=dialect)
        assert len(parsed) == 1 and isinstance(parsed[0], exp.Select)
        assert len(list(parsed[0].find_all(exp.Select))) == 1


@MODEST
@given(template_bodies(), hostile_strings, st.integers(1, 2**40) | st.none())
def test_rendering_leaves_the_tree_as_it_was(
    body: dict[str, Any], partner: str, report_id: int | None
) -> None:
    """``CompiledQuery.sql`` renders without a defensive copy, so no dialect may change the tree."""
    query = compile_template(parse_template(body), scope_for(body, partner), WINDOW, report_id)
    before = repr(query.tree)
    first = {(d, pretty): query.sql(d, pretty=pretty) for d in DIALECTS for pretty in (False, True)}
    assert repr(query.tree) == before
    again = {(d, pretty): query.sql(d, pretty=pretty) for d in reversed(DIALECTS) for pretty in (True, False)}
    assert again == first


def _with_value(body: dict[str, Any], value: str) -> dict[str, Any]:
    result = copy.deepcopy(body)
    result["condition"] = {
        "and": [
            {"attribute": "DriverName", "operator": "EQ", "value": value},
            {"condition": {"or": [{"attribute": "Symbol", "operator": "LIKE", "value": value}]}},
            {"attribute": "FailureName", "operator": "IN", "value": [value, "other"]},
        ]
    }
    return result


@MODEST
@given(template_bodies(), hostile_strings)
def test_hostile_values_never_change_the_query_shape(body: dict[str, Any], hostile: str) -> None:
    body = {k.lower(): v for k, v in body.items()}
    benign = compile_template(parse_template(_with_value(body, "benign")), scope_for(body), WINDOW, 1)
    evil = compile_template(parse_template(_with_value(body, hostile)), scope_for(body, hostile), WINDOW, 1)
    assert shape(evil.tree) == shape(benign.tree)
    for dialect in DIALECTS:
        reparsed = sqlglot.parse(evil.sql(dialect), read=dialect)
        assert len(reparsed) == 1 and reparsed[0] is not None
        assert shape(reparsed[0]) == shape(sqlglot.parse_one(benign.sql(dialect), read=dialect))
        assert hostile in string_literals(reparsed[0]), dialect


@MODEST
@given(template_bodies(), hostile_strings)
def test_hostile_attributes_are_rejected_not_compiled(body: dict[str, Any], hostile: str) -> None:
    body = {k.lower(): v for k, v in body.items()}
    body["condition"] = {"or": [{"attribute": hostile, "operator": "EQ", "value": "x"}]}
    with pytest.raises(ValidationFailed) as info:
        parse_template(body)
    assert any(p.path == "condition.or[0].attribute" for p in info.value.problems())


@pytest.mark.parametrize("where", ["value", "attribute"])
def test_nul_characters_are_rejected(where: str) -> None:
    item = {"attribute": "DriverName", "operator": "EQ", "value": "x"}
    item[where] = "nv\x00lddmkm"
    body = {"view": "IHVDriver", "projection": ["DriverName"], "dateRange": {"reportPeriod": "Yesterday"}}
    with pytest.raises(ValidationFailed):
        parse_template({**body, "condition": {"and": [item]}})


def test_shape_detects_a_changed_query() -> None:
    """The shape comparison itself can fail: an injected predicate changes it."""
    body = {"view": "IHVDriver", "projection": ["DriverName"], "dateRange": {"reportPeriod": "Yesterday"}}
    query = compile_template(parse_template(_with_value(body, "benign")), scope_for(body), WINDOW)
    injected = sqlglot.parse_one(query.sql("duckdb").replace("'benign'", "'x' OR 1=1", 1), read="duckdb")
    assert shape(injected) != shape(query.tree)
    assert isinstance(query, CompiledQuery)
