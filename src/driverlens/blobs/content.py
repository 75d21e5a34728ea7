"""What a download says about itself: its content type (from the blob key) and its attachment name.

One home for both, shared by the local ``/files`` route and the Azure SAS links (``rsct``/``rscd``), so a
file downloads with the same headers whichever store holds it.
"""

from __future__ import annotations

from urllib.parse import quote

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "tsv": "text/tab-separated-values; charset=utf-8",
    "jsonl": "application/x-ndjson",
    "parquet": "application/vnd.apache.parquet",
    "gz": "application/gzip",
    "cab": "application/vnd.ms-cab-compressed",
}


def content_type_for(key: str) -> str:
    """The media type of a blob, from the extension of its key's last segment."""
    ext = key.rsplit(".", 1)[-1].lower() if "." in key.rsplit("/", 1)[-1] else ""
    return CONTENT_TYPES.get(ext, "application/octet-stream")


def attachment_disposition(filename: str) -> str:
    """``Content-Disposition`` offering the download as ``filename`` (RFC 6266, with an ASCII fallback)."""
    ascii_name = "".join(c if c.isascii() and c.isprintable() and c not in '"\\;' else "_" for c in filename)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"
