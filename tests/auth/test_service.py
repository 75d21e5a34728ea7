"""Auth use cases over a real metadata store (SQLite and PostgreSQL)."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest

from driverlens.auth import service
from driverlens.auth.hashing import hash_secret, verify_secret
from driverlens.auth.keys import KeyRing
from driverlens.auth.tokens import TokenIssuer, TokenVerifier
from driverlens.catalog import PartnerKind
from driverlens.clock import FrozenClock
from driverlens.errors import Conflict, NotFound, Unauthorized, ValidationFailed
from driverlens.metadata.database import Database
from driverlens.metadata.repositories import clients as client_repo
from tests.auth.conftest import AUDIENCE, ISSUER


def test_add_partner_generates_tenant_and_callback_secret(db: Database, clock: FrozenClock) -> None:
    with db.session() as session:
        partner = service.add_partner(session, "Contoso GPU", "ihv", clock=clock)
    assert partner.kind is PartnerKind.IHV
    assert str(uuid.UUID(partner.tenant_id)) == partner.tenant_id
    assert re.fullmatch(r"whsec_[A-Za-z0-9+/]{40,}={0,2}", partner.callback_secret)
    assert partner.created_at == clock.now()
    with db.session() as session:
        assert [p.name for p in service.list_partners(session)] == ["Contoso GPU"]
        assert service.get_partner(session, "Contoso GPU").tenant_id == partner.tenant_id


def test_add_partner_refuses_bad_input_and_duplicates(db: Database) -> None:
    tenant = str(uuid.uuid4())
    with db.session() as session:
        service.add_partner(session, "Fabrikam", PartnerKind.OEM, tenant_id=tenant.upper())
    with pytest.raises(ValidationFailed, match="not a partner kind"), db.session() as session:
        service.add_partner(session, "X", "ODM")
    with pytest.raises(ValidationFailed, match="not a GUID"), db.session() as session:
        service.add_partner(session, "X", "OEM", tenant_id="not-a-guid")
    with pytest.raises(Conflict, match="already exists"), db.session() as session:
        service.add_partner(session, "Fabrikam", "OEM")
    with pytest.raises(Conflict, match="tenant id"), db.session() as session:
        service.add_partner(session, "Other", "OEM", tenant_id=tenant)
    with pytest.raises(NotFound), db.session() as session:
        service.get_partner(session, "Nobody")


def test_entitlements_replace_only_the_given_kinds(db: Database) -> None:
    with db.session() as session:
        service.add_partner(session, "Contoso", "IHV")
        service.set_entitlements(session, "Contoso", application_ids=["A1", " A2 ", "A1", ""])
        result = service.set_entitlements(session, "Contoso", submission_ids=["S1"])
    assert result.application_ids == ("A1", "A2") and result.submission_ids == ("S1",)
    with db.session() as session:
        result = service.set_entitlements(session, "Contoso", application_ids=[])
        stored = service.entitlements_of(service.get_partner(session, "Contoso"))
    assert result.application_ids == () and stored == result


def test_entitlements_of_the_wrong_kind_are_refused(db: Database) -> None:
    with db.session() as session:
        service.add_partner(session, "Contoso", "IHV")
        service.add_partner(session, "Fabrikam", "OEM")
    with pytest.raises(ValidationFailed, match="oem_names"), db.session() as session:
        service.set_entitlements(session, "Contoso", oem_names=["Fabrikam"])
    with pytest.raises(ValidationFailed, match="application_ids") as caught, db.session() as session:
        service.set_entitlements(session, "Fabrikam", application_ids=["A"], submission_ids=["S"])
    assert len(caught.value.problems()) == 2  # every problem, not just the first


def test_secret_hashing() -> None:
    stored = hash_secret("s3cr+t/=")
    assert "s3cr" not in stored and stored.startswith("scrypt$16384$8$1$")
    assert verify_secret("s3cr+t/=", stored)
    assert not verify_secret("s3cr t/=", stored)
    assert not verify_secret("s3cr+t/", stored)
    assert hash_secret("same") != hash_secret("same")  # salted
    for broken in ("", "plain", "md5$x$y$z$a$b", stored.replace("$8$", "$x$"), stored[:-4] + "!!!!"):
        assert not verify_secret("s3cr+t/=", broken)


def test_client_secret_is_shown_once_and_only_its_hash_is_stored(db: Database) -> None:
    with db.session() as session:
        partner = service.add_partner(session, "Contoso", "IHV")
        client_id, secret = service.add_client(session, "Contoso")
    with db.session() as session:
        stored = client_repo.find_client(session, client_id)
        assert stored is not None
        assert secret not in stored.secret_hash and verify_secret(secret, stored.secret_hash)
        principal = service.authenticate_client(session, partner.tenant_id, client_id, secret)
    assert (principal.partner_name, principal.kind, principal.client_id) == ("Contoso", "IHV", client_id)
    assert principal.partner_id == partner.id and principal.tenant_id == partner.tenant_id


def test_authentication_failures_are_invalid_client(db: Database, clock: FrozenClock) -> None:
    with db.session() as session:
        contoso = service.add_partner(session, "Contoso", "IHV")
        fabrikam = service.add_partner(session, "Fabrikam", "OEM")
        client_id, secret = service.add_client(session, "Contoso")
    cases = {
        "wrong secret": (contoso.tenant_id, client_id, secret[:-2] + "xx"),
        "empty secret": (contoso.tenant_id, client_id, ""),
        "unknown client": (contoso.tenant_id, str(uuid.uuid4()), secret),
        "other tenant": (fabrikam.tenant_id, client_id, secret),
        "unknown tenant": (str(uuid.uuid4()), client_id, secret),
    }
    for name, (tenant, cid, sec) in cases.items():
        with pytest.raises(Unauthorized, match="invalid_client"), db.session() as session:
            service.authenticate_client(session, tenant, cid, sec)
        print(name, "-> Unauthorized")
    with db.session() as session:  # tenant ids compare case-insensitively (GUIDs)
        service.authenticate_client(session, contoso.tenant_id.upper(), client_id, secret)
        service.revoke_client(session, client_id, clock=clock)
    with pytest.raises(Unauthorized, match="revoked"), db.session() as session:
        service.authenticate_client(session, contoso.tenant_id, client_id, secret)
    with pytest.raises(NotFound), db.session() as session:
        service.revoke_client(session, str(uuid.uuid4()))


def test_principal_from_claims_and_revoked_client_tokens(
    db: Database, keyring: KeyRing, clock: FrozenClock
) -> None:
    issuer = TokenIssuer(keyring, ISSUER, AUDIENCE, 3600, clock)
    verifier = TokenVerifier(keyring, ISSUER, AUDIENCE, clock)
    with db.session() as session:
        contoso = service.add_partner(session, "Contoso", "IHV")
        fabrikam = service.add_partner(session, "Fabrikam", "OEM")
        client_id, _ = service.add_client(session, "Contoso")
    token = issuer.issue(tenant_id=contoso.tenant_id, client_id=client_id)["access_token"]
    with db.session() as session:
        principal = service.principal_from_claims(session, verifier.verify(token))
    assert principal.partner_name == "Contoso" and principal.client_id == client_id
    # A correctly signed token whose tid is another partner's tenant does not map to anyone.
    crossed = issuer.issue(tenant_id=fabrikam.tenant_id, client_id=client_id)["access_token"]
    with pytest.raises(Unauthorized, match="not registered"), db.session() as session:
        service.principal_from_claims(session, verifier.verify(crossed))
    unknown = issuer.issue(tenant_id=contoso.tenant_id, client_id=str(uuid.uuid4()))["access_token"]
    with pytest.raises(Unauthorized, match="not registered"), db.session() as session:
        service.principal_from_claims(session, verifier.verify(unknown))
    with pytest.raises(Unauthorized, match="appid"), db.session() as session:
        service.principal_from_claims(session, {"tid": contoso.tenant_id})
    # Revocation takes effect for tokens already handed out, before they expire.
    with db.session() as session:
        service.revoke_client(session, client_id, clock=clock)
    clock.advance(timedelta(minutes=5))
    claims = verifier.verify(token)
    with pytest.raises(Unauthorized, match="revoked"), db.session() as session:
        service.principal_from_claims(session, claims)


def test_list_clients_shows_revoked_ones(db: Database, clock: FrozenClock) -> None:
    with db.session() as session:
        service.add_partner(session, "Contoso", "IHV")
        first, _ = service.add_client(session, "Contoso", clock=clock)
        second, _ = service.add_client(session, "Contoso", clock=clock)
        service.revoke_client(session, first, clock=clock)
    with db.session() as session:
        listed = service.list_clients(session, "Contoso")
    assert [(c.client_id, c.revoked_at is not None) for c in listed] == [(first, True), (second, False)]
