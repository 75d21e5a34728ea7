"""docs/operations.md stays true: its commands, options, settings, paths and examples match the code."""

from __future__ import annotations

import base64
import hashlib
import hmac
import importlib
import inspect
import os
import re
import shlex
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import typer

from driverlens.callbacks import signing
from driverlens.cli.main import app
from driverlens.events import EventStore
from driverlens.retry import CALLBACK_RETRY
from driverlens.runs.worker import callback_retry
from driverlens.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
GUIDES = ("operations.md", "architecture.md", "benchmarks.md")
_FENCE = re.compile(r"^```(\w*)[ \t]*\n(.*?)^```[ \t]*$", re.DOTALL | re.MULTILINE)
_INVOCATION = re.compile(r"(?:^|[\s;|&(])(driverlens\s+[a-z])")


def _text(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def _blocks(text: str, lang: str) -> list[str]:
    return [body for found, body in _FENCE.findall(text) if found == lang]


def _command_lines(text: str) -> list[str]:
    """Every `driverlens ...` invocation: lines of shell blocks (continuations joined) and code spans."""
    lines: list[str] = []
    for block in _blocks(text, "sh") + _blocks(text, "bash"):
        for line in block.replace("\\\n", " ").splitlines():
            found = _INVOCATION.search(line.split(" #", 1)[0])
            if found:
                lines.append(line.split(" #", 1)[0][found.start(1) :].strip())
    lines += re.findall(r"`(driverlens [^`]+)`", _FENCE.sub("", text))
    return lines


def _is_group(command: Any) -> bool:
    return hasattr(command, "list_commands")


def _resolve(words: list[str]) -> tuple[Any, list[str]]:
    """The (click) command named by the leading words, and the remaining words."""
    command: Any = typer.main.get_command(app)
    rest = list(words)
    while _is_group(command) and rest and not rest[0].startswith("-"):
        sub = command.commands.get(rest[0])
        if sub is None:
            raise AssertionError(f"`driverlens {' '.join(words)}`: no command {rest[0]!r}")
        command, rest = sub, rest[1:]
    return command, rest


def _option_names(command: Any) -> set[str]:
    names = {"--help"}
    for param in command.params:
        names |= set(param.opts) | set(param.secondary_opts)
    return names


@pytest.mark.parametrize("guide", GUIDES)
def test_every_documented_command_and_option_exists(guide: str) -> None:
    lines = _command_lines(_text(guide))
    if guide == "operations.md":
        assert len(lines) >= 15, "the operations guide shows the admin commands"
    for line in lines:
        words = shlex.split(line.replace("...", "X").replace("[", "").replace("]", ""))[1:]
        command, rest = _resolve(words)
        if _is_group(command):
            assert all(w.startswith("--") for w in rest), f"`{line}`: {rest[0]!r} is not a command"
        for word in rest:
            if word.startswith("--"):
                assert word.split("=", 1)[0] in _option_names(command), f"`{line}`: no option {word}"


def test_documented_settings_exist() -> None:
    known = {f"DRIVERLENS_{name.upper()}" for name in Settings.model_fields}
    for guide in GUIDES:
        named = set(re.findall(r"DRIVERLENS_[A-Z_]+", _text(guide)))
        assert named - known == set(), f"{guide} names settings that do not exist"


def test_documented_source_paths_exist() -> None:
    for guide in GUIDES:
        for path in re.findall(r"`(src/driverlens/[^`\s]*)`", _text(guide)):
            assert (ROOT / path).exists(), f"{guide} names {path}, which does not exist"


def _verify_webhook() -> Callable[..., Any]:
    blocks = [b for b in _blocks(_text("operations.md"), "python") if "def verify_webhook" in b]
    assert len(blocks) == 1, "the operations guide shows one verify_webhook example"
    namespace: dict[str, Any] = {}
    exec(compile(blocks[0], "operations.md:verify_webhook", "exec"), namespace)
    verify: Callable[..., Any] = namespace["verify_webhook"]
    return verify


def test_the_webhook_verification_example_accepts_what_the_server_signs() -> None:
    verify = _verify_webhook()
    secret = signing.generate_secret()
    body = b'{"reportId":7,"ReportStatus":"Completed"}'
    headers = signing.headers(secret, "msg_1", int(time.time()), body)
    assert verify(secret, headers, body) == {"reportId": 7, "ReportStatus": "Completed"}
    upper = {k.title(): v for k, v in headers.items()}  # frameworks capitalise header names
    assert verify(secret, upper, body)["reportId"] == 7


def test_the_webhook_verification_example_refuses_forgeries_and_replays() -> None:
    verify = _verify_webhook()
    secret = signing.generate_secret()
    body = b'{"reportId":7}'
    now = int(time.time())
    good = signing.headers(secret, "msg_1", now, body)
    with pytest.raises(ValueError, match="no valid signature"):
        verify(secret, good, b'{"reportId":8}')
    with pytest.raises(ValueError, match="no valid signature"):
        verify(signing.generate_secret(), good, body)
    with pytest.raises(ValueError, match="no valid signature"):
        verify(secret, {**good, "webhook-id": "msg_2"}, body)
    with pytest.raises(ValueError, match="tolerance"):
        verify(secret, signing.headers(secret, "msg_1", now - 3600, body), body)
    # The example is the scheme itself, not a copy of the server's code: check one value by hand.
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"msg_1.{now}.".encode() + body, hashlib.sha256).digest()
    assert good["webhook-signature"] == "v1," + base64.b64encode(digest).decode()


