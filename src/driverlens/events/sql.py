"""The two pieces of DuckDB SQL text the event and install base code writes by hand: string literals and
column identifiers checked against a known set of columns."""

from __future__ import annotations

from collections.abc import Container


def string_literal(text: str) -> str:
    """A DuckDB string literal (quotes doubled); for paths, settings and names of ours, never user input."""
    return "'" + text.replace("'", "''") + "'"


def quoted_column(column: str, columns: Container[str], what: str) -> str:
    """``column`` as a quoted identifier if it is one of ``columns``; KeyError ("not <what>: ...") if not."""
    if column not in columns:
        raise KeyError(f"not {what}: {column}")
    return f'"{column}"'
