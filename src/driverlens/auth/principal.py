"""Who is calling: the partner behind a verified token."""

from __future__ import annotations

from dataclasses import dataclass

from driverlens.catalog import PartnerKind


@dataclass(frozen=True)
class Principal:
    """The authenticated caller: a client of a partner, with the partner's kind and tenant."""

    partner_id: int
    partner_name: str
    kind: PartnerKind
    tenant_id: str
    client_id: str
