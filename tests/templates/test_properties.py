"""Property tests: valid bodies parse and round-trip; anything else is a ValidationFailed, never a crash."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from driverlens.errors import ValidationFailed
from driverlens.templates import parse_template
from tests.templates.strategies import json_values, template_bodies

MODEST = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def assert_reportable(exc: ValidationFailed) -> None:
    """Problems can always be rendered into a response: paths, short messages, small JSON values."""
    problems = exc.problems()
    assert problems
    for problem in problems:
        assert isinstance(problem.path, str) and problem.message
        assert len(problem.message) < 2000
        assert len(json.dumps(problem.value)) < 1000


@MODEST
@given(template_bodies())
def test_valid_bodies_parse_and_the_canonical_form_round_trips(body: dict[str, Any]) -> None:
    template = parse_template(body)
    canonical = template.to_canonical()
    assert parse_template(canonical) == template
    assert parse_template(json.dumps(canonical)) == template
    assert canonical == parse_template(canonical).to_canonical()
    assert template.output_columns == canonical["projection"] + canonical.get("aggregation", {}).get(
        "aggregatedColumns", []
    )


@MODEST
@given(json_values)
def test_random_json_is_rejected_with_validation_problems(raw: Any) -> None:
    try:
        parse_template(raw)
    except ValidationFailed as exc:
        assert_reportable(exc)
    else:  # pragma: no cover - random JSON is practically never a valid template
        raise AssertionError(f"accepted {raw!r}")


@MODEST
@given(st.text(max_size=200) | st.binary(max_size=200))
def test_random_text_never_crashes(raw: str | bytes) -> None:
    try:
        parse_template(raw)
    except ValidationFailed as exc:
        assert_reportable(exc)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


def _replace(node: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    copy = dict(node) if isinstance(node, dict) else list(node)
    copy[path[0]] = _replace(node[path[0]], path[1:], value)  # type: ignore[index]
    return copy


@MODEST
@given(template_bodies(), st.data())
def test_mutated_templates_parse_or_fail_validation_only(body: dict[str, Any], data: st.DataObject) -> None:
    path = data.draw(st.sampled_from(_paths(body)[1:]))
    mutated = _replace(body, path, data.draw(json_values))
    try:
        template = parse_template(mutated)
    except ValidationFailed as exc:
        assert_reportable(exc)
    else:
        assert parse_template(template.to_canonical()) == template
