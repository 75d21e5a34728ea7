"""The failure-event store: schema, validated ingestion, synthetic telemetry and retention."""

from driverlens.events.schema import TABLE
from driverlens.events.seed import SeedReport, generate_chunks, seed_events, write_sample_file
from driverlens.events.store import EventStore, IngestReport, event_store

__all__ = [
    "TABLE",
    "EventStore",
    "IngestReport",
    "SeedReport",
    "event_store",
    "generate_chunks",
    "seed_events",
    "write_sample_file",
]
