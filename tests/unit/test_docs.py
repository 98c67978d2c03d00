"""What users read points at documents they have: README, `nmc --help` and the examples
name docs/design.md (in the repository), never a DESIGN.md that is not there."""
from __future__ import annotations

import re
from pathlib import Path

from nmcompile.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
USER_FACING = [ROOT / "README.md", ROOT / "DEVELOPERS.md", *sorted((ROOT / "examples").rglob("*.md"))]


def test_the_design_document_is_in_the_repository_with_its_sections():
    text = (ROOT / "docs" / "design.md").read_text()
    for section in ("## 1. ", "## 2. ", "## 3. ", "## 4. ", "## 5. ", "## 6. "):
        assert section in text


def test_no_user_document_names_a_missing_design_file():
    for doc in USER_FACING:
        text = doc.read_text()
        assert "DESIGN.md" not in text, doc
        for link in re.findall(r"\]\(([^)#]+)", text):
            if not link.startswith(("http://", "https://")):
                assert (doc.parent / link).exists(), f"{doc.name} links to missing {link}"


def test_help_points_to_the_design_document():
    text = build_parser().format_help()
    assert "docs/design.md" in text and "DESIGN" not in text
