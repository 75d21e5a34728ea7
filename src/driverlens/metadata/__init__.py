"""The metadata store: SQLAlchemy models, the database handle, Alembic migrations, repositories."""

from driverlens.metadata.models import (
    Base,
    Cab,
    CabLink,
    CallbackAttempt,
    CallbackDelivery,
    Client,
    Collector,
    DeliveryState,
    Partner,
    Report,
    Run,
    RunState,
    Template,
    TemplateVersion,
    WebSession,
)
from driverlens.metadata.types import UtcDateTime

__all__ = [
    "Base",
    "Cab",
    "CabLink",
    "CallbackAttempt",
    "CallbackDelivery",
    "Client",
    "Collector",
    "DeliveryState",
    "Partner",
    "Report",
    "Run",
    "RunState",
    "Template",
    "TemplateVersion",
    "UtcDateTime",
    "WebSession",
]
