"""Group commit: template creations that arrive in the same event-loop turn share one write transaction
(SQLite or PostgreSQL, through ``Database.fast``). Owned by
:class:`~driverlens.metadata.database.Database` (``template_inserts``), reached through the templates
repository only.

Each request still answers only after its own row is committed. The batch is written on the event
loop when the write lock is free (no sync: WAL with ``synchronous = NORMAL``); when another connection
holds the lock, it waits on the writer thread instead. PostgreSQL commits always wait for their WAL
flush, so there every batch is written on the writer thread. A batch that fails is retried row by row on the
writer thread, so one bad row fails only its own request.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import Executor
from datetime import datetime
from typing import Any

from driverlens.metadata.hotpath import HotPath, NewTemplate

_Pending = list[tuple[NewTemplate, "asyncio.Future[int]"]]


class TemplateInserts:
    """Creates templates through ``hot``; ``writer`` is the process's one metadata writer thread."""

    def __init__(self, hot: HotPath, writer: Executor) -> None:
        self._hot = hot
        self._writer = writer
        self._pending: _Pending = []

    async def insert(self, partner_id: int, body: dict[str, Any], now: datetime) -> int:
        """Store a new template (version 1); its id once committed."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[int] = loop.create_future()
        self._pending.append(((partner_id, body, now), future))
        if len(self._pending) == 1:
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
            self._on_writer(loop, batch)
            return
        for (_, future), template_id in zip(batch, ids, strict=True):
            if not future.done():
                future.set_result(template_id)

    def _on_writer(self, loop: asyncio.AbstractEventLoop, batch: _Pending) -> None:
        """Insert ``batch`` on the writer thread (waiting for the lock); row by row if it fails."""
        rows = [row for row, _ in batch]
        done = loop.run_in_executor(self._writer, self._hot.insert_templates, rows)

        def settle(result: asyncio.Future[list[int]]) -> None:
            if result.cancelled():  # the writer was shut down: the server is stopping
                for _, future in batch:
                    future.cancel()
                return
            error = result.exception()
            if error is not None:
                if len(batch) > 1:
                    for item in batch:
                        self._on_writer(loop, [item])
                    return
                if not batch[0][1].done():
                    batch[0][1].set_exception(error)
                return
            for (_, future), template_id in zip(batch, result.result(), strict=True):
                if not future.done():
                    future.set_result(template_id)

        done.add_done_callback(settle)
