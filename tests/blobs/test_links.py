"""Signed links: expiry at the boundary, every single-field alteration refused, rotation, lifetime cap."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from driverlens.blobs import EXPIRED_MESSAGE, INVALID_MESSAGE, LinkSigner
from driverlens.blobs.keyring import add_link_key, derived_key, load_keyring, signer_from_settings
from driverlens.clock import FrozenClock
from driverlens.errors import Forbidden, ValidationFailed
from driverlens.settings import Settings

KEY = "reports/7/run-3.csv"
T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(T0)


@pytest.fixture
def signer(clock: FrozenClock) -> LinkSigner:
    keys = {"a": b"A" * 32, "b": b"B" * 32}
    return LinkSigner(keys, "a", timedelta(hours=12), clock)


def fields(path_and_query: str) -> tuple[str, dict[str, str]]:
    parts = urlsplit(path_and_query)
    assert parts.path.startswith("/files/")
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    return parts.path.removeprefix("/files/"), query


def verify(signer: LinkSigner, key: str, q: dict[str, str]) -> None:
    signer.verify(key, q.get("exp"), q.get("kid"), q.get("sig"), q.get("fn"), q.get("sha256"))


def test_expiry_boundary(signer: LinkSigner, clock: FrozenClock) -> None:
    link = signer.sign(KEY, timedelta(hours=1))
    key, q = fields(link.path_and_query)
    assert key == KEY and int(q["exp"]) == int((T0 + timedelta(hours=1)).timestamp())
    assert link.expires_at == T0 + timedelta(hours=1)
    clock.current = link.expires_at - timedelta(seconds=1)
    verify(signer, key, q)
    clock.current = link.expires_at
    with pytest.raises(Forbidden) as exc:
        verify(signer, key, q)
    assert exc.value.message == EXPIRED_MESSAGE


def test_lifetime_is_capped(signer: LinkSigner) -> None:
    link = signer.sign(KEY, timedelta(days=30))
    assert link.expires_at == T0 + timedelta(hours=12)
    assert signer.sign(KEY).expires_at == T0 + timedelta(hours=12)


def flip_bit(text: str, index: int) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    value = alphabet.index(text[index]) ^ 1
    return text[:index] + alphabet[value] + text[index + 1 :]


def alterations(key: str, q: dict[str, str]) -> list[tuple[str, str, dict[str, str]]]:
    out: list[tuple[str, str, dict[str, str]]] = [
        ("key", "reports/7/run-4.csv", q),
        ("key-case", key.upper(), q),
        ("exp+1", key, {**q, "exp": str(int(q["exp"]) + 1)}),
        ("exp-1", key, {**q, "exp": str(int(q["exp"]) - 1)}),
        ("exp-far", key, {**q, "exp": str(int(q["exp"]) + 10**6)}),
        ("exp-leading-zero", key, {**q, "exp": "0" + q["exp"]}),
        ("kid-other", key, {**q, "kid": "b"}),
        ("kid-unknown", key, {**q, "kid": "zz"}),
        ("sig-empty", key, {**q, "sig": ""}),
        ("sig-truncated", key, {**q, "sig": q["sig"][:-1]}),
        ("sig-padded", key, {**q, "sig": q["sig"] + "="}),
        ("fn-added", key, {**q, "fn": "evil.exe"}),
        ("sha256-added", key, {**q, "sha256": "0" * 64}),
        ("exp-missing", key, {k: v for k, v in q.items() if k != "exp"}),
        ("exp-garbage", key, {**q, "exp": "12a"}),
    ]
    # A single-bit flip in every character of the signature, including the last (whose low bits a
    # lenient base64 decoder would ignore).
    for i in range(len(q["sig"])):
        out.append((f"sig-bit-{i}", key, {**q, "sig": flip_bit(q["sig"], i)}))
    return out


def test_every_single_field_alteration_is_refused(signer: LinkSigner) -> None:
    key, q = fields(signer.sign(KEY, timedelta(hours=1)).path_and_query)
    verify(signer, key, q)  # the genuine link works
    cases = alterations(key, q)
    assert len(cases) > 50
    for name, k, altered in cases:
        with pytest.raises(Forbidden) as exc:
            verify(signer, k, altered)
        assert exc.value.message == INVALID_MESSAGE, name


def test_filename_is_signed(signer: LinkSigner) -> None:
    key, q = fields(signer.sign(KEY, filename="report-7.csv").path_and_query)
    assert q["fn"] == "report-7.csv"
    verify(signer, key, q)
    with pytest.raises(Forbidden):
        verify(signer, key, {**q, "fn": "report-8.csv"})
    with pytest.raises(Forbidden):
        verify(signer, key, {k: v for k, v in q.items() if k != "fn"})


def test_checksum_is_signed(signer: LinkSigner) -> None:
    digest = "ab" * 32
    key, q = fields(signer.sign(KEY, sha256=digest).path_and_query)
    assert q["sha256"] == digest
    verify(signer, key, q)
    for altered in ({**q, "sha256": "ac" + "ab" * 31}, {k: v for k, v in q.items() if k != "sha256"}):
        with pytest.raises(Forbidden):
            verify(signer, key, altered)
    with pytest.raises(ValueError):
        signer.sign(KEY, sha256="AB" * 32)


def test_expired_and_altered_says_invalid(signer: LinkSigner, clock: FrozenClock) -> None:
    key, q = fields(signer.sign(KEY, timedelta(hours=1)).path_and_query)
    clock.advance(timedelta(hours=2))
    with pytest.raises(Forbidden) as exc:
        verify(signer, key, {**q, "exp": str(int(q["exp"]) + 7200)})
    assert exc.value.message == INVALID_MESSAGE


@pytest.mark.parametrize("bad", ["../etc/passwd", "/abs/x.csv", "a\\b.csv", "a\x00b", "a//b", ".hidden", ""])
def test_sign_refuses_unsafe_keys(signer: LinkSigner, bad: str) -> None:
    with pytest.raises(ValidationFailed):
        signer.sign(bad)


def test_rotation_old_links_keep_working(clock: FrozenClock) -> None:
    old = LinkSigner({"a": b"A" * 32}, "a", timedelta(hours=12), clock)
    key, q = fields(old.sign(KEY).path_and_query)
    rotated = LinkSigner({"a": b"A" * 32, "b": b"B" * 32}, "b", timedelta(hours=12), clock)
    verify(rotated, key, q)
    key2, q2 = fields(rotated.sign(KEY).path_and_query)
    assert q2["kid"] == "b"
    retired = LinkSigner({"b": b"B" * 32}, "b", timedelta(hours=12), clock)
    verify(retired, key2, q2)
    with pytest.raises(Forbidden):
        verify(retired, key, q)


def test_keyring_from_settings_and_file(settings: Settings, clock: FrozenClock) -> None:
    settings = settings.model_copy(update={"link_secret": STRONG_SECRET})
    keys, current = load_keyring(settings)
    assert list(keys) == [current] and current.startswith("s-")
    assert settings.link_secret not in current
    first = signer_from_settings(settings, clock)
    key, q = fields(first.sign(KEY).path_and_query)

    new_kid = add_link_key(settings.data_dir)
    keys, current = load_keyring(settings)
    assert current == new_kid and len(keys) == 2
    second = signer_from_settings(settings, clock)
    verify(second, key, q)  # a link made before rotation still verifies
    assert fields(second.sign(KEY).path_and_query)[1]["kid"] == new_kid
    assert (settings.data_dir / "link-keys.json").stat().st_mode & 0o077 == 0


STRONG_SECRET = "Q3x9-vT2mZ_r8LpK4wYb7NcHs1dJf6Ge0aUoIe5"


def test_without_a_secret_a_random_key_is_generated_once(settings: Settings, clock: FrozenClock) -> None:
    """Issue 10.3: no default secret exists; the first start writes a random key, later starts reuse it."""
    assert settings.link_secret == ""
    keys, current = load_keyring(settings)
    path = settings.data_dir / "link-keys.json"
    assert path.stat().st_mode & 0o077 == 0
    assert current.startswith("g-") and len(keys[current]) == 32
    assert load_keyring(settings) == (keys, current)
    # The secret the old default derived from must not verify anything any more.
    old_kid, old_key = derived_key("development")
    assert old_kid not in keys and old_key not in keys.values()
    other = settings.model_copy(update={"data_dir": settings.data_dir.parent / "other"})
    assert load_keyring(other)[0][load_keyring(other)[1]] != keys[current]


def test_generated_key_race_has_one_winner(settings: Settings) -> None:
    """Processes starting together all end up with the same key (hard link, not overwrite)."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(4) as pool:
        results = pool.map(_load_current_key, [str(settings.data_dir)] * 8)
    assert len(set(results)) == 1


