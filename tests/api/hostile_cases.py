"""The hostile-input corpus (issue 10): every endpoint, each case with the exact 4xx, code and target.

A case names its endpoint (the route as documented), the request, who sends it, and what must come back.
``{tpl}``, ``{rpt}`` (the IHV's own template and report), ``{used_tpl}`` (a template a report uses),
``{other_tpl}`` and ``{other_rpt}`` (another partner's) and ``{tenant}`` are filled in at run time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

IHV = "Contoso Graphics"
OEM = "Northwind Systems"
NOBODY = ""  # no Authorization header
GUID = "0f8fad5b-d9cb-469f-a165-70867728950e"


@dataclass(frozen=True)
class Case:
    endpoint: str
    name: str
    method: str
    path: str
    status: int
    code: str
    target: str | None = None
    who: str = IHV
    json_body: Any = None
    raw: bytes | None = None
    form: str | None = None
    params: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


def T(**overrides: Any) -> dict[str, Any]:
    """A valid IHV template, with fields replaced (``None`` removes one)."""
    body: dict[str, Any] = {
        "view": "IHVDriver",
        "projection": ["DriverName", "FailureName"],
        "dateRange": {"reportPeriod": "Last7Days"},
        "aggregation": {"aggregatedColumns": ["SUM(EventCount)"]},
        "orderby": [{"attribute": "SUM(EventCount)", "sort": "desc"}],
        "limit": 10,
    }
    for key, value in overrides.items():
        if value is None:
            body.pop(key, None)
        else:
            body[key] = value
    return body


def where(attribute: str, operator: str, value: Any) -> dict[str, Any]:
    return {"and": [{"attribute": attribute, "operator": operator, "value": value}]}


def raw_template(fragment: str) -> bytes:
    """A template whose condition value is written as raw JSON text (escapes kept as sent)."""
    text = json.dumps(T(condition=where("DriverName", "EQ", "VALUE")))
    return text.replace('"VALUE"', fragment).encode("utf-8")


# -- template bodies: (name, body or raw bytes, target, code) -----------------------------------------
V = "condition.and[0].value"
TEMPLATE_BODIES: list[tuple[str, Any, str | None, str]] = [
    ("empty body", b"", "body", "InvalidInput"),
    ("whitespace body", b"  \n ", "body", "InvalidInput"),
    ("not json", b"view=IHVDriver", None, "InvalidInput"),
    ("json array", b"[]", None, "InvalidInput"),
    ("json string", b'"template"', None, "InvalidInput"),
    ("json null", b"null", None, "InvalidInput"),
    ("truncated json", b'{"view": "IHVDriver"', None, "InvalidInput"),
    ("invalid utf-8", b'{"view": "IHV\xff\xfeDriver"}', None, "InvalidInput"),
    ("NaN constant", b'{"view": "IHVDriver", "limit": NaN}', None, "InvalidInput"),
    ("Infinity constant", b'{"view": "IHVDriver", "limit": Infinity}', None, "InvalidInput"),
    ("duplicate key", b'{"view": "IHVDriver", "view": "OEMDriver"}', None, "InvalidInput"),
    ("unclosed block comment", b'{"view": "IHVDriver" /* never closed', None, "InvalidInput"),
    ("nested 10000 deep", b"[" * 10000 + b"]" * 10000, None, "InvalidInput"),
    ("lone high surrogate value", raw_template(r'"\ud800"'), V, "InvalidInput"),
    ("lone low surrogate value", raw_template(r'"x\udc00y"'), V, "InvalidInput"),
    ("surrogate in IN list", raw_template(r'["a", "\udbff"]'), V + "[1]", "InvalidInput"),
    ("surrogate in a key", b'{"\\ud800": 1}', "\ufffd", "InvalidInput"),
    ("surrogate in view", b'{"view": "\\ud800", "projection": ["DriverName"]}', "view", "InvalidInput"),
    ("unknown key", T(colour="red"), "colour", "UnknownKey"),
    ("view missing", T(view=None), "view", "InvalidInput"),
    ("view unknown", T(view="Drivers"), "view", "InvalidInput"),
    ("view a number", T(view=7), "view", "InvalidInput"),
    (
        "view for OEMs",
        T(view="OEMDriver", projection=["DriverName"], aggregation=None, orderby=None),
        "view",
        "Forbidden",
    ),
    ("projection missing", T(projection=None), "projection", "InvalidInput"),
    ("projection not a list", T(projection="DriverName"), "projection", "InvalidInput"),
    (
        "projection empty, nothing aggregated",
        T(projection=[], aggregation=None, orderby=None),
        "projection",
        "InvalidInput",
    ),
    ("projection unknown column", T(projection=["DriverName", "Password"]), "projection[1]", "InvalidInput"),
    (
        "projection OEM-only column",
        T(projection=["Baseboard"], orderby=None),
        "projection[0]",
        "InvalidInput",
    ),
    ("projection null item", T(projection=[None]), "projection[0]", "InvalidInput"),
    ("projection NUL", T(projection=["Driver\x00Name"]), "projection[0]", "InvalidInput"),
    ("projection sql", T(projection=['DriverName"; DROP TABLE x; --']), "projection[0]", "InvalidInput"),
    ("dateRange missing", T(dateRange=None), "dateRange", "InvalidInput"),
    ("period unknown", T(dateRange={"reportPeriod": "Last8Days"}), "dateRange.reportPeriod", "InvalidInput"),
    ("period a list", T(dateRange={"reportPeriod": ["Last7Days"]}), "dateRange.reportPeriod", "InvalidInput"),
    ("limit negative", T(limit=-1), "limit", "InvalidInput"),
    ("limit text", T(limit="ten"), "limit", "InvalidInput"),
    ("limit 2^64", T(limit=2**64), "limit", "InvalidInput"),
    ("limit fraction", T(limit=1.5), "limit", "InvalidInput"),
    ("limit boolean", T(limit=True), "limit", "InvalidInput"),
    (
        "aggregate unknown",
        T(aggregation={"aggregatedColumns": ["MEDIAN(EventCount)"]}, orderby=None),
        "aggregation.aggregatedColumns[0]",
        "InvalidInput",
    ),
    (
        "SUM of text",
        T(aggregation={"aggregatedColumns": ["SUM(DriverName)"]}, orderby=None),
        "aggregation.aggregatedColumns[0]",
        "InvalidInput",
    ),
    (
        "aggregate not a list",
        T(aggregation={"aggregatedColumns": "SUM(EventCount)"}, orderby=None),
        "aggregation.aggregatedColumns",
        "InvalidInput",
    ),
    (
        "orderby not projected",
        T(orderby=[{"attribute": "Market", "sort": "asc"}]),
        "orderby[0].attribute",
        "InvalidInput",
    ),
    (
        "orderby sort unknown",
        T(orderby=[{"attribute": "DriverName", "sort": "up"}]),
        "orderby[0].sort",
        "InvalidInput",
    ),
    ("orderby not a list", T(orderby={"attribute": "DriverName"}), "orderby", "InvalidInput"),
    (
        "operator unknown",
        T(condition=where("DriverName", "CONTAINS", "x")),
        "condition.and[0].operator",
        "InvalidInput",
    ),
    (
        "attribute unknown",
        T(condition=where("Nope", "EQ", "x")),
        "condition.and[0].attribute",
        "InvalidInput",
    ),
    (
        "value missing",
        T(condition={"and": [{"attribute": "DriverName", "operator": "EQ"}]}),
        V,
        "InvalidInput",
    ),
    ("value null", T(condition=where("DriverName", "EQ", None)), V, "InvalidInput"),
    ("value object", T(condition=where("DriverName", "EQ", {"a": 1})), V, "InvalidInput"),
    ("value list for EQ", T(condition=where("DriverName", "EQ", ["a"])), V, "InvalidInput"),
    ("value NUL", T(condition=where("DriverName", "EQ", "a\x00b")), V, "InvalidInput"),
    ("value 1001 chars", T(condition=where("DriverName", "EQ", "x" * 1001)), V, "InvalidInput"),
    ("integer from text", T(condition=where("EventCount", "GT", "many")), V, "InvalidInput"),
    ("integer 2^63", T(condition=where("EventCount", "GT", 2**63)), V, "InvalidInput"),
    (
        "integer 1e400",
        b'{"view":"IHVDriver","projection":["DriverName"],"dateRange":{"reportPeriod":"Last7Days"},"condition":{"and":[{"attribute":"EventCount","operator":"GT","value":1e400}]}}',
        V,
        "InvalidInput",
    ),
    ("date 30 February", T(condition=where("FailureDate", "EQ", "2024-02-30")), V, "InvalidInput"),
    ("date year 0", T(condition=where("FailureDate", "EQ", "0000-01-01")), V, "InvalidInput"),
    (
        "timestamp before year 1 in UTC",
        T(condition=where("FailureDateTime", "GT", "0001-01-01T00:00:00+14:00")),
        V,
        "InvalidInput",
    ),
    (
        "timestamp after 9999 in UTC",
        T(condition=where("FailureDateTime", "LT", "9999-12-31T23:59:59-14:00")),
        V,
        "InvalidInput",
    ),
    ("timestamp garbage", T(condition=where("FailureDateTime", "GT", "yesterday")), V, "InvalidInput"),
    (
        "HAVING MAX overflow",
        T(
            aggregation={
                "aggregatedColumns": ["MAX(FailureDateTime)"],
                "condition": where("MAX(FailureDateTime)", "GT", "9999-12-31T23:59:59-14:00"),
            },
            orderby=None,
        ),
        "aggregation.condition.and[0].value",
        "InvalidInput",
    ),
    ("GUID malformed", T(condition=where("FailureHash", "EQ", "not-a-guid")), V, "InvalidInput"),
    ("enumeration unknown", T(condition=where("EventType", "EQ", "Kernal")), V, "InvalidInput"),
    ("IN empty list", T(condition=where("DriverName", "IN", [])), V, "InvalidInput"),
    ("IN nested list", T(condition=where("DriverName", "IN", [["a"]])), V + "[0]", "InvalidInput"),
    ("condition not an object", T(condition=["and"]), "condition", "InvalidInput"),
    (
        "condition and not a list",
        T(condition={"and": {"attribute": "DriverName"}}),
        "condition.and",
        "InvalidInput",
    ),
    (
        "condition nested 200 deep",
        json.dumps(T(condition=json.loads('{"and":[{"condition":' * 200 + "{}" + "}]}" * 200))).encode(),
        "condition" + ".and[0].condition" * 10,
        "InvalidInput",
    ),
    (
        "HAVING on a plain column",
        T(aggregation={"aggregatedColumns": ["SUM(EventCount)"], "condition": where("Market", "EQ", "US")}),
        "aggregation.condition.and[0].attribute",
        "InvalidInput",
    ),
]


def _template_cases() -> list[Case]:
    cases = []
    for endpoint, path in (
        ("POST /analytics/driver/reporttemplate", "/analytics/driver/reporttemplate"),
        ("POST /analytics/driver/reporttemplate/preview", "/analytics/driver/reporttemplate/preview"),
        ("POST /analytics/driver/reporttemplate/{templateId}", "/analytics/driver/reporttemplate/{tpl}"),
    ):
        for name, body, target, code in TEMPLATE_BODIES:
            status = 403 if code == "Forbidden" else 400
            raw = body if isinstance(body, bytes) else None
            cases.append(
                Case(
                    endpoint,
                    name,
                    "POST",
                    path,
                    status,
                    code,
                    target,
                    json_body=None if raw is not None else body,
                    raw=raw,
                )
            )
        cases += _auth_cases(endpoint, "POST", path, T())
    return cases


def _auth_cases(endpoint: str, method: str, path: str, body: Any = None) -> list[Case]:
    bearer = "Authorization"
    return [
        Case(endpoint, "no token", method, path, 401, "Unauthorized", bearer, who=NOBODY, json_body=body),
        Case(
            endpoint,
            "basic auth",
            method,
            path,
            401,
            "Unauthorized",
            bearer,
            who=NOBODY,
            json_body=body,
            headers={"Authorization": "Basic dXNlcjpwYXNz"},
        ),
        Case(
            endpoint,
            "garbage token",
            method,
            path,
            401,
            "Unauthorized",
            None,
            who=NOBODY,
            json_body=body,
            headers={"Authorization": "Bearer not.a.jwt"},
        ),
        Case(
            endpoint,
            "alg none token",
            method,
            path,
            401,
            "Unauthorized",
            None,
            who=NOBODY,
            json_body=body,
            headers={"Authorization": "Bearer eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJ0aWQiOiJ4In0."},
        ),
    ]


def _id_cases(endpoint: str, method: str, template: str, name: str, body: Any = None) -> list[Case]:
    """Ids that are not ids, and ids that are not the caller's."""
    cases = []
    for label, value in (
        ("zero", "0"),
        ("negative", "-1"),
        ("text", "abc"),
        ("2^31", str(2**31)),
        ("float", "1.5"),
    ):
        cases.append(
            Case(
                endpoint,
                f"{name} {label}",
                method,
                template.format(id=value),
                400,
                "InvalidInput",
                name,
                json_body=body,
            )
        )
    return cases


