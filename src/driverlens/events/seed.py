"""Synthetic failure telemetry: vectorised with numpy, deterministic per seed; many vendors and makers, the
demo partners among them own a modest share (the rest belongs to vendors and makers that are not partners)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa

from driverlens.catalog import PartnerKind
from driverlens.clock import ensure_utc
from driverlens.events import rollout
from driverlens.events import vocabulary as voc
from driverlens.events.demo import DEMO_PARTNERS, OTHER_IHVS, OTHER_OEMS
from driverlens.events.schema import COLUMN_NAMES, create_table_sql, quoted, stored_value_sql
from driverlens.events.sql import string_literal
from driverlens.events.store import EventStore
from driverlens.events.write import commit_batch

CHUNK_ROWS = 250_000
# A shared telemetry store holds the failures of every vendor's drivers on every maker's machines; one
# partner owns a small share. Shares of events owned by the demo IHVs; vendors that are not partners
# (``demo.OTHER_IHVS``) own the rest with a Zipf skew.
DEMO_IHV_SHARES: dict[str, float] = {"Contoso Graphics": 0.12, "Fabrikam Audio": 0.07}
OTHER_IHV_ZIPF = 1.0
# Share of machines made by the demo OEM; the rest belong to makers that are not partners (Zipf).
DEMO_OEM_SHARE = 0.12
OTHER_OEM_ZIPF = 0.9
# Failure buckets of a driver: a few crash signatures dominate, as in real telemetry.
BUCKET_ZIPF = 1.3
# Distinct devices ~ rows/3: sampling n rows from a pool of M devices hits M*(1-exp(-n/M)) of them.
_POOL_FACTOR = 1.0 / (3.0 * (1.0 - np.exp(-2.85)))
_STAGING = "seed_rows"

SampleFormat = Literal["csv", "csv.gz", "jsonl", "parquet"]


@dataclass(frozen=True)
class SeedReport:
    rows: int
    seconds: float

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else float("inf")


def _dictionary(indices: npt.NDArray[np.int64], values: list[str | None]) -> pa.Array:
    missing = np.array([v is None for v in values], dtype=np.bool_)
    mask = missing[indices] if missing.any() else None
    dictionary = pa.array([v if v is not None else "" for v in values], pa.string())
    return pa.DictionaryArray.from_arrays(pa.array(indices.astype(np.int32), mask=mask), dictionary)


def _uuids(raw: npt.NDArray[np.uint8]) -> pa.Array:
    storage = pa.FixedSizeBinaryArray.from_buffers(
        pa.binary(16), len(raw), [None, pa.py_buffer(np.ascontiguousarray(raw).tobytes())]
    )
    return pa.ExtensionArray.from_storage(pa.uuid(), storage)


def _random_uuids(rng: np.random.Generator, n: int) -> npt.NDArray[np.uint8]:
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40  # version 4
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80  # RFC 4122 variant
    return raw


@dataclass(frozen=True)
class Vendor:
    """The owner of some drivers: a demo IHV partner or a vendor that is not a partner."""

    name: str
    drivers: tuple[str, ...]
    application_ids: tuple[str, ...]
    submission_ids: tuple[str, ...]
    share: float


def vendors() -> list[Vendor]:
    """Every driver vendor with its share of the events, in cluster-key (name) order."""
    demo = [p for p in DEMO_PARTNERS if p.kind is PartnerKind.IHV]
    rest = 1.0 - sum(DEMO_IHV_SHARES.get(p.name, 0.0) for p in demo)
    other_p = voc.zipf(len(OTHER_IHVS), OTHER_IHV_ZIPF) * rest
    vendors = [
        Vendor(p.name, p.drivers, p.application_ids, p.submission_ids, DEMO_IHV_SHARES.get(p.name, 0.0))
        for p in demo
    ] + [
        Vendor(o.name, o.drivers, o.application_ids, o.submission_ids, float(share))
        for o, share in zip(OTHER_IHVS, other_p, strict=True)
    ]
    return sorted((v for v in vendors if v.share > 0), key=lambda v: v.name)


class _Generator:
    """Holds the device pool and vocabularies; yields Arrow chunks of events in cluster order."""

    def __init__(self, rows: int, days: int, seed: int, now: datetime) -> None:
        self.rows, self.days = rows, days
        self.rng = np.random.default_rng(seed)
        self.today = np.datetime64(ensure_utc(now).date(), "D")
        self.ihvs = vendors()
        oem = next(p for p in DEMO_PARTNERS if p.kind is PartnerKind.OEM)
        self.oems = [oem.oem_names[0], *OTHER_OEMS]
        self.oem_partners = [oem.name, *OTHER_OEMS]
        self._make_devices(max(1, round(rows * _POOL_FACTOR)))

    def _make_devices(self, m: int) -> None:
        """The device pool as pure functions of a device's index: memory does not grow with the pool.

        Each attribute is drawn from its distribution by hashing (seed, attribute, index), so a device
        keeps its id, maker, model, CPU, OS, ... across every event and every chunk, and 100M events need
        no more memory than 1M (a stored pool cost ~90 bytes per device, 3 GB at 100M events).
        """
        self.pool = m
        self.salt = int(self.rng.integers(0, 1 << 62))
        oem_p = oem_shares()
        self.models = [(i, model) for i, o in enumerate(self.oems) for model in voc.oem_models(o)]
        self.per_oem = len(voc.MODEL_SERIES)
        self.archs, arch_p = voc.weights(voc.ARCHITECTURES)
        self.cpus = [(a, c) for a in self.archs for c in voc.CPUS[a]]
        self.cpu_offset = np.cumsum([0] + [len(voc.CPUS[a]) for a in self.archs])[:-1]
        self.cpu_count = np.array([len(voc.CPUS[a]) for a in self.archs])
        self.cdf = {
            "oem": np.cumsum(oem_p),
            "series": np.cumsum(voc.zipf(self.per_oem, 0.8)),
            "arch": np.cumsum(arch_p),
            "os": np.cumsum(os_shares()),
            "market": np.cumsum(voc.weights(voc.MARKETS)[1]),
            "type": np.cumsum(voc.weights(voc.DEVICE_TYPES)[1]),
            "ring": np.cumsum(voc.weights(voc.FLIGHT_RINGS)[1]),
            "sku": np.cumsum(voc.weights(voc.SKUS)[1]),
        }

    def _hash(self, index: npt.NDArray[np.int64], attribute: int) -> npt.NDArray[np.uint64]:
        """splitmix64 of (salt, attribute, index): uniform 64-bit values, the same for the same device."""
        with np.errstate(over="ignore"):
            z = index.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15) + np.uint64(
                (self.salt * 1_000_003 + attribute * 0xBF58476D) & 0xFFFFFFFFFFFFFFFF
            )
            z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
            z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
            return z ^ (z >> np.uint64(31))

    def _draw(self, index: npt.NDArray[np.int64], attribute: int, name: str) -> npt.NDArray[np.int64]:
        uniform = (self._hash(index, attribute) >> np.uint64(11)).astype(np.float64) / float(1 << 53)
        cdf = self.cdf[name]
        return np.minimum(np.searchsorted(cdf, uniform * cdf[-1], side="right"), len(cdf) - 1).astype(
            np.int64
        )

    def _devices(self, index: npt.NDArray[np.int64]) -> dict[str, npt.NDArray[np.int64]]:
        oem = self._draw(index, 1, "oem")
        arch = self._draw(index, 3, "arch")
        cpu_pick = (self._hash(index, 4) % np.uint64(1 << 30)).astype(np.int64)
        return {
            "model": oem * self.per_oem + self._draw(index, 2, "series"),
            "oem": oem,
            "arch": arch,
            "cpu": self.cpu_offset[arch] + cpu_pick % self.cpu_count[arch],
            "os": self._draw(index, 5, "os"),
            "market": self._draw(index, 6, "market"),
            "type": self._draw(index, 7, "type"),
            "ring": self._draw(index, 8, "ring"),
            "sku": self._draw(index, 9, "sku"),
        }

    def _device_ids(self, index: npt.NDArray[np.int64]) -> npt.NDArray[np.uint8]:
        raw = np.empty((len(index), 2), dtype=np.uint64)
        raw[:, 0] = self._hash(index, 10)
        raw[:, 1] = self._hash(index, 11)
        out = raw.view(np.uint8).reshape(-1, 16).copy()
        out[:, 6] = (out[:, 6] & 0x0F) | 0x40  # version 4
        out[:, 8] = (out[:, 8] & 0x3F) | 0x80  # RFC 4122 variant
        return out

    def chunks(self, chunk_rows: int = CHUNK_ROWS) -> Iterator[pa.Table]:
        counts = vendor_rows(self.ihvs, self.rows)
        offsets = np.arange(self.days, 0, -1)  # days before today, oldest first
        day_p = day_shares(self.today, self.days)
        for partner, n in zip(self.ihvs, counts, strict=True):
            if n == 0:
                continue
            per_day = self.rng.multinomial(int(n), day_p)
            day = np.repeat(self.today - offsets, per_day)  # sorted by date
            for start in range(0, int(n), chunk_rows):
                yield self._chunk(partner, day[start : start + chunk_rows])

    def _chunk(self, partner: Vendor, day: npt.NDArray[np.datetime64]) -> pa.Table:
        rng, n = self.rng, len(day)
        drivers = list(partner.drivers)
        driver = rng.choice(len(drivers), size=n, p=driver_shares(len(drivers)))
        version = self._versions(drivers, driver, day)
        local_bucket = rng.choice(
            voc.BUCKETS_PER_DRIVER, size=n, p=voc.zipf(voc.BUCKETS_PER_DRIVER, BUCKET_ZIPF)
        )
        bucket = driver * voc.BUCKETS_PER_DRIVER + local_bucket
        tables = [voc.buckets_for(d) for d in drivers]
        names = [x for t in tables for x in t.names]
        hashes = np.frombuffer(b"".join(h.bytes for t in tables for h in t.hashes), np.uint8).reshape(-1, 16)
        kernel_mode = np.concatenate([t.kernel_mode for t in tables])
        kernel_event = np.concatenate([t.kernel_event for t in tables])
        dev = rng.integers(0, self.pool, size=n)
        d = self._devices(dev)
        seconds = rng.integers(0, 86_400, size=n).astype("timedelta64[s]")
        failed_at = day.astype("datetime64[s]") + seconds
        collected = failed_at + rng.integers(60, 6 * 3600, size=n).astype("timedelta64[s]")
        oem_partner = d["oem"]
        cab_types, cab_p = voc.weights(voc.CAB_TYPES)
        versions = [v for drv in drivers for v in voc.driver_versions(drv)]
        dv = driver * voc.VERSIONS_PER_DRIVER + version
        hw_per_driver = 4
        hardware = [voc.hardware_id(drv, i) for drv in drivers for i in range(hw_per_driver)]
        cols: dict[str, pa.Array] = {
            "EventId": _uuids(_random_uuids(rng, n)),
            "IhvPartner": _dictionary(np.zeros(n, np.int64), [partner.name]),
            "OemPartner": _dictionary(oem_partner, list(self.oem_partners)),
            "FailureDate": pa.array(day.astype("datetime64[D]"), pa.date32()),
            "FailureDateTime": pa.array(failed_at.astype("datetime64[us]"), pa.timestamp("us")),
            "ApplicationId": _dictionary(dv % len(partner.application_ids), list(partner.application_ids)),
            "SubmissionId": _dictionary(dv % len(partner.submission_ids), list(partner.submission_ids)),
            "FailureName": _dictionary(bucket, list(names)),
            "FailureHash": _uuids(hashes[bucket]),
            "Symbol": _dictionary(bucket, [s for t in tables for s in t.symbols]),
            "OSVersion": _dictionary(d["os"], [b[0] for b in voc.OS_BUILDS]),
            "OSName": _dictionary(d["os"], [b[1] for b in voc.OS_BUILDS]),
            "EventType": _dictionary(kernel_event[bucket].astype(np.int64), ["System", "Kernel"]),
            "Market": _dictionary(d["market"], [m for m, _ in voc.MARKETS]),
            "DeviceType": _dictionary(d["type"], [t for t, _ in voc.DEVICE_TYPES]),
            "DriverName": _dictionary(driver, list(drivers)),
            "DriverVersion": _dictionary(dv, list(versions)),
            "Architecture": _dictionary(d["arch"], list(self.archs)),
            "OEMName": _dictionary(d["oem"], list(self.oems)),
            "OEMModel": _dictionary(d["model"], [m[1][0] for m in self.models]),
            "Baseboard": _dictionary(d["model"], [m[1][2] for m in self.models]),
            "ModelFamily": _dictionary(d["model"], [m[1][1] for m in self.models]),
            "FlightRing": _dictionary(d["ring"], [r for r, _ in voc.FLIGHT_RINGS]),
            "Mode": _dictionary(kernel_mode[bucket].astype(np.int64), ["User", "Kernel"]),
            "CPUName": _dictionary(d["cpu"], [c for _, c in self.cpus]),
            "OSSKUType": _dictionary(d["sku"], [s for s, _ in voc.SKUS]),
            "ReleaseName": _dictionary(d["os"], [b[2] for b in voc.OS_BUILDS]),
            "CabType": _dictionary(rng.choice(len(cab_types), size=n, p=cab_p), list(cab_types)),
            "CabIdHash": _uuids(_random_uuids(rng, n)),
            "DeviceId": _uuids(self._device_ids(dev)),
            "HardwareId": _dictionary(driver * hw_per_driver + dev % hw_per_driver, list(hardware)),
            "CabCollectionTime": pa.array(collected.astype("datetime64[us]"), pa.timestamp("us")),
            "CabExpirationTime": pa.array(
                (collected + np.timedelta64(30, "D")).astype("datetime64[us]"), pa.timestamp("us")
            ),
            "EventCount": pa.array(rng.geometric(0.55, size=n).astype(np.int64)),
        }
        return pa.table(cols)

    def _versions(
        self, drivers: list[str], driver: npt.NDArray[np.int64], day: npt.NDArray[np.datetime64]
    ) -> npt.NDArray[np.int64]:
        """Each failure's driver version, drawn from the day's rollout (installed share x failure rate)."""
        mix = np.stack([rollout.failure_mix(d, self.days)[0] for d in drivers])  # driver, day, version
        t = self.days - (self.today - day.astype("datetime64[D]")).astype(np.int64)
        cdf = np.cumsum(mix[driver, t], axis=1)
        u = self.rng.random(len(day))[:, None] * cdf[:, -1:]
        return np.minimum((u >= cdf).sum(axis=1), voc.VERSIONS_PER_DRIVER - 1).astype(np.int64)


def vendor_rows(owners: list[Vendor], rows: int) -> npt.NDArray[np.int64]:
    """Events of each vendor (``vendors()`` order) out of ``rows``."""
    shares = np.array([v.share for v in owners])
    counts = np.floor(shares / shares.sum() * rows).astype(np.int64)
    counts[int(np.argmax(shares))] += rows - counts.sum()
    return counts


def day_shares(today: np.datetime64, days: int) -> npt.NDArray[np.float64]:
    """Share of a vendor's events on each of the ``days`` days before ``today``, oldest first: a slow
    rise, and quieter weekends."""
    offsets = np.arange(days, 0, -1)
    dow = (today - offsets).astype("datetime64[D]").astype(np.int64) % 7  # 0 = Thursday
    day_w = (1.0 + 0.004 * np.arange(days)) * np.where((dow == 2) | (dow == 3), 0.75, 1.0)
    return np.asarray(day_w / day_w.sum(), dtype=np.float64)


def driver_shares(drivers: int) -> npt.NDArray[np.float64]:
    """Share of a vendor's events on each of its drivers (most failing first)."""
    return voc.zipf(drivers, 1.0)


