"""``driverlens ingest-installs``: load the install base (devices running each driver version per day)."""

from __future__ import annotations

from pathlib import Path

import typer

from driverlens.errors import DriverLensError
from driverlens.settings import get_settings


def ingest_installs(
    files: list[Path] = typer.Argument(
        ..., help="CSV (.csv, .csv.gz), JSON Lines (.jsonl) or Parquet files of install base rows."
    ),
    replace: bool = typer.Option(
        False, "--replace", help="Let rows change the DeviceCount of a stored key (refused otherwise)."
    ),
    skip_invalid: bool = typer.Option(
        False, "--skip-invalid", help="Load the good rows; write rejects beside each input (.rejects.csv)."
    ),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar."),
) -> None:
    """Validate and load install base rows, all files in one transaction; reruns add nothing."""
    from driverlens.events import event_store
    from driverlens.installs.ingest import ingest_installs as load

    store = event_store(get_settings())
    try:
        report = load(store, files, replace=replace, skip_invalid=skip_invalid, progress=progress)
    except DriverLensError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from exc
    version = f" (install base version {report.version})" if report.version is not None else ""
    typer.echo(
        f"added {report.added} rows, replaced {report.replaced}, unchanged {report.unchanged}, "
        f"rejected {report.rejected}{version}"
    )
    for path in report.rejects_paths:
        typer.echo(f"rejects written to {path}")
