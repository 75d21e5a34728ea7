"""The hostile corpus: files a collector might send that must be refused, each with what the refusal names.

Shared by the use-case tests and the HTTP upload tests, so both prove the same refusals.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

from driverlens.cabs.cabinet import pack
from driverlens.cabs.dumpwriter import KernelDumpSpec, MiniDumpSpec, Module, kernel_dump, mini_dump

# Limits the corpus is written against (small, so a bomb needs only kilobytes on disk).
MAX_FILES = 8
MAX_EXPANDED = 2 * 1024 * 1024


def good_kernel_cab() -> bytes:
    return pack({"MEMORY.DMP": kernel_dump(KernelDumpSpec(0x9F, (1, 2, 3, 4), 22631))})


def _truncated() -> bytes:
    data = good_kernel_cab()
    return data[: len(data) // 2]


def _header_only() -> bytes:
    return good_kernel_cab()[:20]


def _wrong_checksum() -> bytes:
    data = bytearray(good_kernel_cab())
    data[-10] ^= 0xFF  # a byte of the last data block: its stored checksum no longer matches
    return bytes(data)


def _bomb_expanded() -> bytes:
    return pack({"zeros.dmp": bytes(MAX_EXPANDED + 1)})  # ~3 KB compressed, over the expanded limit


def _bomb_declared() -> bytes:
    # A file entry claiming 4 GB: refused from the header, before any block is inflated.
    data = bytearray(good_kernel_cab())
    files_offset = struct.unpack_from("<I", data, 16)[0]
    struct.pack_into("<I", data, files_offset, 0xFFFFFFFF)
    return bytes(data)


def _bomb_files() -> bytes:
    return pack({f"f{i}.txt": b"x" for i in range(MAX_FILES + 1)})


def _traversal(name: str) -> Callable[[], bytes]:
    return lambda: pack({name: kernel_dump(KernelDumpSpec(0x9F, (1, 2, 3, 4), 22631))})


def _absurd_kernel() -> bytes:
    dump = bytearray(kernel_dump(KernelDumpSpec(0x9F, (1, 2, 3, 4), 22631)))
    struct.pack_into("<IIQ", dump, 0x88, 1, 0, 0xFFFF_FFFF_FFFF)  # pages far beyond the file
    struct.pack_into("<QQ", dump, 0x98, 1, 0xFFFF_FFFF_FFFF)
    return pack({"MEMORY.DMP": bytes(dump)})


def _absurd_runs() -> bytes:
    dump = bytearray(kernel_dump(KernelDumpSpec(0x9F, (1, 2, 3, 4), 22631)))
    struct.pack_into("<I", dump, 0x88, 0xFFFFFFFF)
    return pack({"MEMORY.DMP": bytes(dump)})


def _absurd_minidump() -> bytes:
    modules = (Module("C:\\a.dll", 0x1000, 0x1000, (1, 0, 0, 0)),)
    dump = bytearray(mini_dump(MiniDumpSpec(0xC0000005, 0x1100, 22631, modules)))
    struct.pack_into("<I", dump, 8, 0xFFFFFFFF)  # NumberOfStreams
    return pack({"app.mdmp": bytes(dump)})


def _multipart() -> bytes:
    data = bytearray(good_kernel_cab())
    struct.pack_into("<H", data, 30, 0x0002)  # flags: cfhdrNEXT_CABINET
    return bytes(data)


# name -> (builder, a phrase the refusal must contain, expected HTTP status)
HOSTILE: dict[str, tuple[Callable[[], bytes], str, int]] = {
    "zero-bytes": (lambda: b"", "empty file", 400),
    "not-a-cabinet": (lambda: b"\x89PNG\r\n\x1a\n" + bytes(100), "not a cabinet", 400),
    "text": (lambda: b"hello, this is not a cab", "not a cabinet", 400),
    "header-only": (_header_only, "truncated cabinet", 400),
    "truncated": (_truncated, "truncated cabinet", 400),
    "wrong-checksum": (_wrong_checksum, "checksum", 400),
    "bomb-expanded": (_bomb_expanded, "cabinet bomb", 400),
    "bomb-declared-size": (_bomb_declared, "cabinet bomb", 400),
    "bomb-file-count": (_bomb_files, "cabinet bomb", 400),
    "traversal-dotdot": (_traversal("..\\..\\Windows\\evil.dmp"), "'..' segment", 400),
    "traversal-absolute": (_traversal("\\etc\\passwd"), "absolute", 400),
    "traversal-drive": (_traversal("C:\\Windows\\evil.dmp"), "drive", 400),
    "no-dump-inside": (lambda: pack({"readme.txt": b"nothing to see"}), "no crash dump", 400),
    "absurd-kernel-pages": (_absurd_kernel, "absurd kernel dump header", 400),
    "absurd-kernel-runs": (_absurd_runs, "absurd kernel dump header", 400),
    "absurd-minidump": (_absurd_minidump, "absurd minidump header", 400),
    "multi-part": (_multipart, "multi-part", 400),
}
