"""The failure-event store: schema, validated ingestion, synthetic telemetry and retention."""

from driverlens.events.schema import TABLE
from driverlens.events.seed import SeedReport, generate_chunks, seed_events, write_sample_file
from driverlens.events.store import EventStore, IngestReport

__all__ = [
    "TABLE",
    "EventStore",
    "IngestReport",
    "SeedReport",
    "generate_chunks",
    "seed_events",
    "write_sample_file",
]