def _report_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "templateId": "{tpl}",
        "schedule": {"startTime": "2030-01-01T00:00:00Z", "recurrenceInterval": 24, "recurrence": 3},
    }
    for key, value in overrides.items():
        if value is None:
            body.pop(key, None)
        else:
            body[key] = value
    return body


def _schedule(**overrides: Any) -> dict[str, Any]:
    schedule: dict[str, Any] = {
        "startTime": "2030-01-01T00:00:00Z",
        "recurrenceInterval": 24,
        "recurrence": 3,
    }
    for key, value in overrides.items():
        if value is None:
            schedule.pop(key, None)
        else:
            schedule[key] = value
    return _report_body(schedule=schedule)


REPORT_BODIES: list[tuple[str, Any, str | None, int, str]] = [
    ("empty body", b"", "body", 400, "InvalidInput"),
    ("json array", b"[1]", "body", 400, "InvalidInput"),
    (
        "surrogate in callback",
        b'{"templateId": 1, "callbackUrl": "https://a.example/\\ud800"}',
        "callbackUrl",
        400,
        "InvalidInput",
    ),
    ("templateId missing", _report_body(templateId=None), "templateId", 400, "InvalidInput"),
    ("templateId text", _report_body(templateId="seven"), "templateId", 400, "InvalidInput"),
    ("templateId negative", _report_body(templateId=-3), "templateId", 400, "InvalidInput"),
    ("templateId huge", _report_body(templateId=2**70), "templateId", 400, "InvalidInput"),
    (
        "templateId of another partner",
        _report_body(templateId="{other_tpl}"),
        "templateId",
        400,
        "UnknownTemplate",
    ),
    ("schedule missing", _report_body(schedule=None), "schedule", 400, "InvalidInput"),
    ("schedule a string", _report_body(schedule="daily"), "schedule", 400, "InvalidInput"),
    ("startTime missing", _schedule(startTime=None), "schedule.startTime", 400, "InvalidInput"),
    (
        "startTime 32 January",
        _schedule(startTime="2030-01-32T00:00:00Z"),
        "schedule.startTime",
        400,
        "InvalidInput",
    ),
    (
        "startTime year 9999",
        _schedule(startTime="9999-12-31T23:59:59Z"),
        "schedule.startTime",
        400,
        "InvalidInput",
    ),
    (
        "startTime year 1",
        _schedule(startTime="0001-01-01T00:00:00Z"),
        "schedule.startTime",
        400,
        "InvalidInput",
    ),
    (
        "startTime 200 days ago",
        _schedule(startTime="2020-01-01T00:00:00Z"),
        "schedule.startTime",
        400,
        "InvalidInput",
    ),
    ("startTime garbage", _schedule(startTime="tomorrow"), "schedule.startTime", 400, "InvalidInput"),
    (
        "interval below 12",
        _schedule(recurrenceInterval=11),
        "schedule.recurrenceInterval",
        400,
        "InvalidInput",
    ),
    (
        "interval huge",
        _schedule(recurrenceInterval=10**12),
        "schedule.recurrenceInterval",
        400,
        "InvalidInput",
    ),
    (
        "interval text",
        _schedule(recurrenceInterval="daily"),
        "schedule.recurrenceInterval",
        400,
        "InvalidInput",
    ),
    ("recurrence zero", _schedule(recurrence=0), "schedule.recurrence", 400, "InvalidInput"),
    ("recurrence huge", _schedule(recurrence=10**9), "schedule.recurrence", 400, "InvalidInput"),
    ("recurrence fraction", _schedule(recurrence=2.5), "schedule.recurrence", 400, "InvalidInput"),
    ("unknown key", _report_body(priority="high"), "priority", 400, "UnknownKey"),
    ("format unknown", _report_body(format="xlsx"), "format", 400, "InvalidInput"),
    ("callback not a URL", _report_body(callbackUrl="not a url"), "callbackUrl", 400, "InvalidInput"),
    (
        "callback loopback",
        _report_body(callbackUrl="http://127.0.0.1/hook"),
        "callbackUrl",
        400,
        "CallbackRefused",
    ),
    (
        "callback metadata address",
        _report_body(callbackUrl="http://169.254.169.254/latest"),
        "callbackUrl",
        400,
        "CallbackRefused",
    ),
    (
        "callback private IPv6",
        _report_body(callbackUrl="http://[fd00::1]/x"),
        "callbackUrl",
        400,
        "CallbackRefused",
    ),
    (
        "callback file scheme",
        _report_body(callbackUrl="file:///etc/passwd"),
        "callbackUrl",
        400,
        "InvalidInput",
    ),
    (
        "callback credentials",
        _report_body(callbackUrl="https://u:p@hooks.example.com/"),
        "callbackUrl",
        400,
        "InvalidInput",
    ),
    (
        "callback port 0",
        _report_body(callbackUrl="https://hooks.example.com:0/"),
        "callbackUrl",
        400,
        "InvalidInput",
    ),
    (
        "callback 5000 chars",
        _report_body(callbackUrl="https://hooks.example.com/" + "a" * 5000),
        "callbackUrl",
        400,
        "InvalidInput",
    ),
]


