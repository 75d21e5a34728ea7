"""Callbacks: Standard Webhooks signing, the SSRF guard, delivery with retries and a delivery log."""

from driverlens.callbacks.delivery import AttemptResult, deliver_once
from driverlens.callbacks.notice import build_notice, encode_notice, report_data_url
from driverlens.callbacks.signing import generate_secret, headers, sign
from driverlens.callbacks.ssrf import CallbackGuard, ResolvedTarget, parse_allowed_networks

__all__ = [
    "AttemptResult",
    "CallbackGuard",
    "ResolvedTarget",
    "build_notice",
    "deliver_once",
    "encode_notice",
    "generate_secret",
    "headers",
    "parse_allowed_networks",
    "report_data_url",
    "sign",
]
