"""The metadata store: SQLAlchemy models, the database handle, Alembic migrations, repositories."""

from driverlens.metadata.models import (
    Base,
    CallbackAttempt,
    CallbackDelivery,
    Client,
    DeliveryState,
    Partner,
    Report,
    Run,
    RunState,
    Template,
    TemplateVersion,
)
from driverlens.metadata.types import UtcDateTime

__all__ = [
    "Base",
    "CallbackAttempt",
    "CallbackDelivery",
    "Client",
    "DeliveryState",
    "Partner",
    "Report",
    "Run",
    "RunState",
    "Template",
    "TemplateVersion",
    "UtcDateTime",
]
