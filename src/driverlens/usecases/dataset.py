"""Schema discovery: what templates may name, served by ``GET /analytics/driver/dataset``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from driverlens.auth.principal import Principal
from driverlens.catalog import AGGREGATE_FUNCTIONS, OPERATORS, OWNER_COLUMNS, REPORT_PERIODS, View, columns_of
from driverlens.catalog.rates import (
    COMPARE_COLUMNS,
    GROUP_COLUMNS,
    RATE_COLUMNS,
    RATE_EXPRESSION,
    RATE_FUNCTION,
    RateColumnInfo,
)
from driverlens.events.lake import Snapshot
from driverlens.events.store import EventStore
from driverlens.installs import table as installs
from driverlens.templates import MAX_DEPTH, MAX_IN_VALUES, MAX_ITEMS, MAX_PROJECTION, MAX_VALUE_LENGTH
from driverlens.usecases import schedule_input
from driverlens.usecases.preview import PREVIEW_MAX_ROWS
from driverlens.usecases.timestamps import iso_utc

_OPERATOR_TEXT = {
    "EQ": "equal",
    "NEQ": "not equal",
    "LT": "less than",
    "GT": "greater than",
    "LTE": "less than or equal",
    "GTE": "greater than or equal",
    "LIKE": "SQL LIKE pattern with % and _",
    "IN": "one of a JSON list or a comma-separated string",
}
_AGGREGATE_TEXT = {
    "SUM": "sum (numeric columns)",
    "AVG": "average (numeric columns)",
    "COUNT": "number of rows",
    "DCOUNT": "number of distinct values",
    "MAX": "largest value",
    "MIN": "smallest value",
}


def rate_description() -> dict[str, Any]:
    """``FAILURERATE(DeviceId)``: its output columns, those of compareVersions, and the groups it allows."""

    def columns(infos: tuple[RateColumnInfo, ...]) -> list[dict[str, str]]:
        return [{"name": c.name, "type": c.kind, "description": c.description} for c in infos]

    return {
        "name": RATE_FUNCTION,
        "description": "failing devices / installed devices per group, with a 95% Wilson interval "
        "(install base denominators; see docs/templates.md, Failure rates)",
        "numericOnly": False,
        "example": RATE_EXPRESSION,
        "outputColumns": columns(RATE_COLUMNS),
        "compareVersionsColumns": columns(COMPARE_COLUMNS),
        "groupColumns": list(GROUP_COLUMNS),
    }


def freshness(version: int, newest_event: datetime | None) -> dict[str, Any]:
    """How fresh the failure events are: the event table's newest version and newest failure time."""
    return {
        "storeVersion": version,
        "newestEventDatetime": iso_utc(newest_event) if newest_event is not None else None,
    }


def install_base(store: EventStore, caller: Principal, snapshot: Snapshot) -> dict[str, Any]:
    """The caller's rows of the install base bound with ``snapshot``, scoped like its events: the
    table's version, how many rows and which days they cover (``rows`` 0 and null days when none)."""
    owner = installs.quoted(OWNER_COLUMNS[caller.kind.view])
    day = installs.quoted(installs.DATE_COLUMN)
    with store.reading(snapshot) as con:
        rows, oldest, newest = con.execute(
            f"SELECT count(*), min({day}), max({day}) FROM {installs.VIEW} WHERE {owner} = ?",
            [caller.partner_name],
        ).fetchall()[0]
    return {
        "storeVersion": snapshot.install_base_version,
        "rows": int(rows),
        "oldestInstallDate": oldest.isoformat() if oldest is not None else None,
        "newestInstallDate": newest.isoformat() if newest is not None else None,
    }


def dataset_description(
    max_body_bytes: int, fresh: dict[str, Any], install_base: dict[str, Any]
) -> dict[str, Any]:
    """Views and their columns, operators, aggregates, report periods and limits (from the catalogue)."""
    views = [
        {
            "name": view.value,
            "columns": [
                {
                    "name": column.name,
                    "type": column.type.value,
                    "description": column.description,
                    **({"allowedValues": list(column.allowed_values)} if column.allowed_values else {}),
                }
                for column in columns_of(view)
            ],
        }
        for view in View
    ]
    return {
        "views": views,
        "operators": [{"name": op.value, "description": _OPERATOR_TEXT[op.value]} for op in OPERATORS],
        "aggregateFunctions": [
            {
                "name": agg.value,
                "description": _AGGREGATE_TEXT[agg.value],
                "numericOnly": agg.needs_numeric,
                "example": f"{agg.value}(EventCount)",
            }
            for agg in AGGREGATE_FUNCTIONS
        ]
        + [rate_description()],
        "reportPeriods": [{"name": p.value, "days": p.days} for p in REPORT_PERIODS],
        "limits": {
            "conditionDepth": MAX_DEPTH,
            "itemsPerConditionList": MAX_ITEMS,
            "projectionColumns": MAX_PROJECTION,
            "inValues": MAX_IN_VALUES,
            "valueLength": MAX_VALUE_LENGTH,
            "previewRows": PREVIEW_MAX_ROWS,
            "minRecurrenceIntervalHours": schedule_input.MIN_INTERVAL_HOURS,
            "maxRecurrenceIntervalHours": schedule_input.MAX_INTERVAL_HOURS,
            "maxRecurrence": schedule_input.MAX_RECURRENCE,
            "maxBodyBytes": max_body_bytes,
        },
        "freshness": fresh,
        "installBase": install_base,
    }


def describe_for(store: EventStore, caller: Principal, max_body_bytes: int) -> dict[str, Any]:
    """The dataset as ``caller`` sees it: the description, the events' freshness and the caller's install
    base, all from one snapshot."""
    snapshot = store.snapshot()
    fresh = freshness(snapshot.version, snapshot.newest_event)
    return dataset_description(max_body_bytes, fresh, install_base(store, caller, snapshot))