def _load_current_key(data_dir: str) -> str:
    s = Settings(data_dir=Path(data_dir), link_secret="")
    keys, current = load_keyring(s)
    return f"{current}:{keys[current].hex()}"


@pytest.mark.parametrize(
    ("secret", "why"),
    [
        ("x", "fewer than 32"),
        ("Development", "placeholder"),
        ("development", "placeholder"),
        ("a" * 64, "distinct characters"),
        ("abcdefghij" * 4, "repeats a shorter text"),
        ("0123456789abcdef" * 2, "repeats a shorter text"),
        ("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa0123456789", "estimated entropy"),
    ],
)
def test_weak_link_secrets_are_refused_at_start_up(tmp_path: Path, secret: str, why: str) -> None:
    with pytest.raises(ValueError, match=f"DRIVERLENS_LINK_SECRET is refused: .*{why}"):
        Settings(data_dir=tmp_path, link_secret=secret)


def test_strong_link_secret_is_accepted(tmp_path: Path) -> None:
    assert Settings(data_dir=tmp_path, link_secret=STRONG_SECRET).link_secret == STRONG_SECRET


def test_keyring_rejects_broken_file(settings: Settings) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    (settings.data_dir / "link-keys.json").write_text('{"current": "x", "keys": {"x": "c2hvcnQ"}}')
    with pytest.raises(ValidationFailed, match="shorter than 16 bytes"):
        load_keyring(settings)


def test_derived_key_depends_on_secret() -> None:
    assert derived_key("one") != derived_key("two")
    assert derived_key("one") == derived_key("one")
