"""``AsyncDriverLensClient``: the same methods, awaitable, for asyncio applications.

Each call runs the synchronous client in a worker thread (``asyncio.to_thread``), so calls may run
concurrently; the token cache is shared and thread-safe. Progress callbacks run in worker threads.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date
from types import TracebackType
from typing import Any, Concatenate, ParamSpec, TypeVar

from driverlens.client.client import DriverLensClient
from driverlens.client.models import CabItem, CabPage

P = ParamSpec("P")
R = TypeVar("R")


def _awaitable(
    method: Callable[Concatenate[DriverLensClient, P], R],
) -> Callable[Concatenate[AsyncDriverLensClient, P], Awaitable[R]]:
    async def call(self: AsyncDriverLensClient, *args: P.args, **kwargs: P.kwargs) -> R:
        return await asyncio.to_thread(method, self.sync, *args, **kwargs)

    call.__name__ = method.__name__
    call.__doc__ = method.__doc__
    return call


class AsyncDriverLensClient:
    """Takes the same arguments as ``DriverLensClient``; every endpoint method is a coroutine."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.sync = DriverLensClient(*args, **kwargs)

    async def aclose(self) -> None:
        await asyncio.to_thread(self.sync.close)

    async def __aenter__(self) -> AsyncDriverLensClient:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    access_token = _awaitable(DriverLensClient.access_token)
    dataset = _awaitable(DriverLensClient.dataset)
    create_template = _awaitable(DriverLensClient.create_template)
    list_templates = _awaitable(DriverLensClient.list_templates)
    get_template = _awaitable(DriverLensClient.get_template)
    edit_template = _awaitable(DriverLensClient.edit_template)
    delete_template = _awaitable(DriverLensClient.delete_template)
    preview_template = _awaitable(DriverLensClient.preview_template)
    schedule_report = _awaitable(DriverLensClient.schedule_report)
    list_reports = _awaitable(DriverLensClient.list_reports)
    get_report = _awaitable(DriverLensClient.get_report)
    edit_report = _awaitable(DriverLensClient.edit_report)
    pause_report = _awaitable(DriverLensClient.pause_report)
    resume_report = _awaitable(DriverLensClient.resume_report)
    delete_report = _awaitable(DriverLensClient.delete_report)
    run_now = _awaitable(DriverLensClient.run_now)
    report_data = _awaitable(DriverLensClient.report_data)
    run_history = _awaitable(DriverLensClient.run_history)
    latest_run = _awaitable(DriverLensClient.latest_run)
    run_at = _awaitable(DriverLensClient.run_at)
    wait_for_completed_run = _awaitable(DriverLensClient.wait_for_completed_run)
    download = _awaitable(DriverLensClient.download)
    read_table = _awaitable(DriverLensClient.read_table)
    read_dataframe = _awaitable(DriverLensClient.read_dataframe)
    cab_download_url = _awaitable(DriverLensClient.cab_download_url)
    download_cab = _awaitable(DriverLensClient.download_cab)
    cab_batch_page = _awaitable(DriverLensClient.cab_batch_page)
    cab_next_page = _awaitable(DriverLensClient.cab_next_page)

    async def cab_batch(
        self,
        application_id: str,
        failure_hash: str,
        *,
        start_date: date | str | None = None,
        end_date: date | str | None = None,
        top: int = 100,
    ) -> AsyncIterator[CabItem]:
        """Every CAB of a failure, following ``@nextLink`` page after page."""
        page: CabPage | None = await self.cab_batch_page(
            application_id, failure_hash, start_date=start_date, end_date=end_date, top=top
        )
        while page is not None:
            for item in page.items:
                yield item
            page = await self.cab_next_page(page)
