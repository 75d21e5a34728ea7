"""The DriverLens partner SDK: talks HTTP only (httpx) and imports nothing server-side.

from driverlens.client import DriverLensClient

with DriverLensClient("http://127.0.0.1:8000", tenant_id, client_id, secret) as dl:
    template_id = dl.create_template({"view": "IHVDriver", ...})
    report_id = dl.schedule_report(template_id, start, interval_hours=24, recurrence=7)
    run = dl.wait_for_completed_run(report_id, timeout=300)
    dl.download(run, "report.csv")
"""

from driverlens.client.aio import AsyncDriverLensClient
from driverlens.client.client import KEEP, DriverLensClient
from driverlens.client.errors import (
    AuthError,
    ChecksumMismatchError,
    ConflictError,
    DriverLensClientError,
    ErrorDetail,
    NetworkError,
    NotFoundError,
    RateLimitedError,
    RunFailedError,
    ServerError,
    ValidationError,
    WaitTimeout,
)
from driverlens.client.frames import MissingDependencyError
from driverlens.client.models import (
    CabItem,
    CabPage,
    DeltaSummary,
    DownloadResult,
    Preview,
    ReportInfo,
    ReportRun,
    RunStarted,
    Schedule,
    TemplateInfo,
    TransferProgress,
    WaitProgress,
)
from driverlens.client.rates import failure_rate_template

__all__ = [
    "KEEP",
    "AsyncDriverLensClient",
    "AuthError",
    "CabItem",
    "CabPage",
    "ChecksumMismatchError",
    "ConflictError",
    "DeltaSummary",
    "DownloadResult",
    "DriverLensClient",
    "DriverLensClientError",
    "ErrorDetail",
    "MissingDependencyError",
    "NetworkError",
    "NotFoundError",
    "Preview",
    "RateLimitedError",
    "ReportInfo",
    "ReportRun",
    "RunFailedError",
    "RunStarted",
    "Schedule",
    "ServerError",
    "TemplateInfo",
    "TransferProgress",
    "ValidationError",
    "WaitProgress",
    "WaitTimeout",
    "failure_rate_template",
]
