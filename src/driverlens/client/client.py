"""``DriverLensClient``: one typed method per endpoint of the API contract, plus helpers."""

from __future__ import annotations

import random
import tempfile
import time
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from driverlens.client.cabs import CabMethods
from driverlens.client.config import ClientConfig, load_config
from driverlens.client.download import Downloader, Progress, file_name_from_url
from driverlens.client.errors import DriverLensClientError, NotFoundError
from driverlens.client.frames import Engine, read_table, to_frame
from driverlens.client.models import (
    DownloadResult,
    Preview,
    ReportInfo,
    ReportRun,
    RunStarted,
    TemplateInfo,
    day_param,
    format_time,
    parse_time,
)
from driverlens.client.transport import DEFAULT_RESOURCE, Transport, default_policy
from driverlens.client.waiting import WaitCallback, wait_for

ANALYTICS = "/analytics/driver"
#: report data spans at most this many days per call (the server's limit).
MAX_RANGE_DAYS = 3660
KEEP: Any = object()
"""Marker for ``edit_report``: leave this field as it is."""

TemplateBody = Mapping[str, Any] | str | bytes


def _body(template: TemplateBody) -> dict[str, Any]:
    """Keyword arguments sending a template: raw text as is (comments allowed), mappings as JSON."""
    if isinstance(template, str):
        return {"content": template.encode("utf-8")}
    if isinstance(template, bytes):
        return {"content": template}
    return {"json": dict(template)}


def _when(value: datetime | str) -> str:
    return format_time(value) if isinstance(value, datetime) else value


