"""Every relative link of README.md and docs/*.md leads somewhere: to a file that exists and,
for a `#anchor`, to a heading of that file, as GitHub names headings. README links every docs
page, so none is left where a newcomer cannot find it."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = sorted((ROOT / "docs").glob("*.md"))
PAGES = [ROOT / "README.md", *DOCS]

FENCE = re.compile(r"^\s*(```|~~~)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
INLINE_CODE = re.compile(r"`+[^`]*`+")
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
MARKDOWN_LINK_TEXT = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
# A file or folder of the repository named in the text (`tasks/work.py`, `handlers/operator/`).
REPO_PATH = re.compile(
    r"(?<![\w./-])((?:bot|handlers|tasks|db|tests|bench|simulator|docs)/[\w./-]*[\w/])"
)


def prose_lines(text: str) -> list[str]:
    """The lines outside fenced code blocks (a link in a code block is not a link)."""
    lines, fenced = [], False
    for line in text.splitlines():
        if FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            lines.append(line)
    return lines


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading (github-slugger): the text as rendered (link text, code
    without its backticks, no emphasis marks), lower case, every character that is not a letter,
    a digit, a mark, `_`, `-` or a space left out, each space a hyphen."""
    text = MARKDOWN_LINK_TEXT.sub(r"\1", heading).replace("`", "").replace("*", "").lower()
    kept = [
        c
        for c in text
        if c in " -_" or unicodedata.category(c)[0] in "LNM" or unicodedata.category(c) == "Pc"
    ]
    return "".join(kept).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """Every heading's anchor; a repeated one gets -1, -2, ... as on GitHub."""
    found: set[str] = set()
    seen: dict[str, int] = {}
    for line in prose_lines(page.read_text(encoding="utf-8")):
        match = HEADING.match(line)
        if match is None:
            continue
        base = slug(match[2])
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def links(page: Path) -> list[str]:
    targets = []
    for line in prose_lines(page.read_text(encoding="utf-8")):
        targets += LINK.findall(INLINE_CODE.sub("", line))
    return targets


def broken_links(page: Path, root: Path = ROOT) -> list[str]:
    """What is wrong with the page's relative links, one line each (none: all good)."""
    problems = []
    for target in links(page):
        if SCHEME.match(target):
            continue  # https:, mailto: ... checked by no one here
        path_part, _, anchor = target.partition("#")
        linked = (page.parent / path_part).resolve() if path_part else page
        if root.resolve() not in (linked, *linked.parents):
            problems.append(f"{target}: outside the repository")
        elif not linked.exists():
            problems.append(f"{target}: no such file")
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
            problems.append(f"{target}: no heading #{anchor} in {linked.name}")
    return problems


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_every_relative_link_leads_to_a_file_and_heading_that_exist(page: Path) -> None:
    assert broken_links(page) == []


def test_readme_links_every_docs_page() -> None:
    linked = {
        (ROOT / target.partition("#")[0]).resolve()
        for target in links(ROOT / "README.md")
        if not SCHEME.match(target)
    }
    assert [page.name for page in DOCS if page.resolve() not in linked] == []


def named_paths(page: Path) -> set[str]:
    """The repository files (with an extension) and folders (with a trailing slash) a page
    names, in prose or code; a pattern (`NNN_*.sql`) or a rate ("142,231 tasks/s") is not one."""
    return {
        path
        for path in REPO_PATH.findall(page.read_text(encoding="utf-8"))
        if "NNN" not in path and (path.endswith("/") or "." in path.rsplit("/", 1)[-1])
    }


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_every_file_a_page_names_exists(page: Path) -> None:
    """A module renamed or moved fails here until the pages that name it say where it went."""
    assert sorted(path for path in named_paths(page) if not (ROOT / path).exists()) == []


def test_a_misnamed_module_is_found(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "`tasks/work.py` `WorkService.answer`; handlers/gone.py, (db/migrations/NNN_*.sql),"
        " `handlers/operator/`, 142,231 tasks/s and https://example.org/tasks/x.py"
    )
    assert named_paths(page) == {"tasks/work.py", "handlers/gone.py", "handlers/operator/"}


def test_a_missing_file_a_missing_heading_and_a_link_out_of_the_tree_are_found(
    tmp_path: Path,
) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "other.md").write_text("# Other page\n\n## Its `part`, one\n")
    page = tmp_path / "docs" / "page.md"
    page.write_text(
        "# Page\n\n"
        "[fine](other.md#its-part-one), [here](#page), [web](https://example.org/x#y)\n"
        "[gone](gone.md), [no heading](other.md#nowhere), [up](../../etc/passwd)\n"
        "`[in code](gone-too.md)`\n"
        "```\n[in a block](gone-three.md)\n```\n"
    )
    assert broken_links(page, tmp_path) == [
        "gone.md: no such file",
        "other.md#nowhere: no heading #nowhere in other.md",
        "../../etc/passwd: outside the repository",
    ]


@pytest.mark.parametrize(
    ("heading", "anchor"),
    [
        # Anchors GitHub gives these headings (README and docs links that work on github.com).
        ("Media: images, audio, voice notes (issue 10)", "media-images-audio-voice-notes-issue-10"),
        ("Who changes `tasks.remaining`, and why", "who-changes-tasksremaining-and-why"),
        (
            "Cost and accuracy: the frontier (issue 9's last two targets)",
            "cost-and-accuracy-the-frontier-issue-9s-last-two-targets",
        ),
        ("The `quality` block", "the-quality-block"),
        ("load-pack beside a running bot", "load-pack-beside-a-running-bot"),
        ("Écrire à l’équipe", "écrire-à-léquipe"),
    ],
)
def test_anchors_are_named_as_github_names_them(heading: str, anchor: str) -> None:
    assert slug(heading) == anchor


def test_a_repeated_heading_gets_a_numbered_anchor(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("# Figures\n\n## Figures\n\n```\n# not a heading\n```\n### Figures\n")
    assert anchors(page) == {"figures", "figures-1", "figures-2"}
