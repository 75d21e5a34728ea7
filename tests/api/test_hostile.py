"""The hostile-input corpus against the real app: every case gets its exact 4xx, code and target.

One test runs the whole table (``hostile_cases.CASES``) through the app in this process and prints one
stable line per endpoint (cases and the statuses answered); docs/hostile-inputs.md quotes those lines
and must match them. A sample of the cases also goes through a real server process.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from tests.api.hostile_cases import CASES, IHV, NOBODY, OEM, Case
from tests.api.inproc import InProcess
from tests.api.server import Server

IHV2 = "Fabrikam Audio"
DOC = Path(__file__).resolve().parents[2] / "docs" / "hostile-inputs.md"


def _created(response: Any, key: str) -> int:
    assert response.status_code == 201, response.text
    return int(response.json()["data"][key])


def _ids(call: Any) -> dict[str, str]:
    """Create what the cases refer to, through the API itself; ``call(method, path, who, json)``."""
    body = {
        "view": "IHVDriver",
        "projection": ["DriverName"],
        "dateRange": {"reportPeriod": "Last7Days"},
    }
    schedule = {"startTime": "2030-01-01T00:00:00Z", "recurrenceInterval": 24, "recurrence": 3}
    tpl = _created(call("POST", "/analytics/driver/reporttemplate", IHV, body), "templateId")
    used = _created(call("POST", "/analytics/driver/reporttemplate", IHV, body), "templateId")
    rpt = _created(
        call("POST", "/analytics/driver/report", IHV, {"templateId": used, "schedule": schedule}), "reportId"
    )
    other_tpl = _created(call("POST", "/analytics/driver/reporttemplate", IHV2, body), "templateId")
    other_rpt = _created(
        call("POST", "/analytics/driver/report", IHV2, {"templateId": other_tpl, "schedule": schedule}),
        "reportId",
    )
    return {
        "tpl": str(tpl),
        "used_tpl": str(used),
        "rpt": str(rpt),
        "other_tpl": str(other_tpl),
        "other_rpt": str(other_rpt),
    }


def _fill(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, str):
        if re.fullmatch(r"\{[a-z_]+\}", value) and value[1:-1] in names and names[value[1:-1]].isdigit():
            return int(names[value[1:-1]])
        return value.format_map(_Keep(names)) if "{" in value else value
    if isinstance(value, dict):
        return {k: _fill(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, names) for v in value]
    return value


class _Keep(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def request_of(case: Case, names: dict[str, str], auth: dict[str, str]) -> dict[str, Any]:
    """The keyword arguments of an httpx request for ``case``."""
    headers = {**auth, **case.headers}
    kwargs: dict[str, Any] = {"headers": headers, "params": _fill(case.params, names) or None}
    if case.raw is not None:
        headers.setdefault("Content-Type", "application/json")
        kwargs["content"] = case.raw
    elif case.form is not None:
        headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        kwargs["content"] = _fill(case.form, names).encode()
    elif case.json_body is not None:
        headers["Content-Type"] = "application/json"
        kwargs["content"] = json.dumps(_fill(case.json_body, names)).encode()
    return kwargs


def answer(response: Any) -> tuple[int, str | None, str | None]:
    """(status, code, target) of an answer: the envelope's first error, or the OAuth ``error``."""
    try:
        body = response.json()
    except ValueError:
        return response.status_code, None, None
    if isinstance(body, dict) and body.get("errors"):
        first = body["errors"][0]
        return response.status_code, first.get("code"), first.get("target")
    if isinstance(body, dict) and "error" in body:
        return response.status_code, body["error"], None
    return response.status_code, None, None


def run_case(
    send: Any, case: Case, names: dict[str, str], auth: dict[str, str]
) -> tuple[int, str | None, str | None]:
    path = _fill(case.path, names)
    return answer(send(case.method, path, **request_of(case, names, auth)))


def summary(results: list[tuple[Case, tuple[int, str | None, str | None]]]) -> list[str]:
    """One stable line per endpoint: how many cases and what they answered."""
    by_endpoint: dict[str, Counter[tuple[int, str]]] = defaultdict(Counter)
    for case, (status, code, _) in results:
        by_endpoint[case.endpoint][(status, code or "-")] += 1
    lines = []
    for endpoint in sorted(by_endpoint):
        counts = by_endpoint[endpoint]
        answered = ", ".join(f"{status} {code} x{n}" for (status, code), n in sorted(counts.items()))
        lines.append(f"| `{endpoint}` | {sum(counts.values())} | {answered} |")
    return lines


def test_every_hostile_case_gets_its_exact_answer(inproc: InProcess) -> None:
    names = _ids(lambda m, p, who, body: inproc.request(m, p, who, json=body))
    creds = inproc.partners[IHV]
    names.update(tenant=creds.tenant_id, client_id=creds.client_id, secret=creds.secret)
    auth = {who: inproc.auth(who) for who in (IHV, OEM)}
    results = []
    for case in CASES:
        got = run_case(
            inproc.client.request, case, names, auth.get(case.who, {}) if case.who != NOBODY else {}
        )
        results.append((case, got))
    server_errors = [(c.endpoint, c.name, got) for c, got in results if got[0] >= 500]
    assert server_errors == [], f"answered 5xx: {server_errors}"
    wrong = [
        (c.endpoint, c.name, (c.status, c.code, c.target), got)
        for c, got in results
        if got != (c.status, c.code, c.target)
    ]
    assert wrong == [], "\n".join(f"{e} | {n}: expected {x}, got {g}" for e, n, x, g in wrong)
    lines = summary(results)
    print(f"hostile corpus: {len(results)} cases, {len(lines)} endpoints, 0 answered 5xx")
    for line in lines:
        print("hostile " + line)
    documented = [line for line in DOC.read_text(encoding="utf-8").splitlines() if line.startswith("| `")]
    assert documented == lines, "docs/hostile-inputs.md is out of date; paste the lines printed above"


SAMPLE = [
    c
    for c in CASES
    if c.name
    in {
        "lone high surrogate value",
        "timestamp before year 1 in UTC",
        "no token",
        "invalid utf-8 in query",
        "json instead of form",
        "unknown GUID tenant",
        "forged signature",
        "body over the limit",
        "templateId of another partner",
        "top 101",
    }
]


def test_a_sample_through_a_real_server_process(server: Server) -> None:
    """The same answers from `driverlens serve` under uvicorn (raw bytes, real sockets)."""
    with server.client() as client:

        def call(method: str, path: str, who: str, body: Any) -> Any:
            return client.request(
                method, path, json=body, headers={"Authorization": f"Bearer {server.token(who)}"}
            )

        names = _ids(call)
        creds = server.partners[IHV]
        names.update(tenant=creds.tenant_id, client_id=creds.client_id, secret=creds.secret)
        auth = {who: {"Authorization": f"Bearer {server.token(who)}"} for who in (IHV, OEM)}
        assert len(SAMPLE) >= 10
        for case in SAMPLE:
            got = run_case(client.request, case, names, auth.get(case.who, {}) if case.who != NOBODY else {})
            assert got == (case.status, case.code, case.target), (case.endpoint, case.name, got)
