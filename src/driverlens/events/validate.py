"""Validation of ingested files in SQL, for any table with typed columns (events, the install base).

Rows are validated in SQL, not per row in Python: each file is read into a table of text columns in a
scratch database on disk (``EventStore.scratch``: memory stays bounded whatever the file size), every
value is checked with TRY_CAST and the table's enumerations, and the caller gets a staging table of cast
values with a ``__bad`` flag per row, plus a table of the bad rows' reasons (line, column, reason).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

from driverlens.catalog import ColumnType
from driverlens.errors import IngestError, Problem
from driverlens.events.sql import quoted_column, string_literal

MAX_LISTED_ERRORS = 20
FORMATS = {".csv": "csv", ".csv.gz": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}
UNTERMINATED = "unterminated quoted value (a field opens with a double quote that never closes) in column "


@dataclass(frozen=True)
class RowSpec:
    """The columns of one ingestible table: their types, which are required, and closed vocabularies."""

    columns: tuple[str, ...]
    types: Mapping[str, ColumnType]
    required: frozenset[str]
    allowed: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def quoted(self, column: str) -> str:
        """A column of this table as a quoted identifier (refuses anything else)."""
        return quoted_column(column, self.types, "a column of this table")


class RowsRejected(IngestError):
    """A file holds invalid rows; carries the first errors with line, column and reason."""

    def __init__(self, path: Path, invalid_rows: int, problems: list[Problem]) -> None:
        listed = "\n".join(f"  {p.describe()}" for p in problems)
        super().__init__(
            f"{path}: {invalid_rows} invalid row(s), file rejected (first {len(problems)} errors):\n{listed}",
            target=str(path),
        )
        self.invalid_rows = invalid_rows
        self._problems = problems

    def problems(self) -> list[Problem]:
        return list(self._problems)


def file_format(path: Path) -> str:
    """``csv``, ``jsonl`` or ``parquet`` from the file name; anything else is an IngestError."""
    name = path.name.lower()
    for suffix, fmt in FORMATS.items():
        if name.endswith(suffix):
            return fmt
    raise IngestError(f"{path}: unsupported file type (use {', '.join(FORMATS)})", target=str(path))


def check_files(paths: Sequence[Path]) -> None:
    """Every path is a non-empty file of a known type (before any work starts)."""
    for path in paths:
        file_format(path)
        if not path.is_file():
            raise IngestError(f"{path}: no such file", target=str(path))
        if path.stat().st_size == 0:
            raise IngestError(f"{path}: file is empty", target=str(path))


@dataclass
class Validated:
    """One file read and checked: ``staged`` holds every row (typed, ``__line``, ``__bad``)."""

    staged: str
    total: int
    invalid: int
    rejects: str | None  # the bad rows with their reasons, when there are any


def validate_file(
    con: duckdb.DuckDBPyConnection, path: Path, spec: RowSpec, name: str, *, skip_invalid: bool
) -> Validated:
    """Read ``path`` into ``<name>_raw`` and its typed rows into ``<name>_staged``.

    Raises ``RowsRejected`` listing the first problems when a row is bad, unless ``skip_invalid``.
    """
    raw, staged, rejects = f"{name}_raw", f"{name}_staged", f"{name}_rejects"
    try:
        _load_raw(con, path, raw, spec)
    except duckdb.Error as exc:
        raise IngestError(f"{path}: cannot read file: {_first_line(exc)}", target=str(path)) from exc
    total = _scalar(con, f"SELECT count(*) FROM {raw}")
    if total == 0:
        raise IngestError(f"{path}: file holds no rows", target=str(path))
    # Each value is cast once; the cheap validity flag is computed for every row, the detailed
    # reasons only for the (usually few) bad rows.
    con.execute(f"CREATE TABLE {staged} AS {_staged_select(raw, spec)}")
    invalid = _scalar(con, f"SELECT count(*) FROM {staged} WHERE __bad")
    if not invalid:
        return Validated(staged, total, 0, None)
    con.execute(
        f"""CREATE TABLE {rejects} AS SELECT *, {_errors_expr(spec)} AS __errors FROM {raw}
            WHERE __line IN (SELECT __line FROM {staged} WHERE __bad)"""
    )
    if not skip_invalid:
        raise RowsRejected(path, invalid, _first_problems(con, rejects))
    return Validated(staged, total, invalid, rejects)


def rejects_path(path: Path) -> Path:
    """Where the rejected rows of ``path`` are written (beside it)."""
    return path.with_name(path.name + ".rejects.csv")


def write_rejects(con: duckdb.DuckDBPyConnection, rejects: str, dest: Path, spec: RowSpec) -> None:
    """The bad rows of a file, with their line and reasons, as CSV at ``dest``."""
    cols = ", ".join(spec.quoted(c) for c in spec.columns)
    reasons = (
        "array_to_string(list_transform(__errors, lambda e: trim(e.column || ': ' || e.reason, ': ')), '; ')"
    )
    con.execute(
        f"""COPY (SELECT __line AS line, {reasons} AS reasons, {cols} FROM {rejects} ORDER BY __line)
            TO {string_literal(str(dest))} (FORMAT csv, HEADER true)"""
    )


def _staged_select(raw: str, spec: RowSpec) -> str:
    inner = ", ".join(
        [f"{_value(c, spec)} AS {_raw(c, spec)}" for c in spec.columns]
        + [f"{typed(c, spec)} AS {spec.quoted(c)}" for c in spec.columns]
    )
    checks = ["__shape IS NOT NULL"]
    for c in spec.columns:
        rv, tv = _raw(c, spec), spec.quoted(c)
        checks.append(f"({rv} IS NOT NULL AND {tv} IS NULL)")
        if c in spec.required:
            checks.append(f"{rv} IS NULL")
        if spec.types[c] is ColumnType.INTEGER:
            checks.append(f"{tv} < 0")
        checks.append(f"{_has_nul(rv)}")
    cols = ", ".join(spec.quoted(c) for c in spec.columns)
    return (
        f"SELECT __line, {cols}, coalesce({' OR '.join(checks)}, false) AS __bad "
        f"FROM (SELECT __line, __shape, {inner} FROM {raw})"
    )


def _load_raw(con: duckdb.DuckDBPyConnection, path: Path, raw: str, spec: RowSpec) -> None:
    fmt = file_format(path)
    src = string_literal(str(path))
    if fmt == "csv":
        rel = f"read_csv({src}, all_varchar = true, header = true)"
        line = "row_number() OVER () + 1"  # line 1 is the header
    elif fmt == "parquet":
        rel = f"read_parquet({src})"
        line = "row_number() OVER ()"
    else:
        rel = f"read_ndjson_objects({src})"
        line = "row_number() OVER ()"
    if fmt == "jsonl":
        # Parse each line once: one multi-path extraction, then list elements become columns.
        allowed = ", ".join(string_literal(c) for c in spec.columns)
        paths = ", ".join(string_literal(f'$."{c}"') for c in spec.columns)
        cols = ", ".join(f"__v[{n}] AS {spec.quoted(c)}" for n, c in enumerate(spec.columns, start=1))
        con.execute(
            f"""CREATE TABLE {raw} AS SELECT __line, __shape, {cols} FROM (
                SELECT {line} AS __line,
                CASE WHEN json_type(json) <> 'OBJECT' THEN 'not a JSON object'
                     ELSE nullif(array_to_string(
                         list_filter(json_keys(json), lambda k: NOT list_contains([{allowed}], k)), ', '), '')
                END AS __shape,
                json_extract_string(json, [{paths}]) AS __v FROM {rel})"""
        )
        return
    present = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {rel}").fetchall()]
    missing = [c for c in spec.columns if c not in present]
    unknown = [c for c in present if c not in spec.types]
    if missing or unknown:
        parts = []
        if missing:
            parts.append(f"missing column(s) {', '.join(missing)}")
        if unknown:
            parts.append(f"unknown column(s) {', '.join(unknown)}")
        raise IngestError(f"{path}: {'; '.join(parts)}", target=str(path))
    cols = ", ".join(f"CAST({spec.quoted(c)} AS VARCHAR) AS {spec.quoted(c)}" for c in spec.columns)
    shape = "NULL::VARCHAR"
    if fmt == "csv":
        # A parsed value that still starts with a double quote had an opening quote and no closing one:
        # the parser ran past the field (or the line). Refuse the row rather than load a mangled row.
        firsts = " ".join(
            f"WHEN starts_with({spec.quoted(c)}, '\"') THEN {string_literal(UNTERMINATED + c)}"
            for c in spec.columns
        )
        shape = f"CASE {firsts} END"
    con.execute(f"CREATE TABLE {raw} AS SELECT {line} AS __line, {shape} AS __shape, {cols} FROM {rel}")


def _has_nul(expr: str) -> str:
    """True when a text value holds a NUL character (templates refuse NUL; stored data must not hold it)."""
    return f"coalesce(contains({expr}, chr(0)), false)"


def _value(column: str, spec: RowSpec) -> str:
    return f"nullif(trim({spec.quoted(column)}), '')"


def typed(column: str, spec: RowSpec) -> str:
    """The trimmed text of ``column`` cast to its type (NULL when it does not cast)."""
    v, ctype = _value(column, spec), spec.types[column]
    if column in spec.allowed:
        cases = " ".join(
            f"WHEN {string_literal(a.lower())} THEN {string_literal(a)}" for a in spec.allowed[column]
        )
        return f"CASE lower({v}) {cases} END"
    if ctype is ColumnType.INTEGER:
        return f"CASE WHEN regexp_full_match({v}, '[+-]?[0-9]+') THEN TRY_CAST({v} AS BIGINT) END"
    if ctype is ColumnType.TIMESTAMP:
        # Offsets are honoured (converted to UTC); naive values are taken as UTC.
        return f"TRY_CAST(TRY_CAST({v} AS TIMESTAMPTZ) AS TIMESTAMP)"
    if ctype is ColumnType.STRING:
        return v
    return f"TRY_CAST({v} AS {ctype.duckdb_type})"


_REASONS = {
    ColumnType.INTEGER: "not an integer",
    ColumnType.DATE: "not a date (yyyy-mm-dd)",
    ColumnType.TIMESTAMP: "not a timestamp (ISO 8601)",
    ColumnType.UUID: "not a UUID",
}


def _errors_expr(spec: RowSpec) -> str:
    items = ["CASE WHEN __shape IS NOT NULL THEN {'column': '', 'reason': "
             "CASE WHEN __shape = 'not a JSON object' OR starts_with(__shape, 'unterminated') THEN __shape "
             "ELSE 'unknown field(s) ' || __shape END, "
             "'value': NULL::VARCHAR} END"]  # fmt: skip
    for c in spec.columns:
        v, cast = _value(c, spec), typed(c, spec)
        if c in spec.allowed:
            reason = string_literal("not one of " + ", ".join(spec.allowed[c]))
        else:
            reason = string_literal(_REASONS.get(spec.types[c], "invalid"))
        checks = [f"WHEN {v} IS NOT NULL AND {cast} IS NULL THEN {reason}"]
        if c in spec.required:
            checks.insert(0, f"WHEN {v} IS NULL THEN 'required'")
        if spec.types[c] is ColumnType.INTEGER:
            checks.append(f"WHEN {cast} < 0 THEN 'must be >= 0'")
        checks.insert(0, f"WHEN {_has_nul(v)} THEN 'contains a NUL character'")
        reason_expr = f"CASE {' '.join(checks)} END"
        items.append(
            f"CASE WHEN ({reason_expr}) IS NOT NULL THEN {{'column': {string_literal(c)}, "
            f"'reason': ({reason_expr}), 'value': left({v}, 80)}} END"
        )
    # A JSON line that is not an object has no columns to check.
    return (
        f"CASE WHEN __shape = 'not a JSON object' THEN [{items[0]}] "
        f"ELSE list_filter([{', '.join(items)}], lambda x: x IS NOT NULL) END"
    )


def _raw(column: str, spec: RowSpec) -> str:
    """Identifier of a column's trimmed text inside the staging query (a column name, prefixed)."""
    return spec.quoted(column).replace('"', '"__raw_', 1)


