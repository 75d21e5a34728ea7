"""Lenient JSON: comments outside strings, case-insensitive keys, forgiving enumerations."""

from __future__ import annotations

from typing import Any

import pytest

from driverlens.catalog import Aggregate, Operator, View
from driverlens.errors import ValidationFailed
from driverlens.lenient import canonical_keys, enum_value, join_path, loads, strip_comments


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": 1} // trailing', {"a": 1}),
        ('// leading\n{"a": 1}', {"a": 1}),
        ('{/* inline */ "a": /* x */ 1}', {"a": 1}),
        ('{"a": "http://x.example/y"}', {"a": "http://x.example/y"}),
        ('{"a": "/* not a comment */"}', {"a": "/* not a comment */"}),
        ('{"a": "quote \\" // still string"}', {"a": 'quote " // still string'}),
        ('{"a": "back\\\\"} // c', {"a": "back\\"}),
        ('{"a":\n/* multi\nline */ 2}', {"a": 2}),
        (b'\xef\xbb\xbf{"a": 1}', {"a": 1}),
        ('{"a": 1/**/}', {"a": 1}),
    ],
)
def test_loads_strips_comments_outside_strings(text: str | bytes, expected: Any) -> None:
    assert loads(text) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('{"a": 1', "not valid JSON"),
        ('{"a": 1 /* open', "never closed"),
        (b'{"a": "\xff"}', "not valid UTF-8"),
        ('{"a": NaN}', "NaN"),
        ('{"a": 1, "b": {"c": 1, "c": 2}}', "key 'c' appears twice"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ],
)
def test_loads_rejects_broken_bodies_with_a_clear_problem(text: str | bytes, fragment: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        loads(text)
    assert fragment in info.value.message


def test_block_comment_keeps_line_numbers_for_errors() -> None:
    with pytest.raises(ValidationFailed) as info:
        loads('{\n/* one\ntwo */\n"a": }')
    assert "line 4" in info.value.message


def test_strip_comments_leaves_plain_json_alone() -> None:
    text = '{"a": [1, 2, {"b": "c/d"}]}'
    assert strip_comments(text) == text


def test_canonical_keys_matches_case_insensitively_and_names_unknown_keys() -> None:
    result, problems = canonical_keys(
        {"VIEW": 1, " Projection ": 2, "projecton": 3}, ["view", "projection"], "top"
    )
    assert result == {"view": 1, "projection": 2}
    assert len(problems) == 1
    assert problems[0].path == "top.projecton"
    assert "projecton" in problems[0].message
    assert "view, projection" in problems[0].message
    assert problems[0].code == "UnknownKey"


def test_canonical_keys_reports_a_key_given_twice() -> None:
    result, problems = canonical_keys({"view": 1, "View": 2}, ["view"], "")
    assert result == {"view": 1}
    assert [p.path for p in problems] == ["view"]
    assert "more than once" in problems[0].message


@pytest.mark.parametrize(
    ("raw", "enum_cls", "expected"),
    [
        (" IHVDriver", View, View.IHV_DRIVER),
        ("oemdriver ", View, View.OEM_DRIVER),
        ("eq", Operator, Operator.EQ),
        ("NoNe", Operator, Operator.NONE),
        ("dcount", Aggregate, Aggregate.DCOUNT),
    ],
)
def test_enum_value_trims_and_ignores_case(raw: str, enum_cls: type[Any], expected: Any) -> None:
    assert enum_value(raw, enum_cls, "p") == (expected, [])


@pytest.mark.parametrize("raw", ["IHV Driver", "", None, 3, ["EQ"]])
def test_enum_value_rejects_with_allowed_list(raw: Any) -> None:
    member, problems = enum_value(raw, View, "view")
    assert member is None
    assert problems[0].path == "view"
    assert "IHVDriver, OEMDriver" in problems[0].message


def test_join_path() -> None:
    assert join_path("", "view") == "view"
    assert join_path("condition", "and") == "condition.and"
    assert join_path("condition.and", 1) == "condition.and[1]"
