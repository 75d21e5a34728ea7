"""Each output format: header, delimiter, ISO dates, UUIDs as text, aggregate column names."""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from driverlens.client.frames import read_table
from driverlens.engines import DuckDBEngine, OutputFormat
from tests.engines.conftest import DEVICE_A, DEVICE_B, HASH_A, FileEventSource, RawQuery, uuid_as_compiled

DETAIL = RawQuery(
    f"SELECT FailureDate, FailureName, {uuid_as_compiled('FailureHash')}, {uuid_as_compiled('DeviceId')}, "
    "FailureDateTime, EventCount FROM failure_events WHERE IhvPartner = 'Contoso Graphics' ORDER BY EventId"
)
AGGREGATE = RawQuery(
    'SELECT DriverName, SUM(EventCount) AS "SUM(EventCount)", COUNT(DISTINCT DeviceId) AS "DCOUNT(DeviceId)" '
    "FROM failure_events GROUP BY DriverName ORDER BY DriverName"
)
DETAIL_HEADER = ["FailureDate", "FailureName", "FailureHash", "DeviceId", "FailureDateTime", "EventCount"]
TRICKY_NAME = 'quote " comma , tab \t name'


@pytest.mark.parametrize(("fmt", "delimiter"), [(OutputFormat.CSV, ","), (OutputFormat.TSV, "\t")])
def test_delimited_files_have_header_iso_dates_and_text_uuids(
    tiny_source: FileEventSource, tmp_path: Path, fmt: OutputFormat, delimiter: str
) -> None:
    dest = tmp_path / f"out.{fmt.extension}"
    out = DuckDBEngine(tiny_source).run_to_file(DETAIL, dest, fmt, timeout_s=30)

    with dest.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle, delimiter=delimiter))
    assert rows[0] == DETAIL_HEADER
    assert rows[1] == [
        "2026-03-01",
        "0x9F_cgfx!Foo",
        str(HASH_A),
        str(DEVICE_A),
        "2026-03-01 12:30:05",
        "3",
    ]
    assert rows[2][1] == TRICKY_NAME and rows[2][3] == str(DEVICE_B)
    assert rows[3][0] == "2026-03-02"
    assert out.rows == 3 == len(rows) - 1
    data = dest.read_bytes()
    assert out.bytes == len(data)
    assert out.sha256 == hashlib.sha256(data).hexdigest()
    assert out.duration_s > 0


def test_csv_names_aggregate_columns_as_written(tiny_source: FileEventSource, tmp_path: Path) -> None:
    dest = tmp_path / "agg.csv"
    DuckDBEngine(tiny_source).run_to_file(AGGREGATE, dest, OutputFormat.CSV, timeout_s=30)
    lines = dest.read_text(encoding="utf-8").splitlines()
    assert lines == ["DriverName,SUM(EventCount),DCOUNT(DeviceId)", "cgfx.sys,11,2", "other.sys,7,1"]


def test_json_lines_one_object_per_row(tiny_source: FileEventSource, tmp_path: Path) -> None:
    dest = tmp_path / "out.jsonl"
    out = DuckDBEngine(tiny_source).run_to_file(DETAIL, dest, OutputFormat.JSONL, timeout_s=30)
    objects = [json.loads(line) for line in dest.read_text(encoding="utf-8").splitlines()]
    assert out.rows == len(objects) == 3
    assert list(objects[0]) == DETAIL_HEADER
    assert objects[0]["FailureDate"] == "2026-03-01"
    assert objects[0]["DeviceId"] == str(DEVICE_A)
    assert objects[0]["FailureHash"] == str(HASH_A)
    assert objects[0]["EventCount"] == 3
    assert objects[1]["FailureName"] == TRICKY_NAME

    agg = tmp_path / "agg.jsonl"
    DuckDBEngine(tiny_source).run_to_file(AGGREGATE, agg, OutputFormat.JSONL, timeout_s=30)
    first = json.loads(agg.read_text(encoding="utf-8").splitlines()[0])
    assert first == {"DriverName": "cgfx.sys", "SUM(EventCount)": 11, "DCOUNT(DeviceId)": 2}


