"""Where the client finds its server and credentials: a 0600 JSON file and DRIVERLENS_CLIENT_* variables."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from driverlens.client.errors import DriverLensClientError

ENV_PREFIX = "DRIVERLENS_CLIENT_"
CONFIG_ENV = "DRIVERLENS_CLIENT_CONFIG"
DEFAULT_BASE_URL = "http://127.0.0.1:8000"
REQUIRED = ("base_url", "tenant_id", "client_id", "client_secret")
OPTIONAL = ("token_url",)


class ConfigError(DriverLensClientError):
    """The client configuration is missing, incomplete or unreadable."""


@dataclass(frozen=True)
class ClientConfig:
    base_url: str
    tenant_id: str
    client_id: str
    client_secret: str
    token_url: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}

    def redacted(self) -> dict[str, Any]:
        """The settings with the secret hidden, for display."""
        shown = self.to_json()
        shown["client_secret"] = "***" if self.client_secret else ""
        return shown


def config_path(environ: Mapping[str, str] | None = None) -> Path:
    """``$DRIVERLENS_CLIENT_CONFIG``, else ``$XDG_CONFIG_HOME/driverlens/client.json`` (``~/.config``)."""
    env = os.environ if environ is None else environ
    if env.get(CONFIG_ENV):
        return Path(env[CONFIG_ENV]).expanduser()
    root = Path(env["XDG_CONFIG_HOME"]) if env.get("XDG_CONFIG_HOME") else Path.home() / ".config"
    return root / "driverlens" / "client.json"


def load_config(path: Path | None = None, environ: Mapping[str, str] | None = None) -> ClientConfig:
    """The saved configuration, each value overridden by its ``DRIVERLENS_CLIENT_*`` variable if set."""
    env = os.environ if environ is None else environ
    path = path or config_path(env)
    values: dict[str, Any] = {}
    if path.exists():
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(
                f"cannot read the client configuration {path}: {exc}; run `driverlens client login` again"
            ) from exc
        if isinstance(stored, dict):
            values.update({k: v for k, v in stored.items() if k in REQUIRED + OPTIONAL and v})
    for name in REQUIRED + OPTIONAL:
        from_env = env.get(ENV_PREFIX + name.upper())
        if from_env:
            values[name] = from_env
    missing = [name for name in REQUIRED if not values.get(name)]
    if missing:
        wanted = ", ".join(ENV_PREFIX + m.upper() for m in missing)
        raise ConfigError(
            f"the client is not configured ({', '.join(missing)} missing): run `driverlens client login` "
            f"or set {wanted}"
        )
    return ClientConfig(**{k: str(v) for k, v in values.items()})


def save_config(config: ClientConfig, path: Path | None = None) -> Path:
    """Write the configuration atomically, readable by its owner only (it holds a secret)."""
    path = path or config_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(config.to_json(), fh, indent=2)
            fh.write("\n")
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, path)
    return path


def from_demo_credentials(file: Path, partner: str, base_url: str | None = None) -> ClientConfig:
    """The configuration of one partner of a ``demo-credentials.json`` (``driverlens seed --demo``)."""
    try:
        document = json.loads(Path(file).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read demo credentials {file}: {exc}") from exc
    entries = document.get("partners") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise ConfigError(f"{file} has no 'partners' list; is it a demo-credentials.json?")
    names = [str(e.get("name")) for e in entries if isinstance(e, dict)]
    wanted = partner.strip().lower()
    entry = next((e for e in entries if isinstance(e, dict) and str(e.get("name")).lower() == wanted), None)
    if entry is None:
        raise ConfigError(f"no partner {partner!r} in {file}; choose one of: {', '.join(names)}")
    if not entry.get("clientId") or not entry.get("clientSecret"):
        raise ConfigError(
            f"{file} has no client id and secret for {entry.get('name')!r} yet; create a client with "
            "`driverlens clients add` (or start the demo with `make run`) and try again"
        )
    document_url = document.get("baseUrl") or document.get("base_url")
    return ClientConfig(
        base_url=str(base_url or document_url or DEFAULT_BASE_URL),
        tenant_id=str(entry.get("tenantId") or ""),
        client_id=str(entry["clientId"]),
        client_secret=str(entry["clientSecret"]),
    )
