"""Repositories: every metadata statement, as small functions over a Session (or the Database, where
a raw ``sqlite3`` fast path or the writer thread is chosen inside), one module per aggregate.

Every function that takes a ``partner_id`` filters by it: another partner's id looks missing.
Timestamps come from the caller (the injected clock), never from the database.
"""

from driverlens.metadata.repositories import (
    cabs,
    callbacks,
    clients,
    collectors,
    partners,
    reports,
    run_leases,
    runs,
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
    "callbacks",
    "clients",
    "collectors",
    "partners",
    "reports",
    "run_leases",
    "runs",
    "templates",
    "web_sessions",
]
