"""Validate and load event files (CSV, JSON Lines, Parquet) into the store, all or nothing.

Rows are validated in SQL, not per row in Python: each file is read into a table of text columns in a
scratch database on disk (``EventStore.scratch``: memory stays bounded whatever the file size), every
value is checked with TRY_CAST and the catalogue's enumerations, and only then are the good rows cast,
deduplicated on EventId and handed to the one write path (``events.write``). Every file of one call is
one Delta commit carrying a batch id derived from the files' contents, so an error or a crash leaves the
table unchanged, and running the same call again adds nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

from driverlens.catalog import ColumnType
from driverlens.errors import IngestError, Problem
from driverlens.events.schema import (
    ALLOWED_VALUES,
    COLUMN_NAMES,
    COLUMN_TYPES,
    REQUIRED_COLUMNS,
    create_table_sql,
    quoted,
    stored_value_sql,
)
from driverlens.events.store import EventStore, IngestReport
from driverlens.events.write import commit_batch

MAX_LISTED_ERRORS = 20
_FORMATS = {".csv": "csv", ".csv.gz": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}
_STEPS = ("read", "validate", "deduplicate", "stage")
_BATCH = "ingest_batch"


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


@dataclass
class _FileResult:
    loaded: int = 0
    duplicates: int = 0
    rejected: int = 0
    rejects_path: Path | None = None


def file_format(path: Path) -> str:
    """``csv``, ``jsonl`` or ``parquet`` from the file name; anything else is an IngestError."""
    name = path.name.lower()
    for suffix, fmt in _FORMATS.items():
        if name.endswith(suffix):
            return fmt
    raise IngestError(f"{path}: unsupported file type (use {', '.join(_FORMATS)})", target=str(path))


def ingest_files(
    store: EventStore, paths: Sequence[Path], *, skip_invalid: bool, progress: bool
) -> IngestReport:
    for path in paths:
        file_format(path)
        if not path.is_file():
            raise IngestError(f"{path}: no such file", target=str(path))
        if path.stat().st_size == 0:
            raise IngestError(f"{path}: file is empty", target=str(path))
    results: list[_FileResult] = []
    with store.scratch() as con, _progress(progress, paths) as advance:
        con.execute(create_table_sql(_BATCH))
        for i, path in enumerate(paths):
            results.append(_ingest_one(con, path, i, skip_invalid, advance))
        batch = commit_batch(
            store.lake, con, _BATCH, batch_id=_batch_id(paths, skip_invalid), operation="ingest"
        )
        # Rejects are written only once the good rows are committed.
        for i, result in enumerate(results):
            if result.rejects_path is not None:
                _write_rejects(con, i, result.rejects_path)
    rejects = tuple(r.rejects_path for r in results if r.rejects_path is not None)
    return IngestReport(
        loaded=batch.loaded,
        duplicates=sum(r.duplicates for r in results) + batch.duplicates,
        rejected=sum(r.rejected for r in results),
        rejects_path=rejects[0] if rejects else None,
        rejects_paths=rejects,
        version=batch.version,
        already_committed=batch.already_committed,
        conflicts=batch.conflicts,
    )


def _batch_id(paths: Sequence[Path], skip_invalid: bool) -> str:
    """Derived from the files' bytes (not their names): the same data loaded twice is one batch."""
    digest = hashlib.sha256(b"ingest-v1" + (b"+skip" if skip_invalid else b""))
    for path in paths:
        with path.open("rb") as handle:
            digest.update(hashlib.file_digest(handle, "sha256").digest())
    return digest.hexdigest()


