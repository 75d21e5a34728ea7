"""Microsoft Cabinet files: pack (cabarchive's writer), check the header against the limits, then open.

Hostile input is checked before anything is decompressed: the documented fixed fields (CFHEADER,
CFFOLDER, CFFILE, the CFDATA block headers) are walked by hand with small reads, so a truncated file,
a cabinet bomb (declared expanded size or file count over the limits) or a path-traversal name is
refused without inflating a byte. Only then does cabarchive parse the file (from a memory map, so the
compressed bytes are paged by the OS, not copied): it verifies the block checksums and inflates
MSZIP. Names inside the cabinet are kept as strings for listing only; nothing is written under them.
"""

from __future__ import annotations

import contextlib
import mmap
import re
import struct
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from cabarchive import CabArchive, CabFile, CorruptionError, NotSupportedError

from driverlens.errors import CabRejected, PayloadTooLarge

_CFHEADER = struct.Struct("<4sIIIIIBBHHHHH")  # signature .. iCabinet (36 bytes)
_CFFOLDER = struct.Struct("<IHH")
_CFFILE = struct.Struct("<IIHHHH")
_CFDATA = struct.Struct("<IHH")
_FLAG_PREV, _FLAG_NEXT, _FLAG_RESERVE = 0x1, 0x2, 0x4
_MAX_BLOCK = 0x8000  # CFDATA.cbUncomp must not exceed 32 KB (the format's own rule)
_COMPRESSION_NONE, _COMPRESSION_MSZIP = 0, 1
# A member name: a relative Windows path of ordinary characters, no '..' segment, no drive or root.
_BAD_NAME = re.compile(r"(^[\\/])|(^[A-Za-z]:)|((^|[\\/])\.\.([\\/]|$))|[\x00-\x1f]")
DEMO_MTIME = datetime(2026, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class CabLimits:
    """What one cabinet may be: its own size, its expanded size and how many files it holds."""

    max_bytes: int = 256 * 1024 * 1024
    max_expanded_bytes: int = 256 * 1024 * 1024
    max_files: int = 64


@dataclass(frozen=True)
class Member:
    name: str
    size: int


@dataclass(frozen=True)
class Cabinet:
    """An opened cabinet: its members (in archive order) and their bytes."""

    members: tuple[Member, ...]
    contents: Mapping[str, bytes]

    @property
    def expanded_size(self) -> int:
        return sum(m.size for m in self.members)


def pack(files: Mapping[str, bytes], *, compress: bool = True) -> bytes:
    """A cabinet holding ``files`` (MSZIP-compressed unless ``compress`` is False), reproducibly."""
    archive = CabArchive()
    for name, data in files.items():
        archive[name] = CabFile(data, mtime=DEMO_MTIME)
    return archive.save(compress=compress)


def _read_exact(handle: BinaryIO, offset: int, size: int, what: str) -> bytes:
    handle.seek(offset)
    data = handle.read(size)
    if len(data) != size:
        raise CabRejected(f"truncated cabinet: {what} at byte {offset} runs past the end of the file")
    return data


def _read_name(handle: BinaryIO, offset: int, size: int) -> tuple[str, int]:
    handle.seek(offset)
    raw = handle.read(257)
    end = raw.find(b"\x00")
    if end < 0:
        raise CabRejected(
            f"malformed cabinet: a file name at byte {offset} is not terminated within 256 bytes"
        )
    try:
        name = raw[:end].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CabRejected(f"malformed cabinet: the file name at byte {offset} is not valid UTF-8") from exc
    if not name or _BAD_NAME.search(name):
        raise CabRejected(
            f"refused cabinet: file name {name[:80]!r} is absolute, has a drive, a '..' segment or a "
            "control character"
        )
    return name, end + 1


def check_header(handle: BinaryIO, file_size: int, limits: CabLimits) -> tuple[Member, ...]:
    """Refuse what is not a single, complete, in-limits cabinet; return its members (names, sizes)."""
    if file_size == 0:
        raise CabRejected("empty file: a cabinet cannot be 0 bytes")
    if file_size > limits.max_bytes:
        raise PayloadTooLarge(f"cabinet is {file_size} bytes; the limit is {limits.max_bytes} bytes")
    head = handle.read(_CFHEADER.size)
    if head[:4] != b"MSCF":
        raise CabRejected("not a cabinet: the file does not start with the signature 'MSCF'")
    if len(head) < _CFHEADER.size:
        raise CabRejected(f"truncated cabinet: {file_size} bytes is shorter than a cabinet header")
    (_, _, size, _, files_offset, _, minor, major, folders, files, flags, _, index) = _CFHEADER.unpack(head)
    if size != file_size:
        state = "truncated" if size > file_size else "malformed"
        raise CabRejected(f"{state} cabinet: the header says {size} bytes, the file has {file_size}")
    if (major, minor) != (1, 3):
        raise CabRejected(f"unsupported cabinet version {major}.{minor} (only 1.3 exists)")
    if flags & (_FLAG_PREV | _FLAG_NEXT) or index:
        raise CabRejected("multi-part cabinets are not supported: send one self-contained cabinet")
    if files == 0 or folders == 0:
        raise CabRejected("empty cabinet: it holds no files")
    if files > limits.max_files:
        raise CabRejected(f"cabinet bomb: {files} files, the limit is {limits.max_files}")
    offset = _CFHEADER.size
    folder_reserve = block_reserve = 0
    if flags & _FLAG_RESERVE:
        header_reserve, folder_reserve, block_reserve = struct.unpack(
            "<HBB", _read_exact(handle, offset, 4, "the reserve sizes")
        )
        offset += 4 + header_reserve
    declared_blocks = 0
    inflated = 0
    for number in range(folders):
        start, blocks, compression = _CFFOLDER.unpack(_read_exact(handle, offset, 8, f"folder {number}"))
        offset += 8 + folder_reserve
        if compression & 0xF not in (_COMPRESSION_NONE, _COMPRESSION_MSZIP):
            raise CabRejected(f"unsupported compression type {compression & 0xF} in folder {number}")
        declared_blocks += blocks
        inflated += _walk_blocks(handle, start, blocks, block_reserve, file_size, limits)
    members: list[Member] = []
    declared = 0
    offset = files_offset
    for _ in range(files):
        size_, _start, _folder, _date, _time, _attrs = _CFFILE.unpack(
            _read_exact(handle, offset, _CFFILE.size, "a file entry")
        )
        name, used = _read_name(handle, offset + _CFFILE.size, file_size)
        offset += _CFFILE.size + used
        declared += size_
        if declared > limits.max_expanded_bytes:
            raise CabRejected(
                f"cabinet bomb: its files expand past the limit of {limits.max_expanded_bytes} bytes"
            )
        members.append(Member(name, size_))
    if inflated < declared:
        raise CabRejected(f"malformed cabinet: files declare {declared} bytes, data blocks hold {inflated}")
    return tuple(members)


def _walk_blocks(
    handle: BinaryIO, offset: int, blocks: int, reserve: int, file_size: int, limits: CabLimits
) -> int:
    """Walk one folder's CFDATA headers; return the bytes they inflate to (checked against the limits)."""
    total = 0
    for number in range(blocks):
        _checksum, packed, unpacked = _CFDATA.unpack(_read_exact(handle, offset, 8, f"data block {number}"))
        if unpacked > _MAX_BLOCK:
            raise CabRejected(
                f"malformed cabinet: data block {number} inflates to {unpacked} bytes (max 32768)"
            )
        offset += 8 + reserve + packed
        if offset > file_size:
            raise CabRejected(f"truncated cabinet: data block {number} runs past the end of the file")
        total += unpacked
        if total > limits.max_expanded_bytes:
            raise CabRejected(f"cabinet bomb: it expands past the limit of {limits.max_expanded_bytes} bytes")
    return total


def open_cabinet(path: Path, limits: CabLimits) -> Cabinet:
    """Check then parse the cabinet at ``path``; raise CabRejected (or PayloadTooLarge) naming the problem."""
    size = path.stat().st_size
    with open(path, "rb") as handle:
        members = check_header(handle, size, limits)
        mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        archive = CabArchive()
        try:
            archive.parse(mapped)  # type: ignore[arg-type]  # any buffer works; it slices and unpacks
        except (CorruptionError, NotSupportedError) as exc:
            raise CabRejected(f"corrupt cabinet: {exc or type(exc).__name__}") from exc
        except (struct.error, IndexError, ValueError, zlib.error) as exc:
            raise CabRejected(f"corrupt cabinet: {exc}") from exc
        finally:
            # A parse error's traceback still holds memoryviews of the map; it is then unmapped when
            # they are collected instead of here.
            with contextlib.suppress(BufferError):
                mapped.close()
    contents = {name: member.buf or b"" for name, member in archive.items()}
    if len(contents) != len(members):
        raise CabRejected("malformed cabinet: two files have the same name")
    return Cabinet(members, contents)
