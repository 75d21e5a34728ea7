"""Every SDK method against a real DriverLens server process (with its worker, so runs complete)."""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from driverlens.client import (
    AuthError,
    ConflictError,
    NotFoundError,
    ReportRun,
    ValidationError,
    WaitProgress,
    WaitTimeout,
)
from driverlens.client.download import part_path
from tests.api.events_lookup import busiest_failure, cabs_of, read_cab
from tests.api.server import Server
from tests.client.conftest import IHV, OEM, ClientFactory, ihv_template, tomorrow

COMMENTED = b"""{
  // copied from the documentation
  "View": " ihvdriver",
  "projection": ["FailureName"], /* one column */
  "dateRange": {"reportPeriod": "Last7Days"}
}"""


def stored_checksum(server: Server, report_id: int) -> tuple[str, int]:
    """The SHA-256 and size the worker recorded for the report's completed run."""
    with sqlite3.connect(server.data_dir / "metadata.db") as db:
        row = db.execute(
            "SELECT sha256, bytes FROM runs WHERE report_id = ? AND state = 'Completed'", (report_id,)
        ).fetchone()
    assert row is not None and row[0]
    return str(row[0]), int(row[1])


def test_templates_create_list_get_versions_edit_preview_delete(make_client: ClientFactory) -> None:
    client = make_client()
    assert {"views", "reportPeriods", "freshness", "installBase"} <= set(client.dataset())
    first = client.create_template(ihv_template())
    second = client.create_template(COMMENTED)
    assert client.get_template(second).template["view"] == "IHVDriver"  # canonical spelling back
    listed = {t.template_id for t in client.list_templates()}
    assert {first, second} <= listed

    assert client.edit_template(second, ihv_template(limit=3)) == second
    current = client.get_template(second)
    assert (current.version, current.current_version, current.template["limit"]) == (2, 2, 3)
    assert client.get_template(second, version=1).template["projection"] == ["FailureName"]
    assert current.created is not None and current.modified is not None and current.created.tzinfo

    preview = client.preview_template(ihv_template(limit=3))
    assert preview.columns == ["FailureName", "DriverName", "SUM(EventCount)"]
    assert 0 < len(preview.rows) <= 3 and preview.window_start

    assert client.delete_template(second) == second
    with pytest.raises(NotFoundError) as missing:
        client.get_template(second)
    assert missing.value.status == 404 and missing.value.tracking_id


def test_validation_errors_carry_every_message_target_and_tracking_id(make_client: ClientFactory) -> None:
    client = make_client()
    bad = ihv_template(projection=["FailureName", "Baseboard"], dateRange={"reportPeriod": "Last8Days"})
    with pytest.raises(ValidationError) as caught:
        client.create_template(bad)
    error = caught.value
    assert error.status == 400 and len(error.errors) >= 2
    assert any("Baseboard" in m for m in error.messages)
    assert any("Last8Days" in m or "reportPeriod" in m for m in error.messages)
    assert any(t and "projection" in t for t in error.targets)
    assert error.tracking_id and all(e.tracking_id == error.tracking_id for e in error.errors)
    assert error.tracking_id in str(error)


def test_template_in_use_cannot_be_deleted(make_client: ClientFactory) -> None:
    client = make_client()
    template_id = client.create_template(ihv_template())
    client.schedule_report(template_id, tomorrow(), 24, 1)
    with pytest.raises(ConflictError) as caught:
        client.delete_template(template_id)
    assert caught.value.status == 409 and caught.value.messages[0]


def test_wrong_secret_and_wrong_partner_kind_are_auth_errors(make_client: ClientFactory) -> None:
    with pytest.raises(AuthError) as unauthorized:
        make_client(client_secret="not-the-secret").list_templates()
    assert unauthorized.value.status == 401 and unauthorized.value.codes == ["invalid_client"]
    with pytest.raises(AuthError) as forbidden:
        make_client(OEM).cab_download_url("whatever", application_id="1")
    assert forbidden.value.status == 403 and "IHV" in forbidden.value.messages[0]


