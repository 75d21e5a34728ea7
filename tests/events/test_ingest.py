from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

import duckdb
import pytest

from driverlens.errors import IngestError
from driverlens.events import EventStore
from driverlens.events.ingest import MAX_LISTED_ERRORS, RowsRejected
from driverlens.events.schema import COLUMN_NAMES

from .conftest import SampleFactory


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _write_csv(path: Path, rows: list[dict[str, str]], columns: list[str] | None = None) -> Path:
    cols = columns or list(rows[0])
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=cols, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def _fingerprint(con: duckdb.DuckDBPyConnection) -> list[tuple[object, ...]]:
    return con.execute(
        """SELECT count(*), count(DISTINCT DeviceId), sum(EventCount), min(FailureDateTime),
                  max(CabExpirationTime), count(DISTINCT FailureHash), count(Symbol)
           FROM failure_events"""
    ).fetchall()


@pytest.mark.parametrize("name", ["events.csv", "events.csv.gz", "events.jsonl", "events.parquet"])
def test_each_format_loads_every_row_with_its_values(
    store: EventStore, sample: SampleFactory, tmp_path: Path, name: str
) -> None:
    path = sample(name, rows=3_000, seed=7)
    report = store.ingest([path])
    assert (report.loaded, report.duplicates, report.rejected) == (3_000, 0, 0)
    assert store.count() == 3_000
    # Same events loaded from Parquet into another store must be identical in every aggregate.
    reference = EventStore(tmp_path / "ref")
    reference.ingest([sample("ref.parquet", rows=3_000, seed=7)])
    with store.reading() as a, reference.reading() as b:
        assert _fingerprint(a) == _fingerprint(b)


def test_reloading_the_same_file_does_not_double_count(store: EventStore, sample: SampleFactory) -> None:
    path = sample("a.csv", rows=1_000)
    assert store.ingest([path]).loaded == 1_000
    again = store.ingest([path])
    assert (again.loaded, again.duplicates) == (0, 1_000)
    assert store.count() == 1_000


def test_duplicate_event_ids_within_a_file_are_skipped_and_counted(
    store: EventStore, sample: SampleFactory, tmp_path: Path
) -> None:
    rows = _rows(sample("a.csv", rows=50))
    path = _write_csv(tmp_path / "dups.csv", [*rows, rows[0], rows[1]])
    report = store.ingest([path])
    assert (report.loaded, report.duplicates) == (50, 2)


def test_values_are_normalised(store: EventStore, sample: SampleFactory, tmp_path: Path) -> None:
    row = _rows(sample("a.csv", rows=1))[0]
    row.update(EventType=" kernel ", Architecture="ARM64", FailureDateTime="2026-02-01T10:00:00+02:00")
    store.ingest([_write_csv(tmp_path / "n.csv", [row])])
    with store.reading() as con:
        got = con.execute(
            "SELECT EventType, Architecture, CAST(FailureDateTime AS VARCHAR) FROM failure_events"
        )
        assert got.fetchall() == [("Kernel", "arm64", "2026-02-01 08:00:00")]


