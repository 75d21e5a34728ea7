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


def test_documented_settings_exist() -> None:
    documented = set(re.findall(r"`DRIVERLENS_([A-Z_]+)`", README))
    known = {name.upper() for name in Settings.model_fields} | {"CLIENT_BASE_URL", "CLIENT_TENANT_ID"}
    known |= {"CLIENT_CLIENT_ID", "CLIENT_CLIENT_SECRET", "REQUIRE_POSTGRES", "TEST_POSTGRES_URL"}
    assert documented - known == set(), "the README documents settings that do not exist"


def test_make_targets_named_in_the_readme_exist() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([a-z][a-z-]*):", makefile, flags=re.MULTILINE))
    named = set(re.findall(r"`make ([a-z-]+)`", README))
    assert named, "the README must name its make commands"
    assert named <= targets, f"README names make targets that do not exist: {named - targets}"
