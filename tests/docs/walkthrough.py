"""The README walkthrough as a script: its ```bash blocks, in order, pointed at another server."""

from __future__ import annotations

import re
from pathlib import Path

START_MARKER = "<!-- walkthrough:start -->"
END_MARKER = "<!-- walkthrough:end -->"
DEFAULT_BASE_LINE = "BASE=http://127.0.0.1:8000"
_BLOCK = re.compile(r"^```bash[ \t]*\n(.*?)^```[ \t]*$", re.DOTALL | re.MULTILINE)


class WalkthroughError(AssertionError):
    """The README's walkthrough section is not in the shape the test runs."""


def walkthrough_section(readme: str) -> str:
    """The text between the walkthrough markers."""
    if readme.count(START_MARKER) != 1 or readme.count(END_MARKER) != 1:
        raise WalkthroughError(f"the README needs exactly one {START_MARKER} and one {END_MARKER}")
    start = readme.index(START_MARKER) + len(START_MARKER)
    end = readme.index(END_MARKER)
    if end < start:
        raise WalkthroughError("the walkthrough end marker comes before the start marker")
    return readme[start:end]


def bash_blocks(section: str) -> list[str]:
    """The fenced ```bash blocks of a section, in order."""
    return [match.group(1) for match in _BLOCK.finditer(section)]


def walkthrough_script(readme: str, base_url: str) -> str:
    """One bash script running every block in order, strict mode on, with BASE pointed at ``base_url``."""
    blocks = bash_blocks(walkthrough_section(readme))
    if not blocks:
        raise WalkthroughError("the walkthrough has no ```bash blocks")
    text = "\n".join(blocks)
    lines = text.splitlines()
    if lines.count(DEFAULT_BASE_LINE) != 1:
        raise WalkthroughError(f"the walkthrough must set `{DEFAULT_BASE_LINE}` once, on a line of its own")
    lines[lines.index(DEFAULT_BASE_LINE)] = f"BASE={base_url}"
    return "set -euo pipefail\n" + "\n".join(lines) + "\n"


def read_readme(root: Path) -> str:
    return (root / "README.md").read_text(encoding="utf-8")