def oem_shares() -> npt.NDArray[np.float64]:
    """Share of devices made by each maker, the demo OEM first then ``OTHER_OEMS``."""
    rest = voc.zipf(len(OTHER_OEMS), OTHER_OEM_ZIPF) * (1 - DEMO_OEM_SHARE)
    return np.concatenate(([DEMO_OEM_SHARE], rest))


def os_shares() -> npt.NDArray[np.float64]:
    """Share of devices on each OS build of ``vocabulary.OS_BUILDS``."""
    return voc.weights(tuple((b[0], b[3]) for b in voc.OS_BUILDS))[1]


def _staging_select(source: str, *, stored: bool = False) -> str:
    """Arrow chunk -> catalogue types (generated UUIDs become text where the catalogue says so); with
    ``stored``, as the table stores them (UUIDs as 16 bytes)."""
    special = {
        "EventId": 'CAST("EventId" AS VARCHAR)',
        "CabIdHash": "replace(CAST(\"CabIdHash\" AS VARCHAR), '-', '')",
    }
    values = {c: special.get(c, quoted(c)) for c in COLUMN_NAMES}
    if stored:
        values = {c: stored_value_sql(c, v) for c, v in values.items()}
    exprs = [f"{v} AS {quoted(c)}" for c, v in values.items()]
    return f"SELECT {', '.join(exprs)} FROM {source}"


