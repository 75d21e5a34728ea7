"""Crash dumps in the real Windows formats, for demo data, tests and benchmarks.

Two formats, each laid out as documented (wdm.h / dbghelp.h / minidumpapiset.h):

- a 64-bit kernel *full* dump: the 8 KB ``DUMP_HEADER64`` (``PAGEDU64``, bugcheck code and its four
  parameters, OS build, one physical memory run) followed by the pages of that run;
- a user-mode minidump: ``MINIDUMP_HEADER``, a stream directory, and the SystemInfo, ModuleList and
  Exception streams (the faulting module is the one whose range holds the exception address).

The ``padding`` argument grows a dump to a given size (more physical pages, or a memory blob) so that
benchmarks can make cabinets of a chosen size.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

PAGE = 0x1000
KERNEL_HEADER_SIZE = 0x2000
# DUMP_HEADER64 offsets.
_KD_MACHINE = 0x30
_KD_BUGCHECK = 0x38
_KD_PARAMS = 0x40
_KD_PHYSMEM = 0x88
_KD_DUMP_TYPE = 0xF98
_KD_REQUIRED_SPACE = 0xFA0
_KD_SYSTEM_TIME = 0xFA8
_KD_COMMENT = 0xFB0
IMAGE_FILE_MACHINE_AMD64 = 0x8664
FULL_DUMP = 1

# MINIDUMP_STREAM_TYPE values.
MODULE_LIST_STREAM = 4
EXCEPTION_STREAM = 6
SYSTEM_INFO_STREAM = 7
MINIDUMP_SIGNATURE = b"MDMP"
MINIDUMP_VERSION = 0xA793
VS_FIXEDFILEINFO_SIGNATURE = 0xFEEF04BD
PROCESSOR_ARCHITECTURE_AMD64 = 9
_MODULE_SIZE = 108


@dataclass(frozen=True)
class KernelDumpSpec:
    bugcheck_code: int
    parameters: tuple[int, int, int, int]
    os_build: int
    comment: str = ""
    pages: int = 1


@dataclass(frozen=True)
class Module:
    name: str
    base: int
    size: int
    version: tuple[int, int, int, int]


@dataclass(frozen=True)
class MiniDumpSpec:
    exception_code: int
    exception_address: int
    os_build: int
    modules: tuple[Module, ...]
    os_major: int = 10
    os_minor: int = 0
    padding: int = 0


def kernel_dump(spec: KernelDumpSpec) -> bytes:
    """A full kernel dump whose header carries the bugcheck, its parameters and the OS build."""
    if spec.pages < 1:
        raise ValueError("a full dump holds at least one page")
    header = bytearray(KERNEL_HEADER_SIZE)
    # MajorVersion 0xF is a free (retail) build; MinorVersion is the OS build number.
    struct.pack_into("<4s4sII", header, 0, b"PAGE", b"DU64", 0xF, spec.os_build)
    struct.pack_into("<Q", header, 0x10, PAGE)  # DirectoryTableBase: the first dumped page
    struct.pack_into("<III", header, _KD_MACHINE, IMAGE_FILE_MACHINE_AMD64, 1, spec.bugcheck_code)
    struct.pack_into("<4Q", header, _KD_PARAMS, *spec.parameters)
    # PHYSICAL_MEMORY_DESCRIPTOR64: one run of ``pages`` pages from physical page 1.
    struct.pack_into("<IIQQQ", header, _KD_PHYSMEM, 1, 0, spec.pages, 1, spec.pages)
    struct.pack_into("<I", header, _KD_DUMP_TYPE, FULL_DUMP)
    struct.pack_into("<Q", header, _KD_REQUIRED_SPACE, KERNEL_HEADER_SIZE + spec.pages * PAGE)
    struct.pack_into("<Q", header, _KD_SYSTEM_TIME, 133_000_000_000_000_000)
    comment = spec.comment.encode("ascii")[:0x7F]
    header[_KD_COMMENT : _KD_COMMENT + len(comment)] = comment
    page = bytes(range(256)) * (PAGE // 256)
    return bytes(header) + page * spec.pages


def _fixed_file_info(version: tuple[int, int, int, int]) -> bytes:
    major, minor, build, revision = version
    ms, ls = (major << 16) | minor, (build << 16) | revision
    # dwSignature, dwStrucVersion, file MS/LS, product MS/LS, flags mask, flags, OS (VOS_NT_WINDOWS32),
    # type (VFT_DRV), subtype, date MS/LS.
    return struct.pack(
        "<13I", VS_FIXEDFILEINFO_SIGNATURE, 0x10000, ms, ls, ms, ls, 0x3F, 0, 0x40004, 3, 0, 0, 0
    )


def _string(text: str) -> bytes:
    """A MINIDUMP_STRING: byte length, UTF-16LE characters, a terminating NUL."""
    raw = text.encode("utf-16-le")
    return struct.pack("<I", len(raw)) + raw + b"\x00\x00"


def mini_dump(spec: MiniDumpSpec) -> bytes:
    """A user-mode minidump with system info, the module list and the exception record."""
    header_size, entry = 32, 12
    streams = 3
    body = bytearray()
    base = header_size + streams * entry

    def place(data: bytes) -> int:
        rva = base + len(body)
        body.extend(data)
        while len(body) % 4:
            body.append(0)
        return rva

    csd_rva = place(_string(""))
    system_info = struct.pack(
        "<HHHBBIIIIIHH",
        PROCESSOR_ARCHITECTURE_AMD64,
        6,
        0,
        8,
        1,  # VER_NT_WORKSTATION
        spec.os_major,
        spec.os_minor,
        spec.os_build,
        2,  # VER_PLATFORM_WIN32_NT
        csd_rva,
        0x100,
        0,
    ) + bytes(24)
    name_rvas = [place(_string(module.name)) for module in spec.modules]
    modules = struct.pack("<I", len(spec.modules))
    for module, name_rva in zip(spec.modules, name_rvas, strict=True):
        modules += struct.pack("<QIIII", module.base, module.size, 0, 0x5F000000, name_rva)
        modules += _fixed_file_info(module.version) + bytes(8 + 8 + 16)
    exception = struct.pack("<II", 0x1A2C, 0)
    exception += struct.pack("<IIQQII", spec.exception_code, 0, 0, spec.exception_address, 0, 0) + bytes(
        8 * 15
    )
    exception += struct.pack("<II", 0, 0)  # ThreadContext: none recorded
    directory = []
    for kind, data in (
        (SYSTEM_INFO_STREAM, system_info),
        (MODULE_LIST_STREAM, modules),
        (EXCEPTION_STREAM, exception),
    ):
        directory.append((kind, len(data), place(data)))
    if spec.padding:
        place(bytes(spec.padding))
    head = struct.pack(
        "<4sIIIIIQ", MINIDUMP_SIGNATURE, MINIDUMP_VERSION, streams, header_size, 0, 0x65000000, 0
    )
    head += b"".join(struct.pack("<III", kind, size, rva) for kind, size, rva in directory)
    return head + bytes(body)
