"""``driverlens client reports ...`` and ``... cabs ...``: scheduled reports, runs, downloads, CABs."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.filesize import decimal
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from driverlens.cli.client_common import (
    JsonOpt,
    configured_client,
    done,
    fail,
    parse_when,
    print_json,
    print_table,
    say,
    stamp,
    usage,
)
from driverlens.client import (
    KEEP,
    AuthError,
    DownloadResult,
    DriverLensClient,
    ReportInfo,
    ReportRun,
    WaitProgress,
)
from driverlens.client.download import Progress as ProgressCallback
from driverlens.client.download import file_name_from_url
from driverlens.client.models import DeltaSummary, Schedule

reports_app = typer.Typer(help="Scheduled reports, their runs and files.", no_args_is_help=True)
cabs_app = typer.Typer(help="Crash dumps (CABs).", no_args_is_help=True)
err = Console(stderr=True, highlight=False)
IdArg = typer.Argument(..., help="Report id.")


def _report_row(r: ReportInfo) -> list[Any]:
    state = "paused" if r.is_paused else ("active" if r.is_active else "done")
    s = r.schedule
    return [r.report_id, r.template_id, stamp(s.start_time), s.recurrence_interval, s.recurrence, state]


def _run_json(run: ReportRun) -> dict[str, Any]:
    return {"reportId": run.report_id, **run.raw}


@reports_app.command("schedule")
def reports_schedule(
    template_id: int = typer.Option(..., "--template-id", help="Template to run."),
    start: str = typer.Option("now", "--start", help="First run, e.g. 2026-01-31T06:00:00Z (or now)."),
    interval: int = typer.Option(24, "--interval", help="Hours between runs (at least 12)."),
    count: int = typer.Option(1, "--count", help="Number of runs."),
    callback_url: str = typer.Option(None, "--callback-url", help="URL notified when a run ends."),
    fmt: str = typer.Option(None, "--format", help="csv (default), tsv, jsonl or parquet."),
    as_json: bool = JsonOpt,
) -> None:
    """Schedule a report: --count runs every --interval hours from --start."""
    when = parse_when(start, "--start")
    assert when is not None
    with configured_client() as client:
        report_id = client.schedule_report(
            template_id, when, interval, count, callback_url=callback_url, format=fmt
        )
    done(as_json, {"reportId": report_id}, f"scheduled report {report_id}")


@reports_app.command("list")
def reports_list(as_json: bool = JsonOpt) -> None:
    """List your scheduled reports."""
    with configured_client() as client:
        found = client.list_reports()
    if as_json:
        print_json([r.raw for r in found])
        return
    columns = ["id", "template", "start", "every (h)", "runs", "state"]
    print_table("scheduled reports", columns, [_report_row(r) for r in found])


@reports_app.command("show")
def reports_show(report_id: int = IdArg, as_json: bool = JsonOpt) -> None:
    """Show a scheduled report."""
    with configured_client() as client:
        found = client.get_report(report_id)
    if as_json:
        print_json(found.raw)
        return
    columns = ["id", "template", "start", "every (h)", "runs", "state"]
    print_table(f"scheduled report {report_id}", columns, [_report_row(found)])
    if found.callback_url:
        say(f"callback: {found.callback_url}")


@reports_app.command("edit")
def reports_edit(
    report_id: int = IdArg,
    template_id: int = typer.Option(None, "--template-id", help="Another template."),
    start: str = typer.Option(None, "--start", help="New start time."),
    interval: int = typer.Option(None, "--interval", help="New hours between runs."),
    count: int = typer.Option(None, "--count", help="New number of runs."),
    callback_url: str = typer.Option(None, "--callback-url", help="New callback URL."),
    no_callback: bool = typer.Option(False, "--no-callback", help="Remove the callback URL."),
    fmt: str = typer.Option(None, "--format", help="csv, tsv, jsonl or parquet."),
    as_json: bool = JsonOpt,
) -> None:
    """Change a report's template and/or schedule (options left out keep their values)."""
    if no_callback and callback_url:
        usage("give --callback-url or --no-callback, not both")
    callback: str | None = None if no_callback else (callback_url or KEEP)
    with configured_client() as client:
        client.edit_report(
            report_id,
            template_id=template_id,
            start_time=parse_when(start, "--start"),
            interval_hours=interval,
            recurrence=count,
            callback_url=callback,
            format=fmt,
        )
    done(as_json, {"reportId": report_id}, f"edited report {report_id}")


def _simple(action: str, help_text: str) -> None:
    def command(report_id: int = IdArg, as_json: bool = JsonOpt) -> None:
        with configured_client() as client:
            getattr(client, f"{action}_report")(report_id)
        done(as_json, {"reportId": report_id}, f"{action}d report {report_id}")

    command.__doc__ = help_text
    reports_app.command(action)(command)


