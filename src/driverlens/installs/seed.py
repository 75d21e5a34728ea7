"""The demo install base: the devices behind the synthetic failures (``events.seed``), one commit.

Devices per (day, driver, version) follow the driver's rollout (``events.rollout``): a day's expected
failures of a driver divided by its per-device failure rate that day, split over its versions by their
installed shares, then over makers and OS builds by their shares of the device pool. Every key also counts
at least the distinct devices that failed on it in the stored events, so failing devices are always a
subset of installed ones, and never fewer than it already stores (seeding more events raises counts, never
lowers them). The rows are a function of the arguments and the stored tables: seeding again adds nothing.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from driverlens.clock import ensure_utc
from driverlens.events import rollout
from driverlens.events import vocabulary as voc
from driverlens.events.demo import DEMO_PARTNERS, OTHER_OEMS
from driverlens.events.seed import day_shares, driver_shares, oem_shares, os_shares, vendor_rows, vendors
from driverlens.events.store import EventStore
from driverlens.installs.ingest import commit_rows
from driverlens.installs.table import COUNT_COLUMN, DATE_COLUMN, KEY, VIEW, quoted

InstallSeedProgress = Callable[[str], None]
"""Called with the name of each step as it starts."""

_KEY_SQL = ", ".join(quoted(c) for c in KEY)


@dataclass(frozen=True)
class InstallSeedReport:
    rows: int  # keys of the seeded days
    added: int  # keys not stored before (0 when seeding again)
    raised: int  # stored keys whose count grew (more events seeded since; counts never go down)
    seconds: float
    version: int | None = None  # the committed install base version, None when nothing changed


def seed_installs(
    store: EventStore,
    *,
    rows: int,
    days: int = 90,
    now: datetime,
    progress: InstallSeedProgress | None = None,
) -> InstallSeedReport:
    """Add the install base of ``seed_events(store, rows=rows, days=days, now=now, ...)``, as one commit."""
    if rows < 0 or days < 1:
        raise ValueError("rows must be >= 0 and days >= 1")
    started = time.perf_counter()
    report = progress or _no_progress
    today = ensure_utc(now).date()
    first = today - timedelta(days=days)
    report("counting failing devices")
    snapshot = store.snapshot()
    with store.reading(snapshot) as reader:
        failing = reader.sql(
            """SELECT "FailureDate" AS "InstallDate", "IhvPartner", "OemPartner", "DriverName",
                      "DriverVersion", "OSVersion", count(DISTINCT "DeviceId") AS failing
               FROM failure_events WHERE "FailureDate" >= ? AND "FailureDate" < ? GROUP BY ALL""",
            params=[first, today],
        ).to_arrow_table()
        stored = reader.sql(
            f"""SELECT {_KEY_SQL}, {quoted(COUNT_COLUMN)} AS stored FROM {VIEW}
                WHERE {quoted(DATE_COLUMN)} >= ? AND {quoted(DATE_COLUMN)} < ?""",
            params=[first, today],
        ).to_arrow_table()
    report("writing install base")
    batch_id = hashlib.sha256(
        f"installs-seed-v1:{rows}:{days}:{ensure_utc(now).isoformat()}:{snapshot.version}".encode()
    ).hexdigest()
    with store.scratch() as con:
        con.register("seed_devices", _devices_per_version(rows, days, np.datetime64(today, "D")))
        con.register("seed_oems", _shares("OemPartner", _oem_partners(), oem_shares()))
        con.register("seed_os", _shares("OSVersion", [b[0] for b in voc.OS_BUILDS], os_shares()))
        con.register("seed_failing", failing)
        con.register("seed_stored", stored)
        count = quoted(COUNT_COLUMN)
        most = f"greatest(coalesce(e.{count}, 0), coalesce(f.failing, 0), coalesce(st.stored, 0))"
        con.execute(
            f"""CREATE TEMP TABLE seed_installs AS
                SELECT {_KEY_SQL}, {most} AS {count}
                FROM (SELECT d.{quoted(DATE_COLUMN)}, d."IhvPartner", o."OemPartner", d."DriverName",
                             d."DriverVersion", s."OSVersion",
                             CAST(round(d.devices * o.share * s.share) AS BIGINT) AS {count}
                      FROM seed_devices d, seed_oems o, seed_os s) e
                FULL OUTER JOIN seed_failing f USING ({_KEY_SQL})
                FULL OUTER JOIN seed_stored st USING ({_KEY_SQL})
                WHERE {most} > 0"""
        )
        total = int(con.execute("SELECT count(*) FROM seed_installs").fetchall()[0][0])
        added, replaced, version = commit_rows(
            store, con, "seed_installs", batch_id=batch_id, origin="seed", replace=True
        )
    return InstallSeedReport(total, added, replaced, time.perf_counter() - started, version)


def _devices_per_version(rows: int, days: int, today: np.datetime64) -> pa.Table:
    """Devices running each (vendor, driver, version) each day, before the split by maker and OS build."""
    dates = (today - np.arange(days, 0, -1)).astype("datetime64[D]")
    day_p = day_shares(today, days)
    per_driver = days * voc.VERSIONS_PER_DRIVER
    day_parts: list[npt.NDArray[np.datetime64]] = []
    device_parts: list[npt.NDArray[np.float64]] = []
    ihvs: list[str] = []
    drivers: list[str] = []
    versions: list[str] = []
    owners = vendors()
    for vendor, n in zip(owners, vendor_rows(owners, rows), strict=True):
        q = driver_shares(len(vendor.drivers))
        for k, driver in enumerate(vendor.drivers):
            _, factor = rollout.failure_mix(driver, days)
            # Expected failing devices / the share of devices failing = devices running the driver.
            devices = float(n) * day_p * q[k] / (rollout.FAILING_SHARE * factor)
            day_parts.append(np.repeat(dates, voc.VERSIONS_PER_DRIVER))
            device_parts.append((devices[:, None] * rollout.installed_shares(driver, days)).reshape(-1))
            ihvs += [vendor.name] * per_driver
            drivers += [driver] * per_driver
            versions += voc.driver_versions(driver) * days
    return pa.table(
        {
            DATE_COLUMN: pa.array(np.concatenate(day_parts), pa.date32()),
            "IhvPartner": pa.array(ihvs, pa.string()),
            "DriverName": pa.array(drivers, pa.string()),
            "DriverVersion": pa.array(versions, pa.string()),
            "devices": pa.array(np.concatenate(device_parts), pa.float64()),
        }
    )


def _oem_partners() -> list[str]:
    """Owners of the machines in ``oem_shares`` order, as the events name them (``OemPartner``)."""
    oem = next(p for p in DEMO_PARTNERS if p.oem_names)
    return [oem.name, *OTHER_OEMS]


def _shares(column: str, values: list[str], shares: npt.NDArray[np.float64]) -> pa.Table:
    return pa.table({column: pa.array(values, pa.string()), "share": pa.array(shares, pa.float64())})


def _no_progress(step: str) -> None:
    pass
