"""The README stays true: every setting is documented, every make target it names exists."""

from __future__ import annotations

import re
from pathlib import Path

from driverlens.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_documented_in_the_configuration_reference() -> None:
    undocumented = [
        f"DRIVERLENS_{name.upper()}"
        for name in Settings.model_fields
        if f"`DRIVERLENS_{name.upper()}`" not in README
    ]
    assert undocumented == [], f"add these settings to the README's configuration reference: {undocumented}"


def _variables_read_by_the_code() -> set[str]:
    names: set[str] = set()
    for path in (ROOT / "src" / "driverlens").rglob("*.py"):
        names |= set(re.findall(r"DRIVERLENS_([A-Z][A-Z_]*[A-Z])\b", path.read_text(encoding="utf-8")))
    names |= {name.upper() for name in Settings.model_fields}
    names |= {f"CLIENT_{field.upper()}" for field in ("base_url", "tenant_id", "client_id", "client_secret")}
    return names | {"CLIENT_TOKEN_URL"}


def test_every_variable_the_code_reads_is_documented() -> None:
    documented = set(re.findall(r"`DRIVERLENS_([A-Z_]+)`", README))
    missing = sorted(_variables_read_by_the_code() - documented - {"CLIENT"})
    assert missing == [], f"document these variables in the README: {missing}"


def test_documented_variables_exist() -> None:
    documented = set(re.findall(r"`DRIVERLENS_([A-Z_]+)`", README))
    tests_only = {
        "REQUIRE_POSTGRES",
        "REQUIRE_JAVA",
        "TEST_POSTGRES_URL",
        "REQUIRE_BROWSER",
        "UPDATE_SCREENSHOTS",
        "CHROMIUM",
    }
    unknown = documented - _variables_read_by_the_code() - tests_only
    assert unknown == set(), f"the README documents variables nothing reads: {unknown}"


def test_make_targets_named_in_the_readme_exist() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([a-z][a-z-]*):", makefile, flags=re.MULTILINE))
    named = set(re.findall(r"`make ([a-z-]+)`", README))
    assert named, "the README must name its make commands"
    assert named <= targets, f"README names make targets that do not exist: {named - targets}"
