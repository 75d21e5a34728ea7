"""The chaos test's clients: one schedules reports, others poll report data and download the files.

Requests alternate between the API processes. Every answer is tallied by status; a connection error
counts as excused only if the API it went to was killed or restarting at that moment (the deployment's
outage record), anything else is a finding. Schedules are compressed: a report's runs are 12 hours apart
(the shortest interval the API accepts) starting in the past, so all but the last are due at once and
the last falls due at a random moment before the load stops; every run is due when the test settles.
"""

from __future__ import annotations

import hashlib
import itertools
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx

from tests.deploy.cluster import Deployment, Member

AUDIENCE = "https://manage.devcenter.microsoft.com"
RUNS_PER_REPORT = 4
TEMPLATE = {
    "view": "IHVDriver",
    "projection": ["DriverName", "FailureName"],
    "dateRange": {"reportPeriod": "Last7Days"},
    "aggregation": {"aggregatedColumns": ["SUM(EventCount)"]},
}


@dataclass(frozen=True)
class Credentials:
    tenant_id: str
    client_id: str
    secret: str


@dataclass
class Tally:
    """What the clients saw."""

    statuses: Counter[int] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    excused_connection_errors: int = 0
    unexplained_connection_errors: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    scheduled: list[int] = field(default_factory=list)
    polls: Counter[str] = field(default_factory=Counter)
    downloads: int = 0
    download_hosts: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def five_xx(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)


