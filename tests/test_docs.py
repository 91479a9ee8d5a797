"""The docs name tests as evidence: every test they name must exist. Nothing a user reads may point
outside the repository (a user's clone has no `../shared`): every relative link names a file in it.
The README stays a front door: at most 150 lines, the rest in docs/."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

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


README_MAX_LINES = 150
# The chat panel's browser journey writes these; until it has run they may not exist yet.
SCREENSHOTS = frozenset(
    f"docs/images/{name}.png" for name in ("open-chat", "template-picker", "inbox", "dark-theme")
)
# `[text](target)` and `![alt](target)`, with an optional "title"; code is stripped before matching.
_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
_INLINE_CODE = re.compile(r"`[^`\n]*`")


def relative_links(text: str) -> list[str]:
    """The targets of the Markdown links in `text` that point into the repository: not web addresses,
    not mail, not anchors within the page; each without its `#anchor`."""
    prose = _INLINE_CODE.sub("", _FENCE.sub("", text))
    targets = []
    for target in _LINK.findall(prose):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE) or target.startswith("#"):
            continue
        targets.append(unquote(target.split("#", 1)[0].split("?", 1)[0]))
    return targets


def broken_links(doc: Path, text: str) -> list[str]:
    """Every relative link of `doc` that names no file of the repository."""
    found = []
    for target in relative_links(text):
        path = (doc.parent / target).resolve()
        inside = path.is_relative_to(ROOT)
        name = path.relative_to(ROOT).as_posix() if inside else target
        if not inside:
            found.append(f"{target}: outside the repository")
        elif not path.is_file() and name not in SCREENSHOTS:
            found.append(f"{target}: no such file")
    return found


def test_the_readme_is_at_most_150_lines() -> None:
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines; docs/ is for the rest"


@pytest.mark.parametrize("doc", USER_DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_points_at_a_file_of_the_repository(doc: Path) -> None:
    assert broken_links(doc, doc.read_text()) == []


def test_the_link_check_reports_what_it_must() -> None:
    doc = ROOT / "docs" / "example.md"
    text = "\n".join(
        [
            "[ok](api.md) [anchor](deploy.md#4-smoke-test) [web](https://example.com/x.md) [here](#top)",
            "![a screenshot to come](images/inbox.png) `[code](missing-in-code.md)`",
            "```",
            "[fenced](missing-in-fence.md)",
            "```",
            "[gone](runbook.md) ![gone too](images/nothing.png) [out](../../elsewhere.md)",
        ]
    )
    assert broken_links(doc, text) == [
        "runbook.md: no such file",
        "images/nothing.png: no such file",
        "../../elsewhere.md: outside the repository",
    ]
