"""The collector upload against a real server process: round trip, hostile corpus, auth, streaming limits."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from driverlens.auth.collectors import add_collector, revoke_collector
from driverlens.cabs.cabinet import pack
from driverlens.cabs.demo import demo_files
from driverlens.events import EventStore, write_sample_file
from driverlens.metadata.database import Database
from tests.api.conftest import IHV, OEM
from tests.api.events_lookup import read_cab
from tests.api.server import Server, prepare_data_dir, start_server
from tests.cabs.corpus import HOSTILE, MAX_EXPANDED, MAX_FILES

MAX_BYTES = 4 * 1024 * 1024
UPLOAD = "/collector/cabs"


@dataclass
class Collecting:
    server: Server
    auth: dict[str, str]
    db_url: str

    def upload(
        self, data: bytes | Iterator[bytes], headers: dict[str, str] | None = None, **params: Any
    ) -> httpx.Response:
        return httpx.post(
            f"{self.server.base_url}{UPLOAD}",
            content=data,
            params=params,
            headers=self.auth if headers is None else headers,
            timeout=60,
        )

    def stored(self) -> list[Path]:
        return sorted((self.server.data_dir / "blobs" / "cabs").rglob("*.cab"))

    def leftovers(self) -> list[Path]:
        uploads = self.server.data_dir / "uploads"
        return list(uploads.iterdir()) if uploads.exists() else []


def _basic(collector_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{collector_id}:{secret}".encode()).decode()}


@pytest.fixture(scope="module")
def collecting(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Collecting]:
    data_dir = tmp_path_factory.mktemp("upload") / "var"
    creds = prepare_data_dir(data_dir, rows=400)
    url = f"sqlite:///{(data_dir / 'metadata.db').resolve()}"
    db = Database(url)
    try:
        with db.session() as session:
            collector_id, secret = add_collector(session, "test collector")
    finally:
        db.dispose()
    env = {
        "DRIVERLENS_CAB_MAX_BYTES": str(MAX_BYTES),
        "DRIVERLENS_CAB_MAX_EXPANDED_BYTES": str(MAX_EXPANDED),
        "DRIVERLENS_CAB_MAX_FILES": str(MAX_FILES),
    }
    server = start_server(data_dir, creds, env)
    try:
        yield Collecting(server, _basic(collector_id, secret), url)
    finally:
        server.stop()


def _events_for_cabs(data_dir: Path, count: int) -> pa.Table:
    """``count`` fresh failure events of the IHV on the OEM's machines (not yet in the store)."""
    sample = write_sample_file(data_dir.parent / f"sample-{uuid.uuid4().hex}.parquet", 3000, "parquet",
                               seed=99, now=datetime.now(UTC), days=2)  # fmt: skip
    table = pq.read_table(sample)
    rows = [
        i
        for i in range(table.num_rows)
        if table["IhvPartner"][i].as_py() == IHV and table["OemPartner"][i].as_py() == OEM
    ]
    assert len(rows) >= count
    return table.take(rows[:count])


def _ingest(data_dir: Path, table: pa.Table, cab_id_hashes: list[str]) -> None:
    expires = datetime.now(UTC).replace(tzinfo=None) + timedelta(days=20)
    table = table.set_column(table.schema.get_field_index("CabIdHash"), "CabIdHash", pa.array(cab_id_hashes))
    table = table.set_column(
        table.schema.get_field_index("CabExpirationTime"),
        "CabExpirationTime",
        pa.array([expires] * table.num_rows, pa.timestamp("us")),
    )
    path = data_dir.parent / f"events-{uuid.uuid4().hex}.parquet"
    pq.write_table(table, path)
    EventStore(data_dir).ingest([path])