def test_the_documented_callback_retry_schedule_is_the_policy() -> None:
    text = _text("operations.md")
    assert f"{CALLBACK_RETRY.max_attempts} attempts in all" in text
    waits = [CALLBACK_RETRY.nominal_delay(a) for a in range(1, CALLBACK_RETRY.max_attempts)]
    assert waits == [15, 30, 60, 120, 240, 480, 960, 1920, 3840, 7680, 15360, 21600, 21600]
    assert "15 s, 30 s, 1, 2, 4, 8, 16, 32, 64, 128 and\n256 min, then 6 h and 6 h" in text
    assert f"about {sum(waits) / 3600:.1f} h in total" in text
    assert f"by up to {CALLBACK_RETRY.jitter:.0%}" in text
    # The documented defaults are the settings' defaults, and the settings shape the policy in use.
    attempts = Settings.model_fields["callback_max_attempts"].default
    cap = Settings.model_fields["callback_max_delay_seconds"].default
    assert (attempts, cap) == (CALLBACK_RETRY.max_attempts, CALLBACK_RETRY.max_delay_s) == (14, 21600)
    assert "`DRIVERLENS_CALLBACK_MAX_ATTEMPTS`\n(default 14)" in text
    assert "(the cap, default 21600 = 6 h)" in text
    used = callback_retry(Settings(callback_max_attempts=3, callback_max_delay_seconds=60))
    assert (used.max_attempts, used.max_delay_s, used.base_delay_s) == (3, 60, CALLBACK_RETRY.base_delay_s)


def _section(text: str, heading: str) -> str:
    start = text.index(f"\n## {heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


@pytest.mark.skipif(shutil.which("sqlite3") is None, reason="the backup example uses the sqlite3 tool")
def test_the_backup_commands_of_the_guide_make_restorable_copies(tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    clone.mkdir()
    (clone / ".venv").symlink_to(Path(sys.prefix), target_is_directory=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRIVERLENS_")}
    seeded = subprocess.run(
        [sys.executable, "-m", "driverlens", "seed", "--demo", "--rows", "2000"],
        cwd=clone, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert seeded.returncode == 0, seeded.stderr
    # Plain tools only: blocks running ``driverlens`` commands (the conversion of an old store) are
    # checked against the CLI by the tests above.
    blocks = [b for b in _blocks(_section(_text("operations.md"), "Backups"), "sh") if "driverlens " not in b]
    script = "\n".join(["set -euo pipefail", *blocks])
    done = subprocess.run(
        ["bash", "-c", script], cwd=clone, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    with sqlite3.connect(clone / "backup" / "metadata.db") as copy:
        assert copy.execute("SELECT count(*) FROM partners").fetchone() == (3,)
    # The copied event table, put back as a data directory's events/lake, holds every event.
    restored = tmp_path / "restored"
    shutil.copytree(clone / "backup" / "lake", restored / "events" / "lake")
    original, copy_of_it = EventStore(clone / "var"), EventStore(restored)
    assert copy_of_it.count() == original.count() == 2000
    assert copy_of_it.snapshot().version == original.snapshot().version
    with original.reading() as a, copy_of_it.reading() as b:
        fingerprint = 'SELECT count(DISTINCT "EventId"), sum("EventCount") FROM failure_events'
        assert a.execute(fingerprint).fetchall() == b.execute(fingerprint).fetchall()


def test_the_architecture_package_table_lists_every_package_and_module() -> None:
    table = _section(_text("architecture.md"), "Packages")
    listed: set[str] = set()
    for line in table.splitlines():
        if line.startswith("| `"):
            listed |= set(re.findall(r"`([a-z_]+)`", line.split("|")[1]))
    source = ROOT / "src" / "driverlens"
    actual = {p.name for p in source.iterdir() if (p / "__init__.py").exists()}
    actual |= {p.stem for p in source.glob("*.py") if not p.name.startswith("__")}
    assert listed == actual, f"missing from the table: {actual - listed}; not in the code: {listed - actual}"


def test_documented_benchmarks_exist_with_their_options() -> None:
    commands = re.findall(r"`python -m (bench\.\w+)([^`]*)`", _text("benchmarks.md"))
    assert {module for module, _ in commands} == {
        "bench.engine_bench",
        "bench.runs_bench",
        "bench.api_bench",
        "bench.api_scale_bench",
        "bench.cabs_bench",
        "bench.delta_bench",
        "bench.rates_bench",
    }
    for module, rest in commands:
        source = inspect.getsource(importlib.import_module(module))
        for option in re.findall(r"--[a-z-]+", rest):
            assert f'"{option}"' in source, f"`python -m {module}` has no option {option}"