def _ingest_one(
    con: duckdb.DuckDBPyConnection, path: Path, i: int, skip_invalid: bool, advance: _Advance
) -> _FileResult:
    raw, staged, rejects = f"ingest_raw_{i}", f"ingest_staged_{i}", f"ingest_rejects_{i}"
    try:
        _load_raw(con, path, raw)
    except duckdb.Error as exc:
        raise IngestError(f"{path}: cannot read file: {_first_line(exc)}", target=str(path)) from exc
    advance(path, "validate")
    total = _scalar(con, f"SELECT count(*) FROM {raw}")
    if total == 0:
        raise IngestError(f"{path}: file holds no rows", target=str(path))
    # Each value is cast once; the cheap validity flag is computed for every row, the detailed
    # reasons only for the (usually few) bad rows.
    con.execute(f"CREATE TABLE {staged} AS {_staged_select(raw)}")
    invalid = _scalar(con, f"SELECT count(*) FROM {staged} WHERE __bad")
    result = _FileResult(rejected=invalid)
    if invalid:
        con.execute(
            f"""CREATE TABLE {rejects} AS SELECT *, {_errors_expr()} AS __errors FROM {raw}
                WHERE __line IN (SELECT __line FROM {staged} WHERE __bad)"""
        )
        if not skip_invalid:
            raise RowsRejected(path, invalid, _first_problems(con, rejects))
        result.rejects_path = path.with_name(path.name + ".rejects.csv")
    advance(path, "deduplicate")
    good = f"ingest_good_{i}"
    # The first row of an EventId within this call wins; ids already stored are left out at commit.
    # Both checks cost a hash of every id, so each runs only when it can find something.
    in_file_dups = _scalar(con, f'SELECT count(*) - count(DISTINCT "EventId") FROM {staged} WHERE NOT __bad')
    earlier = (
        f' AND NOT EXISTS (SELECT 1 FROM {_BATCH} b WHERE b."EventId" = s."EventId")'
        if _scalar(con, f"SELECT count(*) FROM {_BATCH}")
        else ""
    )
    keep_first = (
        'QUALIFY row_number() OVER (PARTITION BY "EventId" ORDER BY __line) = 1' if in_file_dups else ""
    )
    con.execute(
        f"CREATE TEMP VIEW {good} AS SELECT * FROM {staged} s WHERE NOT s.__bad{earlier} {keep_first}"
    )
    advance(path, "stage")
    cols = ", ".join(quoted(c) for c in COLUMN_NAMES)
    values = ", ".join(stored_value_sql(c, quoted(c)) for c in COLUMN_NAMES)
    inserted = con.execute(f"INSERT INTO {_BATCH} ({cols}) SELECT {values} FROM {good}").fetchall()
    staged_rows = int(inserted[0][0]) if inserted else 0
    result.duplicates = total - invalid - staged_rows
    con.execute(f"DROP VIEW {good}")
    con.execute(f"DROP TABLE {staged}")
    advance(path, "done")
    return result


def _staged_select(raw: str) -> str:
    inner = ", ".join(
        [f"{_value(c)} AS {_raw(c)}" for c in COLUMN_NAMES]
        + [f"{_typed(c)} AS {quoted(c)}" for c in COLUMN_NAMES]
    )
    checks = ["__shape IS NOT NULL"]
    for c in COLUMN_NAMES:
        rv, tv = _raw(c), quoted(c)
        checks.append(f"({rv} IS NOT NULL AND {tv} IS NULL)")
        if c in REQUIRED_COLUMNS:
            checks.append(f"{rv} IS NULL")
        if COLUMN_TYPES[c] is ColumnType.INTEGER:
            checks.append(f"{tv} < 0")
        checks.append(f"{_has_nul(rv)}")
    cols = ", ".join(quoted(c) for c in COLUMN_NAMES)
    return (
        f"SELECT __line, {cols}, coalesce({' OR '.join(checks)}, false) AS __bad "
        f"FROM (SELECT __line, __shape, {inner} FROM {raw})"
    )


def _load_raw(con: duckdb.DuckDBPyConnection, path: Path, raw: str) -> None:
    fmt = file_format(path)
    src = _literal(str(path))
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
        allowed = ", ".join(_literal(c) for c in COLUMN_NAMES)
        paths = ", ".join(_literal(f'$."{c}"') for c in COLUMN_NAMES)
        cols = ", ".join(f"__v[{n}] AS {quoted(c)}" for n, c in enumerate(COLUMN_NAMES, start=1))
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
    missing = [c for c in COLUMN_NAMES if c not in present]
    unknown = [c for c in present if c not in COLUMN_TYPES]
    if missing or unknown:
        parts = []
        if missing:
            parts.append(f"missing column(s) {', '.join(missing)}")
        if unknown:
            parts.append(f"unknown column(s) {', '.join(unknown)}")
        raise IngestError(f"{path}: {'; '.join(parts)}", target=str(path))
    cols = ", ".join(f"CAST({quoted(c)} AS VARCHAR) AS {quoted(c)}" for c in COLUMN_NAMES)
    shape = "NULL::VARCHAR"
    if fmt == "csv":
        # A parsed value that still starts with a double quote had an opening quote and no closing one:
        # the parser ran past the field (or the line). Refuse the row rather than load a mangled event.
        firsts = " ".join(
            f"WHEN starts_with({quoted(c)}, '\"') THEN {_literal(UNTERMINATED + c)}" for c in COLUMN_NAMES
        )
        shape = f"CASE {firsts} END"
    con.execute(f"CREATE TABLE {raw} AS SELECT {line} AS __line, {shape} AS __shape, {cols} FROM {rel}")


