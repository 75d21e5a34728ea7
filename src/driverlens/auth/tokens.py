"""RS256 access tokens: the issuer that mints them and the verifier that checks every claim.

The verifier parses and checks the token itself (with ``cryptography`` for the signature) rather than
trusting a library's defaults: only ``RS256`` is accepted, the key comes only from our key ring (or the
configured Azure AD JWKS) by ``kid``, and ``jku``/``jwk``/``x5u`` headers are never looked at. Time is read
from the injected clock. Every failure is ``Unauthorized`` with a reason a client author can act on.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import re
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Literal

import jwt
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from driverlens.auth.jwks import AzureAdTrust
from driverlens.auth.keys import KeyRing
from driverlens.clock import Clock
from driverlens.errors import Unauthorized

ALGORITHM = "RS256"
MAX_TOKEN_CHARS = 8192
VERIFIED_CACHE_SIZE = 4096
REQUIRED_CLAIMS = ("exp", "nbf", "iat", "iss", "aud", "tid")
_B64URL = re.compile(r"[A-Za-z0-9_-]*")


def own_issuer(public_base_url: str) -> str:
    """The ``iss`` of tokens this server mints: its public base URL without a trailing slash."""
    return public_base_url.rstrip("/")


def same_resource(given: str, expected: str) -> bool:
    """Resource/audience equality, tolerating one trailing slash on either side."""
    return given.rstrip("/") == expected.rstrip("/")


class TokenIssuer:
    """Mints access tokens signed with the key ring's current key."""

    def __init__(self, keyring: KeyRing, issuer: str, audience: str, lifetime_s: int, clock: Clock) -> None:
        self.keyring = keyring
        self.issuer = issuer
        self.audience = audience
        self.lifetime_s = lifetime_s
        self.clock = clock

    def claims(self, *, tenant_id: str, client_id: str) -> dict[str, Any]:
        now = int(self.clock.now().timestamp())
        return {
            "aud": self.audience,
            "iss": self.issuer,
            "iat": now,
            "nbf": now,
            "exp": now + self.lifetime_s,
            "appid": client_id,
            "appidacr": "1",
            "oid": client_id,
            "sub": client_id,
            "tid": tenant_id,
            "jti": str(uuid.uuid4()),
            "ver": "1.0",
        }

    def mint(self, claims: dict[str, Any]) -> str:
        """Sign ``claims`` with the current key (``kid`` in the header)."""
        kid, private_key = self.keyring.current()
        return jwt.encode(claims, private_key, algorithm=ALGORITHM, headers={"kid": kid, "typ": "JWT"})

    def issue(self, *, tenant_id: str, client_id: str, version: Literal["v1", "v2"] = "v1") -> dict[str, Any]:
        """The token endpoint response: Azure AD v1 uses string numbers, v2 integers."""
        claims = self.claims(tenant_id=tenant_id, client_id=client_id)
        token = self.mint(claims)
        expires_in = claims["exp"] - claims["iat"] - 1  # Azure AD reports 3599 for a 60-minute token
        if version == "v2":
            return {
                "token_type": "Bearer",
                "expires_in": expires_in,
                "ext_expires_in": expires_in,
                "access_token": token,
            }
        return {
            "token_type": "Bearer",
            "expires_in": str(expires_in),
            "ext_expires_in": str(expires_in),
            "expires_on": str(claims["exp"]),
            "not_before": str(claims["nbf"]),
            "resource": self.audience,
            "access_token": token,
        }


