"""``driverlens ingest``, ``purge`` and ``seed``: load, expire and synthesise failure events."""

from __future__ import annotations

from pathlib import Path

import typer

from driverlens.clock import SystemClock
from driverlens.errors import DriverLensError
from driverlens.settings import get_settings


def ingest(
    files: list[Path] = typer.Argument(
        ..., help="CSV (.csv, .csv.gz), JSON Lines (.jsonl) or Parquet files."
    ),
    skip_invalid: bool = typer.Option(
        False, "--skip-invalid", help="Load the good rows; write rejects beside each input (.rejects.csv)."
    ),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar."),
) -> None:
    """Validate and load failure events, all files in one transaction."""
    from driverlens.events import EventStore

    store = EventStore(get_settings().data_dir)
    try:
        report = store.ingest(files, skip_invalid=skip_invalid, progress=progress)
    except DriverLensError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(
        f"loaded {report.loaded} rows, skipped {report.duplicates} duplicates, rejected {report.rejected}"
    )
    for path in report.rejects_paths:
        typer.echo(f"rejects written to {path}")


def purge(
    retention_days: int | None = typer.Option(
        None, "--retention-days", help="Defaults to DRIVERLENS_EVENT_RETENTION_DAYS (90)."
    ),
) -> None:
    """Delete failure events older than the retention window."""
    from driverlens.events import EventStore

    settings = get_settings()
    store = EventStore(settings.data_dir)
    days = retention_days if retention_days is not None else settings.event_retention_days
    try:
        deleted = store.purge(SystemClock().now(), retention_days=days)
    except DriverLensError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"purged {deleted} events older than {days} days")


def seed(
    demo: bool = typer.Option(False, "--demo", help="Create the demo partners and their events."),
    rows: int = typer.Option(1_000_000, "--rows", min=0, help="Number of failure events to create."),
    days: int = typer.Option(90, "--days", min=1, help="Spread events over this many days before today."),
    seed_value: int = typer.Option(0, "--seed", help="Random seed; the same seed gives the same events."),
) -> None:
    """Seed demo partners and synthetic failure events; writes <data dir>/demo-credentials.json."""
    from driverlens.events import EventStore, seed_events
    from driverlens.events.demo import DEMO_PARTNERS, credentials_entry, write_demo_credentials

    if not demo:
        typer.echo("error: only --demo seeding exists; pass --demo", err=True)
        raise typer.Exit(2)
    settings = get_settings()
    store = EventStore(settings.data_dir)
    try:
        report = seed_events(store, rows=rows, days=days, seed=seed_value, now=SystemClock().now())
    except DriverLensError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from exc
    creds = write_demo_credentials(
        settings.data_dir / "demo-credentials.json", [credentials_entry(p) for p in DEMO_PARTNERS]
    )
    typer.echo(f"seeded {report.rows} events in {report.seconds:.1f}s ({report.rows_per_second:,.0f} rows/s)")
    typer.echo(f"demo partners: {', '.join(p.name for p in DEMO_PARTNERS)}; credentials in {creds}")
