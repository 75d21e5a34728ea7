"""Generated events and install base rows, and failure-rate reports recomputed from them in plain Python.

The oracle shares nothing with ``compiler.rates`` but the documented definitions (``docs/templates.md``,
"Failure rates"): failing device-days per group (distinct devices failing each day, summed over the
days), installed device-days (the install base's daily counts summed over the window), the denominator
raised to the failing device-days when the install base counts fewer (null when it counts none), the
Wilson interval in the documented order of operations, and the previous version by dotted numeric order
then text.
"""

from __future__ import annotations

import math
import random
import re
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from typing import Any

import duckdb

from driverlens.catalog import STORED_COLUMNS
from driverlens.events.schema import duckdb_type
from driverlens.installs.table import COLUMN_NAMES as INSTALL_COLUMNS
from driverlens.installs.table import COLUMN_TYPES as INSTALL_TYPES

PARTNER = "Contoso"
OEM = "Fabrikam"
OTHER = "Northwind"
WINDOW_START = date(2024, 5, 1)
WINDOW_END = date(2024, 5, 8)  # exclusive
DRIVERS = ("a.sys", "b.sys")
VERSIONS = ("1.0.2", "1.0.10", "1.1", "2.0.0.1", "10.0", "beta", "1.1.0")
OS_BUILDS = ("10.0.22631.4317", "10.0.26100.1")
MARKETS = ("US", "DE")
Z = 1.959963984540054
GROUPS = ("DriverName", "DriverVersion", "OSVersion", "FailureDate")