def generate_chunks(*, rows: int, days: int = 90, seed: int = 0, now: datetime) -> Iterator[pa.Table]:
    """Raw Arrow chunks of synthetic events, in (IHV owner, FailureDate) order."""
    if rows < 0 or days < 1:
        raise ValueError("rows must be >= 0 and days >= 1")
    if rows == 0:
        return iter(())
    return _Generator(rows, days, seed, now).chunks()


SeedProgress = Callable[[int, str], None]
"""Called with the rows written so far and the current step, after every chunk and between steps."""


def seed_events(
    store: EventStore,
    *,
    rows: int,
    days: int = 90,
    seed: int = 0,
    now: datetime,
    progress: SeedProgress | None = None,
) -> SeedReport:
    """Add ``rows`` synthetic events over the ``days`` UTC days before ``now``, as one commit.

    Chunks are staged in a scratch database on disk, so memory does not grow with ``rows``; seeding the
    same arguments again adds nothing (the batch id is derived from them).
    """
    started = time.perf_counter()
    report = progress or _no_progress
    staged = 0
    batch_id = hashlib.sha256(
        f"seed-v1:{rows}:{days}:{seed}:{ensure_utc(now).isoformat()}".encode()
    ).hexdigest()
    with store.scratch() as con:
        con.execute(create_table_sql(_STAGING))
        report(0, "writing events")
        for chunk in generate_chunks(rows=rows, days=days, seed=seed, now=now):
            con.register("seed_chunk", chunk)
            con.execute(f"INSERT INTO {_STAGING} {_staging_select('seed_chunk', stored=True)}")
            con.unregister("seed_chunk")
            staged += chunk.num_rows
            report(staged, "writing events")
        result = commit_batch(
            store.lake,
            con,
            _STAGING,
            batch_id=batch_id,
            operation="seed",
            progress=lambda step: report(staged, step),
        )
    return SeedReport(rows=result.loaded, seconds=time.perf_counter() - started)


