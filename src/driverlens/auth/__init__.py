"""Partners, clients and tokens: the RS256 key ring, token issuer/verifier, and the auth use cases.

- ``keys.KeyRing``: signing keys as PEM files in ``<data_dir>/keys/``; rotate, prune, JWKS.
- ``tokens.TokenIssuer`` / ``tokens.TokenVerifier``: RS256 access tokens; every failure is Unauthorized.
- ``jwks.AzureAdTrust``: optional trust of an external Azure AD tenant (JWKS fetched and cached).
- ``requests``: token endpoint input (form bodies encoded or not, v1/v2) and the OpenID document.
- ``service``: partners, clients, entitlements, client authentication, token -> ``Principal``.
"""

from driverlens.auth.jwks import AzureAdTrust, JwksCache
from driverlens.auth.keys import KeyRing
from driverlens.auth.principal import Principal
from driverlens.auth.requests import TokenRequest, openid_configuration, parse_form_body, parse_token_request
from driverlens.auth.tokens import TokenIssuer, TokenVerifier, own_issuer

__all__ = [
    "AzureAdTrust",
    "JwksCache",
    "KeyRing",
    "Principal",
    "TokenIssuer",
    "TokenRequest",
    "TokenVerifier",
    "openid_configuration",
    "own_issuer",
    "parse_form_body",
    "parse_token_request",
]
