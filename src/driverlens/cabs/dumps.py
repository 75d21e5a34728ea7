"""What a crash dump says: kernel dumps through kdmp-parser, user-mode minidumps through minidump.

Both libraries trust their input (kdmp-parser is native code that maps the file), so the documented
fixed fields they rely on are range-checked here first: a header that points outside the dump, or
claims absurd counts, is refused before a library sees it. The faulting module of a minidump is the
module whose address range holds the exception address; a kernel dump names no module in its header,
so for kernel dumps it comes from the WER report in the cabinet (``*.wer``), when there is one.
"""

from __future__ import annotations

import io
import logging
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path, PureWindowsPath

import kdmp_parser
from minidump.minidumpfile import MinidumpFile

from driverlens.cabs.cabinet import Cabinet
from driverlens.errors import CabRejected

KERNEL_MAGIC = b"PAGEDU64"
KERNEL32_MAGIC = b"PAGEDUMP"
MINIDUMP_MAGIC = b"MDMP"
_PAGE = 0x1000
_KERNEL_HEADER = 0x2000
_MAX_RUNS = (0x2C0 - 0x10) // 0x10  # runs that fit the header's PHYSICAL_MEMORY_DESCRIPTOR64
_FULL_DUMP, _BITMAP_DUMP = 1, 5
_MAX_STREAMS = 512
_MAX_MODULES = 10_000
_MODULE_ENTRY = 108


@dataclass(frozen=True)
class DumpFacts:
    """The fields recorded per CAB: what crashed, where, on which OS build."""

    dump_file: str
    dump_type: str  # "Kernel" or "Mini"
    dump_format: str  # e.g. "FullDump", "BMPDump", "UserMini"
    bugcheck_code: int | None
    bugcheck_parameters: tuple[int, int, int, int] | None
    exception_code: int | None
    os_build: str
    faulting_module: str | None
    faulting_module_version: str | None


def _version(ms: int, ls: int) -> str:
    return f"{ms >> 16}.{ms & 0xFFFF}.{ls >> 16}.{ls & 0xFFFF}"


def read_wer_report(data: bytes) -> dict[str, str]:
    """``Sig[n].Name`` / ``Sig[n].Value`` pairs of a WER report (UTF-16 with BOM, or UTF-8) by name."""
    text = (
        data.decode("utf-16") if data[:2] in (b"\xff\xfe", b"\xfe\xff") else data.decode("utf-8", "replace")
    )
    names: dict[str, str] = {}
    values: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if not sep or not key.startswith("Sig["):
            continue
        index, _, field = key[4:].partition("].")
        (names if field == "Name" else values)[index] = value.strip()
    return {name.lower(): values[i] for i, name in names.items() if i in values}


def _check_kernel_header(data: bytes) -> str:
    """Range-check the DUMP_HEADER64 fields kdmp-parser relies on; return the dump format's name."""
    if len(data) < _KERNEL_HEADER:
        raise CabRejected(f"truncated kernel dump: {len(data)} bytes, the header alone is 8192")
    dump_type = struct.unpack_from("<I", data, 0xF98)[0]
    if dump_type == _FULL_DUMP:
        runs, _, pages = struct.unpack_from("<IIQ", data, 0x88)
        if not 1 <= runs <= _MAX_RUNS:
            raise CabRejected(f"absurd kernel dump header: {runs} physical memory runs (1 to {_MAX_RUNS})")
        counted = sum(struct.unpack_from("<QQ", data, 0x98 + 16 * i)[1] for i in range(runs))
        if counted != pages or _KERNEL_HEADER + pages * _PAGE > len(data):
            raise CabRejected(
                f"absurd kernel dump header: it declares {pages} pages ({counted} in its runs) but the "
                f"file holds {(len(data) - _KERNEL_HEADER) // _PAGE}"
            )
        return "FullDump"
    if dump_type == _BITMAP_DUMP:
        if len(data) < _KERNEL_HEADER + 0x38:
            raise CabRejected("truncated kernel dump: the bitmap header is cut off")
        signature, valid = struct.unpack_from("<4s4s", data, _KERNEL_HEADER)
        first_page, present, pages = struct.unpack_from("<QQQ", data, _KERNEL_HEADER + 0x20)
        if signature not in (b"SDMP", b"FDMP") or valid != b"DUMP":
            raise CabRejected("absurd kernel dump header: the bitmap header has no SDMP/FDMP signature")
        if _KERNEL_HEADER + 0x38 + (pages + 7) // 8 > len(data) or first_page + present * _PAGE > len(data):
            raise CabRejected("absurd kernel dump header: its page bitmap points past the end of the dump")
        return "BMPDump"
    raise CabRejected(f"unsupported kernel dump type {dump_type} (full dumps and bitmap dumps are read)")