def generate(seed: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Events (some out of scope or window, some without a version) and install base rows."""
    rng = random.Random(seed)
    devices = [uuid.UUID(int=rng.getrandbits(128)) for _ in range(40)]
    days = [WINDOW_START + timedelta(days=d) for d in range(-2, 9)]
    events: list[dict[str, Any]] = []
    for n in range(rng.randint(50, 250)):
        day = rng.choice(days)
        version = rng.choice((*VERSIONS, None)) if rng.random() < 0.05 else rng.choice(VERSIONS)
        events.append(
            {
                "EventId": f"e{n}",
                "IhvPartner": PARTNER if rng.random() < 0.9 else OTHER,
                "OemPartner": OEM,
                "FailureDate": day,
                "DriverName": rng.choice(DRIVERS),
                "DriverVersion": version,
                "OSVersion": rng.choice(OS_BUILDS),
                "Market": rng.choice(MARKETS),
                "DeviceId": rng.choice(devices),
                "EventCount": rng.randint(1, 5),
            }
        )
    installs: list[dict[str, Any]] = []
    for day in days:
        for partner in (PARTNER, OTHER):
            for driver in DRIVERS:
                for version in VERSIONS:
                    for os_build in OS_BUILDS:
                        if rng.random() < 0.25:
                            continue  # missing from the install base
                        count = rng.choice((0, 1, 2, rng.randint(0, 60), rng.randint(50, 400)))
                        installs.append(
                            {
                                "InstallDate": day,
                                "IhvPartner": partner,
                                "OemPartner": OEM,
                                "DriverName": driver,
                                "DriverVersion": version,
                                "OSVersion": os_build,
                                "DeviceCount": count,
                            }
                        )
    return events, installs


def load(
    con: duckdb.DuckDBPyConnection, events: list[dict[str, Any]], installs: list[dict[str, Any]]
) -> None:
    """Tables named as the compiled SQL reads them."""
    con.execute("DROP VIEW IF EXISTS failure_events_by_oem")
    con.execute("DROP TABLE IF EXISTS failure_events")
    con.execute("DROP TABLE IF EXISTS install_base")
    names = [name for name, _ in STORED_COLUMNS]
    definitions = ", ".join(f'"{n}" {duckdb_type(n)}' for n in names)
    con.execute(f"CREATE TABLE failure_events ({definitions})")
    con.execute("CREATE VIEW failure_events_by_oem AS SELECT * FROM failure_events")
    rows = [[_stored(e.get(n)) for n in names] for e in events]
    con.executemany(f"INSERT INTO failure_events VALUES ({', '.join('?' for _ in names)})", rows)
    columns = ", ".join(f'"{c}" {INSTALL_TYPES[c].duckdb_type}' for c in INSTALL_COLUMNS)
    con.execute(f"CREATE TABLE install_base ({columns})")
    install_rows = [[i[c] for c in INSTALL_COLUMNS] for i in installs]
    con.executemany(
        f"INSERT INTO install_base VALUES ({', '.join('?' for _ in INSTALL_COLUMNS)})", install_rows
    )


def _stored(value: Any) -> Any:
    return value.bytes if isinstance(value, uuid.UUID) else value


# --- random templates -------------------------------------------------------------------------------


def random_template(rng: random.Random) -> dict[str, Any]:
    projection = rng.sample(GROUPS, rng.randint(0, 3))
    if rng.random() < 0.3 and "DriverVersion" not in projection:
        projection.append("DriverVersion")
    if rng.random() < 0.1:
        projection.insert(rng.randint(0, len(projection)), "ReportId")
    others = rng.sample(["SUM(EventCount)", "COUNT(EventCount)", "DCOUNT(Market)"], rng.randint(0, 2))
    aggregates = [*others]
    aggregates.insert(rng.randint(0, len(others)), "FAILURERATE(DeviceId)")
    compare = "DriverVersion" in projection and rng.random() < 0.6
    aggregation: dict[str, Any] = {"aggregatedColumns": aggregates}
    if compare:
        aggregation["compareVersions"] = True
    body: dict[str, Any] = {
        "view": "IHVDriver",
        "projection": projection,
        "dateRange": {"reportPeriod": "Last7Days"},
        "aggregation": aggregation,
    }
    if rng.random() < 0.6:
        body["condition"] = _random_condition(rng)
    if rng.random() < 0.4:
        aggregation["condition"] = _random_having(rng, compare)
    outputs = [p for p in projection if p != "ReportId"] + [
        "FailingDeviceDays",
        "FailureRate",
        "FailureRateLow",
    ]
    outputs += others + (["RateRatio", "Regressed", "PreviousVersion"] if compare else [])
    if rng.random() < 0.7:
        picked = rng.sample(outputs, rng.randint(1, 2))
        body["orderby"] = [{"attribute": a, "sort": rng.choice(("asc", "desc"))} for a in picked]
    if rng.random() < 0.3:
        body["limit"] = rng.randint(1, 5)
    return body


def _random_predicate(rng: random.Random) -> dict[str, Any]:
    choice = rng.randrange(5)
    if choice == 0:
        return {"attribute": "DriverName", "operator": "EQ", "value": rng.choice(DRIVERS)}
    if choice == 1:
        return {"attribute": "Market", "operator": "EQ", "value": rng.choice(MARKETS)}
    if choice == 2:
        return {"attribute": "OSVersion", "operator": "IN", "value": [rng.choice(OS_BUILDS)]}
    if choice == 3:
        day = WINDOW_START + timedelta(days=rng.randint(0, 6))
        return {"attribute": "FailureDate", "operator": "GTE", "value": day.isoformat()}
    return {"attribute": "DriverName", "operator": "NEQ", "value": rng.choice(DRIVERS)}


def _random_condition(rng: random.Random) -> dict[str, Any]:
    key = rng.choice(("and", "or"))
    items: list[dict[str, Any]] = [_random_predicate(rng) for _ in range(rng.randint(1, 2))]
    if rng.random() < 0.3:
        items.append({"condition": {"and": [_random_predicate(rng), _random_predicate(rng)]}})
    return {key: items}


def _random_having(rng: random.Random, compare: bool) -> dict[str, Any]:
    options = [
        {"attribute": "FailureRate", "operator": "GT", "value": rng.choice((0, 0.05, 0.2))},
        {"attribute": "FailingDeviceDays", "operator": "GTE", "value": rng.randint(1, 4)},
        {"attribute": "InstalledDeviceDays", "operator": "LT", "value": rng.randint(5, 300)},
    ]
    if compare:
        options.append({"attribute": "Regressed", "operator": "EQ", "value": rng.choice((True, False))})
    return {rng.choice(("and", "or")): rng.sample(options, rng.randint(1, 2))}


# --- the oracle -------------------------------------------------------------------------------------


def wilson(k: int, n: int) -> tuple[float | None, float | None, float | None]:
    """Rate and 95% Wilson bounds as documented; the denominator is n raised to k, None when n is 0."""
    if n <= 0:
        return None, None, None
    nd, kd = float(max(n, k)), float(k)
    p = kd / nd
    z2 = Z * Z
    center = p + z2 / (2.0 * nd)
    margin = Z * math.sqrt(p * (1.0 - p) / nd + z2 / (4.0 * nd * nd))
    denom = 1.0 + z2 / nd
    low = (center - margin) / denom
    high = (center + margin) / denom
    low = 0.0 if low < 0.0 or kd == 0.0 else low
    high = 1.0 if high > 1.0 or kd == nd else high
    return p, low, high


def version_key(version: str) -> tuple[Any, ...]:
    parts: list[tuple[bool, int]] = []
    for i in range(4):
        match = re.match("^" + "[0-9]+[.]" * i + "([0-9]{1,18})([^0-9]|$)", version)
        parts.append((True, int(match.group(1))) if match else (False, 0))
    return (*parts, version)


Row = dict[str, Any]


def _holds(item: dict[str, Any], row: Row, known: Callable[[str], bool]) -> bool:
    if "condition" in item:
        return _all(item["condition"], row, known)
    attribute = item["attribute"]
    if not known(attribute):
        return True
    value = row[attribute]
    wanted = item["value"]
    if isinstance(value, date):
        wanted = date.fromisoformat(wanted)
    if value is None:
        return False
    op = item["operator"]
    if op == "EQ":
        return bool(value == wanted)
    if op == "NEQ":
        return bool(value != wanted)
    if op == "IN":
        return value in wanted
    if op == "GTE":
        return bool(value >= wanted)
    if op == "GT":
        return bool(value > wanted)
    if op == "LT":
        return bool(value < wanted)
    raise AssertionError(op)


def _all(condition: dict[str, Any], row: Row, known: Callable[[str], bool]) -> bool:
    ok = True
    if condition.get("and"):
        ok = all(_holds(i, row, known) for i in condition["and"])
    if condition.get("or"):
        ok = ok and any(_holds(i, row, known) for i in condition["or"])
    return ok


def expected_rows(
    body: dict[str, Any],
    events: list[Row],
    installs: list[Row],
    report_id: int,
    *,
    partner: str = PARTNER,
    window: tuple[date, date] = (WINDOW_START, WINDOW_END),
) -> list[tuple[Any, ...]]:
    """The report's rows, recomputed from the raw rows (an IHVDriver template of ``partner``)."""
    start, end = window
    keys = [p for p in body["projection"] if p != "ReportId"]
    condition = body.get("condition") or {}
    aggregates = body["aggregation"]["aggregatedColumns"]
    compare = bool(body["aggregation"].get("compareVersions"))

    failing: dict[tuple[Any, ...], set[tuple[uuid.UUID, date]]] = defaultdict(set)
    extra: dict[tuple[Any, ...], list[Row]] = defaultdict(list)
    for e in events:
        if e["IhvPartner"] != partner or not start <= e["FailureDate"] < end:
            continue
        if not _all(condition, e, lambda _a: True):
            continue
        key = tuple(e[k] for k in keys)
        failing[key].add((e["DeviceId"], e["FailureDate"]))
        extra[key].append(e)
    daily: dict[tuple[Any, ...], dict[date, int]] = defaultdict(lambda: defaultdict(int))
    for i in installs:
        if i["IhvPartner"] != partner or not start <= i["InstallDate"] < end:
            continue
        as_event = {**i, "FailureDate": i["InstallDate"]}
        if not _all(condition, as_event, lambda a: a in GROUPS):
            continue
        key = tuple(as_event[k] for k in keys)
        daily[key][i["InstallDate"]] += i["DeviceCount"]
    groups = set(failing) | set(daily)
    if not keys:
        groups = {()}
    rows: list[Row] = []
    for key in groups:
        row: Row = dict(zip(keys, key, strict=True))
        row["ReportId"] = report_id
        k = len(failing.get(key, set()))
        n = sum(daily[key].values()) if daily.get(key) else 0
        row["FailingDeviceDays"], row["InstalledDeviceDays"] = k, n
        row["FailureRate"], row["FailureRateLow"], row["FailureRateHigh"] = wilson(k, n)
        group_events = extra.get(key, [])
        row["SUM(EventCount)"] = sum(e["EventCount"] for e in group_events) if group_events else None
        row["COUNT(EventCount)"] = len(group_events)
        row["DCOUNT(Market)"] = len({e["Market"] for e in group_events})
        rows.append(row)
    if compare:
        _compare(rows, keys)
    having = body["aggregation"].get("condition")
    if having:
        rows = [r for r in rows if _all(having, r, lambda _a: True)]
    rows = _sorted(rows, body.get("orderby") or [], keys)
    if body.get("limit"):
        rows = rows[: body["limit"]]
    columns = _output_columns(body["projection"], aggregates, compare)
    return [tuple(r[c] for c in columns) for r in rows]


def _compare(rows: list[Row], keys: list[str]) -> None:
    others = [k for k in keys if k != "DriverVersion"]
    partitions: dict[tuple[Any, ...], list[Row]] = defaultdict(list)
    for r in rows:
        partitions[(*(r[k] for k in others), r["DriverVersion"] is None)].append(r)
    for members in partitions.values():
        members.sort(key=lambda r: version_key(r["DriverVersion"]) if r["DriverVersion"] is not None else ())
        previous: Row | None = None
        for r in members:
            r["PreviousVersion"] = previous["DriverVersion"] if previous else None
            for name in (
                "FailingDeviceDays",
                "InstalledDeviceDays",
                "FailureRate",
                "FailureRateLow",
                "FailureRateHigh",
            ):
                r["Previous" + name] = previous[name] if previous else None
            rate, before = r["FailureRate"], r["PreviousFailureRate"]
            r["RateRatio"] = rate / before if rate is not None and before else None
            low, high = r["FailureRateLow"], r["PreviousFailureRateHigh"]
            r["Regressed"] = low is not None and high is not None and low > high
            previous = r


def _sorted(rows: list[Row], orderby: Sequence[dict[str, Any]], keys: list[str]) -> list[Row]:
    order = [(o["attribute"], o["sort"] == "desc") for o in orderby]
    order += [(k, False) for k in keys if k not in {a for a, _ in order}]
    for attribute, desc in reversed(order):
        present = [r for r in rows if r[attribute] is not None]
        missing = [r for r in rows if r[attribute] is None]
        present.sort(key=lambda r, a=attribute: r[a], reverse=desc)  # type: ignore[misc]
        rows = present + missing  # nulls last both ways
    return rows


RATE = ["FailingDeviceDays", "InstalledDeviceDays", "FailureRate", "FailureRateLow", "FailureRateHigh"]
COMPARE = [
    "PreviousVersion",
    "PreviousFailingDeviceDays",
    "PreviousInstalledDeviceDays",
    "PreviousFailureRate",
    "PreviousFailureRateLow",
    "PreviousFailureRateHigh",
    "RateRatio",
    "Regressed",
]


def _output_columns(projection: list[str], aggregates: list[str], compare: bool) -> list[str]:
    columns = list(projection)
    for a in aggregates:
        columns += RATE if a.startswith("FAILURERATE") else [a]
    return columns + (COMPARE if compare else [])
