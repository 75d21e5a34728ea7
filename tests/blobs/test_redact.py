"""Link signatures never reach the logs: the filter rewrites uvicorn access records."""

from __future__ import annotations

import logging

import pytest

from driverlens.blobs.redact import RedactLinkSignatures, install, redact

SIG = "Zm9vYmFyYmF6cXV4LXNlY3JldC1zaWduYXR1cmVfMTIz"


def test_redact_text() -> None:
    line = f"/files/r/1.csv?exp=1&kid=a&sig={SIG}&fn=x.csv"
    assert redact(line) == "/files/r/1.csv?exp=1&kid=a&sig=REDACTED&fn=x.csv"
    assert SIG not in redact(f"/files/x?sig={SIG}")
    assert SIG not in redact(f"/files/x%3Fexp%3D1%26sig%3D{SIG}")
    assert redact("/files/x?design=1") == "/files/x?design=1"


def test_filter_on_uvicorn_access_record(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("uvicorn.access")
    install(["uvicorn.access"])
    install(["uvicorn.access"])
    assert sum(isinstance(f, RedactLinkSignatures) for f in logger.filters) == 1
    try:
        with caplog.at_level(logging.INFO, logger="uvicorn.access"):
            # Exactly the shape uvicorn uses for access lines.
            logger.info(
                '%s - "%s %s HTTP/%s" %d',
                "127.0.0.1:5000",
                "GET",
                f"/files/r/1.csv?exp=1&kid=a&sig={SIG}",
                "1.1",
                200,
            )
        assert caplog.records, "the record must not be dropped"
        assert SIG not in caplog.text
        assert "sig=REDACTED" in caplog.text
    finally:
        for f in list(logger.filters):
            if isinstance(f, RedactLinkSignatures):
                logger.removeFilter(f)


def test_without_filter_the_signature_would_leak(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("uvicorn.access.unfiltered-test")
    with caplog.at_level(logging.INFO, logger=logger.name):
        logger.info("%s", f"/files/r?sig={SIG}")
    assert SIG in caplog.text


def test_uvicorn_access_formatter_output_is_redacted() -> None:
    from uvicorn.logging import AccessFormatter

    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", f"/files/r/1.csv?exp=1&kid=a&sig={SIG}", "1.1", 200),
        None,
    )
    assert RedactLinkSignatures().filter(record)
    line = AccessFormatter(use_colors=False).format(record)
    assert SIG not in line and "sig=REDACTED" in line
