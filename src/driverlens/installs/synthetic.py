"""Synthetic install base matching the stored events (demos, tests and benchmarks).

For every (partners, driver, version, OS build) the events hold, and every day of the window, a device
count of a few to a few dozen times the distinct devices that failed in that group (a fixed factor per
group and seed, a small daily jitter), so failure rates land between about 1% and 20%. Loaded through
``ingest_installs`` like any install base file; seeding the same arguments again adds nothing.
"""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta
from pathlib import Path

from driverlens.events.sql import string_literal
from driverlens.events.store import EventStore
from driverlens.installs.ingest import InstallIngestReport, ingest_installs

_GROUP = '"IhvPartner", "OemPartner", "DriverName", "DriverVersion", "OSVersion"'


def synthetic_installs(store: EventStore, *, days: int, now: datetime, seed: int = 0) -> InstallIngestReport:
    """Add install base rows for the ``days`` UTC days before ``now`` (groups taken from the events)."""
    end = now.date()
    start = end - timedelta(days=days)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "installs.parquet"
        first, last = string_literal(start.isoformat()), string_literal(end.isoformat())
        with store.reading() as con:
            con.execute(
                f"""
                COPY (
                    WITH groups AS (
                        SELECT {_GROUP}, COUNT(DISTINCT "DeviceId") AS devices
                        FROM failure_events
                        WHERE "IhvPartner" IS NOT NULL AND "OemPartner" IS NOT NULL
                          AND "DriverName" IS NOT NULL AND "DriverVersion" IS NOT NULL
                          AND "OSVersion" IS NOT NULL
                        GROUP BY {_GROUP}
                    )
                    SELECT CAST(d.day AS DATE) AS "InstallDate", {_GROUP},
                        CAST(devices * (5 + hash({_GROUP}, {int(seed)}) % 40)
                             * (0.9 + 0.001 * (hash({_GROUP}, d.day, {int(seed)}) % 100)) AS BIGINT)
                            AS "DeviceCount"
                    FROM groups,
                        range(DATE {first}, DATE {last}, INTERVAL 1 DAY) AS d(day)
                ) TO {string_literal(str(path))} (FORMAT parquet)
                """
            )
        return ingest_installs(store, [path])
