"""Token endpoint input: raw and URL-encoded form bodies, v1/v2 requests, the discovery document."""

from __future__ import annotations

from urllib.parse import quote, urlencode

import pytest

from driverlens.auth.hashing import new_client_secret
from driverlens.auth.requests import (
    lenient_unquote,
    openid_configuration,
    parse_form_body,
    parse_token_request,
)
from driverlens.errors import ValidationFailed
from tests.auth.conftest import AUDIENCE

SECRET = "Ab+c/d==e+/f="  # every character a naive form decoder mangles


def test_raw_unencoded_body_keeps_plus_slash_and_equals() -> None:
    body = f"grant_type=client_credentials&client_id=abc&client_secret={SECRET}&resource={AUDIENCE}"
    form = parse_form_body(body.encode())
    assert form == {
        "grant_type": "client_credentials",
        "client_id": "abc",
        "client_secret": SECRET,
        "resource": AUDIENCE,
    }


def test_encoded_body_gives_the_same_values() -> None:
    body = urlencode(
        {
            "grant_type": "client_credentials",
            "client_id": "abc",
            "client_secret": SECRET,
            "resource": AUDIENCE,
        }
    )
    assert "%2B" in body and "%2F" in body and "%3D" in body
    form = parse_form_body(body)
    assert form["client_secret"] == SECRET and form["resource"] == AUDIENCE


@pytest.mark.parametrize("trial", range(50))
def test_generated_secrets_survive_both_encodings(trial: int) -> None:
    secret = new_client_secret()
    raw = parse_form_body(f"client_secret={secret}&x=1")
    encoded = parse_form_body(f"client_secret={quote(secret, safe='')}&x=1")
    assert raw["client_secret"] == encoded["client_secret"] == secret


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a%2Bb", "a+b"),
        ("a+b", "a+b"),  # plus is never a space here
        ("100%", "100%"),  # a lone % is literal
        ("%zz%41", "%zz%41"),  # one invalid escape: the whole value is literal
        ("%C3%A9", "é"),
        ("%FF%FE", "%FF%FE"),  # not UTF-8 once decoded: literal
        ("", ""),
    ],
)
def test_lenient_unquote_rule(text: str, expected: str) -> None:
    assert lenient_unquote(text) == expected


def test_form_body_edge_cases() -> None:
    assert parse_form_body(b"") == {}
    assert parse_form_body("a=1&&b=&c") == {"a": "1", "b": "", "c": ""}
    assert parse_form_body("a==x=") == {"a": "=x="}
    with pytest.raises(ValidationFailed, match="more than once"):
        parse_form_body("a=1&a=2")
    with pytest.raises(ValidationFailed, match="UTF-8"):
        parse_form_body(b"a=\xff")
    with pytest.raises(ValidationFailed, match="larger than"):
        parse_form_body(b"a=" + b"x" * 20_000)


def _v1(**overrides: str) -> dict[str, str]:
    form = {
        "grant_type": "client_credentials",
        "client_id": "abc",
        "client_secret": SECRET,
        "resource": AUDIENCE,
    }
    form.update(overrides)
    return {k: v for k, v in form.items() if v != "-"}


def test_v1_request() -> None:
    request = parse_token_request(_v1(), "v1", audience=AUDIENCE)
    assert (request.client_id, request.client_secret, request.resource) == ("abc", SECRET, AUDIENCE)
    assert parse_token_request(_v1(resource=AUDIENCE + "/"), "v1", audience=AUDIENCE).resource == AUDIENCE
    assert parse_token_request(_v1(grant_type=" Client_Credentials"), "v1", audience=AUDIENCE)


def test_v1_audience_defaults_to_the_setting(settings: object) -> None:
    assert parse_token_request(_v1(), "v1").resource == "https://manage.devcenter.microsoft.com"


def test_v2_request() -> None:
    form = {"grant_type": "client_credentials", "client_id": "abc", "client_secret": SECRET}
    request = parse_token_request({**form, "scope": f"{AUDIENCE}/.default"}, "v2", audience=AUDIENCE)
    assert request.resource == AUDIENCE and request.version == "v2"
    for bad in (AUDIENCE, "https://graph.microsoft.com/.default", "/.default"):
        with pytest.raises(ValidationFailed, match="scope") as caught:
            parse_token_request({**form, "scope": bad}, "v2", audience=AUDIENCE)
        assert caught.value.problems()[0].code == "invalid_scope"
    with pytest.raises(ValidationFailed, match="scope: is required"):
        parse_token_request(form, "v2", audience=AUDIENCE)


@pytest.mark.parametrize(
    ("overrides", "path", "code"),
    [
        ({"grant_type": "-"}, "grant_type", "invalid_request"),
        ({"grant_type": "password"}, "grant_type", "unsupported_grant_type"),
        ({"client_id": "-"}, "client_id", "invalid_request"),
        ({"client_id": "  "}, "client_id", "invalid_request"),
        ({"client_secret": "-"}, "client_secret", "invalid_request"),
        ({"resource": "-"}, "resource", "invalid_request"),
        ({"resource": "https://graph.microsoft.com"}, "resource", "invalid_resource"),
    ],
)
def test_v1_problems(overrides: dict[str, str], path: str, code: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_token_request(_v1(**overrides), "v1", audience=AUDIENCE)
    [problem] = caught.value.problems()
    assert (problem.path, problem.code) == (path, code)
    assert caught.value.status == 400


def test_every_problem_is_listed() -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_token_request({}, "v1", audience=AUDIENCE)
    assert [p.path for p in caught.value.problems()] == [
        "grant_type",
        "client_id",
        "client_secret",
        "resource",
    ]


def test_openid_configuration() -> None:
    doc = openid_configuration("http://127.0.0.1:8000/", "t-1")
    assert doc["issuer"] == "http://127.0.0.1:8000"
    assert doc["token_endpoint"] == "http://127.0.0.1:8000/t-1/oauth2/token"
    assert doc["jwks_uri"] == "http://127.0.0.1:8000/t-1/discovery/keys"
    assert doc["id_token_signing_alg_values_supported"] == ["RS256"]
