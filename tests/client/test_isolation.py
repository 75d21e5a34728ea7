"""The SDK stays importable without the server's dependencies (a partner installs only httpx)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

BLOCKED = (
    "fastapi", "starlette", "uvicorn", "duckdb", "sqlalchemy", "alembic", "psycopg", "sqlglot",
    "pydantic", "pydantic_settings", "jwt", "cryptography", "typer", "rich", "pyarrow",
)  # fmt: skip
ALLOWED = {"driverlens", "driverlens.retry", "driverlens.clock"}

HARNESS = textwrap.dedent(
    """
    import importlib.abc, json, sys

    BLOCKED = set(sys.argv[1].split(","))

    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ImportError(f"blocked: {name}")
            return None

    sys.meta_path.insert(0, Block())
    exec(sys.argv[2])
    loaded = sorted(m for m in sys.modules if m == "driverlens" or m.startswith("driverlens."))
    print(json.dumps(loaded))
    """
)


def run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", HARNESS, ",".join(BLOCKED), code], capture_output=True, text=True, timeout=60
    )


def test_the_client_imports_nothing_server_side() -> None:
    code = (
        "import driverlens.client as c\n"
        "from driverlens.client.config import load_config\n"
        "c.DriverLensClient('http://127.0.0.1:1', 't', 'c', 's').close()\n"
    )
    result = run(code)
    assert result.returncode == 0, result.stderr
    loaded = set(__import__("json").loads(result.stdout.splitlines()[-1]))
    server_side = {m for m in loaded if not m.startswith("driverlens.client")} - ALLOWED
    assert server_side == set(), f"the client pulled in {sorted(server_side)}"
    assert "driverlens.client.client" in loaded


def test_the_blocker_really_blocks() -> None:
    result = run("import driverlens.api")
    assert result.returncode != 0 and "blocked: " in result.stderr
