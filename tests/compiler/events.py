"""A tiny, hand-made ``failure_events`` table: eight scoped rows and three that scope or window exclude."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

DEVICES = [uuid.UUID(int=i + 1) for i in range(4)]
HASHES = [uuid.UUID(int=(i + 1) << 64) for i in range(3)]


def event(n: int, **values: Any) -> dict[str, Any]:
    day = values.pop("day", date(2024, 5, 2))
    row: dict[str, Any] = {
        "EventId": f"e{n}",
        "IhvPartner": "Contoso",
        "OemPartner": "Fabrikam",
        "FailureDate": day,
        "FailureDateTime": datetime.combine(day, datetime.min.time()) + timedelta(hours=n % 24),
        "ApplicationId": "app-1",
        "SubmissionId": "sub-1",
        "FailureName": f"0x9F_nvlddmkm!Foo{n % 3}",
        "FailureHash": HASHES[n % 3],
        "Symbol": "nvlddmkm!Foo",
        "OSVersion": "10.0.22631.4317",
        "OSName": "Windows 11",
        "EventType": "Kernel" if n % 2 == 0 else "System",
        "Market": "US",
        "DeviceType": "PC",
        "DriverName": "nvlddmkm.sys" if n % 4 else "igdkmd64.sys",
        "DriverVersion": "31.0.15.5222",
        "Architecture": "x64",
        "OEMName": "Fabrikam",
        "OEMModel": f"Model {n % 2}",
        "Baseboard": "BB-1",
        "ModelFamily": "Family",
        "FlightRing": "Retail",
        "Mode": "Kernel",
        "CPUName": "CPU",
        "OSSKUType": "Pro",
        "ReleaseName": "23H2",
        "CabType": "Mini",
        "CabIdHash": f"cab{n}",
        "DeviceId": DEVICES[n % 4],
        "HardwareId": "PCI\\VEN_10DE",
        "CabCollectionTime": datetime(2024, 5, 2, 12),
        "CabExpirationTime": datetime(2024, 6, 1, 12),
        "EventCount": 600 + n,
    }
    row.update(values)
    return row


ROWS = [event(n) for n in range(8)] + [
    event(100, IhvPartner="Northwind", OemPartner="Litware", EventCount=10_000),  # other partners
    event(101, day=date(2024, 4, 30), EventCount=10_000),  # before the window
    event(102, day=date(2024, 5, 8), EventCount=10_000),  # the window's end is exclusive
]