CREATE_ONLY = {"templateId missing", "schedule missing", "startTime missing"}


def _report_cases() -> list[Case]:
    cases = []
    for endpoint, path in (
        ("POST /analytics/driver/report", "/analytics/driver/report"),
        ("POST /analytics/driver/report/{reportId}", "/analytics/driver/report/{rpt}"),
    ):
        for name, body, target, status, code in REPORT_BODIES:
            if name in CREATE_ONLY and "{reportId}" in endpoint:
                continue  # an edit may leave these out (it changes the template and/or the schedule)
            raw = body if isinstance(body, bytes) else None
            cases.append(
                Case(
                    endpoint,
                    name,
                    "POST",
                    path,
                    status,
                    code,
                    target,
                    json_body=None if raw is not None else body,
                    raw=raw,
                )
            )
        cases += _auth_cases(endpoint, "POST", path, _report_body())
    edit = "POST /analytics/driver/report/{reportId}"
    cases += _id_cases(edit, "POST", "/analytics/driver/report/{id}", "reportId", _report_body())
    cases.append(
        Case(
            edit,
            "another partner's report",
            "POST",
            "/analytics/driver/report/{other_rpt}",
            404,
            "NotFound",
            "reportId",
            json_body=_report_body(),
        )
    )
    cases += _auth_cases("GET /analytics/driver/report", "GET", "/analytics/driver/report")
    for verb in ("pause", "resume"):
        endpoint = f"POST /analytics/driver/report/{verb}/{{reportId}}"
        cases += _id_cases(endpoint, "POST", f"/analytics/driver/report/{verb}/{{id}}", "reportId")
        cases.append(
            Case(
                endpoint,
                "another partner's report",
                "POST",
                f"/analytics/driver/report/{verb}/{{other_rpt}}",
                404,
                "NotFound",
                "reportId",
            )
        )
        cases.append(
            Case(
                endpoint,
                "missing report",
                "POST",
                f"/analytics/driver/report/{verb}/999999",
                404,
                "NotFound",
                "reportId",
            )
        )
        cases += _auth_cases(endpoint, "POST", f"/analytics/driver/report/{verb}/{{rpt}}")[:2]
    for endpoint, method, template in (
        ("DELETE /analytics/driver/report/{reportId}", "DELETE", "/analytics/driver/report/{id}"),
        ("POST /analytics/driver/report/{reportId}/run", "POST", "/analytics/driver/report/{id}/run"),
        ("GET /analytics/driver/report/{reportId}/runs", "GET", "/analytics/driver/report/{id}/runs"),
    ):
        cases += _id_cases(endpoint, method, template, "reportId")
        cases.append(
            Case(
                endpoint,
                "another partner's report",
                method,
                template.format(id="{other_rpt}"),
                404,
                "NotFound",
                "reportId",
            )
        )
        cases.append(
            Case(
                endpoint, "missing report", method, template.format(id="999999"), 404, "NotFound", "reportId"
            )
        )
        cases += _auth_cases(endpoint, method, template.format(id="{rpt}"))[:2]
    return cases