def test_reports_schedule_get_list_edit_pause_resume_run_data_delete(make_client: ClientFactory) -> None:
    client = make_client()
    template_id = client.create_template(ihv_template())
    start = tomorrow()
    report_id = client.schedule_report(template_id, start, 24, 3, format="jsonl")
    report = client.get_report(report_id)
    assert (report.template_id, report.schedule.start_time, report.schedule.recurrence) == (
        template_id,
        start,
        3,
    )
    assert report.format == "jsonl" and report.is_active and not report.is_paused
    assert report_id in {r.report_id for r in client.list_reports()}

    assert client.edit_report(report_id, interval_hours=48, recurrence=2) == report_id
    edited = client.get_report(report_id)
    assert (edited.schedule.recurrence_interval, edited.schedule.recurrence) == (48, 2)
    assert edited.schedule.start_time == start  # fields left out keep their values

    assert client.pause_report(report_id) == report_id
    assert client.get_report(report_id).is_paused
    assert client.resume_report(report_id) == report_id
    assert not client.get_report(report_id).is_paused

    started = client.run_now(report_id)
    assert started.report_id == report_id and started.status == "Pending"
    runs = client.report_data(report_id, started.due.date(), started.due.date())
    assert [r.due for r in runs] == [started.due]
    assert client.report_data(report_id, date_before(started.due), date_before(started.due)) == []
    history = client.run_history(report_id)
    assert [(h["ReportDatetime"], h["manual"]) for h in history if h["manual"]] == [
        (started.due.strftime("%Y-%m-%dT%H:%M:%SZ"), True)
    ]
    with pytest.raises(ValidationError, match="endDate"):
        client.report_data(report_id, "2026-02-02", "2026-02-01")

    assert client.delete_report(report_id) == report_id
    with pytest.raises(NotFoundError):
        client.get_report(report_id)


def date_before(moment: datetime) -> str:
    return (moment - timedelta(days=2)).date().isoformat()


def test_wait_for_a_run_that_never_comes_times_out_with_progress(make_client: ClientFactory) -> None:
    client = make_client()
    report_id = client.schedule_report(client.create_template(ihv_template()), tomorrow(), 24, 1)
    polls: list[WaitProgress] = []
    started = time.monotonic()
    with pytest.raises(WaitTimeout, match="no run has started yet"):
        client.wait_for_completed_run(report_id, timeout=1.0, poll=0.2, progress=polls.append)
    assert 1.0 <= time.monotonic() - started < 20  # generous: a loaded machine answers slowly
    assert len(polls) >= 3 and all(p.run is None for p in polls)


def test_wait_returns_the_completed_run_with_a_link(
    completed_run: tuple[int, ReportRun], make_client: ClientFactory, live_server: Server
) -> None:
    report_id, run = completed_run
    assert run.is_completed and run.location.startswith(f"{live_server.base_url}/files/")
    assert run.sha256 == stored_checksum(live_server, report_id)[0]  # report data carries it
    client = make_client()
    # already completed: returns at once
    assert client.wait_for_completed_run(report_id, timeout=5).due == run.due
    assert client.latest_run(report_id).due == run.due
    assert client.run_at(report_id, run.due).is_completed
    with pytest.raises(NotFoundError):
        client.run_at(report_id, run.due + timedelta(seconds=1))


