"""Auth use cases: partners, their clients and entitlements, client authentication, token principals.

Called by the CLI, the token endpoint and the API's bearer check; they raise DriverLens errors only.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy.orm import Session

from driverlens.auth.hashing import DUMMY_HASH, hash_secret, new_client_secret, verify_secret
from driverlens.auth.principal import Principal
from driverlens.catalog import PartnerKind
from driverlens.clock import Clock, SystemClock
from driverlens.errors import NotFound, Problem, Unauthorized, ValidationFailed
from driverlens.metadata.models import Client, Partner
from driverlens.metadata.repositories import clients as client_repo
from driverlens.metadata.repositories import partners as partner_repo
from driverlens.metadata.repositories.partners import Entitlements

MAX_NAME_LENGTH = 200
# Which entitlement kinds make sense for which partner kind.
ENTITLEMENTS_BY_KIND: dict[PartnerKind, tuple[str, ...]] = {
    PartnerKind.IHV: ("application_ids", "submission_ids"),
    PartnerKind.OEM: ("oem_names",),
}


def _clock(clock: Clock | None) -> Clock:
    return clock or SystemClock()


def _kind(kind: PartnerKind | str) -> PartnerKind:
    text = str(kind).strip().upper()
    try:
        return PartnerKind(text)
    except ValueError as exc:
        allowed = ", ".join(k.value for k in PartnerKind)
        raise ValidationFailed(
            [
                Problem(
                    path="kind", message=f"{kind!r} is not a partner kind; use one of {allowed}", value=kind
                )
            ]
        ) from exc


def _tenant(tenant_id: str) -> str:
    try:
        return str(uuid.UUID(tenant_id.strip()))
    except ValueError as exc:
        raise ValidationFailed(
            [Problem(path="tenantId", message=f"{tenant_id!r} is not a GUID", value=tenant_id)]
        ) from exc


def add_partner(
    session: Session,
    name: str,
    kind: PartnerKind | str,
    tenant_id: str | None = None,
    *,
    clock: Clock | None = None,
) -> Partner:
    """Register a partner; the tenant id (a GUID) and callback secret are generated unless given."""
    name = name.strip()
    if not name or len(name) > MAX_NAME_LENGTH:
        raise ValidationFailed(
            [Problem(path="name", message=f"must be 1 to {MAX_NAME_LENGTH} characters", value=name)]
        )
    return partner_repo.add_partner(
        session,
        name=name,
        kind=_kind(kind),
        now=_clock(clock).now(),
        tenant_id=_tenant(tenant_id) if tenant_id else str(uuid.uuid4()),
    )


def get_partner(session: Session, name: str) -> Partner:
    partner = partner_repo.get_partner_by_name(session, name.strip())
    if partner is None:
        raise NotFound(f"no partner named {name!r}", target="partner")
    return partner


def list_partners(session: Session) -> list[Partner]:
    return partner_repo.list_partners(session)


def _clean(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v.strip() for v in values if v and v.strip()))


def set_entitlements(
    session: Session,
    partner_name: str,
    *,
    application_ids: Iterable[str] | None = None,
    submission_ids: Iterable[str] | None = None,
    oem_names: Iterable[str] | None = None,
) -> Entitlements:
    """Replace the given kinds of entitlement (None leaves a kind unchanged); returns the result.

    An IHV is entitled by application (product) ids and submission ids, an OEM by OEM names; giving a
    partner values of the other kind is refused.
    """
    partner = get_partner(session, partner_name)
    given = {
        "application_ids": application_ids,
        "submission_ids": submission_ids,
        "oem_names": oem_names,
    }
    allowed = ENTITLEMENTS_BY_KIND[partner.kind]
    cleaned = {key: _clean(values) for key, values in given.items() if values is not None}
    problems = [
        Problem(
            path=key,
            message=f"a {partner.kind.value} partner is entitled by {' and '.join(allowed)}, not {key}",
            value=list(values),
        )
        for key, values in cleaned.items()
        if values and key not in allowed
    ]
    if problems:
        raise ValidationFailed(problems)
    current = partner_repo.entitlements_of(partner).to_json()
    merged: dict[str, Any] = {**current, **{key: list(values) for key, values in cleaned.items()}}
    entitlements = Entitlements.from_json(merged)
    partner_repo.set_entitlements(session, partner, entitlements)
    return entitlements


def entitlements_of(partner: Partner) -> Entitlements:
    return partner_repo.entitlements_of(partner)


def add_client(
    session: Session, partner_name: str, *, name: str | None = None, clock: Clock | None = None
) -> tuple[str, str]:
    """Create a client for a partner; returns ``(client_id, secret)``. The secret is not stored."""
    partner = get_partner(session, partner_name)
    client_id = str(uuid.uuid4())
    secret = new_client_secret()
    client_repo.add_client(
        session,
        partner_id=partner.id,
        client_id=client_id,
        secret_hash=hash_secret(secret),
        name=(name or f"{partner.name} client").strip()[:MAX_NAME_LENGTH],
        now=_clock(clock).now(),
    )
    return client_id, secret


def revoke_client(session: Session, client_id: str, *, clock: Clock | None = None) -> Client:
    """Revoke a client: its secret stops working and its tokens stop being accepted at once."""
    client = client_repo.revoke_client(session, client_id.strip(), now=_clock(clock).now())
    if client is None:
        raise NotFound(f"no client with id {client_id!r}", target="clientId")
    return client


def list_clients(session: Session, partner_name: str) -> list[Client]:
    return client_repo.list_clients(session, get_partner(session, partner_name).id)


def principal_of(client: Client) -> Principal:
    partner = client.partner
    return Principal(
        partner_id=partner.id,
        partner_name=partner.name,
        kind=partner.kind,
        tenant_id=partner.tenant_id,
        client_id=client.client_id,
    )


def tenant_exists(session: Session, tenant_id: str) -> bool:
    """Whether ``tenant_id`` is a partner's tenant (compared case-insensitively, like token requests)."""
    return partner_repo.tenant_exists(session, tenant_id.strip())


