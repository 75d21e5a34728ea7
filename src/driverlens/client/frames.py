"""Reading a downloaded report file as an Arrow table or a pandas/polars DataFrame (imported lazily)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from driverlens.client.errors import DriverLensClientError

Engine = Literal["pandas", "polars", "arrow"]
FORMATS = ("csv", "tsv", "jsonl", "parquet")


class MissingDependencyError(DriverLensClientError):
    """An optional library needed for this call is not installed."""


def format_of(name: str) -> str:
    """The report format named by a file's extension (csv when unknown: the server's default)."""
    lowered = name.lower().removesuffix(".gz")  # pyarrow reads .gz files itself, by their name
    ext = lowered.rsplit(".", 1)[-1] if "." in lowered else ""
    return ext if ext in FORMATS else "csv"


def read_table(path: Path, fmt: str | None = None) -> Any:
    """A ``pyarrow.Table`` of a report file (csv, tsv, jsonl or parquet)."""
    try:
        import pyarrow.csv as pa_csv
        import pyarrow.json as pa_json
        import pyarrow.parquet as pa_parquet
    except ImportError as exc:  # pragma: no cover - pyarrow ships with DriverLens
        raise MissingDependencyError("reading reports needs pyarrow: pip install pyarrow") from exc
    fmt = fmt or format_of(path.name)
    if fmt == "parquet":
        return pa_parquet.read_table(path)
    if fmt == "jsonl":
        return pa_json.read_json(path)
    delimiter = "\t" if fmt == "tsv" else ","
    return pa_csv.read_csv(path, parse_options=pa_csv.ParseOptions(delimiter=delimiter))


def to_frame(table: Any, engine: Engine) -> Any:
    """``table`` as the requested kind of frame."""
    if engine == "arrow":
        return table
    if engine == "pandas":
        try:
            import pandas  # noqa: F401
        except ImportError as exc:
            raise MissingDependencyError(
                "engine='pandas' needs pandas: pip install pandas (or use engine='polars' or 'arrow')"
            ) from exc
        return table.to_pandas()
    if engine == "polars":
        try:
            import polars
        except ImportError as exc:
            raise MissingDependencyError(
                "engine='polars' needs polars: pip install polars (or use engine='pandas' or 'arrow')"
            ) from exc
        return polars.from_arrow(table)
    raise ValueError(f"engine must be 'pandas', 'polars' or 'arrow', got {engine!r}")
