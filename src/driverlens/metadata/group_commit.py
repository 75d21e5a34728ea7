"""Group commit: template creations that arrive in the same event-loop turn share one write transaction
(SQLite or PostgreSQL, through ``Database.fast``). Owned by
:class:`~driverlens.metadata.database.Database` (``template_inserts``), reached through the templates
repository only.

Each request still answers only after its own row is committed. The batch is written on the event
loop when the write lock is free (no sync: WAL with ``synchronous = NORMAL``); when another connection
holds the lock, it waits on the writer thread instead. PostgreSQL commits always wait for their WAL
flush, so there every batch is written on the writer thread. While a batch is on (or queued for) the
writer thread, later creations gather and go as one batch once it settles: one commit each, however
long the commit takes. A batch that fails is retried row by row on the
writer thread, so one bad row fails only its own request; one whose connection broke during COMMIT
(``OutcomeUnknown``: it may be stored) fails every request of the batch instead of writing them twice.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import Executor
from datetime import datetime
from typing import Any

from driverlens.metadata.hotpath import HotPath, NewTemplate, OutcomeUnknown

_Pending = list[tuple[NewTemplate, "asyncio.Future[int]"]]


class TemplateInserts:
    """Creates templates through ``hot``; ``writer`` is the process's one metadata writer thread."""

    def __init__(self, hot: HotPath, writer: Executor) -> None:
        self._hot = hot
        self._writer = writer
        self._pending: _Pending = []
        self._on_writer_now = False  # a batch is on the writer thread: new rows gather until it settles

    async def insert(self, partner_id: int, body: dict[str, Any], now: datetime) -> int:
        """Store a new template (version 1); its id once committed."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[int] = loop.create_future()
        self._pending.append(((partner_id, body, now), future))
        if len(self._pending) == 1 and not self._on_writer_now:
            loop.call_soon(self._flush, loop)
        return await future

    def _flush(self, loop: asyncio.AbstractEventLoop) -> None:
        batch, self._pending = self._pending, []
        try:
            ids = self._hot.try_insert_templates([row for row, _ in batch])
        except Exception:  # rolled back; each row gets its own outcome below
            for row, future in batch:
                self._on_writer(loop, [(row, future)])
            return
        if ids is None:
            self._on_writer(loop, batch, gathering=True)
            return
        for (_, future), template_id in zip(batch, ids, strict=True):
            if not future.done():
                future.set_result(template_id)

    def _on_writer(
        self, loop: asyncio.AbstractEventLoop, batch: _Pending, *, gathering: bool = False
    ) -> None:
        """Insert ``batch`` on the writer thread (waiting for the lock); row by row if it fails. With
        ``gathering``, rows that arrive meanwhile are flushed once it settles."""
        rows = [row for row, _ in batch]
        done = loop.run_in_executor(self._writer, self._hot.insert_templates, rows)
        self._on_writer_now = self._on_writer_now or gathering

        def settle(result: asyncio.Future[list[int]]) -> None:
            if gathering:
                self._on_writer_now = False
                if self._pending:
                    loop.call_soon(self._flush, loop)
            if result.cancelled():  # the writer was shut down: the server is stopping
                for _, future in batch:
                    future.cancel()
                return
            error = result.exception()
            if error is not None:
                if len(batch) > 1 and not isinstance(error, OutcomeUnknown):
                    for item in batch:
                        self._on_writer(loop, [item])
                    return
                for _, future in batch:  # one row, or a batch that may be stored: never written twice
                    if not future.done():
                        future.set_exception(error)
                return
            for (_, future), template_id in zip(batch, result.result(), strict=True):
                if not future.done():
                    future.set_result(template_id)

        done.add_done_callback(settle)