_simple("pause", "Pause a report (no run starts until it is resumed).")
_simple("resume", "Resume a paused report (runs due while paused are skipped).")
_simple("delete", "Delete a scheduled report.")


@reports_app.command("run")
def reports_run(report_id: int = IdArg, as_json: bool = JsonOpt) -> None:
    """Start an extra run now (then `reports wait ID`)."""
    with configured_client() as client:
        started = client.run_now(report_id)
    data = {"reportId": report_id, "ReportDatetime": stamp(started.due), "ReportStatus": started.status}
    done(as_json, data, f"started a run of report {report_id} due {stamp(started.due)} ({started.status})")


@reports_app.command("runs")
def reports_runs(report_id: int = IdArg, as_json: bool = JsonOpt) -> None:
    """Run history: outcome, rows, error and callback delivery of each run."""
    with configured_client() as client:
        history = client.run_history(report_id)
    if as_json:
        print_json(history)
        return
    rows = [
        [
            run["ReportDatetime"],
            ("manual" if run["manual"] else str(run["runIndex"])),
            run["ReportStatus"],
            "" if run["rowCount"] is None else str(run["rowCount"]),
            delta_text(DeltaSummary.from_json(run.get("delta"))),
            (run["callback"] or {}).get("state", ""),
            run["error"] or "",
        ]
        for run in history
    ]
    columns = ["due", "run", "status", "rows", "delta", "callback", "error"]
    print_table(f"run history of report {report_id}", columns, rows)


def delta_text(delta: DeltaSummary | None) -> str:
    """A delta report run's summary in a table cell: ``+2 new, 1 regressed, 3 resolved`` or baseline."""
    if delta is None:
        return ""
    if delta.baseline:
        return "baseline" + (f" ({delta.buckets} buckets)" if delta.buckets is not None else "")
    return f"{delta.new} new, {delta.regressed} regressed, {delta.resolved} resolved"


@reports_app.command("data")
def reports_data(
    report_id: int = IdArg,
    start: str = typer.Option(None, "--start", help="First day (yyyy-mm-dd); default: all."),
    end: str = typer.Option(None, "--end", help="Last day (yyyy-mm-dd), inclusive."),
    as_json: bool = JsonOpt,
) -> None:
    """The runs of a report with their states and fresh download links."""
    with configured_client() as client:
        runs = client.report_data(report_id, start, end)
    if as_json:
        print_json([_run_json(r) for r in runs])
        return
    rows = [[stamp(r.due), r.status, delta_text(r.delta)] for r in runs]
    print_table(f"runs of report {report_id}", ["due", "status", "delta"], rows)
    for r in runs:
        if r.location:
            say(f"{stamp(r.due)}: {r.location}")


@reports_app.command("wait")
def reports_wait(
    report_id: int = IdArg,
    after: str = typer.Option(None, "--after", help="Only runs due at or after this time count."),
    timeout: float = typer.Option(600.0, "--timeout", min=0, help="Seconds to wait at most."),
    poll: float = typer.Option(1.0, "--poll", min=0.05, help="First poll interval in seconds."),
    as_json: bool = JsonOpt,
) -> None:
    """Wait until the report's next run completes, showing its progress."""
    last_line = [""]
    status = err.status(f"waiting for report {report_id}") if err.is_terminal else None

    def show(p: WaitProgress) -> None:
        what = f"run due {stamp(p.run.due)}: {p.run.status}" if p.run else f"no run yet{first_due[0]}"
        line = f"report {report_id}: {what} ({p.elapsed_s:.0f} s, poll {p.polls})"
        if status is not None:
            status.update(line)
        elif what != last_line[0]:
            err.print(line, markup=False)
        last_line[0] = what

    first_due = [""]
    with configured_client() as client:
        due = next_due(client.get_report(report_id).schedule, datetime.now(UTC))
        if due is not None:
            first_due[0] = f"; the next run is due {stamp(due)}"
        if status is not None:
            status.start()
        try:
            run = client.wait_for_completed_run(
                report_id, after=parse_when(after, "--after"), timeout=timeout, poll=poll, progress=show
            )
        finally:
            if status is not None:
                status.stop()
    done(as_json, _run_json(run), f"run due {stamp(run.due)} completed: {run.location}")


