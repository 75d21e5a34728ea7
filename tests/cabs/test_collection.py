"""Collecting cabinets: hostile files refused with nothing stored, idempotence, links, bucket mismatches."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from driverlens.cabs.cabinet import CabLimits
from driverlens.cabs.demo import demo_cabinet
from driverlens.errors import CabRejected, Conflict, PayloadTooLarge, ValidationFailed
from driverlens.metadata.models import Cab, CabLink
from tests.cabs.conftest import Collect, Event, Stores
from tests.cabs.corpus import HOSTILE, MAX_EXPANDED, MAX_FILES, good_kernel_cab

LIMITS = CabLimits(max_bytes=1024 * 1024, max_expanded_bytes=MAX_EXPANDED, max_files=MAX_FILES)


def _rows(stores: Stores) -> tuple[int, int]:
    with stores.db.session() as session:
        return session.scalar(select(func.count()).select_from(Cab)) or 0, session.scalar(
            select(func.count()).select_from(CabLink)
        ) or 0


def _demo_for(event: Event, **overrides: object) -> bytes:
    args: dict[str, object] = {
        "kernel": event.kernel,
        "os_version": event.os_version,
        "driver": event.driver,
        "driver_version": event.driver_version,
    }
    return demo_cabinet(str(overrides.pop("failure_name", event.failure_name)), **{**args, **overrides})  # type: ignore[arg-type]


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_file_is_refused_naming_the_problem_and_nothing_is_stored(
    name: str, tmp_path: Path, stores: Stores, collect: Collect, events_sample: list[Event]
) -> None:
    build, phrase, _ = HOSTILE[name]
    path = tmp_path / f"{name}.cab"
    path.write_bytes(build())
    with pytest.raises(CabRejected) as refused:
        collect(path, event_ids=(events_sample[0].event_id,), limits=LIMITS)
    assert phrase in refused.value.message
    assert _rows(stores) == (0, 0) and stores.blob_files() == []


def test_the_corpus_itself_is_sound(tmp_path: Path, collect: Collect) -> None:
    """The good cabinet the corpus mutates is accepted under the same limits (the refusals are real)."""
    path = tmp_path / "good.cab"
    path.write_bytes(good_kernel_cab())
    assert collect(path, limits=LIMITS).facts.bugcheck_code == 0x9F


def test_over_the_size_limit_is_413(tmp_path: Path, stores: Stores, collect: Collect) -> None:
    path = tmp_path / "big.cab"
    path.write_bytes(good_kernel_cab())
    with pytest.raises(PayloadTooLarge):
        collect(path, limits=CabLimits(max_bytes=100))
    assert stores.blob_files() == []


def test_same_file_twice_is_stored_once_and_links_accumulate(
    tmp_path: Path, stores: Stores, collect: Collect, events_sample: list[Event]
) -> None:
    first, second = events_sample[0], events_sample[1]
    path = tmp_path / "crash.cab"
    path.write_bytes(_demo_for(first))
    one = collect(path, event_ids=(first.event_id,))
    again = collect(path, event_ids=(first.event_id,))
    more = collect(path, cab_id_hashes=(second.cab_id_hash,))
    assert one.created and not again.created and not more.created
    assert one.cab_id_hash == again.cab_id_hash == one.sha256[:32]
    assert (one.events_linked, again.events_linked, more.events_linked) == (1, 0, 1)
    assert _rows(stores) == (1, 2) and len(stores.blob_files()) == 1
    assert stores.blob_files()[0].read_bytes() == path.read_bytes()


def test_dump_disagreeing_with_the_bucket_is_flagged(
    tmp_path: Path, collect: Collect, events_sample: list[Event]
) -> None:
    kernel_event = next(e for e in events_sample if e.kernel)
    agreeing = tmp_path / "agrees.cab"
    agreeing.write_bytes(_demo_for(kernel_event))
    assert collect(agreeing, event_ids=(kernel_event.event_id,)).bucket_mismatch is None
    other = next(
        e
        for e in events_sample
        if e.kernel and e.failure_name.split("_")[0] != kernel_event.failure_name.split("_")[0]
    )
    wrong = tmp_path / "wrong.cab"
    wrong.write_bytes(_demo_for(kernel_event, failure_name="0x1_elsewhere!Nope"))
    flagged = collect(wrong, event_ids=(other.event_id,))
    assert flagged.bucket_mismatch is not None
    assert (
        "bugcheck 0x1" in flagged.bucket_mismatch
        and "faulting module 'elsewhere.sys'" in flagged.bucket_mismatch
    )


def test_unknown_events_are_a_400_and_nothing_is_stored(
    tmp_path: Path, stores: Stores, collect: Collect, events_sample: list[Event]
) -> None:
    path = tmp_path / "crash.cab"
    path.write_bytes(_demo_for(events_sample[0]))
    with pytest.raises(ValidationFailed) as refused:
        collect(path, event_ids=("no-such-event",), cab_id_hashes=("0" * 32,))
    assert {p.path for p in refused.value.problems()} == {"eventId", "cabIdHash"}
    assert _rows(stores) == (0, 0) and stores.blob_files() == []


def test_an_event_keeps_its_one_crash_dump(
    tmp_path: Path, collect: Collect, events_sample: list[Event]
) -> None:
    event = events_sample[0]
    first, second = tmp_path / "a.cab", tmp_path / "b.cab"
    first.write_bytes(_demo_for(event))
    second.write_bytes(_demo_for(event, os_version="10.0.26100.1"))
    collect(first, event_ids=(event.event_id,))
    with pytest.raises(Conflict):
        collect(second, event_ids=(event.event_id,))
