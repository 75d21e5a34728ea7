"""The raw-driver hot paths (sqlite3, psycopg) store and read exactly what the SQLAlchemy path does."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
import pytest
from sqlalchemy import select, text, update

from driverlens.auth import service
from driverlens.auth.principal import Principal
from driverlens.catalog import PartnerKind
from driverlens.errors import NotFound
from driverlens.metadata import Partner, Run, RunState, hotpath
from driverlens.metadata.database import Database
from driverlens.metadata.group_commit import TemplateInserts
from driverlens.metadata.hotpath import HotPath, SqliteHotPath
from driverlens.metadata.hotpath_postgres import PostgresHotPath
from driverlens.metadata.repositories import reports as report_repo
from driverlens.metadata.repositories import templates as template_repo
from driverlens.runs.planner import plan_due_runs
from driverlens.usecases import report_templates, reportdata

NOW = datetime(2026, 3, 10, 8, 30, 15, 123456, tzinfo=UTC)
BODY = {
    "view": "IHVDriver",
    "projection": ["FailureName", "DriverName"],
    "dateRange": {"reportPeriod": "Last7Days"},
    "condition": {"and": [{"attribute": "Architecture", "operator": "eq", "value": "x64"}]},
    "limit": 10,
}


class CountingExecutor(ThreadPoolExecutor):
    def __init__(self) -> None:
        super().__init__(max_workers=1)
        self.submitted = 0

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.submitted += 1
        return super().submit(fn, *args, **kwargs)


def _caller(db: Database, partner: Partner, client_id: str = "-") -> Principal:
    return Principal(partner.id, partner.name, PartnerKind.IHV, partner.tenant_id, client_id)


def _hot(db: Database, checkpoints: CountingExecutor | None = None) -> HotPath:
    hot = hotpath.for_database(db, checkpoints=checkpoints)
    assert hot is not None
    return hot


def test_a_sqlite_file_and_postgresql_get_a_hot_path(sqlite_db: Database) -> None:
    assert isinstance(hotpath.for_database(sqlite_db), SqliteHotPath)
    assert SqliteHotPath.for_database(Database("sqlite://")) is None
    assert hotpath.for_database(Database("sqlite://")) is None
    assert Database("sqlite://").fast is None
    assert hotpath.sqlite_file(Database("postgresql://u@127.0.0.1:1/x")) is None
    # Built without connecting: connections are opened on first use.
    assert isinstance(hotpath.for_database(Database("postgresql://u@127.0.0.1:1/x")), PostgresHotPath)
    assert Database("postgresql://u@127.0.0.1:1/x", fast_path=False).fast is None


@pytest.mark.parametrize("now", [NOW, NOW.replace(microsecond=0)], ids=["micros", "whole-second"])
def test_inserted_template_reads_back_like_an_orm_insert(
    db: Database, make_partner: Callable[..., Partner], now: datetime
) -> None:
    partner = make_partner(db)
    caller = _caller(db, partner)
    executor = CountingExecutor()
    hot = _hot(db, executor)
    try:
        canonical = report_templates.new_template_body(caller, BODY)
        if db.is_sqlite:
            (fast_id,) = hot.try_insert_templates([(partner.id, canonical, now)]) or [None]
        else:  # a PostgreSQL commit waits for its WAL flush: never on the event loop
            assert hot.try_insert_templates([(partner.id, canonical, now)]) is None
            (fast_id,) = hot.insert_templates([(partner.id, canonical, now)])
        (queued_id,) = hot.insert_templates([(partner.id, canonical, now)])
        orm_id = report_templates.create_template(db, caller, BODY, now)
        assert fast_id is not None and fast_id < queued_id < orm_id
        with db.session() as session:
            stored = [
                template_repo.get_template(session, partner_id=partner.id, template_id=i)
                for i in (fast_id, queued_id, orm_id)
            ]
        for record in stored:
            assert record is not None
            assert (record.version, record.current_version, record.body) == (1, 1, canonical)
            assert record.created_at == record.modified_at == record.version_created_at == now
        # Stored values are identical to the ORM's: the stamps, and the body's text byte for byte
        # (SQLite compares these columns as text; PostgreSQL's json keeps the text as bound).
        with db.engine.connect() as conn:
            stamps = conn.exec_driver_sql(
                "SELECT t.created_at, t.modified_at, v.created_at, CAST(v.body AS TEXT), t.current_version, "
                "t.deleted_at, v.version FROM templates t JOIN template_versions v ON v.template_id = t.id "
                f"WHERE t.id IN ({fast_id}, {queued_id}, {orm_id}) ORDER BY t.id"
            ).all()
        assert len(stamps) == 3 and stamps[0] == stamps[1] == stamps[2]
        other = make_partner(db)
        with db.session() as session:
            assert template_repo.get_template(session, partner_id=other.id, template_id=fast_id) is None
    finally:
        hot.close()
        executor.shutdown()


def test_non_waiting_insert_declines_while_another_connection_writes(
    sqlite_db: Database, make_partner: Callable[..., Partner]
) -> None:
    partner = make_partner(sqlite_db)
    executor = CountingExecutor()
    hot = _hot(sqlite_db, executor)
    try:
        with sqlite_db.write_connection():
            assert hot.try_insert_templates([(partner.id, BODY, NOW)]) is None
        assert hot.try_insert_templates([(partner.id, BODY, NOW)]) is not None
        # Without an executor for checkpoints it never writes at all.
        assert _hot(sqlite_db).try_insert_templates([(partner.id, BODY, NOW)]) is None
    finally:
        hot.close()
        executor.shutdown()


def test_non_waiting_writes_ask_for_checkpoints(
    sqlite_db: Database, make_partner: Callable[..., Partner], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hotpath, "CHECKPOINT_EVERY_COMMITS", 3)
    partner = make_partner(sqlite_db)
    executor = CountingExecutor()
    hot = _hot(sqlite_db, executor)
    try:
        for _ in range(7):
            assert hot.try_insert_templates([(partner.id, BODY, NOW)]) is not None
        executor.shutdown(wait=True)
        assert executor.submitted == 2
    finally:
        hot.close()


def test_client_revocation_is_seen_at_once(db: Database) -> None:
    hot = _hot(db)
    try:
        with db.session() as session:
            service.add_partner(session, "Hot Path Graphics", PartnerKind.IHV)
            client_id, _ = service.add_client(session, "Hot Path Graphics")
        assert hot.client_live(client_id)
        assert not hot.client_live("no-such-client")
        with db.session() as session:
            service.revoke_client(session, client_id)
        assert not hot.client_live(client_id)
    finally:
        hot.close()


@pytest.mark.postgres
def test_a_postgres_connection_that_died_idle_is_replaced(postgres_db: Database) -> None:
    hot = _hot(postgres_db)
    try:
        with postgres_db.session() as session:
            service.add_partner(session, "Hot Path Graphics", PartnerKind.IHV)
            client_id, _ = service.add_client(session, "Hot Path Graphics")
        pids = [hot.client_live(client_id) for _ in range(3)]
        assert pids == [True] * 3
        with postgres_db.session() as session:  # what a server restart does to the idle connection
            killed = session.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE pid <> pg_backend_pid() AND datname = current_database() "
                    "AND application_name = '' AND state = 'idle' AND query LIKE 'SELECT 1 FROM clients%'"
                )
            ).all()
        assert killed and all(row[0] for row in killed)
        assert hot.client_live(client_id)
        assert not hot.client_live("no-such-client")
    finally:
        hot.close()


def _link(key: str, filename: str, sha256: str | None) -> str:
    return f"https://links/{key}/{filename}/{sha256}"


def test_report_data_is_the_same_on_both_paths(db: Database, make_partner: Callable[..., Partner]) -> None:
    partner, other = make_partner(db), make_partner(db)
    caller, stranger = _caller(db, partner), _caller(db, other)
    now = datetime.now(UTC).replace(microsecond=0)
    template_id = report_templates.create_template(db, caller, BODY, now)
    with db.session() as session:
        report = report_repo.create_report(
            session,
            partner_id=partner.id,
            template_id=template_id,
            start_time=now - timedelta(days=5, hours=1),
            interval_hours=24,
            recurrence=10,
            now=now,
        )
        report_id, empty_id = report.id, report.id + 1
        report_repo.create_report(
            session,
            partner_id=partner.id,
            template_id=template_id,
            start_time=now + timedelta(days=3),
            interval_hours=24,
            recurrence=1,
            now=now,
        )
    assert plan_due_runs(db, now) >= 5
    with db.session() as session:
        first = session.scalars(select(Run.id).where(Run.report_id == report_id).order_by(Run.due_at)).first()
        session.execute(
            update(Run)
            .where(Run.id == first)
            .values(
                state=RunState.COMPLETED,
                location="k/one.csv",
                sha256="ab" * 32,
                store_version=7,
                data_newest_event_at=now - timedelta(hours=3, microseconds=250),
                delta_summary={"baseline": False, "new": 2, "keys": ["a", "b"], "ratio": 0.5},
            )
        )
    # The same store without the fast path: every statement through SQLAlchemy.
    orm_db = Database(db.url, fast_path=False)
    hot = db
    start, end = (now - timedelta(days=10)).date(), now.date()
    try:
        assert orm_db.fast is None and db.fast is not None
        via_orm = reportdata.report_data(orm_db, caller, report_id, start, end, _link)
        via_hot = reportdata.report_data(hot, caller, report_id, start, end, _link)
        assert via_hot == via_orm
        assert len(via_hot) >= 5
        assert via_hot[0].status is RunState.COMPLETED and via_hot[0].location.endswith("/" + "ab" * 32)
        assert via_hot[0].due.tzinfo is UTC
        assert via_hot[0].store_version == 7
        assert via_hot[0].delta == {"baseline": False, "new": 2, "keys": ["a", "b"], "ratio": 0.5}
        newest = via_hot[0].newest_event
        assert newest == now - timedelta(hours=3, microseconds=250) and newest is not None
        assert newest.tzinfo is UTC
        assert all(item.location == "" for item in via_hot[1:])
        # A report with no runs yet is an empty list; another partner's or a missing id is NotFound.
        assert reportdata.report_data(hot, caller, empty_id, start, end, _link) == []
        for who, rid in ((stranger, report_id), (caller, report_id + 100)):
            for path in (orm_db, hot):
                with pytest.raises(NotFound):
                    reportdata.report_data(path, who, rid, start, end, _link)
        # The window is whole UTC days, inclusive at both ends.
        day = via_hot[1].due.date()
        one_day = reportdata.report_data(hot, caller, report_id, day, day, _link)
        assert [i.due for i in one_day] == [i.due for i in via_hot if i.due.date() == day]
        assert reportdata.report_data(hot, caller, report_id, date(2001, 1, 1), date(2001, 1, 2), _link) == []
    finally:
        orm_db.dispose()


def _run_inserts(
    inserts: TemplateInserts, rows: list[tuple[int, dict[str, Any], datetime]]
) -> list[int | BaseException]:
    async def main() -> list[int | BaseException]:
        tasks = [inserts.insert(*row) for row in rows]
        return await asyncio.gather(*tasks, return_exceptions=True)

    return asyncio.run(main())


def test_creations_in_one_loop_turn_share_one_transaction(
    db: Database, make_partner: Callable[..., Partner], monkeypatch: pytest.MonkeyPatch
) -> None:
    partner = make_partner(db)
    executor = CountingExecutor()
    hot = _hot(db, executor)
    batches: list[int] = []
    # SQLite writes the batch on the event loop; PostgreSQL always on the writer thread.
    writes = "try_insert_templates" if db.is_sqlite else "insert_templates"
    original = getattr(hot, writes)

    def spy(rows: Any) -> list[int] | None:
        batches.append(len(rows))
        result: list[int] | None = original(rows)
        return result

    monkeypatch.setattr(hot, writes, spy)
    try:
        ids = _run_inserts(TemplateInserts(hot, executor), [(partner.id, BODY, NOW)] * 10)
        assert batches == [10]
        assert len(set(ids)) == 10 and all(isinstance(i, int) for i in ids)
        with db.session() as session:
            for template_id in ids:
                assert isinstance(template_id, int)
                stored = template_repo.get_template(session, partner_id=partner.id, template_id=template_id)
                assert stored is not None and stored.body == BODY
    finally:
        hot.close()
        executor.shutdown()


def test_creations_gather_while_a_batch_is_on_the_writer(
    db: Database, make_partner: Callable[..., Partner], monkeypatch: pytest.MonkeyPatch
) -> None:
    partner = make_partner(db)
    executor = CountingExecutor()
    hot = _hot(db)  # SQLite without a checkpoint executor, like PostgreSQL, writes on the writer only
    batches: list[int] = []
    original = hot.insert_templates

    def spy(rows: Any) -> list[int]:
        batches.append(len(rows))
        return original(rows)

    monkeypatch.setattr(hot, "insert_templates", spy)
    release = threading.Event()
    executor.submit(release.wait, 10)  # the writer is busy with something else

    async def main() -> list[int]:
        inserts = TemplateInserts(hot, executor)
        tasks = []
        for size in (3, 2, 3):  # three loop turns while the writer is busy
            tasks += [asyncio.ensure_future(inserts.insert(partner.id, BODY, NOW)) for _ in range(size)]
            await asyncio.sleep(0.05)
        release.set()
        return list(await asyncio.gather(*tasks))

    try:
        ids = asyncio.run(main())
        assert batches == [3, 5]  # the first batch, then all that arrived while it waited
        assert len(set(ids)) == 8
    finally:
        release.set()
        hot.close()
        executor.shutdown()


def test_creations_wait_on_the_writer_while_the_lock_is_taken(
    sqlite_db: Database, make_partner: Callable[..., Partner]
) -> None:
    partner = make_partner(sqlite_db)
    executor = CountingExecutor()
    hot = _hot(sqlite_db, executor)
    locked, release = threading.Event(), threading.Event()

    def hold_lock() -> None:
        with sqlite_db.write_connection():
            locked.set()
            release.wait(10)

    holder = threading.Thread(target=hold_lock)
    holder.start()
    try:
        assert locked.wait(10)
        threading.Timer(0.3, release.set).start()
        started = time.monotonic()
        ids = _run_inserts(TemplateInserts(hot, executor), [(partner.id, BODY, NOW)] * 3)
        assert time.monotonic() - started >= 0.25  # waited for the lock on the writer thread
        assert executor.submitted >= 1
        assert len(set(ids)) == 3 and all(isinstance(i, int) for i in ids)
    finally:
        release.set()
        holder.join()
        hot.close()
        executor.shutdown()


def test_a_failing_row_fails_only_its_own_request(db: Database, make_partner: Callable[..., Partner]) -> None:
    partner = make_partner(db)
    executor = CountingExecutor()
    hot = _hot(db, executor)
    try:
        rows = [(partner.id, BODY, NOW), (partner.id + 999, BODY, NOW), (partner.id, BODY, NOW)]
        first, bad, last = _run_inserts(TemplateInserts(hot, executor), rows)
        # No such partner (foreign key).
        assert isinstance(bad, sqlite3.IntegrityError if db.is_sqlite else psycopg.errors.ForeignKeyViolation)
        assert isinstance(first, int) and isinstance(last, int)
        with db.session() as session:
            assert len(template_repo.list_templates(session, partner_id=partner.id)) == 2
    finally:
        hot.close()
        executor.shutdown()


def test_a_batch_that_may_be_stored_is_never_written_again(
    db: Database, make_partner: Callable[..., Partner], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The connection broke during COMMIT (``OutcomeUnknown``): the batch may be stored, so its rows are
    not retried one by one; every request of it fails instead of a template being stored twice."""
    partner = make_partner(db)
    executor = CountingExecutor()
    hot = _hot(db)
    calls: list[int] = []
    original = hot.insert_templates

    def committed_then_lost(rows: Any) -> list[int]:
        calls.append(len(rows))
        original(rows)  # stored, but the answer never arrives
        raise hotpath.OutcomeUnknown("the connection broke during COMMIT")

    monkeypatch.setattr(hot, "insert_templates", committed_then_lost)
    release = threading.Event()
    executor.submit(release.wait, 10)  # busy writer: the three creations go as one batch behind it

    async def main() -> list[int | BaseException]:
        inserts = TemplateInserts(hot, executor)
        first = asyncio.ensure_future(inserts.insert(partner.id, BODY, NOW))
        await asyncio.sleep(0.05)
        rest = [asyncio.ensure_future(inserts.insert(partner.id, BODY, NOW)) for _ in range(3)]
        await asyncio.sleep(0.05)
        release.set()
        return list(await asyncio.gather(first, *rest, return_exceptions=True))

    try:
        outcomes = asyncio.run(main())
        assert calls == [1, 3]
        assert all(isinstance(o, hotpath.OutcomeUnknown) for o in outcomes)
        with db.session() as session:
            assert len(template_repo.list_templates(session, partner_id=partner.id)) == 4  # once each
    finally:
        release.set()
        hot.close()
        executor.shutdown()