def _report_data_cases() -> list[Case]:
    endpoint = "GET /analytics/driver/reportdata/{reportId}"
    path = "/analytics/driver/reportdata/{rpt}"
    good = {"startDate": "2026-01-01", "endDate": "2026-01-31"}
    cases = [
        Case(endpoint, "dates missing", "GET", path, 400, "InvalidInput", "startDate"),
        Case(
            endpoint,
            "endDate missing",
            "GET",
            path,
            400,
            "InvalidInput",
            "endDate",
            params={"startDate": "2026-01-01"},
        ),
        Case(
            endpoint,
            "startDate garbage",
            "GET",
            path,
            400,
            "InvalidInput",
            "startDate",
            params={**good, "startDate": "yesterday"},
        ),
        Case(
            endpoint,
            "startDate mmddyy",
            "GET",
            path,
            400,
            "InvalidInput",
            "startDate",
            params={**good, "startDate": "010126"},
        ),
        Case(
            endpoint,
            "startDate 30 February",
            "GET",
            path,
            400,
            "InvalidInput",
            "startDate",
            params={**good, "startDate": "2026-02-30"},
        ),
        Case(
            endpoint,
            "startDate year 1",
            "GET",
            path,
            400,
            "InvalidInput",
            "startDate",
            params={**good, "startDate": "0001-01-01"},
        ),
        Case(
            endpoint,
            "endDate year 9999",
            "GET",
            path,
            400,
            "InvalidInput",
            "endDate",
            params={**good, "endDate": "9999-12-31"},
        ),
        Case(
            endpoint,
            "end before start",
            "GET",
            path,
            400,
            "InvalidInput",
            "endDate",
            params={"startDate": "2026-02-01", "endDate": "2026-01-01"},
        ),
        Case(
            endpoint,
            "date with NUL",
            "GET",
            path,
            400,
            "InvalidInput",
            "startDate",
            params={**good, "startDate": "2026-01-01\x00"},
        ),
        Case(
            endpoint,
            "date 5000 chars",
            "GET",
            path,
            400,
            "InvalidInput",
            "startDate",
            params={**good, "startDate": "2" * 5000},
        ),
        Case(
            endpoint,
            "invalid utf-8 in query",
            "GET",
            path + "?startDate=%ED%A0%80&endDate=2026-01-31",
            400,
            "InvalidInput",
            "startDate",
        ),
        Case(
            endpoint,
            "another partner's report",
            "GET",
            "/analytics/driver/reportdata/{other_rpt}",
            404,
            "NotFound",
            "reportId",
            params=good,
        ),
    ]
    cases += _id_cases(
        endpoint,
        "GET",
        "/analytics/driver/reportdata/{id}?startDate=2026-01-01&endDate=2026-01-31",
        "reportId",
    )
    cases += _auth_cases(endpoint, "GET", path + "?startDate=2026-01-01&endDate=2026-01-31")
    return cases


