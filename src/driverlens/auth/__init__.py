"""Partners, clients and tokens: the RS256 key ring, token issuer/verifier, and the auth use cases."""
