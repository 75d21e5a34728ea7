"""The Spark adapter of the engine port: the compiler's Spark SQL over one snapshot's files, via PySpark.

Each call takes the newest snapshot of the event table and reads exactly its Parquet files (the snapshot's
file list, so no Delta connector is needed on the cluster): ``failure_events`` and
``failure_events_by_oem`` are temporary views over those files in a Spark session of that snapshot
(``newSession``: views of its own, one SparkContext per process), so runs on different snapshots never
see each other's views; ``install_base`` is one more view there, over the install base files bound
with the snapshot (``installs.table``). ``FailureDate`` comes from the hive-style paths (``basePath`` =
the table root) with the type the schema gives it; ``ClusteredBy`` is dropped.

The result travels to the driver as Arrow and is written by DuckDB's ``COPY`` with the very options and
the temporary-file, fsync and rename steps of the DuckDB engine (``duckdb_engine.copy_to_file``), with
the column types DuckDB gives the same query; the compiler orders every query totally, so both engines
write the same bytes for the same events in every format. A report therefore has to fit in the
driver's memory; reports are partner-scoped extracts, not table dumps.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa
import sqlglot
from sqlglot import exp

from driverlens.catalog import ColumnType
from driverlens.engines.duckdb_engine import QueryFailed, copy_to_file
from driverlens.engines.formats import OutputFormat, RunOutput
from driverlens.engines.port import Engine, EventSource, Query
from driverlens.engines.values import json_safe_row
from driverlens.errors import DriverLensError, QueryTimeout
from driverlens.events import duck
from driverlens.events.duck import EngineOptions
from driverlens.events.lake import Snapshot
from driverlens.events.schema import COLUMN_NAMES, COLUMN_TYPES, COPY_COLUMN, COPY_OF_TABLE, DATE_COLUMN
from driverlens.installs import table as install_table

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

# Spark types of the stored columns (``events.schema``): UUIDs are their 16 bytes, timestamps are UTC
# wall-clock values without a zone (TIMESTAMP_NTZ, as the Parquet files declare them).
_SPARK_TYPES: dict[ColumnType, str] = {
    ColumnType.STRING: "STRING",
    ColumnType.INTEGER: "BIGINT",
    ColumnType.DATE: "DATE",
    ColumnType.TIMESTAMP: "TIMESTAMP_NTZ",
    ColumnType.UUID: "BINARY",
}
# The files' schema plus the partition columns: given, not inferred, so files without a column (the OEM
# copy has no EventId) read the same, and the path values of FailureDate become DATEs.
_FILE_SCHEMA = ", ".join(
    [*(f"`{name}` {_SPARK_TYPES[COLUMN_TYPES[name]]}" for name in COLUMN_NAMES), f"`{COPY_COLUMN}` STRING"]
)
# Sessions with views bound, one per recent snapshot (runs overlapping an ingest read the older one).
_KEPT_SNAPSHOTS = 4
# After the budget runs out the tagged jobs are cancelled again until the call returns: a cancel that
# lands before Spark has submitted a job would otherwise be lost.
_RECANCEL_S = 0.05
_CONF = {
    "spark.app.name": "driverlens",
    "spark.sql.session.timeZone": "UTC",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
}
# Local mode: few shuffle partitions (the default 200 makes a small aggregation 200 tasks), the driver
# lists the snapshot's files itself instead of starting a Spark job for it, and nothing listens beyond
# the loopback interface.
_LOCAL_CONF = {
    "spark.sql.shuffle.partitions": "4",
    "spark.sql.sources.parallelPartitionDiscovery.threshold": "1000000",
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
}


class SparkUnavailable(DriverLensError):
    """No Spark session could be started (no Java runtime, no pyspark, or an unreachable master)."""

    status = 503
    code = "SparkUnavailable"


class SparkEngine:
    """Runs compiled queries through PySpark over the event table's snapshot files (thread-safe)."""

    def __init__(
        self, store: EventSource, master: str = "local[*]", options: EngineOptions | None = None
    ) -> None:
        self._store = store
        self.master = master
        # The DuckDB instance that writes the report files (memory limit and spill directory of the store).
        self._options = options or getattr(store, "engine", None) or EngineOptions()
        self._lock = threading.Lock()
        self._sessions: OrderedDict[Snapshot, SparkSession] = OrderedDict()

    def run_to_file(self, query: Query, dest: Path, fmt: OutputFormat, timeout_s: float | None) -> RunOutput:
        """Run the query on Spark and write its rows into ``dest`` exactly as the DuckDB engine would."""
        started = time.perf_counter()
        snapshot = self._store.snapshot()
        result = self._collect(query.sql("spark"), snapshot, timeout_s)
        remaining = None if timeout_s is None else max(timeout_s - (time.perf_counter() - started), 0.0)
        con = duck.cursor(self._options)
        try:
            con.register("spark_result", result)
            select = _as_duckdb_types(con, query.sql("duckdb"), "spark_result")
            written = copy_to_file(con, select, dest, fmt, remaining, keep_order=True)
        finally:
            con.close()
        return RunOutput.of_file(written, started, snapshot)

    def preview(self, query: Query, limit: int, timeout_s: float) -> tuple[list[str], list[list[Any]]]:
        """Column names and the first ``limit`` rows, as JSON-safe values."""
        if limit < 0:
            raise ValueError("preview limit must be >= 0")
        statement = f"SELECT * FROM ({query.sql('spark')}) AS preview LIMIT {int(limit)}"
        result = self._collect(statement, self._store.snapshot(), timeout_s)
        return list(result.column_names), [json_safe_row(list(row.values())) for row in result.to_pylist()]

    def _collect(self, sql: str, snapshot: Snapshot, timeout_s: float | None) -> pa.Table:
        """The rows of ``sql`` over ``snapshot`` as one Arrow table on the driver."""
        from py4j.protocol import Py4JError
        from pyspark.errors import PySparkException

        base = spark_session(self.master)
        with _cancelled_after(base, timeout_s) as fired:
            try:
                return self._session_of(base, snapshot).sql(sql).toArrow()
            except (PySparkException, Py4JError) as exc:
                if fired.is_set():
                    raise QueryTimeout(
                        f"the report query ran longer than its time budget of {timeout_s:g} s and was "
                        "stopped; narrow the report period or filter, or raise "
                        "DRIVERLENS_QUERY_TIMEOUT_SECONDS"
                    ) from exc
                raise QueryFailed(f"the report query failed in Spark: {_first_line(exc)}") from exc

    def _session_of(self, base: SparkSession, snapshot: Snapshot) -> SparkSession:
        """A session whose ``failure_events`` / ``failure_events_by_oem`` read exactly ``snapshot``.

        Views are bound once per snapshot and kept for the next runs on it: binding lists every file of
        the snapshot, which costs more than a small report.
        """
        with self._lock:
            session = self._sessions.get(snapshot)
            if session is not None:
                self._sessions.move_to_end(snapshot)
                return session
            session = base.newSession()
            for table in COPY_OF_TABLE:
                events_frame(session, snapshot, table).createOrReplaceTempView(table)
            install_base_frame(session, snapshot.install_base).createOrReplaceTempView(install_table.VIEW)
            self._sessions[snapshot] = session
            # Older snapshots' sessions are forgotten, not closed: a run may still be planning on one.
            while len(self._sessions) > _KEPT_SNAPSHOTS:
                self._sessions.popitem(last=False)
            return session