def _template_read_cases() -> list[Case]:
    cases = []
    get_one = "GET /analytics/driver/reporttemplate/{templateId}"
    cases += _id_cases(get_one, "GET", "/analytics/driver/reporttemplate/{id}", "templateId")
    cases += [
        Case(
            get_one,
            "another partner's template",
            "GET",
            "/analytics/driver/reporttemplate/{other_tpl}",
            404,
            "NotFound",
            "templateId",
        ),
        Case(
            get_one,
            "missing template",
            "GET",
            "/analytics/driver/reporttemplate/999999",
            404,
            "NotFound",
            "templateId",
        ),
        Case(
            get_one,
            "version zero",
            "GET",
            "/analytics/driver/reporttemplate/{tpl}",
            400,
            "InvalidInput",
            "version",
            params={"version": "0"},
        ),
        Case(
            get_one,
            "version text",
            "GET",
            "/analytics/driver/reporttemplate/{tpl}",
            400,
            "InvalidInput",
            "version",
            params={"version": "latest"},
        ),
        Case(
            get_one,
            "version missing",
            "GET",
            "/analytics/driver/reporttemplate/{tpl}",
            404,
            "NotFound",
            "version",
            params={"version": "999"},
        ),
    ]
    cases += _auth_cases(get_one, "GET", "/analytics/driver/reporttemplate/{tpl}")[:2]
    cases += _auth_cases("GET /analytics/driver/reporttemplate", "GET", "/analytics/driver/reporttemplate")
    edit = "POST /analytics/driver/reporttemplate/{templateId}"
    cases += _id_cases(edit, "POST", "/analytics/driver/reporttemplate/{id}", "templateId", T())
    cases.append(
        Case(
            edit,
            "another partner's template",
            "POST",
            "/analytics/driver/reporttemplate/{other_tpl}",
            404,
            "NotFound",
            "templateId",
            json_body=T(),
        )
    )
    delete = "DELETE /analytics/driver/reporttemplate/{templateId}"
    cases += _id_cases(delete, "DELETE", "/analytics/driver/reporttemplate/{id}", "templateId")
    cases += [
        Case(
            delete,
            "another partner's template",
            "DELETE",
            "/analytics/driver/reporttemplate/{other_tpl}",
            404,
            "NotFound",
            "templateId",
        ),
        Case(
            delete,
            "template a report uses",
            "DELETE",
            "/analytics/driver/reporttemplate/{used_tpl}",
            409,
            "Conflict",
            "templateId",
        ),
    ]
    cases += _auth_cases(delete, "DELETE", "/analytics/driver/reporttemplate/{tpl}")[:2]
    cases += _auth_cases("GET /analytics/driver/dataset", "GET", "/analytics/driver/dataset")
    return cases


