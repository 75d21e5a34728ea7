"""A logging filter that keeps link signatures out of logs (uvicorn access lines carry full paths)."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

_SIG = re.compile(r"((?:[?&;]|%3[fF]|%26)sig(?:=|%3[dD]))[^&;\s\"']*")
REDACTED = "REDACTED"


def redact(text: str) -> str:
    """``text`` with every ``sig=`` query value replaced."""
    return _SIG.sub(r"\1" + REDACTED, text)


class RedactLinkSignatures(logging.Filter):
    """Rewrites the message and string arguments of each record; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and "sig" in record.msg:
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: redact(v) if isinstance(v, str) else v for k, v in record.args.items()}
        return True


def install(logger_names: Iterable[str] = ("uvicorn.access", "uvicorn.error", "driverlens")) -> None:
    """Attach the filter to the named loggers (idempotent)."""
    for name in logger_names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactLinkSignatures) for f in logger.filters):
            logger.addFilter(RedactLinkSignatures())
