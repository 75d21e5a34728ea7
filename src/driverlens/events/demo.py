"""Demo partners (owning a share of the synthetic telemetry), the vendors and makers that are not partners
(owning the rest), and the demo credentials file."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from driverlens.catalog import PartnerKind


@dataclass(frozen=True)
class DemoPartner:
    """A partner created by ``driverlens seed --demo``; ids are fixed so demos are reproducible."""

    name: str
    kind: PartnerKind
    tenant_id: str
    application_ids: tuple[str, ...] = ()
    submission_ids: tuple[str, ...] = ()
    oem_names: tuple[str, ...] = ()
    # IHVs only: driver files whose failures belong to this partner, most failing first.
    drivers: tuple[str, ...] = ()


DEMO_PARTNERS: tuple[DemoPartner, ...] = (
    DemoPartner(
        name="Contoso Graphics",
        kind=PartnerKind.IHV,
        tenant_id="6f1c2a4e-3b7d-4c9a-8e21-0d5f7a9b3c11",
        application_ids=("14631189321234567", "14631189321234568", "14631189321234569"),
        submission_ids=("1152921505691234567", "1152921505691234568", "1152921505691234569"),
        drivers=("cgfx.sys", "cgfxkm.sys", "cgfxhda.sys", "cgfxdisp.sys"),
    ),
    DemoPartner(
        name="Fabrikam Audio",
        kind=PartnerKind.IHV,
        tenant_id="2d8e5b17-9a43-4f6c-b0e2-7c1a3d5e9f22",
        application_ids=("14631189329876543", "14631189329876544"),
        submission_ids=("1152921505699876543", "1152921505699876544"),
        drivers=("fabaudio.sys", "fabusbaud.sys", "fabdsp.sys"),
    ),
    DemoPartner(
        name="Northwind Systems",
        kind=PartnerKind.OEM,
        tenant_id="9b4f7d21-5e8a-4b3c-a1d6-3f2e8c7b5a33",
        oem_names=("Northwind Systems",),
    ),
)

# Machine makers that are not DriverLens partners; their events are owned by the maker's name. A shared
# telemetry store covers every maker: the demo OEM owns ``DEMO_OEM_SHARE`` of the machines (see seed.py),
# these share the rest with a Zipf skew, biggest first.
OTHER_OEMS: tuple[str, ...] = (
    "Adatum Corporation", "Litware Inc.", "Tailspin Toys", "Proseware", "Trey Research", "Wingtip Toys",
    "VanArsdel Ltd.", "Woodgrove Devices", "Relecloud", "Lucerne Computing", "Alpine Systems",
    "Coho Machines", "Fourth Coffee PCs", "Humongous Hardware", "Wide World Machines", "Blue Yonder Tech",
)  # fmt: skip


@dataclass(frozen=True)
class OtherIhv:
    """A driver vendor that is not a DriverLens partner; it owns its drivers' failures by its name."""

    name: str
    drivers: tuple[str, ...]
    application_ids: tuple[str, ...]
    submission_ids: tuple[str, ...]


_OTHER_IHV_NAMES: tuple[tuple[str, str], ...] = (
    ("Adventure Works Storage", "awstor"), ("Litware Networks", "lwnet"), ("Proseware Input", "pwinput"),
    ("Trey Wireless", "treywl"), ("Datum Sensors", "datsens"), ("Lamna Bluetooth", "lambt"),
    ("Margie Imaging", "mgimg"), ("Southridge Video", "srvid"), ("Consolidated Chipsets", "ccchip"),
    ("Coho Thunderbolt", "cohotb"), ("Bellows Camera", "belcam"), ("Graphic Design Silicon", "gdsgpu"),
    ("Woodgrove Security", "wgsec"), ("City Power Management", "cpmpwr"), ("Nod Touch", "nodtouch"),
    ("Munson Card Readers", "munscr"), ("First Up Ethernet", "fueth"), ("Relecloud Modems", "rcmodem"),
    ("Wide World Printing", "wwprint"), ("Tailwind Fingerprint", "twfp"), ("Olympia Serial", "olyser"),
    ("Alpine Audio Codecs", "alpcodec"), ("Blue Yonder GNSS", "bygnss"), ("Humongous NVMe", "hgnvme"),
    ("School Fine Displays", "sfdisp"), ("Liberty Haptics", "libhap"), ("Fourth Coffee USB", "fcusb"),
    ("Best For You Sensors", "bfysens"), ("Lucerne Docking", "lucdock"), ("VanArsdel Keyboards", "vakbd"),
)  # fmt: skip
_DRIVER_KINDS = ("", "km", "svc", "flt")


def _other_ihv(index: int, name: str, stem: str) -> OtherIhv:
    count = 2 + index % 3
    return OtherIhv(
        name=name,
        drivers=tuple(f"{stem}{kind}.sys" for kind in _DRIVER_KINDS[:count]),
        application_ids=tuple(f"146311895{index:04d}{k:04d}" for k in range(2)),
        submission_ids=tuple(f"115292150570{index:03d}{k:04d}" for k in range(2)),
    )


# Driver vendors that are not partners: together they own most failures, as in real shared telemetry.
OTHER_IHVS: tuple[OtherIhv, ...] = tuple(_other_ihv(i, n, s) for i, (n, s) in enumerate(_OTHER_IHV_NAMES))


def demo_partner(name: str) -> DemoPartner:
    """Look a demo partner up by name."""
    for partner in DEMO_PARTNERS:
        if partner.name == name:
            return partner
    raise KeyError(name)


def credentials_entry(partner: DemoPartner, **secrets: str) -> dict[str, str]:
    """One entry of ``demo-credentials.json``; secrets default to empty until the API issues them."""
    entry = {
        "name": partner.name,
        "kind": partner.kind.value,
        "tenantId": partner.tenant_id,
        "clientId": "",
        "clientSecret": "",
        "callbackSecret": "",
    }
    for key, value in secrets.items():
        if key not in entry:
            raise KeyError(f"unknown credentials field {key}")
        entry[key] = value
    return entry


def write_demo_credentials(path: Path, entries: Sequence[Mapping[str, Any]]) -> Path:
    """Write ``{"partners": [...]}`` atomically, readable by the owner only (it holds secrets)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump({"partners": [dict(e) for e in entries]}, fh, indent=2)
        fh.write("\n")
    os.replace(tmp, path)
    return path
