"""`--help` pages: flags carry no value tag; options that take a value keep theirs."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from driverlens.cli.main import app

PAGES = [
    ["client", "reports", "download"],
    ["client", "reports", "wait"],
    ["client", "cabs", "download"],
    ["serve"],
    ["demo"],
]


@pytest.mark.parametrize("words", PAGES, ids=[" ".join(w) for w in PAGES])
def test_help_shows_no_bool_tags(words: list[str]) -> None:
    result = CliRunner().invoke(app, [*words, "--help"], env={"COLUMNS": "120", "NO_COLOR": "1"})
    assert result.exit_code == 0, result.output
    assert "<bool>" not in result.output
    assert "--help" in result.output


def test_value_options_keep_their_type() -> None:
    result = CliRunner().invoke(app, ["serve", "--help"], env={"COLUMNS": "120", "NO_COLOR": "1"})
    assert re.search(r"--port\s+<int", result.output), result.output
