"""Crash dump (CAB) methods of the client: signed download links, downloads, the paged batch listing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from driverlens.client.download import Progress
from driverlens.client.errors import DriverLensClientError
from driverlens.client.models import CabItem, CabPage, DownloadResult, ReportRun, day_param
from driverlens.client.transport import Transport

CABS = "/v1.0/my/analytics"


class CabMethods:
    """Mixed into ``DriverLensClient``, which provides the transport and ``download``."""

    transport: Transport
    base_url: str

    def download(
        self,
        url_or_run: str | ReportRun,
        dest: str | Path,
        *,
        resume: bool = True,
        expected_sha256: str | None = None,
        progress: Progress | None = None,
    ) -> DownloadResult:
        raise NotImplementedError

    def cab_download_url(self, cab_id_hash: str, application_id: str | None = None) -> str:
        """The signed, expiring URL of a CAB: the IHV form with ``application_id``, else the OEM form."""
        if application_id is not None:
            path = f"{CABS}/driver/cabdownload"
            params = {"applicationId": application_id, "cabIdHash": cab_id_hash}
        else:
            path = f"{CABS}/hardware/cabdownload"
            params = {"cabIdHash": cab_id_hash}
        response = self.transport.send("GET", path, params=params, ok_statuses=(301, 302, 303, 307, 308))
        location = response.headers.get("location")
        if not location:
            raise DriverLensClientError(
                f"the CAB download answered HTTP {response.status_code} without a Location header",
                status=response.status_code,
            )
        return self.transport.url(location) if location.startswith("/") else location

    def download_cab(
        self,
        cab_id_hash: str,
        dest: str | Path,
        *,
        application_id: str | None = None,
        progress: Progress | None = None,
    ) -> DownloadResult:
        return self.download(self.cab_download_url(cab_id_hash, application_id), dest, progress=progress)

    def cab_batch_page(
        self,
        application_id: str,
        failure_hash: str,
        *,
        start_date: date | str | None = None,
        end_date: date | str | None = None,
        top: int = 100,
        skip: int = 0,
    ) -> CabPage:
        """One page of the CABs of a failure of your driver, newest first (IHV)."""
        params: dict[str, Any] = {"applicationId": application_id, "failureHash": failure_hash}
        params.update(top=top, skip=skip)
        if start_date is not None:
            params["startDate"] = day_param(start_date)
        if end_date is not None:
            params["endDate"] = day_param(end_date)
        return self._cab_page(f"{CABS}/driver/cabdownloadbatch", params)

    def cab_batch(
        self,
        application_id: str,
        failure_hash: str,
        *,
        start_date: date | str | None = None,
        end_date: date | str | None = None,
        top: int = 100,
    ) -> Iterator[CabItem]:
        """Every CAB of a failure, following ``@nextLink`` page after page."""
        page = self.cab_batch_page(
            application_id, failure_hash, start_date=start_date, end_date=end_date, top=top
        )
        current: CabPage | None = page
        while current is not None:
            yield from current.items
            current = self.cab_next_page(current)

    def cab_next_page(self, page: CabPage) -> CabPage | None:
        """The page after ``page`` (its ``@nextLink``), or None after the last one."""
        if not page.next_link:
            return None
        return self._cab_page(self._same_origin(page.next_link), None)

    def _cab_page(self, path: str, params: dict[str, Any] | None) -> CabPage:
        response = self.transport.send("GET", path, params=params)
        payload = json.loads(response.content)
        body = payload if "Value" in payload else (payload.get("data") or {})
        return CabPage(
            items=[CabItem.from_json(item) for item in body.get("Value") or []],
            next_link=body.get("@nextLink") or None,
            total_count=int(body.get("TotalCount") or 0),
        )

    def _same_origin(self, link: str) -> str:
        """A next link on this server's origin; another origin is re-based here so the token stays home."""
        target, home = urlsplit(link), urlsplit(self.base_url)
        if (target.scheme, target.netloc) == (home.scheme, home.netloc) or not target.netloc:
            return self.transport.url(link)
        query = f"?{target.query}" if target.query else ""
        return f"{home.scheme}://{home.netloc}{target.path}{query}"
