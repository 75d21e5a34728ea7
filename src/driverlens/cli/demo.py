"""``driverlens demo``: seed demo data if none exists, schedule a report due now, and serve."""

from __future__ import annotations

from contextlib import nullcontext

import typer

from driverlens.settings import get_settings


def demo(
    host: str = typer.Option("127.0.0.1", "--host", envvar="DRIVERLENS_HOST", help="Address to bind."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, envvar="DRIVERLENS_PORT", help="Port."),
    rows: int = typer.Option(1_000_000, "--rows", min=1000, help="Events to seed when the store is empty."),
) -> None:
    """Start DriverLens with demo data: what `make run` does."""
    from driverlens.cli.events import seed_progress_bar
    from driverlens.cli.serve import claim_port_or_exit, run_server, served_settings
    from driverlens.clock import SystemClock
    from driverlens.demo import curl_walkthrough, schedule_demo_report, seed_demo
    from driverlens.events import event_store
    from driverlens.metadata.database import Database
    from driverlens.metadata.migrate import migrate

    # First the port: a second `make run` must stop here, before seeding or printing a banner.
    listener = claim_port_or_exit(host, port)
    port = int(listener.getsockname()[1])
    clock = SystemClock()
    settings = served_settings(get_settings(), host, port)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    migrate(settings.metadata_url)
    db = Database(settings.metadata_url)
    try:
        store = event_store(settings)
        if store.legacy_path.is_file() and store.count() == 0:
            # Upgraded from the single-file store: keep the user's events rather than seed new ones.
            from driverlens.events.convert import convert_legacy_store

            typer.echo(f"moving the events of {store.legacy_path} into the event table ...")
            converted = convert_legacy_store(store)
            typer.echo(
                f"moved {converted.loaded:,} events; the old file can go (driverlens convert-events --remove)"
            )
        empty = store.count() == 0
        if empty:
            typer.echo(
                f"seeding {rows:,} demo failure events and their install base into "
                f"{settings.data_dir.resolve()} ..."
            )
        with seed_progress_bar(rows) if empty else nullcontext() as progress:
            seeded = seed_demo(
                settings, db, rows=rows, days=90, seed=0, clock=clock, events=empty, progress=progress
            )
        partner, report_id, created = schedule_demo_report(db, clock)
        entries = {e["name"]: e for e in _credentials(seeded.credentials_path)}
    finally:
        db.dispose()
    base = settings.public_base_url
    typer.echo(
        "\n".join(
            [
                "",
                f"DriverLens at {base}  (API docs: {base}/docs)",
                f"demo credentials: {seeded.credentials_path.resolve()}",
                f"demo report {report_id} of {partner!r} "
                + (
                    "is due now; within a minute its run is Completed."
                    if created
                    else "was scheduled at the first start and runs once a day "
                    f"(`driverlens client reports runs {report_id}` lists its runs)."
                ),
                "",
                "Try it (copy-paste):",
                curl_walkthrough(base, entries[partner], report_id, clock.now()),
                "",
            ]
        )
    )
    run_server(listener, host, worker=True, concurrency=2, log_level="info")


def _credentials(path: object) -> list[dict[str, str]]:
    import json
    from pathlib import Path

    entries: list[dict[str, str]] = json.loads(Path(str(path)).read_text(encoding="utf-8"))["partners"]
    return entries