def _no_progress(rows: int, step: str) -> None:
    pass


def write_sample_file(
    path: Path, rows: int, fmt: SampleFormat, *, seed: int = 0, now: datetime | None = None, days: int = 90
) -> Path:
    """Write synthetic events as an ingestible file (CSV with header, JSON Lines or Parquet)."""
    when = now or (datetime(2026, 1, 1) + timedelta(days=days))
    con = duckdb.connect()
    try:
        first = True
        for chunk in generate_chunks(rows=rows, days=days, seed=seed, now=when):
            con.register("seed_chunk", chunk)
            verb = "CREATE TEMP TABLE sample AS" if first else "INSERT INTO sample"
            con.execute(f"{verb} {_staging_select('seed_chunk')}")
            con.unregister("seed_chunk")
            first = False
        if first:
            raise ValueError("rows must be >= 1 for a sample file")
        options = {
            "csv": "FORMAT csv, HEADER true",
            "csv.gz": "FORMAT csv, HEADER true, COMPRESSION gzip",
            "jsonl": "FORMAT json",
            "parquet": "FORMAT parquet",
        }[fmt]
        path.parent.mkdir(parents=True, exist_ok=True)
        con.execute(f"COPY sample TO {string_literal(str(path))} ({options})")
    finally:
        con.close()
    return path
