"""Report file formats and the figures of one finished run."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from driverlens.events.lake import Snapshot


class OutputFormat(StrEnum):
    """A report file format; CSV with a header row is the default of the contract."""

    CSV = "csv"
    TSV = "tsv"
    JSONL = "jsonl"
    PARQUET = "parquet"
    # gzip-compressed text formats (Parquet compresses its own pages)
    CSV_GZ = "csv.gz"
    TSV_GZ = "tsv.gz"
    JSONL_GZ = "jsonl.gz"

    @property
    def content_type(self) -> str:
        return _CONTENT_TYPES[self]

    @property
    def extension(self) -> str:
        return self.value

    @property
    def opens_in_spreadsheets(self) -> bool:
        """CSV and TSV, compressed or not: a spreadsheet program opens them and may run formula cells."""
        return self in _SPREADSHEET_FORMATS

    @property
    def copy_options(self) -> str:
        """The options of DuckDB's ``COPY ... TO`` that write this format (fixed text, no user input)."""
        return _COPY_OPTIONS[self]

    @classmethod
    def parse(cls, raw: str) -> OutputFormat:
        """Trimmed, case-insensitive lookup; raises ``ValueError`` listing the allowed values."""
        wanted = raw.strip().lower()
        for member in cls:
            if member.value == wanted:
                return member
        allowed = ", ".join(m.value for m in cls)
        raise ValueError(f"unknown output format {raw!r}; allowed: {allowed}")


_SPREADSHEET_FORMATS = frozenset(
    {OutputFormat.CSV, OutputFormat.TSV, OutputFormat.CSV_GZ, OutputFormat.TSV_GZ}
)

_CONTENT_TYPES = {
    OutputFormat.CSV: "text/csv; charset=utf-8",
    OutputFormat.TSV: "text/tab-separated-values; charset=utf-8",
    OutputFormat.JSONL: "application/x-ndjson",
    OutputFormat.PARQUET: "application/vnd.apache.parquet",
    OutputFormat.CSV_GZ: "application/gzip",
    OutputFormat.TSV_GZ: "application/gzip",
    OutputFormat.JSONL_GZ: "application/gzip",
}

# COMPRESSION is explicit because DuckDB otherwise guesses it from the (temporary) file name.
_COPY_OPTIONS = {
    OutputFormat.CSV: "FORMAT csv, HEADER true, COMPRESSION none",
    OutputFormat.TSV: "FORMAT csv, HEADER true, DELIMITER '\t', COMPRESSION none",
    OutputFormat.JSONL: "FORMAT json, COMPRESSION none",
    OutputFormat.PARQUET: "FORMAT parquet, COMPRESSION zstd",
    OutputFormat.CSV_GZ: "FORMAT csv, HEADER true, COMPRESSION gzip",
    OutputFormat.TSV_GZ: "FORMAT csv, HEADER true, DELIMITER '\t', COMPRESSION gzip",
    OutputFormat.JSONL_GZ: "FORMAT json, COMPRESSION gzip",
}


@dataclass(frozen=True)
class RunOutput:
    """What a run produced: row count, file size in bytes, hex sha256 of the file, wall time, the event
    table version it read with the newest event time in it (how fresh the data was), and the install
    base version read with it."""

    rows: int
    bytes: int
    sha256: str
    duration_s: float
    store_version: int | None = None
    newest_event: datetime | None = None
    install_base_version: int | None = None

    @classmethod
    def of_file(cls, written: tuple[int, int, str], started: float, snapshot: Snapshot) -> RunOutput:
        """From ``copy_to_file``'s (rows, bytes, sha256), the run's perf_counter start and its snapshot."""
        rows, size, digest = written
        return cls(
            rows,
            size,
            digest,
            time.perf_counter() - started,
            snapshot.version,
            snapshot.newest_event,
            snapshot.install_base_version,
        )