def test_parquet_keeps_names_order_and_types(tiny_source: FileEventSource, tmp_path: Path) -> None:
    dest = tmp_path / "out.parquet"
    out = DuckDBEngine(tiny_source).run_to_file(AGGREGATE, dest, OutputFormat.PARQUET, timeout_s=30)
    table = pq.read_table(dest)
    assert table.column_names == ["DriverName", "SUM(EventCount)", "DCOUNT(DeviceId)"]
    assert table.to_pylist() == [
        {"DriverName": "cgfx.sys", "SUM(EventCount)": 11, "DCOUNT(DeviceId)": 2},
        {"DriverName": "other.sys", "SUM(EventCount)": 7, "DCOUNT(DeviceId)": 1},
    ]
    assert out.rows == 2
    assert out.sha256 == hashlib.sha256(dest.read_bytes()).hexdigest()


def test_parquet_writes_uuids_as_text_and_keeps_order(tiny_source: FileEventSource, tmp_path: Path) -> None:
    dest = tmp_path / "detail.parquet"
    DuckDBEngine(tiny_source).run_to_file(DETAIL, dest, OutputFormat.PARQUET, timeout_s=30)
    table = pq.read_table(dest)
    assert table.column_names == DETAIL_HEADER
    assert str(table.schema.field("DeviceId").type) == "string"
    rows = table.to_pylist()
    assert [r["DeviceId"] for r in rows] == [str(DEVICE_A), str(DEVICE_B), str(DEVICE_A)]
    assert rows[0]["FailureHash"] == str(HASH_A)
    assert rows[0]["FailureDate"] == date(2026, 3, 1)


@pytest.mark.parametrize("fmt", [OutputFormat.CSV, OutputFormat.PARQUET])
def test_large_ordered_export_keeps_order_across_threads(
    tiny_source: FileEventSource, tmp_path: Path, fmt: OutputFormat
) -> None:
    """Exports run without insertion-order preservation; an ORDER BY must still hold in the file."""
    query = RawQuery("SELECT (range * 7919) % 1000003 AS n, uuid() AS u FROM range(1000000) ORDER BY n DESC")
    dest = tmp_path / f"ordered.{fmt.extension}"
    DuckDBEngine(tiny_source).run_to_file(query, dest, fmt, timeout_s=60)
    if fmt is OutputFormat.CSV:
        values = [int(line.split(",")[0]) for line in dest.read_text(encoding="utf-8").splitlines()[1:]]
    else:
        values = pq.read_table(dest, columns=["n"]).column("n").to_pylist()
    assert len(values) == 1_000_000
    assert values == sorted(values, reverse=True)


def test_empty_result_still_writes_a_header(tiny_source: FileEventSource, tmp_path: Path) -> None:
    dest = tmp_path / "empty.csv"
    query = RawQuery("SELECT DriverName, EventCount FROM failure_events WHERE IhvPartner = 'nobody'")
    out = DuckDBEngine(tiny_source).run_to_file(query, dest, OutputFormat.CSV, timeout_s=30)
    assert out.rows == 0
    assert dest.read_text(encoding="utf-8").splitlines() == ["DriverName,EventCount"]


def test_format_metadata_and_parsing() -> None:
    assert OutputFormat.parse(" CSV ") is OutputFormat.CSV
    assert OutputFormat.JSONL.extension == "jsonl"
    assert OutputFormat.CSV.content_type.startswith("text/csv")
    assert OutputFormat.PARQUET.content_type == "application/vnd.apache.parquet"
    with pytest.raises(ValueError, match=r"allowed: csv, tsv, jsonl, parquet, csv\.gz, tsv\.gz, jsonl\.gz"):
        OutputFormat.parse("xlsx")


@pytest.mark.parametrize(
    ("plain", "packed"),
    [
        (OutputFormat.CSV, OutputFormat.CSV_GZ),
        (OutputFormat.TSV, OutputFormat.TSV_GZ),
        (OutputFormat.JSONL, OutputFormat.JSONL_GZ),
    ],
)
def test_gzip_formats_hold_the_same_bytes_compressed(
    tiny_source: FileEventSource, tmp_path: Path, plain: OutputFormat, packed: OutputFormat
) -> None:
    engine = DuckDBEngine(tiny_source)
    engine.run_to_file(DETAIL, tmp_path / f"a.{plain.extension}", plain, timeout_s=30)
    out = engine.run_to_file(DETAIL, tmp_path / f"a.{packed.extension}", packed, timeout_s=30)
    raw = (tmp_path / f"a.{packed.extension}").read_bytes()
    assert raw[:2] == b"\x1f\x8b" and out.rows == 3
    assert gzip.decompress(raw) == (tmp_path / f"a.{plain.extension}").read_bytes()
    assert packed.content_type == "application/gzip"
    table = read_table(tmp_path / f"a.{packed.extension}")  # the SDK reads it by its name
    assert table.num_rows == 3 and table.column_names == DETAIL_HEADER
