"""Catalogue definitions (see the package docstring)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class View(StrEnum):
    IHV_DRIVER = "IHVDriver"
    OEM_DRIVER = "OEMDriver"


class PartnerKind(StrEnum):
    IHV = "IHV"
    OEM = "OEM"

    @property
    def view(self) -> View:
        return View.IHV_DRIVER if self is PartnerKind.IHV else View.OEM_DRIVER


class ColumnType(StrEnum):
    """Logical types; each maps to one physical type in the event store."""

    STRING = "string"
    INTEGER = "integer"
    DATE = "date"
    TIMESTAMP = "timestamp"
    UUID = "uuid"

    @property
    def duckdb_type(self) -> str:
        return _DUCKDB_TYPES[self]

    @property
    def is_numeric(self) -> bool:
        return self is ColumnType.INTEGER


_DUCKDB_TYPES = {
    ColumnType.STRING: "VARCHAR",
    ColumnType.INTEGER: "BIGINT",
    ColumnType.DATE: "DATE",
    ColumnType.TIMESTAMP: "TIMESTAMP",
    ColumnType.UUID: "UUID",
}


class Operator(StrEnum):
    EQ = "EQ"
    NEQ = "NEQ"
    LT = "LT"
    GT = "GT"
    LTE = "LTE"
    GTE = "GTE"
    LIKE = "LIKE"
    IN = "IN"
    # Allowed only on an item that carries a nested condition (some clients always send it).
    NONE = "NONE"


OPERATORS: tuple[Operator, ...] = tuple(op for op in Operator if op is not Operator.NONE)


class Aggregate(StrEnum):
    SUM = "SUM"
    AVG = "AVG"
    COUNT = "COUNT"
    DCOUNT = "DCOUNT"
    MAX = "MAX"
    MIN = "MIN"

    @property
    def needs_numeric(self) -> bool:
        return self in (Aggregate.SUM, Aggregate.AVG)


AGGREGATE_FUNCTIONS: tuple[Aggregate, ...] = tuple(Aggregate)


class ReportPeriod(StrEnum):
    YESTERDAY = "Yesterday"
    LAST_3_DAYS = "Last3Days"
    LAST_7_DAYS = "Last7Days"
    LAST_10_DAYS = "Last10Days"
    LAST_15_DAYS = "Last15Days"
    LAST_30_DAYS = "Last30Days"
    LAST_60_DAYS = "Last60Days"
    LAST_90_DAYS = "Last90Days"

    @property
    def days(self) -> int:
        return _PERIOD_DAYS[self]


_PERIOD_DAYS = {
    ReportPeriod.YESTERDAY: 1,
    ReportPeriod.LAST_3_DAYS: 3,
    ReportPeriod.LAST_7_DAYS: 7,
    ReportPeriod.LAST_10_DAYS: 10,
    ReportPeriod.LAST_15_DAYS: 15,
    ReportPeriod.LAST_30_DAYS: 30,
    ReportPeriod.LAST_60_DAYS: 60,
    ReportPeriod.LAST_90_DAYS: 90,
}
REPORT_PERIODS: tuple[ReportPeriod, ...] = tuple(ReportPeriod)

_BOTH = frozenset({View.IHV_DRIVER, View.OEM_DRIVER})
_IHV = frozenset({View.IHV_DRIVER})
_OEM = frozenset({View.OEM_DRIVER})


@dataclass(frozen=True)
class Column:
    """A column a template may name. ``stored`` is the physical column in the event store."""

    name: str
    views: frozenset[View]
    type: ColumnType
    description: str
    stored: str | None = None
    allowed_values: tuple[str, ...] = ()

    @property
    def physical(self) -> str | None:
        """Physical column name, or None for ReportId, which is filled per report."""
        if self.name == "ReportId":
            return None
        return self.stored or self.name


COLUMNS: tuple[Column, ...] = (
    Column("ReportId", _BOTH, ColumnType.INTEGER, "Id of the scheduled report whose output holds this row."),
    Column("FailureDate", _BOTH, ColumnType.DATE, "Date of the failure (UTC, ISO yyyy-mm-dd)."),
    Column("FailureDateTime", _BOTH, ColumnType.TIMESTAMP, "UTC timestamp of the failure."),
    Column("ApplicationId", _IHV, ColumnType.STRING, "Product id of the driver submission."),
    Column("SubmissionId", _IHV, ColumnType.STRING, "Driver submission id."),
    Column("FailureName", _BOTH, ColumnType.STRING, "Failure bucket name, e.g. 0x9F_nvlddmkm!Foo."),
    Column("FailureHash", _BOTH, ColumnType.UUID, "Stable id (GUID) of the failure bucket."),
    Column("Symbol", _BOTH, ColumnType.STRING, "Faulting symbol, if known."),
    Column("OSVersion", _BOTH, ColumnType.STRING, "OS build, e.g. 10.0.22631.4317."),
    Column("OSName", _IHV, ColumnType.STRING, "Friendly OS name."),
    Column("EventType", _BOTH, ColumnType.STRING, "Kernel or System.", allowed_values=("Kernel", "System")),
    Column("Market", _BOTH, ColumnType.STRING, "Country/region code."),
    Column("DeviceType", _BOTH, ColumnType.STRING, "PC, Tablet, ..."),
    Column("DriverName", _BOTH, ColumnType.STRING, "Driver file name, e.g. nvlddmkm.sys."),
    Column("DriverVersion", _BOTH, ColumnType.STRING, "Driver version string."),
    Column(
        "Architecture", _BOTH, ColumnType.STRING, "CPU architecture.", allowed_values=("x64", "arm64", "x86")
    ),
    Column("OEMName", _IHV, ColumnType.STRING, "Machine maker."),
    Column("OEMModel", _IHV, ColumnType.STRING, "Machine model (named Model in the OEMDriver view)."),
    Column("Model", _OEM, ColumnType.STRING, "Machine model.", stored="OEMModel"),
    Column("Baseboard", _OEM, ColumnType.STRING, "Baseboard."),
    Column("ModelFamily", _OEM, ColumnType.STRING, "Model family."),
    Column("FlightRing", _BOTH, ColumnType.STRING, "Windows Insider ring or Retail."),
    Column("Mode", _BOTH, ColumnType.STRING, "Kernel or User.", allowed_values=("Kernel", "User")),
    Column("CPUName", _BOTH, ColumnType.STRING, "CPU name."),
    Column("OSSKUType", _BOTH, ColumnType.STRING, "OS edition."),
    Column("ReleaseName", _BOTH, ColumnType.STRING, "OS release, e.g. 23H2."),
    Column("CabType", _BOTH, ColumnType.STRING, "Kind of dump.", allowed_values=("Kernel", "Mini", "Full")),
    Column("CabIdHash", _BOTH, ColumnType.STRING, "Id of the crash dump (CAB) for the cab download API."),
    Column("DeviceId", _BOTH, ColumnType.UUID, "Pseudonymous device id (personal data)."),
    Column("HardwareId", _BOTH, ColumnType.STRING, "PnP hardware id."),
    Column("CabCollectionTime", _BOTH, ColumnType.TIMESTAMP, "When the CAB was collected (UTC)."),
    Column("CabExpirationTime", _BOTH, ColumnType.TIMESTAMP, "When the CAB stops being downloadable."),
    Column("EventCount", _BOTH, ColumnType.INTEGER, "Number of failure events this row stands for."),
)

_BY_VIEW_AND_LOWER_NAME: dict[tuple[View, str], Column] = {
    (view, column.name.lower()): column for column in COLUMNS for view in column.views
}


def columns_of(view: View) -> tuple[Column, ...]:
    """The columns of one view, in catalogue order."""
    return tuple(c for c in COLUMNS if view in c.views)


def column_for(view: View, name: str) -> Column | None:
    """Look a column up by name (case-insensitive, trimmed) within a view."""
    return _BY_VIEW_AND_LOWER_NAME.get((view, name.strip().lower()))


# Physical columns of the event store besides the template columns.
OWNER_COLUMNS: dict[View, str] = {View.IHV_DRIVER: "IhvPartner", View.OEM_DRIVER: "OemPartner"}
STORED_COLUMNS: tuple[tuple[str, ColumnType], ...] = (
    ("EventId", ColumnType.STRING),
    ("IhvPartner", ColumnType.STRING),
    ("OemPartner", ColumnType.STRING),
    *((c.name, c.type) for c in COLUMNS if c.physical == c.name),
)
