"""The README is an entry point and the docs/ pages hold together.

Every relative link in README.md and docs/*.md points at a file that exists (and, when it names an
anchor, at a heading of that file); every path that pyproject.toml's comments cite exists; the
README stays short and the topics live in docs/. The checkers are tested on broken copies too, so
each assertion is known to fail when it should.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAX_README_LINES = 200
MIN_DOC_PAGES = 4

_FENCE = re.compile(r"^ {0,3}(```|~~~)")
_HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_INLINE_CODE = re.compile(r"`[^`\n]*`")
_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")  # http:, https:, mailto: ... (not checked here)
# A path in a comment: folders and a file name (tests/conftest.py), or a file name with a known suffix.
_CITED_PATH = re.compile(
    r"(?<![\w./-])((?:[\w.-]+/)+[\w.-]*\w|[\w-]+\.(?:md|py|ya?ml|toml|lock|txt|cfg|json|sql))(?![\w/-])"
)


def markdown_files(root: Path) -> list[Path]:
    return [root / "README.md", *sorted((root / "docs").glob("*.md"))]


def _prose_lines(text: str, strip_code: bool = True):
    """(line number, line) outside fenced code blocks, with inline code removed unless told."""
    fenced = False
    for number, line in enumerate(text.splitlines(), 1):
        if _FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            yield number, _INLINE_CODE.sub("", line) if strip_code else line


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link in a heading keeps its text
    text = text.replace("`", "").strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    found = set()
    for _, line in _prose_lines(path.read_text(encoding="utf-8"), strip_code=False):
        match = _HEADING.match(line)
        if not match:
            continue
        base = slug(match.group(2))
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def broken_links(files: list[Path], root: Path) -> list[str]:
    """Every relative link of these Markdown files whose file or anchor does not exist."""
    problems = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        for number, line in _prose_lines(text):
            for target in _LINK.findall(line):
                if _SCHEME.match(target):
                    continue
                file_part, _, anchor = target.partition("#")
                dest = (path.parent / file_part).resolve() if file_part else path
                where = f"{path.relative_to(root)}:{number}: {target}"
                if not dest.exists():
                    problems.append(f"{where}: no such file")
                elif anchor and (dest.suffix != ".md" or anchor not in anchors(dest)):
                    problems.append(f"{where}: no heading with the anchor #{anchor}")
    return problems


def _comment(line: str) -> str:
    """The comment of a TOML line: what follows a # outside a string."""
    quote = None
    for i, char in enumerate(line):
        if quote:
            if char == quote:
                quote = None
        elif char in "\"'":
            quote = char
        elif char == "#":
            return line[i + 1 :]
    return ""


def cited_paths(pyproject: Path) -> list[tuple[int, str]]:
    return [
        (number, cited)
        for number, line in enumerate(pyproject.read_text(encoding="utf-8").splitlines(), 1)
        for cited in _CITED_PATH.findall(_comment(line))
    ]


def missing_cited_paths(pyproject: Path, root: Path) -> list[str]:
    return [f"pyproject.toml:{n}: {cited}" for n, cited in cited_paths(pyproject) if not (root / cited).exists()]


# --- the repository ---------------------------------------------------------------------------


def test_every_relative_link_lands():
    problems = broken_links(markdown_files(ROOT), ROOT)
    assert not problems, "broken links:\n" + "\n".join(problems)


def test_pyproject_comments_cite_files_that_exist():
    assert cited_paths(ROOT / "pyproject.toml"), "no path found in pyproject.toml's comments: is the pattern broken?"
    missing = missing_cited_paths(ROOT / "pyproject.toml", ROOT)
    assert not missing, "pyproject.toml cites files that do not exist:\n" + "\n".join(missing)


def test_readme_is_an_entry_point():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= MAX_README_LINES, f"README.md has {len(lines)} lines (at most {MAX_README_LINES})"


def test_topics_live_in_docs():
    pages = sorted((ROOT / "docs").glob("*.md"))
    assert len(pages) >= MIN_DOC_PAGES, f"docs/ has {len(pages)} pages: {[p.name for p in pages]}"


# --- the checkers fail when they should ---------------------------------------------------------


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")


def test_broken_files_and_anchors_are_found(tmp_path):
    _write(
        tmp_path,
        {
            "README.md": "# Title\n\nSee [a](docs/a.md), [b](docs/b.md) and [c](docs/a.md#no-such-part).\n"
            "[top](#title) [gone](#gone) ![image](docs/pic.png) [web](https://example.com/x.md)\n"
            "```\n[in code](docs/none.md)\n```\nand `[inline](docs/none.md)`\n",
            "docs/a.md": "# A page\n\n## The `mesh lint` step, again?\n\n## Twice\n\n## Twice\n\n"
            "[back](../README.md#title) [here](#the-mesh-lint-step-again) [second](#twice-1) [image](pic.png)\n",
            "docs/pic.png": "",
        },
    )
    problems = broken_links(markdown_files(tmp_path), tmp_path)
    assert [p.split(": ", 1)[1] for p in problems] == [
        "docs/b.md: no such file",
        "docs/a.md#no-such-part: no heading with the anchor #no-such-part",
        "#gone: no heading with the anchor #gone",
    ]
    assert problems[0].startswith("README.md:3: ")


def test_missing_cited_paths_are_found(tmp_path):
    _write(
        tmp_path,
        {
            "pyproject.toml": 'x = ["a==1",  # see docs/there.md and DESIGN.md\n'
            '  "b==2",  # (tests/gone.py) is cited, the strings are not\n'
            'marker = "in a string: tests/not_a_comment.py"\n',
            "docs/there.md": "",
        },
    )
    assert [p for _, p in cited_paths(tmp_path / "pyproject.toml")] == ["docs/there.md", "DESIGN.md", "tests/gone.py"]
    assert missing_cited_paths(tmp_path / "pyproject.toml", tmp_path) == [
        "pyproject.toml:1: DESIGN.md",
        "pyproject.toml:2: tests/gone.py",
    ]