def _bad_files(sample: SampleFactory, tmp: Path) -> dict[str, tuple[Path, str]]:
    rows = _rows(sample("base.csv", rows=30, seed=5))
    wrong = [dict(r) for r in rows]
    wrong[3]["EventCount"] = "many"
    wrong[7]["FailureDate"] = "2026-02-30"
    wrong[9]["DeviceId"] = "not-a-guid"
    enum = [dict(r) for r in rows]
    enum[0]["CabType"] = "Huge"
    required = [dict(r) for r in rows]
    required[5]["FailureName"] = ""
    parquet = sample("whole.parquet", rows=500)
    truncated = tmp / "truncated.parquet"
    truncated.write_bytes(parquet.read_bytes()[: parquet.stat().st_size // 2])
    encoding = tmp / "latin1.csv"
    encoding.write_bytes((tmp / "in" / "base.csv").read_bytes().replace(b"Notebook", b"Not\xe9\xffbook"))
    not_json = tmp / "broken.jsonl"
    not_json.write_text('{"EventId": "a"}\n{"EventId": \n', encoding="utf-8")
    empty = tmp / "empty.csv"
    empty.write_bytes(b"")
    header_only = _write_csv(tmp / "header.csv", [], columns=list(COLUMN_NAMES))
    gz = tmp / "notgz.csv.gz"
    gz.write_bytes(b"plain text, not gzip\n")
    return {
        "wrong types": (_write_csv(tmp / "wrong.csv", wrong), "line 5, column EventCount: not an integer"),
        "enumeration": (_write_csv(tmp / "enum.csv", enum), "line 2, column CabType: not one of Kernel"),
        "required": (_write_csv(tmp / "req.csv", required), "line 7, column FailureName: required"),
        "missing column": (
            _write_csv(tmp / "missing.csv", rows, [c for c in COLUMN_NAMES if c != "DeviceId"]),
            "missing column(s) DeviceId",
        ),
        "broken encoding": (encoding, "cannot read file"),
        "truncated parquet": (truncated, "cannot read file"),
        "invalid json": (not_json, "cannot read file"),
        "empty file": (empty, "file is empty"),
        "header only": (header_only, "holds no rows"),
        "not gzip": (gz, "cannot read file"),
        "unknown extension": (sample("x.csv").rename(tmp / "x.txt"), "unsupported file type"),
        "no such file": (tmp / "absent.parquet", "no such file"),
    }


def test_every_bad_file_is_rejected_with_a_clear_error_and_changes_nothing(
    store: EventStore, sample: SampleFactory, tmp_path: Path
) -> None:
    store.ingest([sample("seed.parquet", rows=200, seed=99)])
    cases = _bad_files(sample, tmp_path)
    for kind, (path, expected) in cases.items():
        with pytest.raises(IngestError) as info:
            store.ingest([path])
        assert expected in str(info.value), (kind, str(info.value))
        assert str(path) in str(info.value), kind
        assert store.count() == 200, kind


def test_rejection_lists_line_column_and_reason_of_the_first_errors(
    store: EventStore, sample: SampleFactory, tmp_path: Path
) -> None:
    rows = _rows(sample("a.csv", rows=60))
    for r in rows[10:]:
        r["Architecture"] = "mips"
    with pytest.raises(RowsRejected) as info:
        store.ingest([_write_csv(tmp_path / "many.csv", rows)])
    problems = info.value.problems()
    assert info.value.invalid_rows == 50
    assert len(problems) == MAX_LISTED_ERRORS
    assert problems[0].path == "line 12, column Architecture"
    assert problems[0].value == "mips" and "not one of x64, arm64, x86" in problems[0].message
    print(str(info.value).splitlines()[0])


def test_jsonl_rows_with_unknown_fields_or_non_objects_are_invalid(
    store: EventStore, sample: SampleFactory, tmp_path: Path
) -> None:
    lines = sample("a.jsonl", rows=3).read_text(encoding="utf-8").splitlines()
    extra = json.loads(lines[1])
    extra["Colour"] = "red"
    path = tmp_path / "odd.jsonl"
    path.write_text("\n".join([lines[0], json.dumps(extra), "[1, 2]", lines[2]]) + "\n", encoding="utf-8")
    with pytest.raises(RowsRejected) as info:
        store.ingest([path])
    messages = [p.describe() for p in info.value.problems()]
    assert messages == ["line 2: unknown field(s) Colour", "line 3: not a JSON object"]
    assert store.count() == 0


def test_skip_invalid_loads_good_rows_and_writes_rejects_beside_the_input(
    store: EventStore, sample: SampleFactory, tmp_path: Path
) -> None:
    rows = _rows(sample("a.csv", rows=100))
    rows[4]["EventCount"] = "-3"
    rows[8]["FailureHash"] = "xyz"
    rows[8]["Mode"] = "Turbo"
    path = _write_csv(tmp_path / "mixed.csv", rows)
    report = store.ingest([path], skip_invalid=True)
    assert (report.loaded, report.rejected) == (98, 2)
    assert report.rejects_path == tmp_path / "mixed.csv.rejects.csv"
    rejects = _rows(report.rejects_path)
    assert [(r["line"], r["reasons"]) for r in rejects] == [
        ("6", "EventCount: must be >= 0"),
        ("10", "FailureHash: not a UUID; Mode: not one of Kernel, User"),
    ]
    assert rejects[0]["EventId"] == rows[4]["EventId"]
    assert store.count() == 98


def test_gzip_csv_with_bad_rows_is_rejected(store: EventStore, sample: SampleFactory, tmp_path: Path) -> None:
    text = gzip.decompress(sample("a.csv.gz", rows=10).read_bytes()).decode()
    bad = tmp_path / "bad.csv.gz"
    bad.write_bytes(gzip.compress(text.replace("Kernel", "Kernal", 1).encode()))
    with pytest.raises(RowsRejected):
        store.ingest([bad])
    assert store.count() == 0
