"""Repositories: small functions over a Session, one module per aggregate.

Every function that takes a ``partner_id`` filters by it: another partner's id looks missing.
Timestamps come from the caller (the injected clock), never from the database.
"""

from driverlens.metadata.repositories import (
    cabs,
    clients,
    collectors,
    partners,
    reports,
    templates,
    web_sessions,
)
from driverlens.metadata.repositories.partners import Entitlements
from driverlens.metadata.repositories.reports import UNSET
from driverlens.metadata.repositories.templates import StoredTemplate

__all__ = [
    "UNSET",
    "Entitlements",
    "StoredTemplate",
    "cabs",
    "clients",
    "collectors",
    "partners",
    "reports",
    "templates",
    "web_sessions",
]