def _kernel_facts(name: str, data: bytes, wer: dict[str, str]) -> DumpFacts:
    dump_format = _check_kernel_header(data)
    with tempfile.NamedTemporaryFile(prefix="driverlens-dump-", suffix=".dmp") as handle:
        # kdmp-parser maps a file by path; the temp name never comes from the cabinet.
        handle.write(data)
        handle.flush()
        try:
            parsed = kdmp_parser.KernelDumpParser(Path(handle.name))
        except (RuntimeError, ValueError) as exc:
            raise CabRejected(f"malformed kernel dump {name!r}: kdmp-parser refused its header") from exc
        header = parsed.header
        code = int(header.BugCheckCode)
        params = tuple(int(p) for p in header.BugCheckCodeParameter)
        build = int(header.MinorVersion)
    return DumpFacts(
        dump_file=name,
        dump_type="Kernel",
        dump_format=dump_format,
        bugcheck_code=code,
        bugcheck_parameters=(params[0], params[1], params[2], params[3]),
        exception_code=None,
        os_build=str(build),
        faulting_module=wer.get("fault module name"),
        faulting_module_version=wer.get("fault module version"),
    )


def _check_minidump_header(data: bytes) -> None:
    """Range-check MINIDUMP_HEADER and the stream directory before the minidump library walks them."""
    if len(data) < 32:
        raise CabRejected(f"truncated minidump: {len(data)} bytes, the header alone is 32")
    streams, directory = struct.unpack_from("<II", data, 8)
    if streams > _MAX_STREAMS or directory + 12 * streams > len(data):
        raise CabRejected(
            f"absurd minidump header: {streams} streams at byte {directory} "
            f"do not fit a {len(data)}-byte dump"
        )
    for i in range(streams):
        kind, size, rva = struct.unpack_from("<III", data, directory + 12 * i)
        if rva + size > len(data):
            raise CabRejected(
                f"absurd minidump header: stream {i} (type {kind}) points past the end of the dump"
            )
        if kind == 4 and size >= 4:
            count = struct.unpack_from("<I", data, rva)[0]
            if count > _MAX_MODULES or 4 + count * _MODULE_ENTRY > size:
                raise CabRejected(f"absurd minidump header: {count} modules do not fit their stream")


def _minidump_facts(name: str, data: bytes, wer: dict[str, str]) -> DumpFacts:
    _check_minidump_header(data)
    # The library logs parse failures of optional parts at ERROR level; they are not ours to report.
    library_log = logging.getLogger("minidump")
    level = library_log.level
    library_log.setLevel(logging.CRITICAL)
    try:
        parsed = MinidumpFile.parse_external(io.BytesIO(data))
    except (ValueError, KeyError, IndexError, struct.error, UnicodeDecodeError, EOFError) as exc:
        raise CabRejected(f"malformed minidump {name!r}: {exc}") from exc
    finally:
        library_log.setLevel(level)
    if parsed.sysinfo is None:
        raise CabRejected(f"malformed minidump {name!r}: it has no system information stream")
    info = parsed.sysinfo
    exception_code: int | None = None
    module: str | None = wer.get("fault module name")
    version: str | None = wer.get("fault module version")
    if parsed.exception is not None and parsed.exception.exception_records:
        record = parsed.exception.exception_records[0].ExceptionRecord
        exception_code = int(record.ExceptionCode_raw)
        address = int(record.ExceptionAddress)
        for candidate in parsed.modules.modules if parsed.modules is not None else []:
            if candidate.baseaddress <= address < candidate.endaddress:
                module = PureWindowsPath(candidate.name).name
                fixed = candidate.versioninfo
                if fixed is not None:
                    version = _version(int(fixed.dwFileVersionMS), int(fixed.dwFileVersionLS))
                break
    return DumpFacts(
        dump_file=name,
        dump_type="Mini",
        dump_format="UserMini",
        bugcheck_code=None,
        bugcheck_parameters=None,
        exception_code=exception_code,
        os_build=str(info.BuildNumber),
        faulting_module=module,
        faulting_module_version=version,
    )


def read_dump(cabinet: Cabinet) -> DumpFacts:
    """The facts of the first crash dump in the cabinet; CabRejected when there is none we can read."""
    wer: dict[str, str] = {}
    for member in cabinet.members:
        if member.name.lower().endswith(".wer"):
            wer = read_wer_report(cabinet.contents[member.name])
            break
    for member in cabinet.members:
        data = cabinet.contents[member.name]
        if data.startswith(KERNEL_MAGIC):
            return _kernel_facts(member.name, data, wer)
        if data.startswith(MINIDUMP_MAGIC):
            return _minidump_facts(member.name, data, wer)
        if data.startswith(KERNEL32_MAGIC):
            raise CabRejected(f"unsupported dump {member.name!r}: 32-bit kernel dumps are not read")
    names = ", ".join(repr(m.name) for m in cabinet.members[:10])
    raise CabRejected(f"no crash dump in the cabinet (no PAGEDU64 or MDMP file among {names})")