def _same_tenant(a: str, b: str) -> bool:
    return a.strip().lower() == b.strip().lower()


def authenticate_client(session: Session, tenant_id: str | None, client_id: str, secret: str) -> Principal:
    """Check client credentials presented at ``/{tenant_id}/oauth2/token`` (or at the dashboard's
    sign-in, which passes no tenant: client ids are unique across tenants).

    An unknown client, a client of another tenant and a wrong secret all fail the same way (and take the
    same time); that a client was revoked is only said to someone who holds its secret.
    """
    client = client_repo.find_client(session, client_id.strip(), include_revoked=True)
    valid = verify_secret(secret, client.secret_hash if client is not None else DUMMY_HASH)
    wrong_tenant = (
        client is not None and tenant_id is not None and not _same_tenant(client.partner.tenant_id, tenant_id)
    )
    if client is None or not valid or wrong_tenant:
        raise Unauthorized(
            "invalid_client: client authentication failed; check the tenant id in the URL, "
            "client_id and client_secret",
            target="client_secret",
        )
    if client.revoked_at is not None:
        raise Unauthorized("invalid_client: this client has been revoked", target="client_id")
    return principal_of(client)


def principal_from_claims(session: Session, claims: Mapping[str, Any]) -> Principal:
    """The partner behind verified claims: ``appid`` (or ``azp``) is a live client of tenant ``tid``."""
    appid = claims.get("appid", claims.get("azp"))
    tid = claims.get("tid")
    if not isinstance(appid, str) or not appid or not isinstance(tid, str):
        raise Unauthorized("invalid token: no 'appid' naming the client application")
    client = client_repo.find_client(session, appid, include_revoked=True)
    if client is None or not _same_tenant(client.partner.tenant_id, tid):
        raise Unauthorized("invalid token: its client application is not registered for its tenant")
    if client.revoked_at is not None:
        raise Unauthorized("invalid token: its client has been revoked")
    return principal_of(client)
