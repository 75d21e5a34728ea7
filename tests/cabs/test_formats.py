"""The project's dump writer and cabinet packer against the parsers (kdmp-parser, minidump, cabarchive)."""

from __future__ import annotations

from pathlib import Path

import pytest

from driverlens.cabs.cabinet import Cabinet, CabLimits, open_cabinet, pack
from driverlens.cabs.demo import demo_cabinet, demo_files, wer_report
from driverlens.cabs.dumps import read_dump, read_wer_report
from driverlens.cabs.dumpwriter import KernelDumpSpec, MiniDumpSpec, Module, kernel_dump, mini_dump


def _open(tmp_path: Path, data: bytes) -> tuple[Path, Cabinet]:
    path = tmp_path / "x.cab"
    path.write_bytes(data)
    return path, open_cabinet(path, CabLimits())


@pytest.mark.parametrize(
    ("code", "params", "build"),
    [
        (0x9F, (3, 0xFFFFE0012345A060, 0xFFFFF80512345678, 0xFFFFE00123456789), 22631),
        (0xD1, (0, 2, 0, 0xFFFFF8051ABCDEF0), 26100),
        (0x133, (1, 0x1E00, 0xFFFFF805_00000000, 0), 19045),
    ],
)
def test_kernel_dump_round_trip(
    tmp_path: Path, code: int, params: tuple[int, int, int, int], build: int
) -> None:
    files = {"MEMORY.DMP": kernel_dump(KernelDumpSpec(code, params, build, pages=3))}
    files["Report.wer"] = wer_report(
        "BlueScreen", [("Fault Module Name", "foo.sys"), ("Fault Module Version", "1.2.3.4")]
    )
    _, cabinet = _open(tmp_path, pack(files))
    facts = read_dump(cabinet)
    assert (facts.dump_type, facts.dump_format) == ("Kernel", "FullDump")
    assert facts.bugcheck_code == code and facts.bugcheck_parameters == params
    assert facts.os_build == str(build) and facts.exception_code is None
    assert (facts.faulting_module, facts.faulting_module_version) == ("foo.sys", "1.2.3.4")


def test_minidump_round_trip_finds_the_module_holding_the_exception_address(tmp_path: Path) -> None:
    modules = (
        Module("C:\\Windows\\System32\\ntdll.dll", 0x7FFA_0000_0000, 0x1F0000, (10, 0, 22631, 1)),
        Module("C:\\Drivers\\UMDF\\fabaudio.dll", 0x7FF6_1000_0000, 0x80000, (31, 0, 15, 1013)),
    )
    dump = mini_dump(MiniDumpSpec(0xC0000409, 0x7FF6_1000_4242, 26100, modules))
    _, cabinet = _open(tmp_path, pack({"app.mdmp": dump}))
    facts = read_dump(cabinet)
    assert (facts.dump_type, facts.dump_format, facts.dump_file) == ("Mini", "UserMini", "app.mdmp")
    assert facts.exception_code == 0xC0000409 and facts.bugcheck_code is None
    assert (facts.faulting_module, facts.faulting_module_version, facts.os_build) == (
        "fabaudio.dll",
        "31.0.15.1013",
        "26100",
    )


def test_an_address_outside_every_module_names_no_module(tmp_path: Path) -> None:
    modules = (Module("C:\\x\\a.dll", 0x1000_0000, 0x1000, (1, 0, 0, 0)),)
    _, cabinet = _open(
        tmp_path, pack({"a.dmp": mini_dump(MiniDumpSpec(0xC0000005, 0x2000_0000, 22631, modules))})
    )
    assert read_dump(cabinet).faulting_module is None


@pytest.mark.parametrize("compress", [True, False])
def test_cabinet_keeps_bytes_and_names(tmp_path: Path, compress: bool) -> None:
    files = {"a.txt": b"hello" * 10_000, "dir\\b.bin": bytes(range(256)) * 300}
    _, cabinet = _open(tmp_path, pack(files, compress=compress))
    assert dict(cabinet.contents) == files
    assert cabinet.expanded_size == sum(map(len, files.values()))


def test_demo_cabinets_agree_with_their_bucket(tmp_path: Path) -> None:
    kernel = demo_cabinet(
        "0x133_fabaudio!Stream",
        kernel=True,
        os_version="10.0.26100.2314",
        driver="fabaudio.sys",
        driver_version="31.0.15.1013",
    )
    facts = read_dump(_open(tmp_path, kernel)[1])
    assert (facts.bugcheck_code, facts.faulting_module, facts.os_build) == (0x133, "fabaudio.sys", "26100")
    user = demo_files(
        "0x9F_contoso!Wait",
        kernel=False,
        os_version="10.0.22631.4317",
        driver="contoso.sys",
        driver_version="30.0.14.1019",
    )
    assert read_wer_report(user["Report.wer"])["fault module name"] == "contoso.sys"
    facts = read_dump(_open(tmp_path, pack(user))[1])
    assert (facts.dump_type, facts.exception_code, facts.faulting_module) == (
        "Mini",
        0xC0000005,
        "contoso.sys",
    )
    # Same inputs, same bytes: the demo is reproducible and stored once.
    assert kernel == demo_cabinet(
        "0x133_fabaudio!Stream",
        kernel=True,
        os_version="10.0.26100.2314",
        driver="fabaudio.sys",
        driver_version="31.0.15.1013",
    )
