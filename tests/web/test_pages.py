"""The dashboard over HTTP against a real server: cookies, CSRF, isolation, bad input, assets."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from driverlens.api import create_app
from driverlens.settings import Settings
from tests.api.server import Server
from tests.web.conftest import IHV, IHV2, OEM, csrf_of

SignIn = Callable[..., httpx.Client]
TEMPLATE_FORM = {
    "projection": "DriverName, FailureName",
    "period": "Last7Days",
    "aggregates": "SUM(EventCount)",
    "orderby": "SUM(EventCount) desc",
    "limit": "5",
    "condition": "",
    "having": "",
}


def _session_cookie_header(response: httpx.Response) -> str:
    return next(v for v in response.headers.get_list("set-cookie") if v.startswith("driverlens_session="))


def test_session_cookie_is_httponly_lax_and_secure_behind_tls(web_server: Server) -> None:
    creds = web_server.partners[IHV]
    for proto, secure in (("http", False), ("https", True)):
        with httpx.Client(base_url=web_server.base_url, headers={"X-Forwarded-Proto": proto}) as client:
            page = client.get("/ui/signin")
            nonce = csrf_of(page.text)
            client.cookies.clear()  # a Secure cookie is not sent back over plain HTTP: send it by hand
            response = client.post(
                "/ui/signin",
                data={"csrf": nonce, "client_id": creds.client_id, "client_secret": creds.secret},
                headers={"Cookie": f"driverlens_signin={nonce}"},
            )
        assert ("; secure" in page.headers["set-cookie"].lower()) is secure
        cookie = _session_cookie_header(response).lower()
        assert "httponly" in cookie and "samesite=lax" in cookie and "path=/ui" in cookie
        assert ("; secure" in cookie) is secure, cookie


def test_sign_in_needs_the_form_nonce_and_the_right_secret(web_server: Server) -> None:
    creds = web_server.partners[IHV]
    with httpx.Client(base_url=web_server.base_url) as client:
        forged = client.post(
            "/ui/signin", data={"csrf": "guess", "client_id": creds.client_id, "client_secret": creds.secret}
        )
        assert forged.status_code == 403 and "driverlens_session=" not in forged.headers.get("set-cookie", "")
        nonce = csrf_of(client.get("/ui/signin").text)
        wrong = client.post(
            "/ui/signin", data={"csrf": nonce, "client_id": creds.client_id, "client_secret": "nope"}
        )
        assert wrong.status_code == 401 and "not right" in wrong.text


def test_every_state_changing_form_needs_the_session_csrf_token(signed_in: SignIn) -> None:
    client = signed_in(IHV)
    csrf = csrf_of(client.get("/ui/templates/new").text)
    created = client.post("/ui/templates/new", data={**TEMPLATE_FORM, "csrf": csrf})
    assert created.status_code == 303
    template_path = created.headers["location"].split("?")[0]
    report = client.post(
        "/ui/reports/new",
        data={
            "csrf": csrf,
            "templateId": template_path.rsplit("/", 1)[1],
            "startTime": "2030-01-01T00:00",
            "interval": "24",
            "recurrence": "2",
            "format": "csv",
            "callbackUrl": "",
        },
    )
    assert report.status_code == 303
    report_path = report.headers["location"].split("?")[0]
    posts = [
        "/ui/templates/new",
        "/ui/preview",
        template_path,
        f"{template_path}/delete",
        "/ui/reports/new",
        report_path,
        *(f"{report_path}/{action}" for action in ("pause", "resume", "run", "delete")),
        "/ui/signout",
    ]
    for path in posts:
        for token in (None, "forged", csrf_of(signed_in(IHV2).get("/ui/").text)):
            data = {**TEMPLATE_FORM, **({"csrf": token} if token else {})}
            assert client.post(path, data=data).status_code == 403, (path, token)
    assert client.get(report_path).status_code == 200  # nothing was deleted, still signed in


def test_sign_out_ends_the_session_for_a_copied_cookie(signed_in: SignIn, web_server: Server) -> None:
    client = signed_in(OEM)
    copied = client.cookies.get("driverlens_session")
    assert client.post("/ui/signout", data={"csrf": csrf_of(client.get("/ui/").text)}).status_code == 303
    with httpx.Client(base_url=web_server.base_url, cookies={"driverlens_session": copied or ""}) as replay:
        response = replay.get("/ui/dataset")
    assert response.status_code == 303 and response.headers["location"].startswith("/ui/signin")


def test_another_partners_objects_are_not_found(signed_in: SignIn) -> None:
    owner, other = signed_in(IHV), signed_in(IHV2)
    csrf = csrf_of(owner.get("/ui/templates/new").text)
    template_path = owner.post("/ui/templates/new", data={**TEMPLATE_FORM, "csrf": csrf}).headers["location"]
    template_path = template_path.split("?")[0]
    other_csrf = csrf_of(other.get("/ui/").text)
    assert other.get(template_path).status_code == 404
    assert other.post(template_path, data={**TEMPLATE_FORM, "csrf": other_csrf}).status_code == 404
    assert other.post(f"{template_path}/delete", data={"csrf": other_csrf}).status_code == 404
    assert template_path not in other.get("/ui/templates").text
    assert owner.get(template_path).status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/ui/?days=7",
        "/ui/overview/charts?driver=" + "x" * 300,
        "/ui/buckets/not-a-guid",
        "/ui/buckets/00000000-0000-0000-0000-000000000000",
        "/ui/templates/99999999999",
        "/ui/templates/1?version=0",
        "/ui/reports/abc",
        "/ui/reports/1/runs/99/file",
        "/ui/cabs/unknown",
        "/ui/nope",
    ],
)
def test_bad_input_is_a_4xx_page(signed_in: SignIn, path: str) -> None:
    response = signed_in(IHV).get(path)
    assert 400 <= response.status_code < 500, (path, response.status_code)


def test_pages_load_nothing_from_elsewhere(signed_in: SignIn) -> None:
    client = signed_in(IHV)
    for path in (
        "/ui/",
        "/ui/templates",
        "/ui/templates/new",
        "/ui/reports",
        "/ui/reports/new",
        "/ui/rates",
        "/ui/dataset",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "default-src 'self'" in response.headers["content-security-policy"]
        assets = re.findall(r'(?:src|href)="([^"]+)"', response.text)
        assert assets and all(a.startswith(("/", "#")) for a in assets), (path, assets)
    assert client.get("/ui/static/dashboard.js").status_code == 200


def test_the_dashboard_can_be_turned_off(tmp_path: Path) -> None:
    for enabled in (True, False):
        settings = Settings(data_dir=tmp_path / f"var-{enabled}", ui_enabled=enabled)
        app = create_app(settings)
        try:
            paths = [getattr(route, "path", "") for route in app.routes]
            assert any(p.startswith("/ui") for p in paths) is enabled
        finally:
            app.state.ctx.close()
