"""``driverlens run-template``: run one template file now, for one partner, into a report file."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import typer

from driverlens.catalog import PartnerKind
from driverlens.clock import SystemClock, ensure_utc
from driverlens.errors import DriverLensError

_FORMATS = "csv, tsv, jsonl, parquet, csv.gz, tsv.gz, jsonl.gz"


def _partner_kind(name: str) -> tuple[str, PartnerKind]:
    """The registered partner's canonical name and kind, from the metadata store."""
    from driverlens.metadata.database import Database
    from driverlens.metadata.migrate import migrate
    from driverlens.metadata.repositories import partners as partner_repo
    from driverlens.settings import get_settings

    url = get_settings().metadata_url
    migrate(url)
    db = Database(url)
    try:
        with db.session() as session:
            partners = partner_repo.list_partners(session)
    finally:
        db.dispose()
    for partner in partners:
        if partner.name.casefold() == name.strip().casefold():
            return partner.name, PartnerKind(partner.kind)
    known = ", ".join(p.name for p in partners) or "none yet"
    raise typer.BadParameter(
        f"unknown partner {name!r}; known partners: {known} "
        "(add one with `driverlens partners add` or `driverlens seed --demo`)",
        param_hint="--partner",
    )


def _parse_at(raw: str | None) -> datetime:
    if raw is None:
        return SystemClock().now()
    try:
        return ensure_utc(datetime.fromisoformat(raw.strip()))
    except ValueError as exc:
        raise typer.BadParameter(
            f"{raw!r} is not an ISO date-time such as 2026-03-01T06:00:00Z", param_hint="--at"
        ) from exc


def run_template(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True, help="Template JSON file."),
    partner: str = typer.Option(..., "--partner", help="Partner name whose scope the report runs in."),
    at: str | None = typer.Option(None, "--at", help="Due time (ISO, UTC); default now."),
    fmt: str = typer.Option("csv", "--format", help=f"Output format: {_FORMATS}."),
    report_id: int | None = typer.Option(None, "--report-id", help="Value of the ReportId column."),
    out: Path = typer.Option(..., "-o", "--out", dir_okay=False, help="Report file to write."),
) -> None:
    """Run one template file now for one partner and write the report file."""
    from driverlens.compiler import Scope, compile_template, window_for
    from driverlens.compiler.spreadsheet import neutralise_formulas
    from driverlens.engines import OutputFormat
    from driverlens.engines.factory import engine_for
    from driverlens.events import event_store
    from driverlens.lenient import loads
    from driverlens.settings import get_settings
    from driverlens.templates import parse_template

    try:
        output_format = OutputFormat.parse(fmt)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--format") from exc
    name, kind = _partner_kind(partner)
    due = _parse_at(at)
    settings = get_settings()
    try:
        template = parse_template(loads(file.read_bytes()))
        window = window_for(template.report_period, due)
        query = compile_template(template, Scope(kind=kind, partner=name), window, report_id=report_id)
        if output_format.opens_in_spreadsheets and not settings.raw_csv_cells:
            query = neutralise_formulas(query, template)
        result = engine_for(settings, event_store(settings)).run_to_file(
            query, out, output_format, timeout_s=settings.query_timeout_seconds
        )
    except DriverLensError as exc:
        for problem in exc.problems():
            typer.echo(f"error: {problem.describe()}", err=True)
        raise typer.Exit(code=1) from exc
    last_day = window.end - timedelta(days=1)  # the window's end is exclusive
    typer.echo(f"wrote {out} ({output_format.value}) for {name}, failure dates {window.start} to {last_day}")
    typer.echo(
        f"rows={result.rows} bytes={result.bytes} sha256={result.sha256} duration_s={result.duration_s:.3f}"
    )