class DriverLensClient(CabMethods):
    """A partner's client of a DriverLens (or Hardware Dev Center) server.

    ``base_url`` is the API root; the token endpoint defaults to ``{base_url}/{tenant_id}/oauth2/token``
    (for the hosted service pass ``token_url``). ``retries`` is how many times a failed request is retried.
    """

    def __init__(
        self,
        base_url: str,
        tenant_id: str,
        client_id: str,
        client_secret: str,
        *,
        token_url: str | None = None,
        resource: str = DEFAULT_RESOURCE,
        timeout: float = 30.0,
        retries: int = 4,
        transport: httpx.BaseTransport | None = None,
        now: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        base = base_url.rstrip("/")
        token = token_url or f"{base}/{tenant_id}/oauth2/token"
        self._http = httpx.Client(timeout=timeout, transport=transport, follow_redirects=False)
        self._sleep = sleep
        self._rng = rng or random.Random()
        self.policy = default_policy(retries)
        self.transport = Transport(
            self._http,
            base_url=base,
            token_url=token.replace("{tenant_id}", tenant_id),
            tenant_id=tenant_id,
            client_id=client_id,
            client_secret=client_secret,
            resource=resource,
            policy=self.policy,
            now=now,
            sleep=sleep,
            rng=self._rng,
        )
        self.base_url = base

    @classmethod
    def from_config(cls, config: ClientConfig | None = None, **kwargs: Any) -> DriverLensClient:
        """A client from ``driverlens client login``'s file and ``DRIVERLENS_CLIENT_*`` variables."""
        config = config or load_config()
        return cls(
            config.base_url,
            config.tenant_id,
            config.client_id,
            config.client_secret,
            token_url=config.token_url,
            **kwargs,
        )

    # -- lifecycle ----------------------------------------------------------------------------

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> DriverLensClient:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def access_token(self) -> str:
        """A valid bearer token (cached; renewed five minutes before it expires)."""
        return self.transport.token().access_token

    def _data(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.transport.envelope(method, path, **kwargs)

    def _items(self, path: str, **kwargs: Any) -> list[dict[str, Any]]:
        data = self._data("GET", path, **kwargs)
        if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
            raise DriverLensClientError(f"GET {path} did not answer a list; is this a DriverLens server?")
        return data

    # -- discovery ----------------------------------------------------------------------------

    def dataset(self) -> dict[str, Any]:
        """Views, columns, operators, aggregates, report periods, limits, the events' ``freshness`` and
        the caller's ``installBase`` (storeVersion, rows, oldestInstallDate, newestInstallDate)."""
        return dict(self._data("GET", f"{ANALYTICS}/dataset"))

    # -- templates ----------------------------------------------------------------------------

    def create_template(self, template: TemplateBody) -> int:
        """Create a template (a mapping, or JSON text that may carry comments); returns its id."""
        return int(self._data("POST", f"{ANALYTICS}/reporttemplate", **_body(template))["templateId"])

    def list_templates(self) -> list[TemplateInfo]:
        return [TemplateInfo.from_json(t) for t in self._items(f"{ANALYTICS}/reporttemplate")]

    def get_template(self, template_id: int, version: int | None = None) -> TemplateInfo:
        params = {"version": version} if version is not None else None
        return TemplateInfo.from_json(
            self._data("GET", f"{ANALYTICS}/reporttemplate/{int(template_id)}", params=params)
        )

    def edit_template(self, template_id: int, template: TemplateBody) -> int:
        """Replace a template (a new version); returns its id."""
        path = f"{ANALYTICS}/reporttemplate/{int(template_id)}"
        return int(self._data("POST", path, **_body(template))["templateId"])

    def delete_template(self, template_id: int) -> int:
        """Delete a template; ``ConflictError`` while a scheduled report uses it."""
        return int(self._data("DELETE", f"{ANALYTICS}/reporttemplate/{int(template_id)}")["templateId"])

    def preview_template(self, template: TemplateBody) -> Preview:
        """The first rows (at most 100) a run due now would produce; nothing is stored."""
        path = f"{ANALYTICS}/reporttemplate/preview"
        return Preview.from_json(self._data("POST", path, idempotent=True, **_body(template)))

    # -- scheduled reports --------------------------------------------------------------------

    def schedule_report(
        self,
        template_id: int,
        start_time: datetime | str,
        interval_hours: int,
        recurrence: int,
        *,
        callback_url: str | None = None,
        format: str | None = None,
    ) -> int:
        """Schedule ``recurrence`` runs every ``interval_hours`` from ``start_time``; returns its id."""
        schedule: dict[str, Any] = {
            "startTime": _when(start_time),
            "recurrenceInterval": interval_hours,
            "recurrence": recurrence,
        }
        body: dict[str, Any] = {"templateId": int(template_id), "schedule": schedule}
        if callback_url is not None:
            body["callbackUrl"] = callback_url
        if format is not None:
            body["format"] = format
        return int(self._data("POST", f"{ANALYTICS}/report", json=body)["reportId"])

    def list_reports(self) -> list[ReportInfo]:
        return [ReportInfo.from_json(r) for r in self._items(f"{ANALYTICS}/report")]

    def get_report(self, report_id: int) -> ReportInfo:
        return ReportInfo.from_json(self._data("GET", f"{ANALYTICS}/report/{int(report_id)}"))

    def edit_report(
        self,
        report_id: int,
        *,
        template_id: int | None = None,
        start_time: datetime | str | None = None,
        interval_hours: int | None = None,
        recurrence: int | None = None,
        callback_url: str | None = KEEP,
        format: str | None = None,
    ) -> int:
        """Change the template and/or schedule (fields left out keep their values; ``callback_url=None``
        removes the callback)."""
        body: dict[str, Any] = {}
        if template_id is not None:
            body["templateId"] = int(template_id)
        schedule: dict[str, Any] = {}
        if start_time is not None:
            schedule["startTime"] = (
                format_time(start_time) if isinstance(start_time, datetime) else start_time
            )
        if interval_hours is not None:
            schedule["recurrenceInterval"] = interval_hours
        if recurrence is not None:
            schedule["recurrence"] = recurrence
        if schedule:
            body["schedule"] = schedule
        if callback_url is not KEEP:
            body["callbackUrl"] = callback_url
        if format is not None:
            body["format"] = format
        return int(self._data("POST", f"{ANALYTICS}/report/{int(report_id)}", json=body)["reportId"])

    def pause_report(self, report_id: int) -> int:
        return int(
            self._data("POST", f"{ANALYTICS}/report/pause/{int(report_id)}", idempotent=True)["reportId"]
        )

    def resume_report(self, report_id: int) -> int:
        path = f"{ANALYTICS}/report/resume/{int(report_id)}"
        return int(self._data("POST", path, idempotent=True)["reportId"])

    def delete_report(self, report_id: int) -> int:
        return int(self._data("DELETE", f"{ANALYTICS}/report/{int(report_id)}")["reportId"])

    def run_now(self, report_id: int) -> RunStarted:
        """Start an extra run now (outside the schedule's count)."""
        data = self._data("POST", f"{ANALYTICS}/report/{int(report_id)}/run")
        due = parse_time(data.get("ReportDatetime")) or datetime.now(UTC)
        return RunStarted(int(data.get("reportId", report_id)), due, str(data.get("ReportStatus") or ""))

    def report_data(
        self,
        report_id: int,
        start: date | datetime | str | None = None,
        end: date | datetime | str | None = None,
    ) -> list[ReportRun]:
        """Runs due between ``start`` and ``end`` (inclusive UTC days, default: all), oldest first."""
        last = end if end is not None else datetime.now(UTC).date() + timedelta(days=1)
        if start is None:
            anchor = last if isinstance(last, date) else date.fromisoformat(str(last)[:10])
            first: date | datetime | str = anchor - timedelta(days=MAX_RANGE_DAYS)
        else:
            first = start
        params = {"startDate": day_param(first), "endDate": day_param(last)}
        items = self._items(f"{ANALYTICS}/reportdata/{int(report_id)}", params=params)
        return [ReportRun.from_json(int(report_id), item) for item in items]

    def run_history(self, report_id: int) -> list[dict[str, Any]]:
        """Each run's outcome (rows, checksum, error, attempts) and callback delivery log, oldest first."""
        return self._items(f"{ANALYTICS}/report/{int(report_id)}/runs")

    def latest_run(self, report_id: int, *, completed: bool = True) -> ReportRun:
        """The newest (completed, by default) run of a report; ``NotFoundError`` when there is none."""
        every = self.report_data(report_id)
        runs = [r for r in every if r.is_completed or not completed]
        if not runs:
            raise NotFoundError(self._why_no_run(report_id, every, completed))
        return max(runs, key=lambda r: r.due)

    def _why_no_run(self, report_id: int, runs: list[ReportRun], completed: bool) -> str:
        what = "completed run" if completed else "run"
        if runs:
            newest = max(runs, key=lambda r: r.due)
            if newest.is_failed:
                return (
                    f"report {report_id} has no {what}: its newest run, due {format_time(newest.due)}, "
                    f"failed; `driverlens client reports runs {report_id}` shows why, and "
                    f"`driverlens client reports run {report_id}` starts another"
                )
            return (
                f"report {report_id} has no {what} yet: its newest run, due {format_time(newest.due)}, is "
                f"{newest.status}; wait for it (`driverlens client reports wait {report_id}`)"
            )
        start = self.get_report(report_id).schedule.start_time
        due = f", first due {format_time(start)}" if start is not None else ""
        wait = f"`driverlens client reports wait {report_id}`"
        return f"report {report_id} has no {what} yet{due}; wait for it ({wait})"

    def run_at(self, report_id: int, when: datetime) -> ReportRun:
        """The run of a report due exactly at ``when`` (``NotFoundError`` if there is none)."""
        wanted = when if when.tzinfo else when.replace(tzinfo=UTC)
        for run in self.report_data(report_id, wanted, wanted):
            if run.due == wanted:
                return run
        raise NotFoundError(f"report {report_id} has no run due at {format_time(wanted)}")

    def wait_for_completed_run(
        self,
        report_id: int,
        *,
        after: datetime | None = None,
        timeout: float = 600.0,
        poll: float = 1.0,
        max_poll: float = 30.0,
        progress: WaitCallback | None = None,
    ) -> ReportRun:
        """Poll until the next run due at or after ``after`` is Completed, and return it.

        ``after=None`` waits for the newest run known when waiting starts (or the first to appear).
        Raises ``RunFailedError`` when every such run failed, ``WaitTimeout`` after ``timeout`` s.
        """
        if after is not None and after.tzinfo is None:
            after = after.replace(tzinfo=UTC)
        start = after.astimezone(UTC).date() if after is not None else None
        return wait_for(
            lambda: self.report_data(report_id, start),
            report_id=report_id,
            after=after,
            timeout=timeout,
            poll=poll,
            max_poll=max_poll,
            progress=progress,
            sleep=self._sleep,
        )

    # -- files --------------------------------------------------------------------------------

    def download(
        self,
        url_or_run: str | ReportRun,
        dest: str | Path,
        *,
        resume: bool = True,
        expected_sha256: str | None = None,
        progress: Progress | None = None,
    ) -> DownloadResult:
        """Stream a report file (a run or its link) or any signed link to ``dest``.

        The transfer goes through ``<dest>.part`` and resumes with Range after a break; the SHA-256 is
        checked against ``expected_sha256``, the run's checksum or the one the server announces.
        """
        if isinstance(url_or_run, ReportRun):
            if not url_or_run.location:
                raise DriverLensClientError(
                    f"the run due {format_time(url_or_run.due)} is {url_or_run.status}: nothing to download "
                    "yet; wait for it to complete"
                )
            url = url_or_run.location
            expected_sha256 = expected_sha256 or url_or_run.sha256
        else:
            url = self.transport.url(url_or_run)
        downloader = Downloader(self._http, self.policy, self._sleep, self._rng)
        return downloader.download(
            url, Path(dest), resume=resume, expected_sha256=expected_sha256, progress=progress
        )

    def read_table(self, run_or_url: str | ReportRun) -> Any:
        """A report file as a ``pyarrow.Table`` (downloaded to a temporary file first)."""
        url = run_or_url.location if isinstance(run_or_url, ReportRun) else run_or_url
        with tempfile.TemporaryDirectory(prefix="driverlens-") as tmp:
            dest = Path(tmp) / file_name_from_url(url)
            self.download(run_or_url, dest, resume=False)
            return read_table(dest)

    def read_dataframe(self, run_or_url: str | ReportRun, engine: Engine = "pandas") -> Any:
        """A report file as a pandas or polars DataFrame (``engine="arrow"``: a pyarrow Table)."""
        return to_frame(self.read_table(run_or_url), engine)
