"""``driverlens ingest``, ``purge`` and ``seed``: load, expire and synthesise failure events."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from driverlens.clock import SystemClock
from driverlens.errors import DriverLensError
from driverlens.events.seed import SeedProgress
from driverlens.settings import get_settings


def ingest(
    files: list[Path] = typer.Argument(
        ..., help="CSV (.csv, .csv.gz), JSON Lines (.jsonl) or Parquet files."
    ),
    skip_invalid: bool = typer.Option(
        False, "--skip-invalid", help="Load the good rows; write rejects beside each input (.rejects.csv)."
    ),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar."),
    metrics_file: Path | None = typer.Option(
        None,
        "--metrics-file",
        help="Add this run's counters to a Prometheus textfile (node_exporter's textfile collector); "
        "default DRIVERLENS_INGEST_METRICS_FILE.",
    ),
) -> None:
    """Validate and load failure events, all files in one transaction."""
    from driverlens.events import event_store
    from driverlens.observability import ProcessMetrics
    from driverlens.observability.textfile import write_textfile

    settings = get_settings()
    store = event_store(settings)
    try:
        report = store.ingest(files, skip_invalid=skip_invalid, progress=progress)
    except DriverLensError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from exc
    # The same figures as driverlens_ingest_* (docs/operations.md), for logs and for the textfile.
    typer.echo(
        f"loaded {report.loaded} rows, skipped {report.duplicates} duplicates, rejected {report.rejected}; "
        f"{'1 batch committed' if report.version is not None else 'nothing committed'}, "
        f"{report.conflicts} commit conflict(s) retried"
    )
    for path in report.rejects_paths:
        typer.echo(f"rejects written to {path}")
    target = metrics_file or settings.ingest_metrics_file
    if target is not None:
        metrics = ProcessMetrics("ingest")
        metrics.ingested(report)
        try:
            write_textfile(target, metrics.registry, "driverlens_ingest_last_success_timestamp_seconds")
        except OSError as exc:
            typer.echo(f"error: the events are loaded, but {target} could not be written: {exc}", err=True)
            raise typer.Exit(1) from exc


def purge(
    retention_days: int | None = typer.Option(
        None, "--retention-days", help="Defaults to DRIVERLENS_EVENT_RETENTION_DAYS (90)."
    ),
    file_retention_days: int | None = typer.Option(
        None, "--file-retention-days", help="Defaults to DRIVERLENS_FILE_RETENTION_DAYS (30)."
    ),
) -> None:
    """Delete failure events, report files and CABs older than their retention windows."""
    from driverlens.blobs.backend import blob_store_from_settings
    from driverlens.events import event_store
    from driverlens.metadata.database import Database
    from driverlens.metadata.migrate import migrate
    from driverlens.runs.retention import purge as purge_all

    settings = get_settings()
    clock = SystemClock()
    migrate(settings.metadata_url)
    db = Database(settings.metadata_url)
    try:
        report = purge_all(
            db,
            blob_store_from_settings(settings, clock),
            event_store(settings),
            clock.now(),
            event_retention_days=retention_days or settings.event_retention_days,
            file_retention_days=file_retention_days or settings.file_retention_days,
        )
    except DriverLensError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from exc
    finally:
        db.dispose()
    typer.echo(report.describe())


def seed(
    demo: bool = typer.Option(
        False, "--demo", help="Create the demo partners, their events and the install base behind them."
    ),
    rows: int = typer.Option(1_000_000, "--rows", min=0, help="Number of failure events to create."),
    days: int = typer.Option(90, "--days", min=1, help="Spread events over this many days before today."),
    seed_value: int = typer.Option(0, "--seed", help="Random seed; the same seed gives the same events."),
) -> None:
    """Seed demo partners with working clients and synthetic failure events.

    Writes <data dir>/demo-credentials.json (tenant id, client id and secret, callback secret per partner).
    """
    from driverlens.demo import seed_demo
    from driverlens.metadata.database import Database
    from driverlens.metadata.migrate import migrate

    if not demo:
        typer.echo("error: only --demo seeding exists; pass --demo", err=True)
        raise typer.Exit(2)
    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    migrate(settings.metadata_url)
    db = Database(settings.metadata_url)
    clock = SystemClock()
    started = clock.now()
    try:
        with seed_progress_bar(rows) as progress:
            seeded = seed_demo(
                settings, db, rows=rows, days=days, seed=seed_value, clock=clock, progress=progress
            )
    except DriverLensError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from exc
    finally:
        db.dispose()
    seconds = max((clock.now() - started).total_seconds(), 1e-9)
    typer.echo(
        f"seeded {seeded.events_added} events in {seconds:.1f}s ({seeded.events_added / seconds:,.0f} rows/s)"
    )
    typer.echo(f"install base: {seeded.installs_added} rows added")
    if seeded.cabs is not None:
        typer.echo(
            f"crash dumps: {seeded.cabs.cabinets} cabinets ({seeded.cabs.created} new), "
            f"{seeded.cabs.links} events linked"
        )
    typer.echo(f"demo partners: {', '.join(seeded.partners)}; credentials in {seeded.credentials_path}")


@contextmanager
def seed_progress_bar(total: int) -> Iterator[SeedProgress]:
    """A progress bar on standard error for ``seed_events``: rows written of ``total``, then each step."""
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True)) as bar:
        task = bar.add_task("seeding", total=total)

        def advance(rows: int, step: str) -> None:
            bar.update(task, completed=rows, description=step)

        yield advance


def convert_events(
    source: Path | None = typer.Argument(
        None, help="The old event file; defaults to <data dir>/events/events.duckdb."
    ),
    remove: bool = typer.Option(False, "--remove", help="Delete the old file once its events are in."),
) -> None:
    """Move the events of a DuckDB event file (DriverLens before the lake) into the event table."""
    from driverlens.events import event_store
    from driverlens.events.convert import convert_legacy_store

    store = event_store(get_settings())
    try:
        report = convert_legacy_store(store, source)
    except DriverLensError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from exc
    if report.already_converted:
        typer.echo(f"{report.source} was converted before; nothing added")
    else:
        typer.echo(
            f"converted {report.source}: {report.rows_in_source} events, {report.loaded} added, "
            f"{report.duplicates} already stored (table version {report.version})"
        )
    if remove:
        for leftover in (report.source, report.source.with_name(report.source.name + ".wal")):
            leftover.unlink(missing_ok=True)
        typer.echo(f"removed {report.source}")


def compact() -> None:
    """Compact the event table now (workers also do it every 10 minutes) and vacuum old files."""
    from driverlens.events import event_store

    store = event_store(get_settings())
    partitions = store.compact()
    removed = store.lake.vacuum()
    typer.echo(f"compacted {partitions} day partitions; vacuum removed {removed} unreferenced files")