def next_due(schedule: Schedule, now: datetime) -> datetime | None:
    """When the schedule's next run is due at or after ``now`` (None: no run left, or no schedule)."""
    start, hours, count = schedule.start_time, schedule.recurrence_interval, schedule.recurrence
    if start is None:
        return None
    if start >= now:
        return start
    if not hours:
        return None
    step = timedelta(hours=hours)
    index = -(-(now - start) // step)  # ceiling division of timedeltas
    if count is not None and index >= count:
        return None
    return start + index * step


def _download(
    client: DriverLensClient, source: str | ReportRun, output: Path | None, sha256: str | None, resume: bool
) -> DownloadResult:
    url = source.location if isinstance(source, ReportRun) else source
    dest = output or Path(file_name_from_url(url))
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err, disable=not err.is_terminal) as bar:
        task = bar.add_task(dest.name, total=None)

        def advance(p: Any) -> None:
            bar.update(task, completed=p.received, total=p.total)

        callback: ProgressCallback = advance
        return client.download(source, dest, resume=resume, expected_sha256=sha256, progress=callback)


def _report_download(result: DownloadResult, as_json: bool) -> None:
    data = {
        "path": str(result.path),
        "bytes": result.bytes,
        "sha256": result.sha256,
        "verified": result.verified,
        "resumedFrom": result.resumed_from,
        "seconds": round(result.seconds, 3),
    }
    fetched = result.bytes - result.resumed_from
    speed = decimal(int(fetched / result.seconds)) + "/s" if result.seconds > 0 else "?"
    check = "checksum verified" if result.verified else "no checksum to verify"
    resumed = f", resumed at byte {result.resumed_from}" if result.resumed_from else ""
    message = (
        f"saved {result.path}: {result.bytes} bytes in {result.seconds:.2f} s ({speed}{resumed}), "
        f"sha256 {result.sha256}, {check}"
    )
    done(as_json, data, message)


@reports_app.command("download")
def reports_download(
    report_id: int = IdArg,
    latest: bool = typer.Option(False, "--latest", help="The newest completed run (the default)."),
    at: str = typer.Option(None, "--at", help="The run due at this time (see `reports data`)."),
    output: Path = typer.Option(None, "--output", "-o", help="File to write (default: the link's name)."),
    sha256: str = typer.Option(None, "--sha256", help="Expected SHA-256 of the file."),
    resume: bool = typer.Option(True, "--resume/--no-resume", help="Continue a broken download."),
    as_json: bool = JsonOpt,
) -> None:
    """Download the file of a completed run (progress bar with bytes and speed)."""
    if latest and at:
        usage("give --latest or --at TIME, not both")
    when = parse_when(at, "--at")
    with configured_client() as client:
        run = client.run_at(report_id, when) if when else client.latest_run(report_id)
        if not run.is_completed:
            usage(f"the run due {stamp(run.due)} is {run.status}; wait for it (`reports wait {report_id}`)")
        result = _download(client, run, output, sha256, resume)
    _report_download(result, as_json)


@cabs_app.command("download")
def cabs_download(
    cab_id_hash: str = typer.Option(..., "--cab-id-hash", help="CabIdHash from a report."),
    application_id: str = typer.Option(None, "--application-id", help="ApplicationId (IHV partners)."),
    output: Path = typer.Option(None, "--output", "-o", help="File to write (default: <cabIdHash>.cab)."),
    as_json: bool = JsonOpt,
) -> None:
    """Download a crash dump: IHVs give --application-id, OEMs only --cab-id-hash."""
    with configured_client() as client:
        try:
            url = client.cab_download_url(cab_id_hash, application_id)
        except AuthError as exc:
            if application_id is None and exc.status == 403:
                # Without --application-id the OEM form was asked; an IHV needs the driver's form.
                fail(
                    exc,
                    advice="IHV partners add --application-id <ApplicationId> (a column of its report row)",
                )
            raise
        result = _download(client, url, output, None, True)
    _report_download(result, as_json)


@cabs_app.command("list")
def cabs_list(
    application_id: str = typer.Option(..., "--application-id", help="ApplicationId of your driver."),
    failure_hash: str = typer.Option(..., "--failure-hash", help="FailureHash (GUID) from a report."),
    start: str = typer.Option(None, "--start", help="First failure day (yyyy-mm-dd)."),
    end: str = typer.Option(None, "--end", help="Last failure day (yyyy-mm-dd)."),
    as_json: bool = JsonOpt,
) -> None:
    """List every CAB of one failure of your driver, newest first (IHV)."""
    with configured_client() as client:
        items = list(client.cab_batch(application_id, failure_hash, start_date=start, end_date=end))
    if as_json:
        print_json([asdict(c) for c in items])
        return
    rows = [[c.cab_id_hash, c.date, c.submission_id, stamp(c.cab_expiration_time)] for c in items]
    print_table(f"{len(items)} CABs", ["cabIdHash", "date", "submission", "expires"], rows)
