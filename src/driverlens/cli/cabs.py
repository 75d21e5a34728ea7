"""``driverlens collectors`` and ``driverlens ingest-cabs``: crash dump collection, operator side."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from driverlens.cli.admin import _emit, _session
from driverlens.errors import DriverLensError
from driverlens.settings import get_settings

collectors_app = typer.Typer(
    help="Crash dump collectors: credentials that may only upload CABs.", no_args_is_help=True
)


def _collector_json(collector: Any) -> dict[str, Any]:
    return {
        "collectorId": collector.collector_id,
        "name": collector.name,
        "status": "revoked" if collector.revoked_at is not None else "active",
        "createdAt": collector.created_at.isoformat(),
        "revokedAt": collector.revoked_at.isoformat() if collector.revoked_at else None,
    }


@collectors_app.command("add")
def collectors_add(
    name: str = typer.Option(..., "--name", help="A label, e.g. the collecting service's name."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Create a collector and print its id and secret (the secret is shown only this once)."""
    from driverlens.auth.collectors import add_collector

    with _session() as session:
        collector_id, secret = add_collector(session, name)
    data = {"collectorId": collector_id, "secret": secret}
    _emit(as_json, data, [f"collector id: {collector_id}", f"secret:       {secret}"])
    typer.echo("warning: store the secret now; it cannot be shown again (only a hash is kept).", err=True)


@collectors_app.command("list")
def collectors_list(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List collectors (secrets are never shown)."""
    from driverlens.metadata.repositories import collectors

    with _session() as session:
        rows = [_collector_json(c) for c in collectors.list_collectors(session)]
    lines = [f"{r['collectorId']}\t{r['status']}\t{r['name']}" for r in rows] or ["no collectors yet"]
    _emit(as_json, rows, lines)


@collectors_app.command("revoke")
def collectors_revoke(collector_id: str = typer.Argument(..., help="Collector id to revoke.")) -> None:
    """Revoke a collector: its uploads are refused from now on."""
    from driverlens.auth.collectors import revoke_collector

    with _session() as session:
        collector = revoke_collector(session, collector_id)
        revoked_at = collector.revoked_at
    typer.echo(f"revoked collector {collector_id} at {revoked_at.isoformat() if revoked_at else '?'}")


def ingest_cabs(
    paths: list[Path] = typer.Argument(..., help="Cabinet files (.cab) holding a crash dump each."),
    event_id: list[str] = typer.Option([], "--event-id", help="EventId of a failure event of the CABs."),
    cab_id_hash: list[str] = typer.Option(
        [], "--cab-id-hash", help="CabIdHash carried by failure events of the CABs."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON line per file."),
) -> None:
    """Check, read and store crash dump cabinets from disk, linked to their failure events.

    Each file is stored once (by content); a refused file is reported and nothing of it is stored.
    Exits 1 when any file was refused.
    """
    from driverlens.blobs.backend import blob_store_from_settings
    from driverlens.cabs.collection import EventTargets, collect_cab, limits_for
    from driverlens.clock import SystemClock
    from driverlens.events import EventStore
    from driverlens.metadata.database import Database
    from driverlens.metadata.migrate import migrate

    settings = get_settings()
    clock = SystemClock()
    migrate(settings.metadata_url)
    db = Database(settings.metadata_url)
    blobs = blob_store_from_settings(settings, clock)
    events = EventStore(settings.data_dir)
    targets = EventTargets(tuple(event_id), tuple(cab_id_hash))
    refused = 0
    try:
        for path in paths:
            try:
                if not path.is_file():
                    raise FileNotFoundError(f"{path}: no such file")
                result = collect_cab(
                    path,
                    db=db,
                    blobs=blobs,
                    events=events,
                    limits=limits_for(settings),
                    targets=targets,
                    collected_by="cli",
                    now=clock.now(),
                )
            except (DriverLensError, OSError) as exc:
                refused += 1
                message = exc.message if isinstance(exc, DriverLensError) else str(exc)
                typer.echo(
                    json.dumps({"file": str(path), "error": message})
                    if as_json
                    else f"{path}: refused: {message}"
                )
                continue
            if as_json:
                typer.echo(json.dumps({"file": str(path), **result.to_json()}))
                continue
            facts = result.facts
            what = (
                f"bugcheck 0x{facts.bugcheck_code:X}"
                if facts.bugcheck_code is not None
                else f"exception 0x{facts.exception_code or 0:X}"
            )
            state = "stored" if result.created else "already stored"
            typer.echo(
                f"{path}: {state} as {result.cab_id_hash} ({facts.dump_type} dump, {what}, "
                f"module {facts.faulting_module or '?'}, build {facts.os_build}); "
                f"{result.events_linked} events linked"
            )
            if result.bucket_mismatch:
                typer.echo(f"{path}: flagged: {result.bucket_mismatch}")
    finally:
        db.dispose()
    if refused:
        raise typer.Exit(1)


def inspect_cab(
    path: Path = typer.Argument(..., help="A cabinet file (.cab), e.g. one downloaded from DriverLens."),
) -> None:
    """Print what crash dump a cabinet holds (read with the same checks as an upload; nothing is stored)."""
    from driverlens.cabs.cabinet import open_cabinet
    from driverlens.cabs.collection import facts_json, limits_for
    from driverlens.cabs.dumps import read_dump

    try:
        cabinet = open_cabinet(path, limits_for(get_settings()))
        facts = read_dump(cabinet)
    except (DriverLensError, OSError) as exc:
        typer.echo(f"{path}: {exc.message if isinstance(exc, DriverLensError) else exc}", err=True)
        raise typer.Exit(1) from exc
    files = ", ".join(f"{m.name} ({m.size} bytes)" for m in cabinet.members)
    typer.echo(f"{path}: cabinet of {len(cabinet.members)} files: {files}")
    for key, value in facts_json(facts).items():
        if value is not None:
            typer.echo(f"  {key}: {', '.join(value) if isinstance(value, list) else value}")
