"""OpenAPI documentation: envelope models, request body schemas and the common error responses.

Bodies are read raw (lenient JSON), so request schemas are declared here through ``openapi_extra``;
response models document what the handlers return (handlers build the envelope themselves).
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from driverlens.catalog import AGGREGATE_FUNCTIONS, COLUMNS, OPERATORS, REPORT_PERIODS, View
from driverlens.catalog.rates import RATE_EXPRESSION

T = TypeVar("T")


class ErrorItem(BaseModel):
    code: str = Field(description="Machine-readable error code.")
    message: str = Field(description="What was wrong and how to fix it.")
    target: str | None = Field(description="The field or parameter concerned, if any.")
    trackingId: str = Field(description="Id of this request, also in the server log and X-Tracking-Id.")


class Envelope(BaseModel, Generic[T]):
    data: T
    errors: list[ErrorItem]


class ErrorEnvelope(BaseModel):
    data: None
    errors: list[ErrorItem]


class TemplateId(BaseModel):
    templateId: int


class ReportId(BaseModel):
    reportId: int


class TemplateOut(BaseModel):
    templateId: int
    template: dict[str, Any]
    version: int = Field(description="Version shown (each edit makes a new one).")
    currentVersion: int
    createdDatetime: str
    modifiedDatetime: str


class ScheduleOut(BaseModel):
    startTime: str
    recurrenceInterval: int = Field(description="Hours between runs.")
    recurrence: int = Field(description="Number of runs.")
    callbackUrl: str | None


class ReportOut(BaseModel):
    reportId: int
    templateId: int
    schedule: ScheduleOut
    callbackUrl: str | None
    format: str
    isActive: bool
    isPaused: bool
    createdDatetime: str
    modifiedDatetime: str


class ReportDataItemOut(BaseModel):
    model_config = ConfigDict(title="ReportDataItem")
    ReportDatetime: str
    ReportStatus: str = Field(description="Pending, In Progress, Completed or Failed.")
    ReportLocation: str = Field(description="Signed download URL (Completed runs), else empty.")
    ReportSha256: str | None = Field(
        default=None,
        description="Beyond the hosted API: hex SHA-256 of the file at ReportLocation; null until Completed.",
    )


class PreviewOut(BaseModel):
    columns: list[str]
    rows: list[list[Any]]
    rowCount: int
    truncated: bool
    window: dict[str, str]


class RunStarted(BaseModel):
    reportId: int
    ReportDatetime: str
    ReportStatus: str


_ERROR_TEXT = {
    400: "Invalid input; every problem is listed.",
    401: "Missing, malformed, expired or wrongly-signed token.",
    403: "The partner may not do this.",
    404: "No such id for this partner.",
    409: "Conflict with the current state.",
    413: "Body too large.",
    429: "Rate limited; see Retry-After.",
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """Documented error responses (always 400, 401, 413, 429 plus ``codes``)."""
    wanted = sorted({400, 401, 413, 429, *codes})
    return {code: {"model": ErrorEnvelope, "description": _ERROR_TEXT[code]} for code in wanted}


def _predicate_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "attribute": {"type": "string", "examples": ["FailureName", "SUM(EventCount)"]},
            "operator": {"type": "string", "enum": [op.value for op in OPERATORS]},
            "value": {"oneOf": [{"type": "string"}, {"type": "number"}, {"type": "array"}]},
            "condition": {"$ref": "#/components/schemas/Condition"},
        },
    }


CONDITION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Filter tree: `and` items all hold; one `or` item holds; items nest via `condition`.",
    "properties": {
        "and": {"type": "array", "items": _predicate_schema(), "maxItems": 100},
        "or": {"type": "array", "items": _predicate_schema(), "maxItems": 100},
    },
}

_COLUMN_NAMES = [c.name for c in COLUMNS]
_AGGREGATES = [f"{a.value}(EventCount)" for a in AGGREGATE_FUNCTIONS] + [RATE_EXPRESSION]

TEMPLATE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "ReportTemplate",
    "description": "Keys are case-insensitive; `//` and `/* */` comments are accepted.",
    "required": ["view", "projection", "dateRange"],
    "properties": {
        "view": {"type": "string", "enum": [v.value for v in View]},
        "projection": {
            "type": "array",
            "items": {"type": "string", "enum": _COLUMN_NAMES},
            "minItems": 1,
            "maxItems": 64,
        },
        "dateRange": {
            "type": "object",
            "required": ["reportPeriod"],
            "properties": {"reportPeriod": {"type": "string", "enum": [p.value for p in REPORT_PERIODS]}},
        },
        "condition": {"$ref": "#/components/schemas/Condition"},
        "aggregation": {
            "type": "object",
            "properties": {
                "aggregatedColumns": {"type": "array", "items": {"type": "string", "examples": _AGGREGATES}},
                "condition": {"$ref": "#/components/schemas/Condition"},
                "compareVersions": {
                    "type": "boolean",
                    "description": f"With {RATE_EXPRESSION} and DriverVersion projected: add the rate of "
                    "the version each version replaces, RateRatio and Regressed.",
                },
            },
        },
        "orderby": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "attribute": {"type": "string"},
                    "sort": {"type": "string", "enum": ["asc", "desc"]},
                },
            },
        },
        "limit": {"type": "integer", "minimum": 0},
    },
    "example": {
        "view": "IHVDriver",
        "projection": ["FailureName", "DriverVersion"],
        "dateRange": {"reportPeriod": "Last7Days"},
        "condition": {"and": [{"attribute": "Architecture", "operator": "EQ", "value": "x64"}]},
        "aggregation": {
            "aggregatedColumns": ["SUM(EventCount)"],
            "condition": {"and": [{"attribute": "SUM(EventCount)", "operator": "GT", "value": 10}]},
        },
        "orderby": [{"attribute": "SUM(EventCount)", "sort": "desc"}],
        "limit": 10,
    },
}

_SCHEDULE_PROPERTIES: dict[str, Any] = {
    "startTime": {"type": "string", "format": "date-time", "examples": ["2026-01-31T06:00:00Z"]},
    "recurrenceInterval": {"type": "integer", "minimum": 12, "maximum": 8784, "description": "Hours."},
    "recurrence": {"type": "integer", "minimum": 1, "maximum": 1000, "description": "Number of runs."},
    "callbackUrl": {"type": "string", "format": "uri"},
}

REPORT_CREATE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "ScheduledReport",
    "description": "Keys are case-insensitive; `callbackUrl` (or `CallbackURL`) may sit inside schedule.",
    "required": ["templateId", "schedule"],
    "properties": {
        "templateId": {"type": "integer", "minimum": 1},
        "schedule": {
            "type": "object",
            "required": ["startTime", "recurrenceInterval", "recurrence"],
            "properties": _SCHEDULE_PROPERTIES,
        },
        "callbackUrl": {"type": "string", "format": "uri"},
        "format": {"type": "string", "enum": ["csv", "tsv", "jsonl", "parquet"]},
    },
}

REPORT_EDIT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "ScheduledReportEdit",
    "description": "Template and/or schedule; schedule fields not given keep their values.",
    "properties": {
        "templateId": {"type": "integer", "minimum": 1},
        "schedule": {"type": "object", "properties": _SCHEDULE_PROPERTIES},
        "callbackUrl": {"type": ["string", "null"]},
        "format": {"type": "string", "enum": ["csv", "tsv", "jsonl", "parquet"]},
    },
}


def json_body_doc(schema: dict[str, Any], description: str) -> dict[str, Any]:
    """``openapi_extra`` declaring a required JSON request body."""
    return {
        "requestBody": {
            "required": True,
            "description": description,
            "content": {"application/json": {"schema": schema}},
        }
    }


def form_body_doc(version: str) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "grant_type": {"type": "string", "enum": ["client_credentials"]},
        "client_id": {"type": "string"},
        "client_secret": {"type": "string"},
    }
    if version == "v1":
        properties["resource"] = {"type": "string", "examples": ["https://manage.devcenter.microsoft.com"]}
    else:
        properties["scope"] = {
            "type": "string",
            "examples": ["https://manage.devcenter.microsoft.com/.default"],
        }
    return {
        "requestBody": {
            "required": True,
            "description": "OAuth2 client-credentials grant; values may arrive URL-encoded or not.",
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "required": ["grant_type", "client_id", "client_secret"],
                        "properties": properties,
                    }
                }
            },
        }
    }