def _cab_cases() -> list[Case]:
    driver = "GET /v1.0/my/analytics/driver/cabdownload"
    hardware = "GET /v1.0/my/analytics/hardware/cabdownload"
    batch = "GET /v1.0/my/analytics/driver/cabdownloadbatch"
    dp, hp, bp = (
        f"/v1.0/my/analytics/{p}"
        for p in ("driver/cabdownload", "hardware/cabdownload", "driver/cabdownloadbatch")
    )
    good_batch = {"applicationId": "1", "failureHash": GUID}
    cases = [
        Case(driver, "no parameters", "GET", dp, 400, "InvalidInput", "cabIdHash"),
        Case(
            driver,
            "cabIdHash only",
            "GET",
            dp,
            400,
            "InvalidInput",
            "applicationId",
            params={"cabIdHash": "abc"},
        ),
        Case(
            driver,
            "cabIdHash 300 chars",
            "GET",
            dp,
            400,
            "InvalidInput",
            "cabIdHash",
            params={"applicationId": "1", "cabIdHash": "a" * 300},
        ),
        Case(
            driver,
            "unknown CAB",
            "GET",
            dp,
            404,
            "NotFound",
            params={"applicationId": "1", "cabIdHash": "nope"},
        ),
        Case(
            driver,
            "sql in cabIdHash",
            "GET",
            dp,
            404,
            "NotFound",
            params={"applicationId": "1", "cabIdHash": "' OR 1=1 --"},
        ),
        Case(
            driver,
            "an OEM caller",
            "GET",
            dp,
            403,
            "Forbidden",
            who=OEM,
            params={"applicationId": "1", "cabIdHash": "abc"},
        ),
        Case(hardware, "no parameters", "GET", hp, 400, "InvalidInput", "cabIdHash", who=OEM),
        Case(hardware, "unknown CAB", "GET", hp, 404, "NotFound", who=OEM, params={"cabIdHash": "nope"}),
        Case(hardware, "an IHV caller", "GET", hp, 403, "Forbidden", params={"cabIdHash": "abc"}),
        Case(
            hardware,
            "cabIdHash with NUL",
            "GET",
            hp,
            404,
            "NotFound",
            who=OEM,
            params={"cabIdHash": "a\x00b"},
        ),
        Case(batch, "no parameters", "GET", bp, 400, "InvalidInput", "applicationId"),
        Case(
            batch,
            "failureHash not a GUID",
            "GET",
            bp,
            400,
            "InvalidInput",
            "failureHash",
            params={**good_batch, "failureHash": "x"},
        ),
        Case(batch, "top zero", "GET", bp, 400, "InvalidInput", "top", params={**good_batch, "top": "0"}),
        Case(batch, "top 101", "GET", bp, 400, "InvalidInput", "top", params={**good_batch, "top": "101"}),
        Case(batch, "top text", "GET", bp, 400, "InvalidInput", "top", params={**good_batch, "top": "all"}),
        Case(
            batch,
            "skip negative",
            "GET",
            bp,
            400,
            "InvalidInput",
            "skip",
            params={**good_batch, "skip": "-1"},
        ),
        Case(
            batch,
            "skip huge",
            "GET",
            bp,
            400,
            "InvalidInput",
            "skip",
            params={**good_batch, "skip": str(10**12)},
        ),
        Case(
            batch,
            "startDate garbage",
            "GET",
            bp,
            400,
            "InvalidInput",
            "startDate",
            params={**good_batch, "startDate": "x"},
        ),
        Case(
            batch,
            "end before start",
            "GET",
            bp,
            400,
            "InvalidInput",
            "endDate",
            params={**good_batch, "startDate": "2026-02-01", "endDate": "2026-01-01"},
        ),
        Case(batch, "an OEM caller", "GET", bp, 403, "Forbidden", who=OEM, params=good_batch),
    ]
    for endpoint, path in ((driver, dp), (hardware, hp), (batch, bp)):
        cases += _auth_cases(endpoint, "GET", path)[:2]
    return cases


