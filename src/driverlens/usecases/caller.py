"""Who is calling: the slice of an authenticated principal the use cases need."""

from __future__ import annotations

from typing import Protocol

from driverlens.catalog import PartnerKind


class Caller(Protocol):
    """Satisfied by ``driverlens.auth.Principal``; passed explicitly to every use case."""

    @property
    def partner_id(self) -> int: ...

    @property
    def partner_name(self) -> str: ...

    @property
    def kind(self) -> PartnerKind: ...
