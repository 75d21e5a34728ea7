"""Delta report tests' harness: a real event store, a real worker on DuckDB, and an independent oracle.

The oracle works from the raw events in plain Python: it aggregates each run's window into the full
result, then applies the documented delta rules (docs/templates.md, "Delta reports").
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

import duckdb
from sqlalchemy import select

from driverlens.blobs.store import LocalBlobStore
from driverlens.catalog import STORED_COLUMNS
from driverlens.clock import FrozenClock
from driverlens.engines import DuckDBEngine, Engine
from driverlens.events import EventStore
from driverlens.metadata import Partner, Run
from driverlens.metadata.database import Database
from driverlens.runs.execution import CallbackSink
from driverlens.runs.worker import Worker, WorkerOptions
from driverlens.settings import Settings
from tests.engines.conftest import store_rows
from tests.runs.conftest import T0, Scheduled

PARTNER = "Contoso Graphics"
RANK = {"New": 1, "Regressed": 2, "Resolved": 3}


def event(day: date, failure_hash: uuid.UUID, **fields: Any) -> dict[str, Any]:
    """One stored event row (everything not given is NULL)."""
    row: dict[str, Any] = {name: None for name, _ in STORED_COLUMNS}
    row.update(
        EventId=uuid.uuid4().hex,
        IhvPartner=PARTNER,
        OemPartner="Fabrikam PCs",
        FailureDate=day,
        FailureDateTime=datetime.combine(day, datetime.min.time()) + timedelta(hours=3),
        FailureHash=failure_hash,
        FailureName=f"0x9F_{str(failure_hash)[:6]}",
        DriverName="cgfx.sys",
        EventType="Kernel",
        DeviceId=uuid.uuid4(),
        EventCount=1,
    )
    row.update(fields)
    return row


@dataclass
class DeltaHarness:
    """A delta report scheduled daily from T0, run one due run at a time on a frozen clock."""

    db: Database
    sched: Scheduled
    store: EventStore
    blobs: LocalBlobStore
    worker: Worker
    clock: FrozenClock
    events: list[dict[str, Any]] = field(default_factory=list)
    #: The events stored when each run ran (run id -> rows).
    seen: dict[int, list[dict[str, Any]]] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        db: Database,
        settings: Settings,
        tmp_path: Path,
        make_report: Callable[..., Scheduled],
        body: dict[str, Any],
        *,
        output_format: str = "parquet",
        callback_url: str | None = None,
        callbacks: CallbackSink | None = None,
        engine: Callable[[EventStore], Engine] = DuckDBEngine,
        recurrence: int = 3,
        partner: Partner | None = None,
    ) -> DeltaHarness:
        clock = FrozenClock(T0 + timedelta(minutes=1))
        store = EventStore(tmp_path / f"events-{uuid.uuid4().hex[:6]}")
        sched = make_report(
            db, partner=partner, partner_name=PARTNER, recurrence=recurrence, body=body,
            output_format=output_format, callback_url=callback_url,
        )  # fmt: skip
        blobs = LocalBlobStore(tmp_path / "blobs", clock=clock)
        options = WorkerOptions(lease_s=60, poll_s=0.02, grace_s=5, compact=False, purge=False)
        worker = Worker(db, engine(store), blobs, settings, clock, "w1", options=options, callbacks=callbacks)
        worker.tmp_dir.mkdir(parents=True, exist_ok=True)
        return cls(db, sched, store, blobs, worker, clock)

    def add(self, rows: Iterable[dict[str, Any]]) -> None:
        rows = list(rows)
        if rows:
            store_rows(self.store, rows)
            self.events.extend(rows)

    def run_next(self) -> Run:
        """Run the next due run (the clock moves to its due time) and return it as stored."""
        self.worker.housekeeping()
        assert self.worker.run_one(), "no run was due"
        with self.db.session() as session:
            run = session.scalars(
                select(Run)
                .where(Run.report_id == self.sched.report.id, Run.finished_at.is_not(None))
                .order_by(Run.finished_at.desc(), Run.id.desc())
            ).first()
        assert run is not None
        self.seen[run.id] = list(self.events)
        self.clock.advance(timedelta(hours=24))
        return run

    def rows_of(self, run: Run) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Columns and rows of a run's report file (Parquet)."""
        path = self.blobs.path_for(run.location)
        with duckdb.connect() as con:
            cursor = con.execute(f"SELECT * FROM read_parquet('{path}')")
            return [d[0] for d in cursor.description or []], cursor.fetchall()


# -- the oracle --------------------------------------------------------------------------------------


def _output(column: str, row: dict[str, Any]) -> Any:
    value = row[column]
    return str(value) if isinstance(value, uuid.UUID) else value


