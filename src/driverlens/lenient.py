"""Lenient input reading: JSON with comments, case-insensitive keys, forgiving enumerations.

Existing clients of the hosted service send bodies copied from documentation (with comments), keys in
any case and enumerations with stray spaces; contract section 2 says to accept all of these.
Everything here reports problems as values (``Problem`` lists) so a caller can gather every problem
of a body before raising one ``ValidationFailed``.
"""

from __future__ import annotations

import difflib
import functools
import json
import re
from collections.abc import Mapping, Sequence
from enum import Enum
from typing import Any, TypeVar

from driverlens.errors import Problem, ValidationFailed

E = TypeVar("E", bound=Enum)

_MAX_ALLOWED_LISTED = 40
_MAX_ECHO = 200


# One token at a time: a JSON string (an unterminated one runs to the end of the text, a lone trailing
# backslash included), a line comment, a closed block comment, or an unclosed ``/*``.
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*(?:"|\\?\Z)|//[^\n]*|/\*.*?\*/|/\*', re.DOTALL)


def _replace_token(match: re.Match[str]) -> str:
    token = match.group()
    if token[0] == '"':
        return token
    if token[1] == "/":
        return ""
    if len(token) == 2:
        raise ValidationFailed([Problem("", "body has a /* comment that is never closed with */")])
    return " " + "\n" * token.count("\n")


def strip_comments(text: str) -> str:
    """Remove ``//`` line and ``/* */`` block comments that lie outside JSON strings.

    Newlines inside block comments are kept so JSON error positions still point at the right line.
    A text without ``/`` has no comment and is returned as it is (the common case: no scan at all).
    """
    if "/" not in text:
        return text
    return _TOKEN.sub(_replace_token, text)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"key {echo_text(key)} appears twice in one object")
        result[key] = value
    return result


def loads(text: str | bytes) -> Any:
    """Decode a JSON body, accepting ``//`` and ``/* */`` comments; raises ``ValidationFailed``."""
    if isinstance(text, bytes | bytearray):
        try:
            text = bytes(text).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ValidationFailed(
                [Problem("", f"body is not valid UTF-8 (byte {exc.start}): send JSON encoded as UTF-8")]
            ) from exc
    text = text.removeprefix("\ufeff")
    stripped = strip_comments(text)
    try:
        decoded = json.loads(
            stripped, parse_constant=_reject_constant, object_pairs_hook=_object_without_duplicates
        )
    except json.JSONDecodeError as exc:
        raise ValidationFailed(
            [Problem("", f"body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")]
        ) from exc
    except ValueError as exc:
        raise ValidationFailed([Problem("", f"body is not valid JSON: {exc}")]) from exc
    except RecursionError as exc:
        raise ValidationFailed([Problem("", "body is nested too deeply")]) from exc
    # A \\uD800 escape decodes to a lone surrogate: not Unicode, so no database, engine or UTF-8 encoder
    # downstream can take it. Refused here, at the door, on its path.
    if "\\u" in stripped or not stripped.isascii():
        problems = surrogate_problems(decoded, "")
        if problems:
            raise ValidationFailed(problems)
    return decoded


def has_surrogate(text: str) -> bool:
    """True when ``text`` holds a lone UTF-16 surrogate (U+D800..U+DFFF), which is not valid Unicode."""
    return _SURROGATE.search(text) is not None


def surrogate_problems(value: Any, path: str) -> list[Problem]:
    """A problem for every key or string in ``value`` that holds a lone surrogate."""
    problems: list[Problem] = []
    if isinstance(value, str):
        if has_surrogate(value):
            problems.append(Problem(path, _SURROGATE_MESSAGE))
    elif isinstance(value, dict):
        for key, item in value.items():
            where = join_path(path, _safe_key(key))
            if has_surrogate(key):
                problems.append(Problem(where, "this key " + _SURROGATE_MESSAGE.removeprefix("the value ")))
            problems.extend(surrogate_problems(item, where))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            problems.extend(surrogate_problems(item, join_path(path, index)))
    return problems


def _safe_key(key: str) -> str:
    """A key fit to appear in a problem path: lone surrogates become U+FFFD."""
    return _SURROGATE.sub("\ufffd", key)


_SURROGATE = re.compile("[\ud800-\udfff]")
_SURROGATE_MESSAGE = (
    "the value holds a lone UTF-16 surrogate (an escape such as \\ud800 without its pair), which is not "
    "valid Unicode; send valid UTF-8 text"
)