@pytest.mark.postgres
def test_a_postgres_connection_lost_at_commit_is_an_unknown_outcome(
    postgres_db: Database, make_partner: Callable[..., Partner], monkeypatch: pytest.MonkeyPatch
) -> None:
    partner = make_partner(postgres_db)
    hot = _hot(postgres_db)
    assert isinstance(hot, PostgresHotPath)
    original = hot._insert_batch

    def then_the_server_goes(cur: psycopg.Cursor[Any], stamped: Any) -> list[int]:
        ids = original(cur, stamped)
        with postgres_db.session() as session:  # the backend dies before COMMIT reaches it
            session.execute(
                text("SELECT pg_terminate_backend(:pid)"), {"pid": cur.connection.info.backend_pid}
            )
        return ids

    monkeypatch.setattr(hot, "_insert_batch", then_the_server_goes)
    try:
        with pytest.raises(hotpath.OutcomeUnknown):
            hot.insert_templates([(partner.id, BODY, NOW)] * 2)
        monkeypatch.undo()
        # A failure before COMMIT is a plain error (rolled back), and the pool has a live connection again.
        with pytest.raises(psycopg.errors.ForeignKeyViolation):
            hot.insert_templates([(partner.id + 999, BODY, NOW)])
        assert len(hot.insert_templates([(partner.id, BODY, NOW)])) == 1
    finally:
        hot.close()
