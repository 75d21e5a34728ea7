"""Partners: who they are and which data they are entitled to."""

from __future__ import annotations

import base64
import secrets
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from driverlens.catalog import PartnerKind
from driverlens.errors import Conflict
from driverlens.metadata.models import Partner

ENTITLEMENT_KEYS = ("application_ids", "submission_ids", "oem_names")


@dataclass(frozen=True)
class Entitlements:
    """What a partner may see: an IHV's product and submission ids, an OEM's OEM names."""

    application_ids: tuple[str, ...] = ()
    submission_ids: tuple[str, ...] = ()
    oem_names: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, raw: Mapping[str, Any] | None) -> Entitlements:
        raw = raw or {}
        return cls(**{key: tuple(str(v) for v in raw.get(key) or ()) for key in ENTITLEMENT_KEYS})

    def to_json(self) -> dict[str, list[str]]:
        return {key: list(getattr(self, key)) for key in ENTITLEMENT_KEYS}

    def plus(self, **extra: Iterable[str]) -> Entitlements:
        """These entitlements with more values added (order kept, no duplicates)."""
        return self._changed(extra, add=True)

    def minus(self, **removed: Iterable[str]) -> Entitlements:
        return self._changed(removed, add=False)

    def _changed(self, changes: Mapping[str, Iterable[str]], *, add: bool) -> Entitlements:
        unknown = set(changes) - set(ENTITLEMENT_KEYS)
        if unknown:
            raise ValueError(
                f"unknown entitlement kinds {sorted(unknown)}; allowed: {list(ENTITLEMENT_KEYS)}"
            )
        values = {key: list(getattr(self, key)) for key in ENTITLEMENT_KEYS}
        for key, items in changes.items():
            items = [str(i) for i in items]
            if add:
                values[key] += [i for i in dict.fromkeys(items) if i not in values[key]]
            else:
                values[key] = [i for i in values[key] if i not in items]
        return Entitlements(**{key: tuple(v) for key, v in values.items()})


def new_callback_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` + base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def entitlements_of(partner: Partner) -> Entitlements:
    return Entitlements.from_json(partner.entitlements)


def add_partner(
    session: Session,
    *,
    name: str,
    kind: PartnerKind,
    now: datetime,
    tenant_id: str | None = None,
    callback_secret: str | None = None,
    entitlements: Entitlements | None = None,
) -> Partner:
    """Create a partner; a tenant id and a callback secret are generated when not given."""
    tenant_id = tenant_id or str(uuid.uuid4())
    wanted = name_key(name)
    for existing in session.scalars(select(Partner.name)):
        if name_key(existing) == wanted:
            # Scoping matches owner columns by exact name: two partners whose names differ only in case
            # or spacing would be impossible to tell apart for operators and in the data.
            raise Conflict(
                f"a partner named {existing!r} already exists; names differing only in case or spaces "
                "are the same partner",
                target="name",
            )
    if get_partner_by_tenant(session, tenant_id) is not None:
        raise Conflict(f"tenant id {tenant_id!r} already belongs to another partner", target="tenantId")
    partner = Partner(
        name=name,
        kind=PartnerKind(kind),
        tenant_id=tenant_id,
        callback_secret=callback_secret or new_callback_secret(),
        entitlements=(entitlements or Entitlements()).to_json(),
        created_at=now,
    )
    session.add(partner)
    session.flush()
    return partner


def name_key(name: str) -> str:
    """What makes two partner names the same: case and runs of white space do not count."""
    return " ".join(name.split()).casefold()


def get_partner(session: Session, partner_id: int) -> Partner | None:
    return session.get(Partner, partner_id)


def get_partner_by_name(session: Session, name: str) -> Partner | None:
    return session.scalars(select(Partner).where(Partner.name == name)).one_or_none()


def tenant_exists(session: Session, tenant_id: str) -> bool:
    """Whether some partner has ``tenant_id``, compared case-insensitively."""
    if not tenant_id:
        return False
    query = select(Partner.id).where(func.lower(Partner.tenant_id) == tenant_id.lower()).limit(1)
    return session.scalars(query).first() is not None


def get_partner_by_tenant(session: Session, tenant_id: str) -> Partner | None:
    return session.scalars(select(Partner).where(Partner.tenant_id == tenant_id)).one_or_none()


def list_partners(session: Session) -> list[Partner]:
    return list(session.scalars(select(Partner).order_by(Partner.id)))


def set_entitlements(session: Session, partner: Partner, entitlements: Entitlements) -> Partner:
    """Replace the partner's entitlements (the JSON value is replaced, never mutated in place)."""
    partner.entitlements = entitlements.to_json()
    session.flush()
    return partner


def set_callback_secret(session: Session, partner: Partner, secret: str | None = None) -> str:
    """Rotate the partner's callback secret; returns the new one."""
    partner.callback_secret = secret or new_callback_secret()
    session.flush()
    return partner.callback_secret
