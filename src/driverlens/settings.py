"""One typed settings object, read from ``DRIVERLENS_*`` environment variables."""

from __future__ import annotations

import ipaddress
import math
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = {"change-me", "changeme", "secret", "development", "password", "default", "test"}
MIN_SECRET_LENGTH = 32
MIN_SECRET_DISTINCT = 10
MIN_SECRET_BITS = 100.0
# The resource existing clients hard-code; the default of the ``token_audience`` setting.
DEFAULT_TOKEN_AUDIENCE = "https://manage.devcenter.microsoft.com"


class Settings(BaseSettings):
    """Every setting of the service; each is documented in the README's configuration reference."""

    model_config = SettingsConfigDict(env_prefix="DRIVERLENS_", extra="ignore")

    environment: Literal["development", "production"] = Field(
        "development", description="Deployment kind; `production` is recorded for operators and logs."
    )
    data_dir: Path = Field(Path("./var"), description="Directory that holds everything the service writes.")
    database_url: str = Field(
        "",
        description="Metadata store URL (SQLAlchemy). Empty: SQLite file `metadata.db` in the data dir.",
    )
    public_base_url: str = Field(
        "http://127.0.0.1:8000", description="Absolute URL clients use to reach this server (used in links)."
    )
    token_audience: str = Field(
        DEFAULT_TOKEN_AUDIENCE,
        description="Accepted token resource/audience; existing clients hard-code this value.",
    )
    token_lifetime_seconds: int = Field(3600, ge=60, description="Lifetime of issued access tokens.")
    link_secret: str = Field(
        "",
        description=(
            "HMAC secret for signed download links. Empty: a random key generated into "
            "<data dir>/link-keys.json on first start. When set, at least 32 characters of real entropy."
        ),
    )
    link_lifetime_hours: float = Field(12.0, gt=0, le=12, description="Lifetime of signed download links.")
    event_retention_days: int = Field(90, ge=1, description="Failure events older than this are purged.")
    file_retention_days: int = Field(30, ge=1, description="Report files and CABs are deleted after this.")
    query_timeout_seconds: float = Field(600.0, gt=0, description="Time budget of one report run.")
    preview_timeout_seconds: float = Field(10.0, gt=0, description="Time budget of a template preview.")
    engine_memory_limit: str = Field(
        "1GB",
        pattern=r"^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$",
        description="DuckDB memory_limit per process, shared by its reports (larger work spills to disk).",
    )
    engine_threads: int = Field(0, ge=0, description="DuckDB worker threads for reports; 0 = one per core.")
    engine: Literal["duckdb", "spark"] = Field(
        "duckdb", description="Query engine of workers: duckdb (embedded) or spark (PySpark, same table)."
    )
    spark_master: str = Field("local[*]", description="Spark master URL when engine=spark.")
    callback_allowed_networks: str = Field(
        "", description="Comma-separated CIDRs that callbacks may reach despite the SSRF guard."
    )
    callback_max_attempts: int = Field(
        14, ge=1, le=50, description="Delivery attempts per callback before it is marked Failed."
    )
    callback_max_delay_seconds: float = Field(
        6 * 3600.0, ge=1, description="Longest wait between two callback attempts (backoff doubles up to it)."
    )
    max_body_bytes: int = Field(1_000_000, ge=1024, description="Largest accepted request body (413 above).")
    cab_max_bytes: int = Field(
        256 * 1024 * 1024, ge=1024, description="Largest crash dump cabinet accepted (413 above)."
    )
    cab_max_expanded_bytes: int = Field(
        256 * 1024 * 1024,
        ge=1024,
        description="Largest total size of the files inside one cabinet (bounds the memory of one upload).",
    )
    cab_max_files: int = Field(64, ge=1, le=10_000, description="Most files one cabinet may hold.")
    rate_limit_per_minute: int = Field(600, ge=1, description="Requests per minute per client (429 above).")
    ui_enabled: bool = Field(True, description="Serve the partner dashboard under /ui (false turns it off).")
    ui_session_hours: float = Field(
        8.0, gt=0, le=24 * 7, description="Lifetime of a dashboard sign-in (it ends at sign-out too)."
    )
    partner_max_active_runs: int = Field(
        20, ge=1, description="Runs one partner may have queued or running at once (manual runs: 429 above)."
    )
    max_catch_up_runs: int = Field(
        3, ge=1, description="Missed runs of one schedule queued at a time (the rest follow as they finish)."
    )
    partner_max_stored_bytes: int = Field(
        2_000_000_000,
        ge=1,
        description="Bytes of report files one partner may keep (new runs refused above).",
    )
    min_free_disk_bytes: int = Field(
        100_000_000, ge=0, description="/healthz reports not ready when the data dir has less free space."
    )
    raw_csv_cells: bool = Field(
        False,
        description=(
            "Write CSV/TSV text cells verbatim; by default a cell starting with = + - @ tab or CR gets a "
            "leading ' so spreadsheets do not run it as a formula."
        ),
    )
    trusted_proxies: str = Field(
        "",
        description=(
            "Comma-separated CIDRs of reverse proxies whose X-Forwarded-For is believed; empty: the peer "
            "address is the client, whatever headers say."
        ),
    )
    header_timeout_seconds: float = Field(
        10.0, gt=0, le=300, description="Time a client has to send a request's line and headers (408 after)."
    )
    body_timeout_seconds: float = Field(
        30.0, gt=0, le=3600, description="Time a client has to send a request's whole body (408 after)."
    )
    log_format: Literal["text", "json"] = Field(
        "text", description="Log lines of serve and worker: human text, or one JSON object per line."
    )
    worker_metrics_port: int | None = Field(
        None,
        ge=0,
        le=65535,
        description="`driverlens worker` serves /metrics on this port (0: any free one); unset: no server.",
    )
    worker_metrics_host: str = Field(
        "127.0.0.1", description="Address the standalone worker's /metrics server binds (0.0.0.0: all)."
    )
    ingest_metrics_file: Path | None = Field(
        None, description="`driverlens ingest` adds its counters to this Prometheus textfile when set."
    )
    blob_store: Literal["local", "azure"] = Field(
        "local",
        description="Where report files and CABs live: local (<data dir>/blobs) or azure (Azure Blob).",
    )
    azure_blob_container_url: str = Field(
        "",
        description="blob_store=azure: the container's URL, https://<account>.blob.core.windows.net/<container>.",
    )
    azure_storage_connection_string: SecretStr = Field(
        SecretStr(""),
        description="blob_store=azure: a connection string with AccountName and AccountKey (service SAS).",
    )
    azure_storage_account_key: SecretStr = Field(
        SecretStr(""),
        description="blob_store=azure: the storage account key (instead of a connection string).",
    )
    azure_storage_use_ad: bool = Field(
        False,
        description=(
            "blob_store=azure: authenticate with Azure AD (azure-identity's DefaultAzureCredential) and hand "
            "out user-delegation SAS links instead of account-key ones."
        ),
    )
    azure_ad_issuer: str = Field("", description="Optional trusted Azure AD issuer.")
    azure_ad_audience: str = Field("", description="Audience expected in Azure AD tokens.")
    azure_ad_jwks_url: str = Field("", description="JWKS URL of the trusted Azure AD tenant.")

    @model_validator(mode="after")
    def _refuse_weak_link_secret(self) -> Settings:
        # Any environment: a guessable secret lets anyone sign a link to any partner's report file.
        if self.link_secret:
            weakness = link_secret_weakness(self.link_secret)
            if weakness is not None:
                raise ValueError(
                    f"DRIVERLENS_LINK_SECRET is refused: {weakness}. Leave it unset (a random key is then "
                    "generated into the data dir) or set it to the output of "
                    '`python3 -c "import secrets; print(secrets.token_urlsafe(32))"`'
                )
        return self

    @model_validator(mode="after")
    def _azure_blob_store_complete(self) -> Settings:
        if self.blob_store != "azure":
            return self
        url = self.azure_blob_container_url.strip()
        scheme, _, rest = url.partition("://")
        host, _, path = rest.partition("/")
        if scheme not in ("https", "http") or not host or not path.strip("/"):
            raise ValueError(
                "DRIVERLENS_BLOB_STORE=azure needs DRIVERLENS_AZURE_BLOB_CONTAINER_URL, the container's URL "
                "such as https://<account>.blob.core.windows.net/<container>"
            )
        credentials = [
            name
            for name, given in (
                ("DRIVERLENS_AZURE_STORAGE_CONNECTION_STRING", self.azure_storage_connection_string),
                ("DRIVERLENS_AZURE_STORAGE_ACCOUNT_KEY", self.azure_storage_account_key),
            )
            if given.get_secret_value().strip()
        ]
        if self.azure_storage_use_ad:
            credentials.append("DRIVERLENS_AZURE_STORAGE_USE_AD")
        if len(credentials) != 1:
            found = ", ".join(credentials) if credentials else "none"
            raise ValueError(
                "DRIVERLENS_BLOB_STORE=azure needs exactly one of "
                "DRIVERLENS_AZURE_STORAGE_CONNECTION_STRING, DRIVERLENS_AZURE_STORAGE_ACCOUNT_KEY or "
                f"DRIVERLENS_AZURE_STORAGE_USE_AD=true (found: {found})"
            )
        return self

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: str) -> str:
        for part in value.split(","):
            if part.strip():
                try:
                    ipaddress.ip_network(part.strip(), strict=False)
                except ValueError as exc:
                    raise ValueError(f"DRIVERLENS_TRUSTED_PROXIES: {part.strip()!r} is not a CIDR") from exc
        return value

    @property
    def metadata_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'metadata.db').resolve()}"

    @property
    def uploads_dir(self) -> Path:
        """Where uploads stream to before they are checked (beside the blobs: a rename stores them)."""
        return self.data_dir / "uploads"

    @property
    def events_dir(self) -> Path:
        return self.data_dir / "events"

    @property
    def blobs_dir(self) -> Path:
        return self.data_dir / "blobs"


def link_secret_weakness(secret: str) -> str | None:
    """Why ``secret`` is too weak to sign download links, or None when it is fine.

    Length and distinct characters catch short and repetitive secrets; a Shannon estimate over the
    characters (bits per character times length) catches long but low-variety ones; a secret that is a
    repetition of a shorter text, or a known placeholder, is refused outright.
    """
    if secret.strip().lower() in PLACEHOLDER_SECRETS:
        return "it is a placeholder value"
    if len(secret) < MIN_SECRET_LENGTH:
        return f"it has {len(secret)} characters, fewer than {MIN_SECRET_LENGTH}"
    if len(set(secret)) < MIN_SECRET_DISTINCT:
        return f"it uses only {len(set(secret))} distinct characters (at least {MIN_SECRET_DISTINCT} needed)"
    if secret in (secret + secret)[1:-1]:
        return "it repeats a shorter text"
    counts = Counter(secret)
    bits = -sum(n * math.log2(n / len(secret)) for n in counts.values())
    if bits < MIN_SECRET_BITS:
        return f"its estimated entropy is {bits:.0f} bits, below {MIN_SECRET_BITS:.0f}"
    return None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
