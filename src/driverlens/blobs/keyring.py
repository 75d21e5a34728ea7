"""The link-signing key ring: keys in ``<data_dir>/link-keys.json``, plus one derived from
``settings.link_secret`` when it is set.

The key file::

    {"current": "k2026a", "keys": {"k2026a": "<base64url, >= 16 bytes>", "k2025b": "..."}}

Without a configured secret, the first start generates the file with one random key (like the token
signing keys), so no deployment ever signs links with a default secret. Rotation: add a key
(``add_link_key``) and make it current; links signed with older keys keep verifying until those keys are
removed from the file (or ``link_secret`` changes). With a secret and no file, the key derived from it
(kid ``s-<8 hex>``, a fingerprint that does not reveal the secret) is current.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import json
import os
import re
import secrets
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

from driverlens.blobs.links import LinkSigner
from driverlens.clock import Clock
from driverlens.errors import Problem, ValidationFailed
from driverlens.settings import Settings

KEY_FILE_NAME = "link-keys.json"
_KID = re.compile(r"[A-Za-z0-9_-]{1,32}")


def derived_key(link_secret: str) -> tuple[str, bytes]:
    """(kid, key) derived from the configured link secret."""
    raw = link_secret.encode("utf-8")
    key = hmac.new(raw, b"driverlens link signing key v1", hashlib.sha256).digest()
    kid = "s-" + hmac.new(raw, b"driverlens link key id v1", hashlib.sha256).hexdigest()[:8]
    return kid, key


def load_keyring(settings: Settings) -> tuple[dict[str, bytes], str]:
    """(keys by kid, current kid) from the settings and the key file (generated when no secret is set)."""
    keys: dict[str, bytes] = {}
    current: str | None = None
    if settings.link_secret:
        kid, key = derived_key(settings.link_secret)
        keys[kid] = key
        current = kid
    else:
        ensure_generated_key(settings.data_dir)
    path = settings.data_dir / KEY_FILE_NAME
    if path.exists():
        data = _read_key_file(path)
        for extra_kid, encoded in data["keys"].items():
            keys[extra_kid] = _decode_key(path, extra_kid, encoded)
        if data.get("current"):
            current = str(data["current"])
            if current not in keys:
                raise _bad(path, f"current key id {current!r} is not one of the keys")
    if current is None:
        raise _bad(path, 'names no "current" key and DRIVERLENS_LINK_SECRET is not set; name one')
    return keys, current


def ensure_generated_key(data_dir: Path) -> None:
    """Create the key file with one random current key unless it exists.

    Processes starting together race here: each writes its own candidate and hard-links it into place,
    which fails when another got there first, so every process ends up reading the one winner's key.
    """
    path = data_dir / KEY_FILE_NAME
    if path.exists():
        return
    data_dir.mkdir(parents=True, exist_ok=True)
    kid = "g-" + secrets.token_hex(4)
    data = {"current": kid, "keys": {kid: base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii")}}
    fd, tmp = tempfile.mkstemp(prefix=".link-keys-", dir=data_dir)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        os.unlink(tmp)


def signer_from_settings(settings: Settings, clock: Clock) -> LinkSigner:
    keys, current = load_keyring(settings)
    return LinkSigner(keys, current, timedelta(hours=settings.link_lifetime_hours), clock)


def add_link_key(data_dir: Path, *, kid: str | None = None, make_current: bool = True) -> str:
    """Add a fresh random key to the key file (atomically) and return its kid."""
    path = data_dir / KEY_FILE_NAME
    data: dict[str, Any] = _read_key_file(path) if path.exists() else {"current": None, "keys": {}}
    new_kid = kid or "k-" + secrets.token_hex(4)
    if not _KID.fullmatch(new_kid) or new_kid in data["keys"]:
        raise ValueError(f"key id {new_kid!r} is invalid or already used")
    data["keys"][new_kid] = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii")
    if make_current:
        data["current"] = new_kid
    data_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".link-keys-", dir=data_dir)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return new_kid


def _read_key_file(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise _bad(path, f"cannot be read as JSON ({exc})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("keys"), dict):
        raise _bad(path, 'must be an object {"current": kid, "keys": {kid: base64url key}}')
    for kid in data["keys"]:
        if not _KID.fullmatch(kid):
            raise _bad(path, f"key id {kid!r} must match {_KID.pattern}")
    return data


def _decode_key(path: Path, kid: str, encoded: object) -> bytes:
    try:
        if not isinstance(encoded, str):
            raise ValueError("not a string")
        key = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    except (ValueError, binascii.Error) as exc:
        raise _bad(path, f"key {kid!r} is not base64url") from exc
    if len(key) < 16:
        raise _bad(path, f"key {kid!r} is shorter than 16 bytes")
    return key


def _bad(path: Path, message: str) -> ValidationFailed:
    return ValidationFailed([Problem(path=str(path), message=message, code="InvalidConfiguration")])
