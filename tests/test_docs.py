"""The docs name tests as evidence: every test they name must exist, and nothing a user reads may point
outside the repository (a user's clone has no `../shared`)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
USER_DOCS = [ROOT / "README.md", ROOT / "pcf" / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# `tests/test_x.py::test_name`, or `…::test_name` for the file named last before it.
_TEST_REF = re.compile(r"(tests/[a-z0-9_]+\.py)?(?:…)?::(test_[a-z0-9_]+)")


def test_every_test_the_security_doc_names_exists() -> None:
    text = (ROOT / "docs" / "security.md").read_text()
    current: str | None = None
    named = 0
    for match in _TEST_REF.finditer(text):
        current = match.group(1) or current
        assert current is not None, f"{match.group(2)} is named before any test file"
        source = (ROOT / current).read_text()
        assert f"def {match.group(2)}(" in source, f"{current}::{match.group(2)} does not exist"
        named += 1
    assert named >= 20


@pytest.mark.parametrize("doc", USER_DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_what_users_read_does_not_point_outside_the_repository(doc: Path) -> None:
    text = doc.read_text()
    assert "../shared" not in text
    assert "DESIGN.md" not in text
    assert "WHATSAPP-NOTES" not in text