def _token_cases() -> list[Case]:
    v1, v2 = "POST /{tenantId}/oauth2/token", "POST /{tenantId}/oauth2/v2.0/token"
    p1, p2 = "/{tenant}/oauth2/token", "/{tenant}/oauth2/v2.0/token"
    creds = "client_id={client_id}&client_secret={secret}"
    resource = "&resource=https%3A%2F%2Fmanage.devcenter.microsoft.com"
    cases = [
        Case(v1, "empty body", "POST", p1, 400, "invalid_request", who=NOBODY, form=""),
        Case(v1, "grant_type missing", "POST", p1, 400, "invalid_request", who=NOBODY, form=creds + resource),
        Case(
            v1,
            "grant_type password",
            "POST",
            p1,
            400,
            "unsupported_grant_type",
            who=NOBODY,
            form="grant_type=password&" + creds + resource,
        ),
        Case(
            v1,
            "client_id missing",
            "POST",
            p1,
            400,
            "invalid_request",
            who=NOBODY,
            form="grant_type=client_credentials&client_secret=x" + resource,
        ),
        Case(
            v1,
            "resource missing",
            "POST",
            p1,
            400,
            "invalid_request",
            who=NOBODY,
            form="grant_type=client_credentials&" + creds,
        ),
        Case(
            v1,
            "resource foreign",
            "POST",
            p1,
            400,
            "invalid_resource",
            who=NOBODY,
            form="grant_type=client_credentials&" + creds + "&resource=https%3A%2F%2Fgraph.microsoft.com",
        ),
        Case(
            v1,
            "wrong secret",
            "POST",
            p1,
            401,
            "invalid_client",
            who=NOBODY,
            form="grant_type=client_credentials&client_id={client_id}&client_secret=wrong" + resource,
        ),
        Case(
            v1,
            "unknown client",
            "POST",
            p1,
            401,
            "invalid_client",
            who=NOBODY,
            form="grant_type=client_credentials&client_id=" + GUID + "&client_secret=x" + resource,
        ),
        Case(
            v1,
            "another tenant",
            "POST",
            "/" + GUID + "/oauth2/token",
            401,
            "invalid_client",
            who=NOBODY,
            form="grant_type=client_credentials&" + creds + resource,
        ),
        Case(
            v1,
            "json instead of form",
            "POST",
            p1,
            400,
            "invalid_request",
            who=NOBODY,
            raw=b'{"grant_type": "client_credentials"}',
            headers={"Content-Type": "application/json"},
        ),
        Case(
            v1,
            "invalid utf-8 form",
            "POST",
            p1,
            400,
            "invalid_request",
            who=NOBODY,
            raw=b"grant_type=client_credentials&client_id=\xff\xfe",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        ),
        Case(
            v1,
            "repeated grant_type",
            "POST",
            p1,
            400,
            "invalid_request",
            who=NOBODY,
            form="grant_type=client_credentials&grant_type=password&" + creds + resource,
        ),
        Case(
            v1,
            "NUL in client_id",
            "POST",
            p1,
            401,
            "invalid_client",
            who=NOBODY,
            form="grant_type=client_credentials&client_id=a%00b&client_secret=x" + resource,
        ),
        Case(
            v1,
            "client_secret 100000 chars",
            "POST",
            p1,
            400,
            "invalid_request",
            who=NOBODY,
            form="grant_type=client_credentials&client_id={client_id}&client_secret="
            + "x" * 100_000
            + resource,
        ),
        Case(
            v1,
            "tenant 101 chars",
            "POST",
            "/" + "t" * 101 + "/oauth2/token",
            400,
            "InvalidInput",
            "tenantId",
            who=NOBODY,
            form="grant_type=client_credentials&" + creds + resource,
        ),
        Case(
            v2,
            "scope missing",
            "POST",
            p2,
            400,
            "invalid_request",
            who=NOBODY,
            form="grant_type=client_credentials&" + creds,
        ),
        Case(
            v2,
            "scope foreign",
            "POST",
            p2,
            400,
            "invalid_scope",
            who=NOBODY,
            form="grant_type=client_credentials&"
            + creds
            + "&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default",
        ),
        Case(
            v2,
            "wrong secret",
            "POST",
            p2,
            401,
            "invalid_client",
            who=NOBODY,
            form="grant_type=client_credentials&client_id={client_id}&client_secret=wrong&scope=https%3A%2F%2Fmanage.devcenter.microsoft.com%2F.default",
        ),
        Case(v2, "empty body", "POST", p2, 400, "invalid_request", who=NOBODY, form=""),
    ]
    for endpoint, path in (
        ("GET /{tenantId}/discovery/keys", "/{t}/discovery/keys"),
        ("GET /{tenantId}/discovery/v2.0/keys", "/{t}/discovery/v2.0/keys"),
        ("GET /{tenantId}/.well-known/openid-configuration", "/{t}/.well-known/openid-configuration"),
        (
            "GET /{tenantId}/v2.0/.well-known/openid-configuration",
            "/{t}/v2.0/.well-known/openid-configuration",
        ),
    ):
        for label, tenant in (
            ("unknown GUID tenant", GUID),
            ("any string tenant", "anything"),
            ("common tenant", "common"),
        ):
            cases.append(
                Case(endpoint, label, "GET", path.replace("{t}", tenant), 404, "invalid_tenant", who=NOBODY)
            )
    return cases