def _first_problems(con: duckdb.DuckDBPyConnection, rejects: str) -> list[Problem]:
    rows = con.execute(
        f"""SELECT __line, e.column, e.reason, e.value FROM
            (SELECT __line, unnest(__errors) AS e FROM {rejects})
            ORDER BY __line LIMIT {MAX_LISTED_ERRORS}"""
    ).fetchall()
    return [
        Problem(
            path=f"line {line}" + (f", column {column}" if column else ""),
            message=f"{reason}" + (f" (value {value!r})" if value is not None else ""),
            value=value,
        )
        for line, column, reason, value in rows
    ]


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    rows = con.execute(sql).fetchall()  # fetchall: DuckDB refuses new work while a result is unfinished
    return int(rows[0][0]) if rows else 0


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return " ".join(lines[:3]) if lines else type(exc).__name__


class Advance:
    """Moves a file's progress bar on by one step (does nothing without a bar)."""

    def __init__(self, progress: Progress | None, steps: int) -> None:
        self.progress = progress
        self.steps = steps
        self.tasks: dict[Path, TaskID] = {}

    def __call__(self, path: Path, step: str) -> None:
        if self.progress is None:
            return
        task = self.tasks.get(path)
        if task is None:
            task = self.tasks[path] = self.progress.add_task(path.name, total=self.steps)
        self.progress.update(task, advance=1, description=f"{path.name}: {step}")


@contextmanager
def progress_bars(enabled: bool, paths: Sequence[Path], steps: int) -> Iterator[Advance]:
    """One progress bar per file (of ``steps`` steps), or none."""
    if not enabled:
        yield Advance(None, steps)
        return
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), *Progress.get_default_columns()[1:],
        TimeElapsedColumn(), transient=False,
    ) as bar:  # fmt: skip
        advance = Advance(bar, steps)
        for path in paths:
            advance.tasks[path] = bar.add_task(f"{path.name}: read", total=steps)
        yield advance
