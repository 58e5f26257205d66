"""The README and docs/ point at what is there: every relative link resolves (a file, a
folder, and a heading of a Markdown file), and every path that README's "Where a change
goes" names exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from support.database import ROOT
from tests.docs.test_readme import DOCUMENTS

LINK = re.compile(r"\[[^\]]*\]\((?P<target>[^)\s]+)\)")
CODE = re.compile(r"`(?P<path>[A-Za-z0-9_./-]+/[A-Za-z0-9_./-]*)`")


def _prose(document: Path, *, keep_code: bool = False) -> str:
    """The document without its fenced blocks (and its code spans, unless kept)."""
    kept: list[str] = []
    fence: str | None = None
    for line in document.read_text().splitlines():
        stripped = line.lstrip(" ")
        if fence is None and stripped.startswith(("```", "~~~")):
            fence = stripped[:3]
        elif fence is not None and stripped.startswith(fence):
            fence = None
        elif fence is None:
            kept.append(line if keep_code else re.sub(r"`[^`]*`", "", line))
    return "\n".join(kept)


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = heading.strip().lower().replace("`", "")
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(document: Path) -> set[str]:
    """The anchors of a document's headings (outside fenced blocks)."""
    return {
        slug(line.lstrip("#"))
        for line in _prose(document, keep_code=True).splitlines()
        if re.match(r"^#{1,6} ", line)
    }


def test_slugs_are_githubs() -> None:
    assert slug(" Roles, moderation and windows (issue 28)") == (
        "roles-moderation-and-windows-issue-28"
    )
    assert slug(" With `buf curl`") == "with-buf-curl"
    assert slug(" Rooms' own credentials and the signing key") == (
        "rooms-own-credentials-and-the-signing-key"
    )


@pytest.mark.parametrize("document", DOCUMENTS)
def test_relative_links_resolve(document: str) -> None:
    broken = []
    base = (ROOT / document).parent
    for match in LINK.finditer(_prose(ROOT / document)):
        target = match["target"]
        if re.match(r"^[a-z]+:", target):
            continue  # https:, mailto:
        path, _, anchor = target.partition("#")
        file = (base / path).resolve() if path else ROOT / document
        if not file.exists():
            broken.append(f"{target}: no such file")
        elif anchor and file.suffix == ".md" and anchor not in anchors(file):
            broken.append(f"{target}: no such heading")
    assert not broken, f"{document}: " + "; ".join(broken)


def _where_a_change_goes() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## Where a change goes\n", 1)[1].split("\n## ", 1)[0]
    return sorted({match["path"] for match in CODE.finditer(section)})


def test_where_a_change_goes_names_a_folder_per_media_server_and_a_module_per_area() -> None:
    named = _where_a_change_goes()
    for server in ("livekit", "jitsi", "janus"):
        assert f"service/media/{server}/" in named
    areas = "rooms participants history admission waiting_room seats webhooks lifecycle"
    for area in (*areas.split(), "calendar", "moderation"):
        assert f"service/usecases/{area}.py" in named


USECASES = "service/usecases/"


def test_every_path_in_where_a_change_goes_exists() -> None:
    named = [path for path in _where_a_change_goes() if not path.startswith(USECASES)]
    missing = [path for path in named if not (ROOT / path).exists()]
    assert not missing, f"README's 'Where a change goes' names paths that are not there: {missing}"


# service/usecases/ comes with the branch that moves the use cases there (issue 23);
# until it is merged here, those paths cannot exist.
@pytest.mark.xfail(
    not (ROOT / USECASES).is_dir(), reason="service/usecases/ not merged yet", strict=True
)
def test_every_use_case_module_in_where_a_change_goes_exists() -> None:
    named = [path for path in _where_a_change_goes() if path.startswith(USECASES)]
    missing = [path for path in named if not (ROOT / path).exists()]
    assert named and not missing, f"'Where a change goes' names missing modules: {missing}"


def test_readme_links_every_guide() -> None:
    linked = {
        (ROOT / match["target"].partition("#")[0]).resolve()
        for match in LINK.finditer(_prose(ROOT / "README.md"))
    }
    guides = set((ROOT / "docs" / "guides").glob("*.md"))
    assert guides, "no guides under docs/guides/"
    unlinked = sorted(str(guide.relative_to(ROOT)) for guide in guides - linked)
    assert not unlinked, f"README links no way to {unlinked}"
