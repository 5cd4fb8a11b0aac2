"""The README and the docs link only to what a clone holds, and the README stays short.

A link to a file outside the repository (such as `../shared/API.md`) or to a
page that was moved works on its author's machine and nowhere else; these
tests catch it before a reader does.
"""

import re
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
README = BASE_DIR / "README.md"
README_MAX_LINES = 200

# [text](target) and ![alt](target), with an optional "title".
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
FENCE = re.compile(r"^(```|~~~).*?^\1\s*$", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"`[^`\n]*`")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
EXTERNAL = ("http://", "https://", "mailto:")


def documentation_files():
    files = [README, BASE_DIR / "bench" / "README.md"]
    files += sorted((BASE_DIR / "docs").rglob("*.md"))
    return files


def prose(text):
    """The text without code blocks and code spans, where brackets are not links."""
    return CODE_SPAN.sub("", FENCE.sub("", text))


def local_links(path):
    """(line number, target) of every link in `path` that points into the repository."""
    text = prose(path.read_text(encoding="utf-8"))
    links = []
    for match in LINK.finditer(text):
        target = match.group(1)
        if target.startswith(EXTERNAL) or target.startswith("#"):
            continue
        line = text.count("\n", 0, match.start()) + 1
        links.append((line, target))
    return links


def resolve(source, target):
    path = target.split("#", 1)[0]
    if path.startswith("/"):
        # GitHub reads a leading slash as the repository's root.
        return (BASE_DIR / path.lstrip("/")).resolve()
    return (source.parent / path).resolve()


def github_anchors(path):
    """The anchors GitHub gives the headings of a markdown file."""
    anchors = set()
    seen = {}
    # Headings keep their code spans: `make run` is part of the title.
    headings = HEADING.findall(FENCE.sub("", path.read_text(encoding="utf-8")))
    for heading in headings:
        slug = re.sub(r"[^\w\- ]", "", heading.replace("`", "").lower())
        slug = slug.replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchors.add(slug if count == 0 else f"{slug}-{count}")
    return anchors


def file_id(path):
    return str(path.relative_to(BASE_DIR))


@pytest.mark.parametrize("path", documentation_files(), ids=file_id)
def test_every_local_link_resolves_to_a_file_inside_the_repository(path):
    broken = []
    for line, target in local_links(path):
        resolved = resolve(path, target)
        if not resolved.is_relative_to(BASE_DIR):
            broken.append(f"line {line}: {target} (outside the repository)")
        elif not resolved.exists():
            broken.append(f"line {line}: {target} (no such file or folder)")

    assert not broken, f"{file_id(path)} has broken links:\n" + "\n".join(broken)


@pytest.mark.parametrize("path", documentation_files(), ids=file_id)
def test_every_anchor_into_a_markdown_page_names_one_of_its_headings(path):
    broken = []
    for line, target in local_links(path):
        if "#" not in target:
            continue
        resolved = resolve(path, target)
        anchor = target.split("#", 1)[1]
        if (
            resolved.suffix == ".md"
            and resolved.is_file()
            and anchor not in github_anchors(resolved)
        ):
            broken.append(f"line {line}: {target}")

    assert not broken, f"{file_id(path)} links to missing headings:\n" + "\n".join(
        broken
    )


def test_the_documentation_files_include_the_readme_and_the_docs_folder():
    files = {file_id(path) for path in documentation_files()}

    assert {"README.md", "bench/README.md", "docs/api.md"} <= files


def test_the_readme_is_at_most_200_lines():
    lines = README.read_text(encoding="utf-8").splitlines()

    assert len(lines) <= README_MAX_LINES, (
        f"README.md has {len(lines)} lines; move detail into docs/ "
        f"(at most {README_MAX_LINES})"
    )
