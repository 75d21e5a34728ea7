"""The metadata store's tables: partners, clients, templates, scheduled reports, runs, callbacks.

Every datetime column is :class:`UtcDateTime` (aware UTC in, aware UTC out). Timestamps have no
Python-side "now" default on purpose: callers pass the injected clock's time.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from driverlens.catalog import PartnerKind
from driverlens.metadata.types import UtcDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class RunState(StrEnum):
    """State of one run; the values are what report data shows (`Skipped` is internal)."""

    PENDING = "Pending"
    IN_PROGRESS = "In Progress"
    COMPLETED = "Completed"
    FAILED = "Failed"
    SKIPPED = "Skipped"

    @property
    def is_terminal(self) -> bool:
        return self in (RunState.COMPLETED, RunState.FAILED, RunState.SKIPPED)


class DeliveryState(StrEnum):
    """State of one callback delivery (all its attempts together)."""

    PENDING = "Pending"
    DELIVERED = "Delivered"
    FAILED = "Failed"


def _str_enum(enum_cls: type[StrEnum], name: str) -> Enum:
    """A StrEnum stored as its value in a VARCHAR (no native enum type), checked by a constraint."""
    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=16,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UtcDateTime(),
        dict[str, Any]: JSON(),
        list[Any]: JSON(),
    }


class Partner(Base):
    """A hardware partner (IHV or OEM) with the data it is entitled to see."""

    __tablename__ = "partners"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[PartnerKind] = mapped_column(_str_enum(PartnerKind, "partner_kind"))
    tenant_id: Mapped[str] = mapped_column(String(64), unique=True)
    callback_secret: Mapped[str] = mapped_column(String(200))
    # {"application_ids": [...], "submission_ids": [...], "oem_names": [...]}; replace, never mutate.
    entitlements: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]

    clients: Mapped[list[Client]] = relationship(back_populates="partner", lazy="raise")


class Client(Base):
    """An OAuth client of a partner; only a hash of its secret is kept."""

    __tablename__ = "clients"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"), index=True)
    client_id: Mapped[str] = mapped_column(String(100), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(500))
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]

    partner: Mapped[Partner] = relationship(back_populates="clients", lazy="joined")


class Template(Base):
    """A report template; its bodies live in :class:`TemplateVersion`, one per edit."""

    __tablename__ = "templates"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"), index=True)
    current_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]
    modified_at: Mapped[datetime]
    deleted_at: Mapped[datetime | None]


class TemplateVersion(Base):
    """One immutable version of a template: its canonical body."""

    __tablename__ = "template_versions"
    __table_args__ = (UniqueConstraint("template_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("templates.id"))
    version: Mapped[int] = mapped_column(Integer)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]


class Report(Base):
    """A scheduled report: run ``recurrence`` times, every ``interval_hours``, from ``start_time``."""

    __tablename__ = "reports"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"), index=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("templates.id"), index=True)
    start_time: Mapped[datetime]
    interval_hours: Mapped[int] = mapped_column(Integer)
    recurrence: Mapped[int] = mapped_column(Integer)
    callback_url: Mapped[str | None] = mapped_column(String(2048))
    output_format: Mapped[str] = mapped_column(String(16), default="csv", server_default="csv")
    is_paused: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    paused_at: Mapped[datetime | None]
    resumed_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    modified_at: Mapped[datetime]
    deleted_at: Mapped[datetime | None]


class Run(Base):
    """One run of a report: scheduled (run k of the schedule) or manual (its own index sequence).

    Claiming is a compare-and-set on ``state``/``lease_owner``/``lease_expires_at`` (runs package).
    ``location`` is the blob key, ``""`` while there is no file or after it was purged.
    """

    __tablename__ = "runs"
    __table_args__ = (
        UniqueConstraint("report_id", "manual", "run_index"),
        Index("ix_runs_claim", "state", "next_attempt_at"),
        Index("ix_runs_listing", "report_id", "due_at"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id"))
    run_index: Mapped[int] = mapped_column(Integer)
    manual: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    due_at: Mapped[datetime]
    window_start: Mapped[date] = mapped_column(Date)
    window_end: Mapped[date] = mapped_column(Date)  # exclusive
    state: Mapped[RunState] = mapped_column(
        _str_enum(RunState, "run_state"), default=RunState.PENDING, server_default=RunState.PENDING.value
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    next_attempt_at: Mapped[datetime]
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_expires_at: Mapped[datetime | None]
    row_count: Mapped[int | None] = mapped_column(BigInteger)
    bytes: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    # Freshness: the event table version the run read, and the newest event time in that version.
    store_version: Mapped[int | None] = mapped_column(BigInteger)
    data_newest_event_at: Mapped[datetime | None]
    # The install base version read with those events (one snapshot of both tables per run).
    install_base_version: Mapped[int | None] = mapped_column(BigInteger)
    # Delta reports: what changed since the previous completed run (``runs.delta``), and the blob key of
    # this run's full result, which the next run compares with ("" once purged, None for other reports).
    delta_summary: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    delta_base: Mapped[str | None] = mapped_column(String(1024))
    location: Mapped[str] = mapped_column(String(1024), default="", server_default="")
    format: Mapped[str] = mapped_column(String(16), default="csv", server_default="csv")
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    template_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]


class CallbackDelivery(Base):
    """The callback notice for one finished run; ``webhook_id`` stays the same across retries."""

    __tablename__ = "callback_deliveries"
    __table_args__ = (
        Index("ix_callback_deliveries_claim", "state", "next_attempt_at"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"), index=True)
    webhook_id: Mapped[str] = mapped_column(String(100), unique=True)
    url: Mapped[str] = mapped_column(String(2048))
    # The exact JSON body sent, so every retry signs and sends the same bytes.
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    state: Mapped[DeliveryState] = mapped_column(
        _str_enum(DeliveryState, "delivery_state"),
        default=DeliveryState.PENDING,
        server_default=DeliveryState.PENDING.value,
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    next_attempt_at: Mapped[datetime | None]
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_expires_at: Mapped[datetime | None]
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]


class CallbackAttempt(Base):
    """One HTTP attempt of a delivery: the per-run delivery log partners can read."""

    __tablename__ = "callback_attempts"
    __table_args__ = (UniqueConstraint("delivery_id", "attempt"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("callback_deliveries.id"))
    attempt: Mapped[int] = mapped_column(Integer)
    attempted_at: Mapped[datetime]
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int] = mapped_column(Integer)


class Collector(Base):
    """A crash-dump collector: uploads CABs, sees nothing else. Only a hash of its secret is kept."""

    __tablename__ = "collectors"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    collector_id: Mapped[str] = mapped_column(String(100), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(500))
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class Cab(Base):
    """One stored crash dump cabinet, named by its content (``cab_id_hash`` comes from ``sha256``)."""

    __tablename__ = "cabs"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cab_id_hash: Mapped[str] = mapped_column(String(64), unique=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    blob_key: Mapped[str] = mapped_column(String(512))
    size: Mapped[int] = mapped_column(BigInteger)
    expanded_size: Mapped[int] = mapped_column(BigInteger)
    file_count: Mapped[int] = mapped_column(Integer)
    dump_file: Mapped[str] = mapped_column(String(256))
    dump_type: Mapped[str] = mapped_column(String(16))
    dump_format: Mapped[str] = mapped_column(String(32))
    bugcheck_code: Mapped[int | None] = mapped_column(BigInteger)
    # The four bugcheck parameters as hex strings: they are unsigned 64-bit, wider than BIGINT.
    bugcheck_parameters: Mapped[list[Any] | None] = mapped_column(JSON)
    exception_code: Mapped[int | None] = mapped_column(BigInteger)
    os_build: Mapped[str] = mapped_column(String(32))
    faulting_module: Mapped[str | None] = mapped_column(String(256))
    faulting_module_version: Mapped[str | None] = mapped_column(String(64))
    # Why the dump disagrees with its events' failure bucket; None when it agrees (or nothing to compare).
    bucket_mismatch: Mapped[str | None] = mapped_column(Text)
    collected_by: Mapped[str] = mapped_column(String(100))
    collected_at: Mapped[datetime]


class CabLink(Base):
    """A failure event's CabIdHash pointing at a stored CAB (many events may share one CAB)."""

    __tablename__ = "cab_links"
    # The unique constraint's index also serves lookups by event_cab_id_hash (its first column).
    __table_args__ = (UniqueConstraint("event_cab_id_hash", "event_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cab_id: Mapped[int] = mapped_column(ForeignKey("cabs.id", ondelete="CASCADE"), index=True)
    event_cab_id_hash: Mapped[str] = mapped_column(String(64))
    event_id: Mapped[str] = mapped_column(String(64))
    linked_at: Mapped[datetime]


class WebSession(Base):
    """A dashboard sign-in. Only a hash of the cookie's token is kept, so a copy of the database
    cannot be replayed as a session; the CSRF token is per session and checked on every form post."""

    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_pk: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