def _b64decode(segment: str, what: str) -> bytes:
    if not _B64URL.fullmatch(segment) or len(segment) % 4 == 1:
        raise Unauthorized(f"malformed token: the {what} is not base64url")
    try:
        return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError) as exc:
        raise Unauthorized(f"malformed token: the {what} is not base64url") from exc


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def _json_object(raw: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise Unauthorized(f"malformed token: the {what} is not JSON") from exc
    if not isinstance(value, dict):
        raise Unauthorized(f"malformed token: the {what} is not a JSON object")
    return value


def _number(claims: dict[str, Any], name: str) -> float:
    value = claims[name]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise Unauthorized(f"invalid token: claim '{name}' must be a NumericDate (seconds since 1970)")
    return float(value)


def _cache_key(token: object) -> bytes | None:
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS or not token.isascii():
        return None
    return hashlib.sha256(token.encode("ascii")).digest()


class TokenVerifier:
    """Checks a bearer token and returns its claims; raises Unauthorized with the reason otherwise."""

    def __init__(
        self,
        keyring: KeyRing,
        issuer: str,
        audience: str,
        clock: Clock,
        leeway_s: int = 60,
        external: AzureAdTrust | None = None,
    ) -> None:
        self.keyring = keyring
        self.issuer = issuer
        self.audience = audience
        self.clock = clock
        self.leeway_s = leeway_s
        self.external = external
        # Clients reuse one token for its whole life: remember tokens whose signature verified (by
        # digest, with the kid that signed them), and on a hit re-check the time-dependent claims and
        # that the signing key is still in the ring (a pruned key stops its tokens at once).
        self._verified: OrderedDict[bytes, tuple[dict[str, Any], str]] = OrderedDict()
        self._verified_lock = threading.Lock()

    def verify(self, token: str) -> dict[str, Any]:
        """The token's claims if it is valid now; Unauthorized (with the reason) otherwise."""
        key = _cache_key(token)
        if key is not None:
            with self._verified_lock:
                cached = self._verified.get(key)
                if cached is not None:
                    self._verified.move_to_end(key)
            if cached is not None:
                claims, kid = cached
                issuer, audience, lookup = self._trust_for(claims)
                self._check_claims(claims, issuer, audience)
                if lookup(kid) is None:
                    with self._verified_lock:
                        self._verified.pop(key, None)
                    raise Unauthorized(f"invalid token: unknown signing key kid={kid[:64]!r}")
                return dict(claims)
        claims, kid = self._verify_uncached(token)
        if key is not None:
            with self._verified_lock:
                self._verified[key] = (dict(claims), kid)
                while len(self._verified) > VERIFIED_CACHE_SIZE:
                    self._verified.popitem(last=False)
        return claims

    def _verify_uncached(self, token: str) -> tuple[dict[str, Any], str]:
        if not isinstance(token, str) or not token:
            raise Unauthorized("missing token: send 'Authorization: Bearer <access token>'")
        if len(token) > MAX_TOKEN_CHARS:
            raise Unauthorized(f"malformed token: longer than {MAX_TOKEN_CHARS} characters")
        parts = token.split(".")
        if len(parts) != 3:
            raise Unauthorized(f"malformed token: a JWT has 3 dot-separated parts, this one has {len(parts)}")
        header = _json_object(_b64decode(parts[0], "header"), "header")
        alg = header.get("alg")
        if alg != ALGORITHM:
            raise Unauthorized(f"invalid token: algorithm {alg!r:.40} is not accepted, only RS256")
        if "crit" in header:
            raise Unauthorized("invalid token: the 'crit' header is not supported")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise Unauthorized("invalid token: the header has no 'kid' naming the signing key")
        claims = _json_object(_b64decode(parts[1], "payload"), "payload")
        signature = _b64decode(parts[2], "signature")

        issuer, audience, lookup = self._trust_for(claims)
        key = lookup(kid)
        if key is None:
            raise Unauthorized(f"invalid token: unknown signing key kid={kid[:64]!r}")
        try:
            key.verify(
                signature, f"{parts[0]}.{parts[1]}".encode("ascii"), padding.PKCS1v15(), hashes.SHA256()
            )
        except InvalidSignature as exc:
            raise Unauthorized("invalid token: the signature does not verify") from exc
        self._check_claims(claims, issuer, audience)
        return claims, kid

    def _trust_for(self, claims: dict[str, Any]) -> tuple[str, str, Callable[[str], rsa.RSAPublicKey | None]]:
        # Choosing the key source by the (unverified) issuer is safe: the signature must then verify
        # with that source's keys and the issuer is checked again against the same source.
        if self.external is not None and claims.get("iss") == self.external.issuer:
            return self.external.issuer, self.external.audience, self.external.jwks.key
        return self.issuer, self.audience, self.keyring.public_key

    def _check_claims(self, claims: dict[str, Any], issuer: str, audience: str) -> None:
        missing = [name for name in REQUIRED_CLAIMS if name not in claims]
        if missing:
            raise Unauthorized(f"invalid token: required claim(s) missing: {', '.join(missing)}")
        now = self.clock.now().timestamp()
        exp, nbf, iat = _number(claims, "exp"), _number(claims, "nbf"), _number(claims, "iat")
        if exp <= now - self.leeway_s:
            raise Unauthorized("invalid token: the token has expired; request a new one")
        if nbf > now + self.leeway_s:
            raise Unauthorized("invalid token: the token is not valid yet (nbf is in the future)")
        if iat > now + self.leeway_s:
            raise Unauthorized("invalid token: the token was issued in the future (iat)")
        if claims["iss"] != issuer:
            raise Unauthorized(f"invalid token: issuer {str(claims['iss'])[:200]!r} is not trusted")
        aud = claims["aud"]
        audiences = aud if isinstance(aud, list) else [aud]
        if not any(isinstance(a, str) and same_resource(a, audience) for a in audiences):
            raise Unauthorized(f"invalid token: audience must be {audience!r}")
        tid = claims["tid"]
        if not isinstance(tid, str) or not tid:
            raise Unauthorized("invalid token: claim 'tid' must be a non-empty tenant id")