UNTERMINATED = "unterminated quoted value (a field opens with a double quote that never closes) in column "


def _has_nul(expr: str) -> str:
    """True when a text value holds a NUL character (templates refuse NUL; stored data must not hold it)."""
    return f"coalesce(contains({expr}, chr(0)), false)"


def _value(column: str) -> str:
    return f"nullif(trim({quoted(column)}), '')"


def _typed(column: str) -> str:
    v, ctype = _value(column), COLUMN_TYPES[column]
    if column in ALLOWED_VALUES:
        cases = " ".join(f"WHEN {_literal(a.lower())} THEN {_literal(a)}" for a in ALLOWED_VALUES[column])
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


def _errors_expr() -> str:
    items = ["CASE WHEN __shape IS NOT NULL THEN {'column': '', 'reason': "
             "CASE WHEN __shape = 'not a JSON object' OR starts_with(__shape, 'unterminated') THEN __shape "
             "ELSE 'unknown field(s) ' || __shape END, "
             "'value': NULL::VARCHAR} END"]  # fmt: skip
    for c in COLUMN_NAMES:
        v, typed = _value(c), _typed(c)
        if c in ALLOWED_VALUES:
            reason = _literal("not one of " + ", ".join(ALLOWED_VALUES[c]))
        else:
            reason = _literal(_REASONS.get(COLUMN_TYPES[c], "invalid"))
        checks = [f"WHEN {v} IS NOT NULL AND {typed} IS NULL THEN {reason}"]
        if c in REQUIRED_COLUMNS:
            checks.insert(0, f"WHEN {v} IS NULL THEN 'required'")
        if COLUMN_TYPES[c] is ColumnType.INTEGER:
            checks.append(f"WHEN {typed} < 0 THEN 'must be >= 0'")
        checks.insert(0, f"WHEN {_has_nul(v)} THEN 'contains a NUL character'")
        reason_expr = f"CASE {' '.join(checks)} END"
        items.append(
            f"CASE WHEN ({reason_expr}) IS NOT NULL THEN {{'column': {_literal(c)}, "
            f"'reason': ({reason_expr}), 'value': left({v}, 80)}} END"
        )
    # A JSON line that is not an object has no columns to check.
    return (
        f"CASE WHEN __shape = 'not a JSON object' THEN [{items[0]}] "
        f"ELSE list_filter([{', '.join(items)}], lambda x: x IS NOT NULL) END"
    )


def _raw(column: str) -> str:
    """Identifier of a column's trimmed text inside the staging query (a catalogue name, prefixed)."""
    return quoted(column).replace('"', '"__raw_', 1)


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


def _write_rejects(con: duckdb.DuckDBPyConnection, i: int, dest: Path) -> None:
    cols = ", ".join(quoted(c) for c in COLUMN_NAMES)
    reasons = (
        "array_to_string(list_transform(__errors, lambda e: trim(e.column || ': ' || e.reason, ': ')), '; ')"
    )
    con.execute(
        f"""COPY (SELECT __line AS line, {reasons} AS reasons, {cols} FROM ingest_rejects_{i}
                  ORDER BY __line)
            TO {_literal(str(dest))} (FORMAT csv, HEADER true)"""
    )


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    rows = con.execute(sql).fetchall()  # fetchall: DuckDB refuses new work while a result is unfinished
    return int(rows[0][0]) if rows else 0


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return " ".join(lines[:3]) if lines else type(exc).__name__


class _Advance:
    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress
        self.tasks: dict[Path, TaskID] = {}

    def __call__(self, path: Path, step: str) -> None:
        if self.progress is None:
            return
        task = self.tasks.get(path)
        if task is None:
            task = self.tasks[path] = self.progress.add_task(path.name, total=len(_STEPS))
        self.progress.update(task, advance=1, description=f"{path.name}: {step}")


@contextmanager
def _progress(enabled: bool, paths: Sequence[Path]) -> Iterator[_Advance]:
    if not enabled:
        yield _Advance(None)
        return
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), *Progress.get_default_columns()[1:],
        TimeElapsedColumn(), transient=False,
    ) as bar:  # fmt: skip
        advance = _Advance(bar)
        for path in paths:
            advance.tasks[path] = bar.add_task(f"{path.name}: read", total=len(_STEPS))
        yield advance