def test_interrupted_download_resumes_and_matches_the_servers_checksum(
    completed_run: tuple[int, ReportRun], make_client: ClientFactory, live_server: Server, tmp_path: Path
) -> None:
    report_id, _ = completed_run
    client = make_client()
    fresh = client.latest_run(report_id)  # every call gives a fresh link
    whole = httpx.get(fresh.location).content
    sha256, size = stored_checksum(live_server, report_id)
    assert len(whole) == size > 100
    dest = tmp_path / "report.csv"
    part_path(dest).write_bytes(whole[: size // 2])  # a transfer that broke off half way
    result = client.download(fresh, dest, expected_sha256=sha256)
    assert result.resumed_from == size // 2 and result.verified
    assert result.sha256 == sha256 and dest.read_bytes() == whole


def test_an_altered_link_is_refused(completed_run: tuple[int, ReportRun], make_client: ClientFactory) -> None:
    _, run = completed_run
    with pytest.raises(AuthError) as caught:
        make_client().download(run.location.replace("sig=", "sig=x"), "/nonexistent/never.csv")
    assert caught.value.status == 403


def test_read_a_report_as_a_table(completed_run: tuple[int, ReportRun], make_client: ClientFactory) -> None:
    report_id, _ = completed_run
    client = make_client()
    table = client.read_dataframe(client.latest_run(report_id), engine="arrow")
    assert table.column_names == ["FailureName", "DriverName", "SUM(EventCount)"]
    assert table.num_rows > 0 and min(table.column("SUM(EventCount)").to_pylist()) >= 1


@pytest.mark.parametrize("engine", ["pandas", "polars"])
def test_read_a_report_as_a_dataframe(
    engine: str, completed_run: tuple[int, ReportRun], make_client: ClientFactory
) -> None:
    pytest.importorskip(engine, reason=f"{engine} is not installed (optional)")
    report_id, _ = completed_run
    client = make_client()
    frame = client.read_dataframe(client.latest_run(report_id), engine=engine)  # type: ignore[arg-type]
    assert list(frame.columns) == ["FailureName", "DriverName", "SUM(EventCount)"]


def test_cab_downloads_ihv_and_oem_forms(
    make_client: ClientFactory, live_server: Server, tmp_path: Path
) -> None:
    ihv_cab = cabs_of(live_server.data_dir, "IhvPartner", IHV)[0]
    oem_cab = cabs_of(live_server.data_dir, "OemPartner", OEM)[0]
    ihv, oem = make_client(IHV), make_client(OEM)
    url = ihv.cab_download_url(ihv_cab.cab_id_hash, application_id=ihv_cab.application_id)
    assert url.startswith(f"{live_server.base_url}/files/") and "sig=" in url
    saved = ihv.download_cab(ihv_cab.cab_id_hash, tmp_path / "ihv.cab", application_id=ihv_cab.application_id)
    assert saved.bytes == saved.path.stat().st_size and read_cab(saved.path.read_bytes(), tmp_path).os_build
    oem_saved = oem.download_cab(oem_cab.cab_id_hash, tmp_path / "oem.cab")
    assert (
        oem_saved.path.read_bytes().startswith(b"MSCF") and oem_saved.bytes == oem_saved.path.stat().st_size
    )
    with pytest.raises(NotFoundError):
        ihv.cab_download_url("no-such-cab", application_id=ihv_cab.application_id)


def test_cab_batch_follows_next_links(make_client: ClientFactory, live_server: Server) -> None:
    application_id, failure_hash, count = busiest_failure(live_server.data_dir, IHV)
    client = make_client()
    top = min(100, max(1, -(-count // 3)))  # a few pages (the server allows 100 at most)
    page = client.cab_batch_page(application_id, failure_hash, top=top)
    assert page.total_count == count and len(page.items) == top and page.next_link
    items = list(client.cab_batch(application_id, failure_hash, top=top))
    assert len(items) == count and len({i.cab_id_hash for i in items}) == count
    assert all(i.failure_hash == failure_hash and i.cab_url for i in items)
    print(f"cab batch: {count} CABs in pages of {top}")


def test_token_is_cached_then_renewed_before_expiry(make_client: ClientFactory) -> None:
    offset = [0.0]
    client = make_client(now=lambda: time.time() + offset[0])
    for _ in range(3):
        client.list_reports()
    assert client.transport.token_requests == 1
    offset[0] = 3600 - 290  # inside the five-minute renewal margin of the 60-minute token
    client.list_reports()
    assert client.transport.token_requests == 2
    assert client.transport.token().expires_at > datetime.now(UTC).timestamp() + 3000