def test_round_trip_upload_list_download(collecting: Collecting, tmp_path: Path) -> None:
    server = collecting.server
    events = _events_for_cabs(server.data_dir, 3)
    row = lambda i, col: str(events[col][i].as_py())  # noqa: E731
    cabinets = {
        kernel: pack(demo_files(row(0, "FailureName"), kernel=kernel, os_version=row(0, "OSVersion"),
                                driver=row(0, "DriverName"), driver_version=row(0, "DriverVersion")))
        for kernel in (True, False)
    }  # fmt: skip
    answers = {kernel: collecting.upload(data) for kernel, data in cabinets.items()}
    for kernel, answer in answers.items():
        assert answer.status_code == 201, answer.text
        data = answer.json()["data"]
        assert data["created"] and data["eventsLinked"] == 0 and data["size"] == len(cabinets[kernel])
        assert data["dump"]["type"] == ("Kernel" if kernel else "Mini")
        assert data["dump"]["faultingModule"] == row(0, "FailureName").split("_", 1)[1].split("!")[0] + ".sys"
    assert collecting.upload(cabinets[True]).status_code == 200  # the same file again: stored once
    ids = [answers[True].json()["data"]["cabIdHash"], answers[False].json()["data"]["cabIdHash"]]
    # Telemetry recorded after the collector answered carries the content id; a third event, recorded
    # before, has its own CabIdHash and is linked by its EventId.
    opaque = uuid.uuid4().hex
    _ingest(server.data_dir, events, [*ids, opaque])
    linked = collecting.upload(cabinets[True], eventId=row(2, "EventId"))
    assert linked.status_code == 200 and linked.json()["data"]["eventsLinked"] == 1
    app, failure = row(0, "ApplicationId"), row(0, "FailureHash")
    with server.client(IHV) as api:
        listing = api.get(
            "/v1.0/my/analytics/driver/cabdownloadbatch",
            params={"applicationId": app, "failureHash": failure},
        )
        assert listing.status_code == 200, listing.text
        listed = {item["cabIdHash"]: item["cabUrl"] for item in listing.json()["Value"]}
        assert ids[0] in listed
        single = api.get(
            "/v1.0/my/analytics/driver/cabdownload", params={"applicationId": app, "cabIdHash": ids[0]}
        )
        by_link = api.get(
            "/v1.0/my/analytics/driver/cabdownload",
            params={"applicationId": row(2, "ApplicationId"), "cabIdHash": opaque},
        )
    with server.client(OEM) as api:
        oem = api.get("/v1.0/my/analytics/hardware/cabdownload", params={"cabIdHash": ids[1]})
    assert httpx.get(listed[ids[0]]).content == cabinets[True]
    assert httpx.get(single.headers["location"]).content == cabinets[True]
    assert httpx.get(by_link.headers["location"]).content == cabinets[True]
    oem_file = httpx.get(oem.headers["location"])
    assert oem_file.content == cabinets[False] and f"{ids[1]}.cab" in oem_file.headers["content-disposition"]
    facts = read_cab(oem_file.content, tmp_path)
    assert facts.dump_type == "Mini" and facts.os_build == row(0, "OSVersion").split(".")[2]


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_upload_is_a_4xx_naming_the_problem_with_nothing_stored(
    collecting: Collecting, name: str
) -> None:
    build, phrase, status = HOSTILE[name]
    before = collecting.stored()
    answer = collecting.upload(build())
    assert answer.status_code == status, answer.text
    assert phrase in answer.json()["errors"][0]["message"]
    assert collecting.stored() == before and collecting.leftovers() == []


def test_uploads_need_a_live_collector_credential(collecting: Collecting) -> None:
    cab = HOSTILE["no-dump-inside"][0]()
    assert collecting.upload(cab, headers={}).status_code == 401
    bearer = {"Authorization": f"Bearer {collecting.server.token(IHV)}"}
    assert collecting.upload(cab, headers=bearer).status_code == 401  # a partner is not a collector
    collector_id = base64.b64decode(collecting.auth["Authorization"].split()[1]).decode().split(":")[0]
    assert collecting.upload(cab, headers=_basic(collector_id, "wrong")).status_code == 401
    db = Database(collecting.db_url)
    try:
        with db.session() as session:
            other, secret = add_collector(session, "to revoke")
        assert collecting.upload(cab, headers=_basic(other, secret)).status_code == 400  # works: no dump
        with db.session() as session:
            revoke_collector(session, other)
    finally:
        db.dispose()
    refused = collecting.upload(cab, headers=_basic(other, secret))
    assert refused.status_code == 401 and "revoked" in refused.json()["errors"][0]["message"]


def test_oversized_uploads_are_413_streamed_or_declared(collecting: Collecting) -> None:
    before = collecting.stored()
    chunk = bytes(256 * 1024)

    def stream() -> Iterator[bytes]:  # no Content-Length: the server must count as it reads
        for _ in range(MAX_BYTES // len(chunk) + 2):
            yield chunk

    streamed = collecting.upload(stream())
    declared = collecting.upload(bytes(MAX_BYTES + 1))
    assert streamed.status_code == 413 and declared.status_code == 413
    assert "limit" in streamed.json()["errors"][0]["message"]
    assert collecting.stored() == before and collecting.leftovers() == []


def test_linking_an_event_that_has_another_crash_dump_is_409(collecting: Collecting) -> None:
    with EventStore(collecting.server.data_dir).reading() as conn:
        taken = conn.execute(
            'SELECT "EventId" FROM failure_events WHERE "CabExpirationTime" > now()::TIMESTAMP LIMIT 1'
        ).fetchone()
    assert taken is not None
    cab = pack(
        demo_files(
            "0x7E_other!X",
            kernel=True,
            os_version="10.0.22631.1",
            driver="other.sys",
            driver_version="1.0.0.0",
        )
    )
    answer = collecting.upload(cab, eventId=str(taken[0]))
    assert answer.status_code == 409, answer.text
    assert collecting.upload(cab, eventId="not an id!").status_code == 400