def events_frame(session: SparkSession, snapshot: Snapshot, table: str) -> DataFrame:
    """Every stored column of one table (copy) of ``snapshot``, typed as the store types it."""
    paths = snapshot.paths_of_table(table)
    if not paths:
        frame = session.createDataFrame([], schema=_FILE_SCHEMA)
    else:
        uris = [_uri(p) for p in paths]
        frame = session.read.schema(_FILE_SCHEMA).option("basePath", _table_root(uris)).parquet(*uris)
    return frame.select(*(f"`{name}`" for name in COLUMN_NAMES))


def install_base_frame(session: SparkSession, snapshot: Snapshot | None) -> DataFrame:
    """The install base columns of ``snapshot`` (``InstallDate`` from the hive-style paths)."""
    paths = [f.path for f in snapshot.files] if snapshot is not None else []
    if not paths:
        return session.createDataFrame([], schema=install_table.SPARK_SCHEMA)
    uris = [_uri(p) for p in paths]
    root = uris[0].rsplit("/", 2)[0]  # above InstallDate=../file
    frame = session.read.schema(install_table.SPARK_SCHEMA).option("basePath", root).parquet(*uris)
    return frame.select(*(f"`{name}`" for name in install_table.COLUMN_NAMES))


def _uri(path: str) -> str:
    """A file URI for a local path, so a cluster whose default file system is HDFS reads the same file."""
    return f"file://{path}" if path.startswith("/") else path


def _table_root(uris: list[str]) -> str:
    """The table directory above ``ClusteredBy=../FailureDate=../file``: where partition values start."""
    first = uris[0]
    parts = first.rsplit("/", 3)
    if len(parts) != 4 or [p.split("=", 1)[0] for p in parts[1:3]] != [COPY_COLUMN, DATE_COLUMN]:
        raise QueryFailed(f"event file {first} is not laid out as {COPY_COLUMN}=../{DATE_COLUMN}=../file")
    return parts[0]


