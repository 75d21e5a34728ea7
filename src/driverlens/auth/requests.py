"""The token endpoint's input: form bodies (encoded or not), v1/v2 requests, and discovery documents.

Existing clients build the form body by string concatenation, so a secret such as ``a+b/c=`` often arrives
exactly like that instead of as ``a%2Bb%2Fc%3D``. A standard form decoder would turn ``+`` into a space
and corrupt such a secret. :func:`parse_form_body` therefore applies this rule to every key and value:

1. pairs are split on ``&`` and each pair on its FIRST ``=`` (so ``=`` inside a value survives);
2. ``+`` is always kept as ``+`` (ids, secrets and resource URLs never contain spaces);
3. ``%XX`` escapes are decoded only when every ``%`` in the text starts a valid escape and the result is
   valid UTF-8; otherwise the text is taken literally.

A properly encoded body and a raw one therefore yield the same values.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import unquote_to_bytes

from driverlens.auth.tokens import same_resource
from driverlens.errors import Problem, ValidationFailed
from driverlens.settings import DEFAULT_TOKEN_AUDIENCE

GRANT_TYPE = "client_credentials"
MAX_FORM_BYTES = 16 * 1024
_ALL_ESCAPES_VALID = re.compile(r"(?:[^%]|%[0-9A-Fa-f]{2})*")


def lenient_unquote(text: str) -> str:
    """Percent-decode ``text`` only if it decodes cleanly (rule 3 above); ``+`` stays ``+``."""
    if "%" not in text or not _ALL_ESCAPES_VALID.fullmatch(text):
        return text
    try:
        return unquote_to_bytes(text).decode("utf-8")
    except UnicodeDecodeError:
        return text


def parse_form_body(body: bytes | str) -> dict[str, str]:
    """Parse an ``application/x-www-form-urlencoded`` body whose values may or may not be encoded."""
    if isinstance(body, bytes):
        if len(body) > MAX_FORM_BYTES:
            raise ValidationFailed(
                [Problem(path="", message=f"the form body is larger than {MAX_FORM_BYTES} bytes")]
            )
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValidationFailed(
                [Problem(path="", message="the form body is not UTF-8 text", code="invalid_request")]
            ) from exc
    form: dict[str, str] = {}
    problems: list[Problem] = []
    for pair in body.strip().split("&"):
        if not pair:
            continue
        raw_key, sep, raw_value = pair.partition("=")
        key = lenient_unquote(raw_key).strip()
        value = lenient_unquote(raw_value) if sep else ""
        if key in form:
            problems.append(
                Problem(path=key, message="the parameter appears more than once", code="invalid_request")
            )
            continue
        form[key] = value
    if problems:
        raise ValidationFailed(problems)
    return form


@dataclass(frozen=True)
class TokenRequest:
    """A client-credentials token request, already checked for shape."""

    client_id: str
    client_secret: str
    resource: str
    version: Literal["v1", "v2"]


def _require(form: Mapping[str, str], name: str, problems: list[Problem], hint: str) -> str:
    value = form.get(name, "").strip()
    if not value:
        problems.append(Problem(path=name, message=f"is required: {hint}", code="invalid_request"))
    return value


def parse_token_request(
    form: Mapping[str, str], version: Literal["v1", "v2"], *, audience: str = DEFAULT_TOKEN_AUDIENCE
) -> TokenRequest:
    """Check a token request (v1: ``resource``; v2: ``scope=<resource>/.default``); list every problem.

    ``audience`` is the accepted resource: the app passes its ``token_audience`` setting.
    """
    problems: list[Problem] = []
    grant_type = form.get("grant_type", "").strip()
    if not grant_type:
        problems.append(
            Problem(
                path="grant_type", message=f"is required and must be {GRANT_TYPE!r}", code="invalid_request"
            )
        )
    elif grant_type.lower() != GRANT_TYPE:
        problems.append(
            Problem(
                path="grant_type",
                message=f"{grant_type[:100]!r} is not supported; only {GRANT_TYPE!r} is",
                value=grant_type[:100],
                code="unsupported_grant_type",
            )
        )
    client_id = _require(form, "client_id", problems, "the application (client) id")
    secret = form.get("client_secret", "")
    if not secret:
        problems.append(
            Problem(path="client_secret", message="is required: the client secret", code="invalid_request")
        )
    if version == "v1":
        resource = _require(form, "resource", problems, f"the resource, {audience!r}")
        if resource and not same_resource(resource, audience):
            problems.append(
                Problem(
                    path="resource",
                    message=f"{resource[:200]!r} is not served here; use {audience!r}",
                    value=resource[:200],
                    code="invalid_resource",
                )
            )
    else:
        scope = _require(form, "scope", problems, f"'{audience.rstrip('/')}/.default'")
        resource = scope.removesuffix("/.default") if scope.endswith("/.default") else ""
        if scope and not (resource and same_resource(resource, audience)):
            problems.append(
                Problem(
                    path="scope",
                    message=f"{scope[:200]!r} is not valid; use '{audience.rstrip('/')}/.default'",
                    value=scope[:200],
                    code="invalid_scope",
                )
            )
    if problems:
        raise ValidationFailed(problems)
    return TokenRequest(client_id=client_id, client_secret=secret, resource=audience, version=version)


def openid_configuration(base_url: str, tenant_id: str, *, issuer: str | None = None) -> dict[str, Any]:
    """The OpenID Connect discovery document for a tenant (token and key endpoints of this server)."""
    root = base_url.rstrip("/")
    return {
        "issuer": issuer if issuer is not None else root,
        "token_endpoint": f"{root}/{tenant_id}/oauth2/token",
        "token_endpoint_v2": f"{root}/{tenant_id}/oauth2/v2.0/token",
        "jwks_uri": f"{root}/{tenant_id}/discovery/keys",
        "token_endpoint_auth_methods_supported": ["client_secret_post"],
        "grant_types_supported": [GRANT_TYPE],
        "response_types_supported": ["token"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
        "claims_supported": ["iss", "aud", "tid", "appid", "iat", "nbf", "exp", "sub", "oid"],
        "tenant_id": tenant_id,
    }
