"""The key ring: files on disk, first-use creation that two processes can race, rotation, pruning."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from driverlens.auth.jwks import rsa_key_from_jwk
from driverlens.auth.keys import KeyRing
from driverlens.clock import FrozenClock
from driverlens.errors import ServiceUnavailable


def test_first_use_creates_one_private_key_file(keyring: KeyRing) -> None:
    kid, private_key = keyring.current()
    files = sorted(keyring.dir.glob("*.pem"))
    assert [f.name for f in files] == ["000001.pem"]
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    assert isinstance(private_key, rsa.RSAPrivateKey) and private_key.key_size == 2048
    assert keyring.current()[0] == kid  # stable across calls
    assert not list(keyring.dir.glob(".tmp-*"))


def test_jwks_lists_public_keys_that_round_trip(keyring: KeyRing) -> None:
    kid, private_key = keyring.current()
    jwks = keyring.jwks()
    assert len(jwks["keys"]) == 1
    jwk = jwks["keys"][0]
    assert {k: jwk[k] for k in ("kid", "kty", "alg", "use")} == {
        "kid": kid,
        "kty": "RSA",
        "alg": "RS256",
        "use": "sig",
    }
    assert "d" not in jwk and "p" not in jwk  # nothing private leaks
    parsed = rsa_key_from_jwk(jwk)
    assert parsed is not None
    assert parsed[1].public_numbers() == private_key.public_key().public_numbers()


def test_rotation_adds_a_current_key_and_keeps_the_old_one(keyring: KeyRing) -> None:
    old_kid, _ = keyring.current()
    new_kid = keyring.rotate()
    assert new_kid != old_kid
    assert keyring.current()[0] == new_kid
    assert keyring.public_key(old_kid) is not None
    assert [k["kid"] for k in keyring.jwks()["keys"]] == [new_kid, old_kid]


def test_another_instance_sees_a_rotation_made_elsewhere(tmp_path: Path, clock: FrozenClock) -> None:
    server = KeyRing(tmp_path, clock=clock)
    cli = KeyRing(tmp_path, clock=clock)
    first, _ = server.current()
    assert cli.current()[0] == first
    rotated = cli.rotate()
    assert server.current()[0] == rotated
    assert server.public_key(first) is not None


def test_prune_removes_only_keys_retired_longer_than_the_cutoff(keyring: KeyRing, clock: FrozenClock) -> None:
    first, _ = keyring.current()
    clock.advance(timedelta(hours=1))
    second = keyring.rotate()
    clock.advance(timedelta(minutes=30))
    third = keyring.rotate()
    # `first` retired 30 minutes ago (when `second` arrived) and `second` just now: both still needed.
    assert keyring.prune(older_than_s=3600 + 300) == []
    clock.advance(timedelta(minutes=36))
    assert keyring.prune(older_than_s=3600 + 300) == [first]
    assert keyring.public_key(first) is None
    assert [k.kid for k in keyring.signing_keys()] == [second, third]
    clock.advance(timedelta(days=30))
    assert keyring.prune(older_than_s=3600 + 300) == [second]
    assert keyring.current()[0] == third  # the current key is never pruned


def _race_overwrites_winner(tmp_path: Path, clock: FrozenClock) -> bool:
    """Two rings saw an empty dir; the loser creates key number 1 after the winner did."""
    winner = KeyRing(tmp_path, clock=clock)
    loser = KeyRing(tmp_path, clock=clock)
    kid, _ = winner.current()
    lost = loser._create(1) is None
    on_disk = KeyRing(tmp_path, clock=clock).current()[0]
    return not lost or on_disk != kid or len(list(winner.dir.glob("*.pem"))) != 1


def test_losing_the_creation_race_does_not_overwrite_the_winner(tmp_path: Path, clock: FrozenClock) -> None:
    assert not _race_overwrites_winner(tmp_path, clock)


def test_race_check_catches_an_overwriting_create(
    tmp_path: Path, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Broken variant: if creation replaced instead of linking, the check above would fail."""
    monkeypatch.setattr(os, "link", lambda src, dst: os.replace(src, dst))
    assert _race_overwrites_winner(tmp_path, clock)


_RACE = """
import sys
from pathlib import Path
from driverlens.auth.keys import KeyRing
ring = KeyRing(Path(sys.argv[1]))
sys.stdout.write(ring.current()[0])
"""


def test_processes_starting_at_once_agree_on_one_key(tmp_path: Path) -> None:
    procs = [
        subprocess.Popen([sys.executable, "-c", _RACE, str(tmp_path)], stdout=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    kids = {proc.communicate(timeout=60)[0] for proc in procs}
    assert all(proc.returncode == 0 for proc in procs)
    assert len(kids) == 1
    assert [p.name for p in (tmp_path / "keys").glob("*.pem")] == ["000001.pem"]


def test_a_damaged_key_file_is_a_clear_error(keyring: KeyRing) -> None:
    keyring.current()
    (keyring.dir / "000002.pem").write_text("-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n")
    with pytest.raises(ServiceUnavailable, match=r"000002\.pem is unreadable"):
        keyring.current()
