"""The signing key ring: RS256 key pairs kept as PEM files in ``<data_dir>/keys/``.

Files are named by a sequence number (``000001.pem``, ``000002.pem``, ...); the highest number is the
current signing key and every file on disk still verifies. A new file is written to a private temporary
file and then hard-linked to its final name, which fails if the name exists: two processes that start at
once (or rotate at once) cannot overwrite each other, and the loser simply re-reads the directory. The
``kid`` is the RFC 7638 thumbprint of the public key, so it never depends on the file name. The file's
modification time records when the key was made (set from the injected clock).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from driverlens.clock import Clock, SystemClock
from driverlens.errors import ServiceUnavailable

KEY_BITS = 2048
_FILE_RE = re.compile(r"^(\d{6,})\.pem$")


@dataclass(frozen=True)
class SigningKey:
    """One key pair of the ring."""

    kid: str
    seq: int
    created: datetime
    path: Path
    private_key: rsa.RSAPrivateKey

    @property
    def public_key(self) -> rsa.RSAPublicKey:
        return self.private_key.public_key()

    def public_jwk(self) -> dict[str, str]:
        numbers = self.public_key.public_numbers()
        return {
            "kty": "RSA",
            "use": "sig",
            "alg": "RS256",
            "kid": self.kid,
            "n": _b64uint(numbers.n),
            "e": _b64uint(numbers.e),
        }


def _b64uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8 or 1, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def thumbprint(public_key: rsa.RSAPublicKey) -> str:
    """RFC 7638 JWK thumbprint (SHA-256, base64url), used as the ``kid``."""
    numbers = public_key.public_numbers()
    canonical = json.dumps(
        {"e": _b64uint(numbers.e), "kty": "RSA", "n": _b64uint(numbers.n)}, separators=(",", ":")
    )
    digest = hashlib.sha256(canonical.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class KeyRing:
    """RS256 signing keys on disk; created on first use, rotated on demand, re-read when files change."""

    def __init__(self, data_dir: Path, clock: Clock | None = None) -> None:
        self.dir = Path(data_dir) / "keys"
        self._clock = clock or SystemClock()
        self._lock = threading.Lock()
        self._keys: list[SigningKey] = []
        self._names: tuple[str, ...] | None = None

    # -- reading -------------------------------------------------------------------------------------

    def signing_keys(self) -> list[SigningKey]:
        """Every key on disk, oldest first (creating the first key if there is none)."""
        with self._lock:
            self._refresh()
            if not self._keys:
                self._create(1)
                self._refresh()
            return list(self._keys)

    def current(self) -> tuple[str, rsa.RSAPrivateKey]:
        """The signing key: ``(kid, private_key)`` of the newest key."""
        newest = self.signing_keys()[-1]
        return newest.kid, newest.private_key

    def public_key(self, kid: str) -> rsa.RSAPublicKey | None:
        """The public key for ``kid``, or None when no key on disk has it."""
        for key in self.signing_keys():
            if key.kid == kid:
                return key.public_key
        return None

    def jwks(self) -> dict[str, Any]:
        """The public keys as a JSON Web Key Set, newest first."""
        return {"keys": [key.public_jwk() for key in reversed(self.signing_keys())]}

    # -- changing ------------------------------------------------------------------------------------

    def rotate(self) -> str:
        """Add a new current key; older keys keep verifying. Returns the new kid."""
        with self._lock:
            while True:
                self._refresh()
                seq = (self._keys[-1].seq + 1) if self._keys else 1
                kid = self._create(seq)
                if kid is not None:
                    self._refresh()
                    return kid

    def prune(self, older_than_s: float) -> list[str]:
        """Delete retired keys whose successor was made more than ``older_than_s`` seconds ago.

        A key stops signing when its successor is created, so after token lifetime + margin no valid
        token can still need it. The current key is never deleted. Returns the removed kids.
        """
        removed: list[str] = []
        with self._lock:
            self._refresh()
            cutoff = self._clock.now() - timedelta(seconds=older_than_s)
            for key, successor in zip(self._keys, self._keys[1:], strict=False):
                if successor.created < cutoff:
                    key.path.unlink(missing_ok=True)
                    removed.append(key.kid)
            self._refresh()
        return removed

    # -- internals -----------------------------------------------------------------------------------

    def _refresh(self) -> None:
        # Key files are never rewritten in place (only added or deleted), so the set of names
        # identifies the ring's content; listing a tiny directory costs microseconds.
        try:
            names = tuple(sorted(n for n in os.listdir(self.dir) if _FILE_RE.match(n)))
        except FileNotFoundError:
            names = ()
        if names == self._names:
            return
        known = {key.path.name: key for key in self._keys}
        loaded: list[SigningKey] = []
        for name in names:
            if name in known:
                loaded.append(known[name])
                continue
            entry = self.dir / name
            try:
                pem = entry.read_bytes()
                mtime = entry.stat().st_mtime
            except FileNotFoundError:  # pruned by another process meanwhile
                continue
            try:
                private_key = serialization.load_pem_private_key(pem, password=None)
            except (ValueError, TypeError) as exc:
                raise ServiceUnavailable(f"signing key file {entry} is unreadable: {exc}") from exc
            if not isinstance(private_key, rsa.RSAPrivateKey):
                raise ServiceUnavailable(f"signing key file {entry} does not hold an RSA private key")
            match = _FILE_RE.match(name)
            assert match is not None
            loaded.append(
                SigningKey(
                    kid=thumbprint(private_key.public_key()),
                    seq=int(match.group(1)),
                    created=datetime.fromtimestamp(mtime, UTC),
                    path=entry,
                    private_key=private_key,
                )
            )
        loaded.sort(key=lambda k: k.seq)
        self._keys, self._names = loaded, names

    def _create(self, seq: int) -> str | None:
        """Write key number ``seq``; None when another process took that number first."""
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        private_key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
        pem = private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        tmp = self.dir / f".tmp-{os.getpid()}-{threading.get_ident()}-{os.urandom(4).hex()}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(pem)
                handle.flush()
                os.fsync(handle.fileno())
            created = self._clock.now().timestamp()
            os.utime(tmp, (created, created))
            try:
                os.link(tmp, self.dir / f"{seq:06d}.pem")
            except FileExistsError:
                return None
        finally:
            tmp.unlink(missing_ok=True)
        return thumbprint(private_key.public_key())