def echo(value: Any) -> Any:
    """A JSON-safe, small version of a client's value to quote back in a problem."""
    if isinstance(value, dict | list):
        return None
    if isinstance(value, str):
        return value if len(value) <= _MAX_ECHO else value[:_MAX_ECHO] + "..."
    if value is None or isinstance(value, bool | int | float):
        return value
    return echo(repr(value))


def echo_text(value: Any) -> str:
    """How to quote a client's value inside a message: strings in single quotes, the rest as JSON."""
    if isinstance(value, str):
        return f"'{echo(value)}'"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return json.dumps(echo(value))


def join_path(path: str, key: str | int) -> str:
    """Extend a problem path: ``join_path("a", "b") == "a.b"``, ``join_path("a", 0) == "a[0]"``."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def describe_allowed(allowed: Sequence[str]) -> str:
    """A short human list of allowed spellings."""
    shown = list(allowed[:_MAX_ALLOWED_LISTED])
    text = ", ".join(shown)
    if len(allowed) > len(shown):
        text += f", ... ({len(allowed) - len(shown)} more)"
    return text


@functools.lru_cache(maxsize=256)
def _by_lower(allowed: tuple[str, ...]) -> dict[str, str]:
    """Lower-cased key -> its canonical spelling, built once per (constant) tuple of allowed keys."""
    return {key.lower(): key for key in allowed}


def canonical_keys(
    obj: Mapping[str, Any], allowed: Sequence[str], path: str
) -> tuple[dict[str, Any], list[Problem]]:
    """Match the keys of ``obj`` case-insensitively (and trimmed) against ``allowed``.

    Returns the object re-keyed with the canonical spellings, and a problem for every unknown key and
    every key given twice in different spellings.
    """
    by_lower = _by_lower(allowed) if isinstance(allowed, tuple) else {key.lower(): key for key in allowed}
    result: dict[str, Any] = {}
    problems: list[Problem] = []
    for raw_key, value in obj.items():
        if not isinstance(raw_key, str):
            problems.append(
                Problem(path, f"keys must be strings, got {echo_text(raw_key)}", value=echo(raw_key))
            )
            continue
        canonical = by_lower.get(raw_key.strip().lower())
        if canonical is None:
            problems.append(
                Problem(
                    join_path(path, raw_key),
                    f"unknown key {echo_text(raw_key)}; {did_you_mean(raw_key, allowed)}"
                    f"allowed keys here: {describe_allowed(allowed)}",
                    value=echo(raw_key),
                    code="UnknownKey",
                )
            )
            continue
        if canonical in result:
            problems.append(
                Problem(
                    join_path(path, canonical),
                    f"key '{canonical}' is given more than once (keys are case-insensitive)",
                    value=echo(raw_key),
                )
            )
            continue
        result[canonical] = value
    return result, problems


@functools.cache
def _members_by_lower_value(enum_cls: type[Enum]) -> dict[str, Enum]:
    """Lower-cased value -> the first member with it (enumerations are immutable, so built once)."""
    members: dict[str, Enum] = {}
    for member in enum_cls:
        members.setdefault(str(member.value).lower(), member)
    return members


def did_you_mean(raw: str, options: Sequence[str]) -> str:
    """``"did you mean 'X'? "`` for the closest of ``options`` to a misspelled ``raw``, else ``""``.

    Matched case-insensitively (names are), so the suggestion comes before the full list of allowed
    values, which is long for columns.
    """
    by_lower = {option.lower(): option for option in options}
    close = difflib.get_close_matches(raw.strip().lower(), list(by_lower), n=1, cutoff=0.6)
    return f"did you mean '{by_lower[close[0]]}'? " if close else ""


def enum_value(raw: Any, enum_cls: type[E], path: str) -> tuple[E | None, list[Problem]]:
    """Match ``raw`` against the values of ``enum_cls``, trimmed and case-insensitively."""
    if isinstance(raw, str):
        found = _members_by_lower_value(enum_cls).get(raw.strip().lower())
        if found is not None:
            return found, []  # type: ignore[return-value]
        what = f"{echo_text(raw)} is not allowed"
    elif raw is None:
        what = "a value is required"
    else:
        what = f"{echo_text(raw)} is not allowed (expected a string)"
    allowed = [str(member.value) for member in enum_cls]
    guess = did_you_mean(raw, allowed) if isinstance(raw, str) else ""
    return None, [Problem(path, f"{what}; {guess}allowed: {describe_allowed(allowed)}", value=echo(raw))]
