"""gzip for downloads of uncompressed report files, when the client says it accepts it.

How it meets Range: a request with a ``Range`` header always gets the stored bytes (identity), and the
range counts those bytes. So a client resuming a transfer that arrived gzip-encoded asks for the bytes
after the ones it has decoded and gets exactly them; ``Accept-Ranges: bytes`` means ranges of the stored
file. A gzip response has no ``Content-Length`` (it is compressed as it is sent) and no ``Repr-Digest``
(that would have to describe the compressed bytes); ``X-Checksum-Sha256`` carries the digest of the
stored file, which is what the client has once it has decoded the body.
"""

from __future__ import annotations

import zlib
from collections.abc import Generator, Iterator

# Formats that compress well and are not compressed already (Parquet, .gz files and CABs are).
COMPRESSIBLE_EXTENSIONS = frozenset({"csv", "tsv", "jsonl"})
GZIP_LEVEL = 6  # zlib's default: most of the gain of level 9 at a fraction of its CPU


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether an ``Accept-Encoding`` header allows gzip (RFC 9110 12.5.3: ``q=0`` means "not this")."""
    if not accept_encoding:
        return False
    weights: dict[str, float] = {}
    for part in accept_encoding.split(","):
        token, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if token.strip():
            weights[token.strip().lower()] = quality
    for name in ("gzip", "x-gzip"):
        if name in weights:
            return weights[name] > 0
    return weights.get("*", 0.0) > 0


def gzip_chunks(chunks: Generator[bytes, None, None]) -> Iterator[bytes]:
    """The gzip stream of ``chunks``, produced as they come (never the whole file in memory).

    zlib writes a gzip header without a file name or time, so the same file always gives the same bytes.
    """
    compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)  # wbits 31: gzip header and trailer
    try:
        for chunk in chunks:
            out = compressor.compress(chunk)
            if out:
                yield out
        yield compressor.flush()
    finally:
        chunks.close()  # a client that hangs up must not leave the file open until garbage collection