def _file_cases() -> list[Case]:
    endpoint = "GET /files/{key}"
    future = "9999999999"
    return [
        Case(endpoint, "no signature", "GET", "/files/reports/1/1/1-1-x.csv", 403, "Forbidden", who=NOBODY),
        Case(
            endpoint,
            "forged signature",
            "GET",
            f"/files/reports/1/1/1-1-x.csv?exp={future}&kid=g-00000000&sig=AAAA",
            403,
            "Forbidden",
            who=NOBODY,
        ),
        Case(
            endpoint,
            "old default secret's kid",
            "GET",
            f"/files/reports/1/1/1-1.csv?exp={future}&kid=s-00000000&sig=AAAA",
            403,
            "Forbidden",
            who=NOBODY,
        ),
        Case(
            endpoint,
            "expiry not a number",
            "GET",
            "/files/reports/1/1/1-1.csv?exp=soon&kid=k&sig=AAAA",
            403,
            "Forbidden",
            who=NOBODY,
        ),
        Case(
            endpoint,
            "traversal",
            "GET",
            "/files/../metadata.db?exp=1&kid=k&sig=AAAA",
            404,
            "NotFound",
            who=NOBODY,
        ),
        Case(
            endpoint,
            "encoded traversal",
            "GET",
            "/files/reports/%2e%2e/%2e%2e/metadata.db?exp=1&kid=k&sig=A",
            400,
            "InvalidInput",
            "key",
            who=NOBODY,
        ),
        Case(
            endpoint,
            "NUL in key",
            "GET",
            "/files/reports/a%00b.csv?exp=1&kid=k&sig=A",
            400,
            "InvalidInput",
            "key",
            who=NOBODY,
        ),
        Case(
            endpoint,
            "hidden temp name",
            "GET",
            "/files/reports/.tmp-x?exp=1&kid=k&sig=A",
            400,
            "InvalidInput",
            "key",
            who=NOBODY,
        ),
    ]


def _ops_cases() -> list[Case]:
    return [
        Case("GET /healthz", "POST instead of GET", "POST", "/healthz", 405, "MethodNotAllowed", who=NOBODY),
        Case(
            "GET /metrics", "DELETE instead of GET", "DELETE", "/metrics", 405, "MethodNotAllowed", who=NOBODY
        ),
        Case("(no route)", "unknown path", "GET", "/analytics/driver/passwords", 404, "NotFound", who=NOBODY),
        Case(
            "(no route)",
            "PUT on templates",
            "PUT",
            "/analytics/driver/reporttemplate",
            405,
            "MethodNotAllowed",
            who=NOBODY,
        ),
        Case(
            "(no route)",
            "path traversal",
            "GET",
            "/analytics/driver/../../etc/passwd",
            404,
            "NotFound",
            who=NOBODY,
        ),
        Case(
            "(no route)",
            "body over the limit",
            "POST",
            "/analytics/driver/reporttemplate",
            413,
            "PayloadTooLarge",
            "body",
            raw=b"[" + b"1," * 600_000 + b"1]",
        ),
    ]


CASES: list[Case] = [
    *_template_cases(),
    *_template_read_cases(),
    *_report_cases(),
    *_report_data_cases(),
    *_cab_cases(),
    *_token_cases(),
    *_file_cases(),
    *_ops_cases(),
]