def full_result(
    events: Iterable[dict[str, Any]], window: tuple[date, date], projection: list[str], aggregates: list[str]
) -> dict[tuple[Any, ...], dict[str, Any]]:
    """The template's full result from raw events: projection tuple -> aggregate values."""
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for row in events:
        if row["IhvPartner"] != PARTNER or not window[0] <= row["FailureDate"] < window[1]:
            continue
        groups.setdefault(tuple(_output(c, row) for c in projection), []).append(row)
    result = {}
    for key, rows in groups.items():
        values: dict[str, Any] = {}
        for aggregate in aggregates:
            func, column = aggregate[:-1].split("(")
            present = [r[column] for r in rows if r[column] is not None]
            if func == "SUM":
                values[aggregate] = sum(present)
            elif func == "COUNT":
                values[aggregate] = len(present)
            elif func == "DCOUNT":
                values[aggregate] = len(set(present))
            elif func == "AVG":
                values[aggregate] = sum(present) / len(present)
            elif func == "MAX":
                values[aggregate] = max(present)
            else:
                raise AssertionError(aggregate)
        result[key] = values
    return result


def _regressed(now: Any, before: Any, ratio: float) -> bool:
    before = 0 if before is None else before
    if now is None:
        return False
    if isinstance(now, float) or isinstance(before, float):
        return bool(now >= ratio * before and now > before)
    return Fraction(now) >= Fraction(str(ratio)) * Fraction(before) and now > before


def expected_delta(
    current: dict[tuple[Any, ...], dict[str, Any]],
    previous: dict[tuple[Any, ...], dict[str, Any]],
    body: dict[str, Any],
) -> tuple[list[tuple[Any, ...]], dict[str, int]]:
    """The rows of a delta report's file (in file order) and the counts per status, from two full results."""
    projection: list[str] = body["projection"]
    aggregates: list[str] = body["aggregation"]["aggregatedColumns"]
    spec = body["delta"]
    key_at = [projection.index(k) for k in spec["key"]]
    measure, ratio = spec["measure"], float(spec.get("regressedRatio", 2.0))

    def by_key(result: dict[tuple[Any, ...], dict[str, Any]]) -> dict[tuple[Any, ...], tuple[Any, ...]]:
        keyed: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        for projected in result:
            key = tuple(projected[i] for i in key_at)
            assert key not in keyed, "the generated data must keep the key unique"
            keyed[key] = projected
        return keyed

    now, before = by_key(current), by_key(previous)
    rows: list[tuple[Any, ...]] = []
    for key in now.keys() | before.keys():
        if key not in before:
            projected, status, prev_measure = now[key], "New", None
        elif key not in now:
            projected, status, prev_measure = before[key], "Resolved", previous[before[key]][measure]
        else:
            projected, prev_measure = now[key], previous[before[key]][measure]
            if not _regressed(current[projected][measure], prev_measure, ratio):
                continue
            status = "Regressed"
        values = current.get(projected, {}) if status != "Resolved" else {}
        rows.append((*projected, *(values.get(a) for a in aggregates), status, prev_measure))
    counts = {s: sum(1 for r in rows if r[-2] == s) for s in RANK}
    rows.sort(key=lambda r: _order(r, body))
    if body.get("limit"):
        rows = rows[: body["limit"]]
    return rows, counts


def expected_baseline(
    current: dict[tuple[Any, ...], dict[str, Any]], body: dict[str, Any]
) -> list[tuple[Any, ...]]:
    aggregates: list[str] = body["aggregation"]["aggregatedColumns"]
    rows = [(*p, *(v[a] for a in aggregates), "Baseline", None) for p, v in current.items()]
    rows.sort(key=lambda r: _order(r, body, rank=False))
    if body.get("limit"):
        rows = rows[: body["limit"]]
    return rows


def _order(row: tuple[Any, ...], body: dict[str, Any], *, rank: bool = True) -> tuple[Any, ...]:
    """The documented file order: status, the template's orderby (NULLs last), the projection."""
    names = [*body["projection"], *body["aggregation"]["aggregatedColumns"]]
    parts: list[Any] = [RANK[row[-2]] if rank else 0]
    ordered = set()
    for item in body.get("orderby", []):
        value = row[names.index(item["attribute"])]
        ordered.add(item["attribute"])
        if value is None:
            parts.append((1, 0))
        else:
            parts.append((0, -value if item.get("sort") == "desc" else value))
    parts.extend(row[names.index(c)] for c in body["projection"] if c not in ordered)
    return tuple(parts)


def random_events(
    rng: random.Random, days: list[date], hashes: list[uuid.UUID], n: int
) -> list[dict[str, Any]]:
    drivers = ["cgfx.sys", "cnet.sys"]
    devices = [uuid.UUID(int=rng.getrandbits(128)) for _ in range(8)]
    rows = []
    for _ in range(n):
        failure_hash = rng.choice(hashes)
        rows.append(
            event(
                rng.choice(days),
                failure_hash,
                DriverName=rng.choice(drivers),
                DeviceId=rng.choice(devices),
                EventCount=rng.randint(1, 9),
                IhvPartner=PARTNER if rng.random() < 0.9 else "Other IHV",
            )
        )
    return rows