def _as_duckdb_types(con: duckdb.DuckDBPyConnection, duckdb_sql: str, source: str) -> str:
    """A SELECT over ``source`` that gives each column the type DuckDB gives the same query.

    DuckDB plans the query over empty views (no data is read). Output columns that are constants
    (``ReportId``) are taken from the DuckDB query itself rather than from Spark's result: DuckDB marks
    a constant column REQUIRED in Parquet, a column read from elsewhere OPTIONAL.
    """
    duck.bind_snapshot(con, Snapshot(version=-1, files=()))
    planned = [(str(row[0]), str(row[1])) for row in con.execute(f"DESCRIBE {duckdb_sql}").fetchall()]
    got = [str(d[0]) for d in con.execute(f"SELECT * FROM {source} LIMIT 0").description or []]
    outputs = sqlglot.parse_one(duckdb_sql, read="duckdb").expressions
    if not len(got) == len(planned) == len(outputs):
        raise QueryFailed(f"Spark returned {len(got)} columns where DuckDB plans {len(planned)}")
    columns = []
    for column, (name, ctype), output in zip(got, planned, outputs, strict=True):
        node = output.unalias()
        if node.find(exp.Column) is None and node.find(exp.AggFunc) is None:
            columns.append(f"{node.sql('duckdb')} AS {_identifier(name)}")
        else:
            columns.append(f"CAST({_identifier(column)} AS {ctype}) AS {_identifier(name)}")
    return f"SELECT {', '.join(columns)} FROM {source}"


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _first_line(exc: BaseException) -> str:
    """Spark errors carry a JVM stack trace; the first line says what went wrong."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


@contextmanager
def _cancelled_after(spark: SparkSession, timeout_s: float | None) -> Iterator[threading.Event]:
    """Tag the block's Spark jobs with a tag of their own and cancel them once ``timeout_s`` has passed."""
    context = spark.sparkContext
    tag = f"driverlens-{uuid.uuid4().hex}"
    # Tags are per thread (PySpark pins each Python thread to a JVM thread), so concurrent runs on other
    # threads keep theirs; interrupting stops tasks blocked in reads, not only between records.
    context.setInterruptOnCancel(True)
    context.addJobTag(tag)
    done = threading.Event()
    fired = threading.Event()

    def cancel_until_done() -> None:
        fired.set()
        while not done.is_set():
            context.cancelJobsWithTag(tag)
            done.wait(_RECANCEL_S)

    timer = threading.Timer(timeout_s, cancel_until_done) if timeout_s is not None else None
    if timer is not None:
        timer.daemon = True
        timer.start()
    try:
        yield fired
    finally:
        done.set()
        if timer is not None:
            timer.cancel()
            timer.join()
        context.removeJobTag(tag)


_session_lock = threading.Lock()
_session: tuple[int, str, SparkSession] | None = None


def spark_session(master: str) -> SparkSession:
    """This process's Spark session for ``master``, started on first use (one SparkContext per process)."""
    global _session
    with _session_lock:
        if _session is not None and _session[0] == os.getpid():
            if _session[1] != master:
                raise SparkUnavailable(
                    f"this process already runs Spark on {_session[1]!r}; one process uses one master, "
                    f"not also {master!r}"
                )
            return _session[2]
        try:
            from pyspark.errors import PySparkException
            from pyspark.sql import SparkSession
        except ImportError as exc:
            raise SparkUnavailable(
                "pyspark is not installed; install DriverLens with its spark extra: pip install '.[spark]'"
            ) from exc
        conf = dict(_CONF)
        if master.startswith("local"):
            conf.update(_LOCAL_CONF)
            # Spark resolves the host name before it reads its settings, and warns when that is a loopback
            # address; in local mode nothing leaves this machine, so say so up front.
            os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        builder = SparkSession.builder.master(master)
        for key, value in conf.items():
            builder = builder.config(key, value)
        try:
            spark = builder.getOrCreate()
        except (PySparkException, OSError) as exc:
            raise SparkUnavailable(
                f"Spark could not start on {master!r} ({_first_line(exc)}); it needs a Java 17+ runtime "
                "(java on PATH or JAVA_HOME)"
            ) from exc
        spark.sparkContext.setLogLevel("ERROR")
        _session = (os.getpid(), master, spark)
        return spark


def stop_spark() -> None:
    """Stop this process's Spark session and its JVM (tests give the memory back; workers never need to)."""
    global _session
    with _session_lock:
        if _session is None or _session[0] != os.getpid():
            _session = None
            return
        from pyspark import SparkContext

        _session[2].stop()
        _session = None
        gateway = SparkContext._gateway
        if gateway is None:
            return
        gateway.shutdown()
        SparkContext._gateway = None
        SparkContext._jvm = None
        process = getattr(gateway, "proc", None)  # the JVM PySpark launched; it exits when its stdin closes
        if process is not None:
            if process.stdin is not None:
                process.stdin.close()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


if TYPE_CHECKING:  # mypy proves the adapter fits the port

    def _is_engine(engine: SparkEngine) -> Engine:
        return engine