class LoadGenerator:
    """Threads that schedule and poll through every API process until :meth:`stop`."""

    def __init__(
        self,
        deployment: Deployment,
        partners: list[Credentials],
        callback_url: str,
        *,
        schedule_until: float,
        pollers: int = 2,
        seed: int = 16,
    ) -> None:
        self.deployment = deployment
        self.partners = partners
        self.callback_url = callback_url
        self.schedule_until = schedule_until
        self.tally = Tally()
        self.rng = random.Random(seed)
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._schedule_loop, name="load-schedule", daemon=True)]
        self._threads += [
            threading.Thread(target=self._poll_loop, args=(n,), name=f"load-poll-{n}", daemon=True)
            for n in range(pollers)
        ]
        self._tokens: dict[str, str] = {}
        self._templates: dict[str, int] = {}
        self._downloaded: set[str] = set()
        self._owner: dict[int, Credentials] = {}

    # -- requests ------------------------------------------------------------------------------------

    def request(
        self, http: httpx.Client, api: Member, method: str, path: str, **kwargs: Any
    ) -> httpx.Response | None:
        """One request to ``api``; None after a connection error (tallied as excused or not)."""
        return self._send(http, method, f"{api.base_url}{path}", api.port, **kwargs)

    def _send(
        self, http: httpx.Client, method: str, url: str, port: int | None, **kwargs: Any
    ) -> httpx.Response | None:
        started = time.monotonic()
        try:
            response = http.request(method, url, **kwargs)
        except httpx.TransportError as exc:
            ended = time.monotonic()
            excused = port is not None and self.deployment.was_down(port, started, ended)
            with self.tally.lock:
                if excused:
                    self.tally.excused_connection_errors += 1
                else:
                    self.tally.unexplained_connection_errors.append(f"{method} {url}: {exc!r}")
            return None
        with self.tally.lock:
            self.tally.statuses[response.status_code] += 1
            if response.status_code >= 500:
                self.tally.server_errors.append(
                    f"{method} {url}: {response.status_code} {response.text[:300]}"
                )
        return response

    def _token(self, http: httpx.Client, who: Credentials) -> str | None:
        if who.client_id in self._tokens:
            return self._tokens[who.client_id]
        for api in itertools.islice(itertools.cycle(self.deployment.apis), 20):
            response = self.request(
                http,
                api,
                "POST",
                f"/{who.tenant_id}/oauth2/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": who.client_id,
                    "client_secret": who.secret,
                    "resource": AUDIENCE,
                },
            )
            if response is not None and response.status_code == 200:
                self._tokens[who.client_id] = response.json()["access_token"]
                return self._tokens[who.client_id]
            time.sleep(0.5)
        return None

    def _auth(self, http: httpx.Client, who: Credentials) -> dict[str, str]:
        token = self._token(http, who)
        return {"Authorization": f"Bearer {token}"} if token else {}

    # -- scheduling ----------------------------------------------------------------------------------

    def prepare(self) -> None:
        """Tokens and one template per partner (before the chaos starts)."""
        with httpx.Client(timeout=30) as http:
            for who in self.partners:
                response = self.request(
                    http,
                    self.deployment.apis[0],
                    "POST",
                    "/analytics/driver/reporttemplate",
                    json=TEMPLATE,
                    headers=self._auth(http, who),
                )
                if response is None or response.status_code not in (200, 201):
                    raise RuntimeError(f"template not created: {response and response.text}")
                self._templates[who.client_id] = int(response.json()["data"]["templateId"])

    def _schedule_loop(self) -> None:
        apis = itertools.cycle(self.deployment.apis)
        partners = itertools.cycle(self.partners)
        with httpx.Client(timeout=30) as http:
            while not self._stop.is_set() and time.monotonic() < self.schedule_until:
                who = next(partners)
                self._schedule_one(http, next(apis), who)
                self._stop.wait(self.rng.uniform(0.3, 0.9))

    def _schedule_one(self, http: httpx.Client, api: Member, who: Credentials) -> None:
        now = datetime.now(UTC)
        left = max(0.0, self.schedule_until - time.monotonic() - 2.0)
        last_due = now + timedelta(seconds=self.rng.uniform(0, left))
        start = last_due - timedelta(hours=12 * (RUNS_PER_REPORT - 1))
        body = {
            "templateId": self._templates[who.client_id],
            "schedule": {
                "startTime": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "recurrenceInterval": 12,
                "recurrence": RUNS_PER_REPORT,
            },
            "callbackUrl": self.callback_url,
        }
        response = self.request(
            http, api, "POST", "/analytics/driver/report", json=body, headers=self._auth(http, who)
        )
        if response is None:
            return  # the report may or may not exist; the final count reads the metadata store
        if response.status_code not in (200, 201):
            with self.tally.lock:
                self.tally.unexpected.append(f"schedule: {response.status_code} {response.text[:300]}")
            return
        report_id = int(response.json()["data"]["reportId"])
        with self.tally.lock:
            self.tally.scheduled.append(report_id)
            self._owner[report_id] = who

    # -- polling -------------------------------------------------------------------------------------

    def _poll_loop(self, number: int) -> None:
        rng = random.Random(number)
        apis = itertools.cycle(self.deployment.apis[number % 2 :] + self.deployment.apis[: number % 2])
        with httpx.Client(timeout=30) as http:
            while not self._stop.is_set():
                with self.tally.lock:
                    known = list(self.tally.scheduled)
                if known:
                    self._poll_one(http, next(apis), rng.choice(known))
                self._stop.wait(rng.uniform(0.05, 0.2))

    def _poll_one(self, http: httpx.Client, api: Member, report_id: int) -> None:
        today = datetime.now(UTC).date()
        window = f"startDate={(today - timedelta(days=3)).isoformat()}&endDate={today.isoformat()}"
        who = self._owner[report_id]
        response = self.request(
            http,
            api,
            "GET",
            f"/analytics/driver/reportdata/{report_id}?{window}",
            headers=self._auth(http, who),
        )
        if response is None:
            return
        if response.status_code != 200:
            with self.tally.lock:
                self.tally.unexpected.append(f"reportdata: {response.status_code} {response.text[:300]}")
            return
        with self.tally.lock:
            self.tally.polls[api.name] += 1
        for item in response.json()["data"]:
            run = f"{report_id}@{item['ReportDatetime']}"
            location = item.get("ReportLocation")
            if item["ReportStatus"] == "Completed" and location and run not in self._downloaded:
                self._download(http, run, location, item["ReportSha256"])

    def _download(self, http: httpx.Client, run: str, url: str, sha256: str) -> None:
        """Fetch a run's file once through a fresh signed link (an API's /files or the blob store)."""
        parts = urlsplit(url)
        port = parts.port if parts.hostname == "127.0.0.1" else None
        owned = any(m.port == port for m in self.deployment.apis)
        response = self._send(http, "GET", url, port if owned else None)
        if response is None:
            return
        digest = hashlib.sha256(response.content).hexdigest()
        with self.tally.lock:
            if response.status_code != 200 or digest != sha256:
                self.tally.unexpected.append(f"download {url}: {response.status_code}, sha256 {digest}")
            else:
                self.tally.downloads += 1
                self.tally.download_hosts[parts.netloc] += 1
                self._downloaded.add(run)

    # -- lifecycle -----------------------------------------------------------------------------------

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(60)
