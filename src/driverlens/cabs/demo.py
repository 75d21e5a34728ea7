"""Demo cabinets: a dump in the real format for a failure bucket, with its WER report, packed as a CAB.

Kernel-mode buckets get a full kernel dump whose bugcheck is the bucket's; user-mode buckets get a
minidump whose exception address lies in the bucket's module. The WER report carries the faulting
module's name and version (a kernel dump's header names no module). Nothing partner-specific goes in:
no application or submission id, so the same file is fine for the IHV and the OEM.
"""

from __future__ import annotations

import hashlib
import re
import struct

from driverlens.cabs.cabinet import pack
from driverlens.cabs.dumpwriter import KernelDumpSpec, MiniDumpSpec, Module, kernel_dump, mini_dump

_BUCKET = re.compile(r"^0x([0-9A-Fa-f]{1,8})_([^!]+)!")
_USER_MODULE_BASE = 0x7FF6_1000_0000


def _build(os_version: str) -> int:
    parts = os_version.split(".")
    return int(parts[2]) if len(parts) > 2 and parts[2].isdigit() else 22631


def _version_tuple(version: str) -> tuple[int, int, int, int]:
    numbers = [int(p) & 0xFFFF for p in version.split(".") if p.isdigit()][:4]
    return (*numbers, *([0] * (4 - len(numbers))))  # type: ignore[return-value]


def wer_report(event_type: str, signature: list[tuple[str, str]]) -> bytes:
    """A WER report (``Report.wer``): UTF-16 with BOM, ``Sig[n].Name``/``Sig[n].Value`` lines."""
    lines = ["Version=1", f"EventType={event_type}"]
    for i, (name, value) in enumerate(signature):
        lines += [f"Sig[{i}].Name={name}", f"Sig[{i}].Value={value}"]
    return "\r\n".join(lines).encode("utf-16")


def demo_files(
    failure_name: str, *, kernel: bool, os_version: str, driver: str, driver_version: str, padding: int = 0
) -> dict[str, bytes]:
    """The files of a demo cabinet for one failure bucket (dump first, then its WER report)."""
    match = _BUCKET.match(failure_name)
    code = int(match.group(1), 16) if match else 0x7E
    module = f"{match.group(2)}.sys" if match else driver
    seed = hashlib.sha256(failure_name.encode("utf-8")).digest()
    build = _build(os_version)
    if kernel:
        params = struct.unpack("<4Q", seed)
        pages = 1 + padding // 0x1000
        dump = kernel_dump(KernelDumpSpec(code, params, build, comment=failure_name[:100], pages=pages))
        report = wer_report(
            "BlueScreen",
            [
                ("BCCode", f"{code:x}"),
                ("Fault Module Name", module),
                ("Fault Module Version", driver_version),
            ],
        )
        return {"MEMORY.DMP": dump, "Report.wer": report}
    offset = int.from_bytes(seed[:2], "little")
    modules = (
        Module("C:\\Windows\\System32\\ntdll.dll", 0x7FFA_0000_0000, 0x1F0000, (10, 0, build, 1)),
        Module(
            f"C:\\Windows\\System32\\drivers\\UMDF\\{module}",
            _USER_MODULE_BASE,
            0x80000,
            _version_tuple(driver_version),
        ),
    )
    dump = mini_dump(
        MiniDumpSpec(0xC0000005, _USER_MODULE_BASE + 0x1000 + offset, build, modules, padding=padding)
    )
    report = wer_report(
        "APPCRASH",
        [
            ("Application Name", "WUDFHost.exe"),
            ("Fault Module Name", module),
            ("Fault Module Version", driver_version),
        ],
    )
    return {"WUDFHost.exe.mdmp": dump, "Report.wer": report}


def demo_cabinet(
    failure_name: str, *, kernel: bool, os_version: str, driver: str, driver_version: str, padding: int = 0
) -> bytes:
    """A packed demo cabinet (MSZIP) for one failure bucket."""
    files = demo_files(
        failure_name,
        kernel=kernel,
        os_version=os_version,
        driver=driver,
        driver_version=driver_version,
        padding=padding,
    )
    return pack(files)
