"""The errata page is the one list of every erratum box of the chapters, and links both ways.

Reads the erratum boxes from the sources (``book/ch*.md``: a ``(label)=`` line, then an
``{erratum}`` directive) and checks the built site (``_build/html``, run ``make book``
first): the errata page has one entry per box, under the box's id, with the box's title as
its heading and a link back to the box; the box, in its chapter, has the id, the notes'
and the right version, and a link to its entry. A box added to a chapter and missing from
the built errata page fails here.
"""
import re
import sys
from pathlib import Path

import pytest
from docutils.nodes import make_id

sys.path.insert(0, str(Path(__file__).resolve().parent))
import sitecheck  # noqa: E402

BOOK = sitecheck.ROOT / "book"
PAGES = SITE_PAGES = sitecheck.SITE / "book"
ERRATA = "errata"
BOX = re.compile(r"^\((?P<label>[^)\s]+)\)=[ \t]*\n(?P<fence>`{3,}|:{3,})\{erratum\}[ \t]*"
                 r"(?P<title>\S.*?)[ \t]*$", re.M)
ANY_BOX = re.compile(r"^(`{3,}|:{3,})\{erratum\}", re.M)
LEGACY_BOX = re.compile(r"^(`{3,}|:{3,})\{admonition\}.*\n(?::[a-z]+:.*\n)*:class:.*\berratum\b",
                        re.M)


def chapter_sources():
    """The chapter pages' sources: book/ch*.md."""
    return sorted(BOOK.glob("ch*.md"))


def boxes_in(path):
    """The erratum boxes of one page: list of dicts with label, anchor, title, page."""
    text = path.read_text(encoding="utf-8")
    return [{"label": m["label"], "anchor": make_id(m["label"]), "title": m["title"],
             "page": path.stem} for m in BOX.finditer(text)]


def all_boxes():
    return [box for path in chapter_sources() for box in boxes_in(path)]


def title_as_html_text(title):
    """A box title as the built page shows it in text: $x$ becomes \\(x\\)."""
    return squash(re.sub(r"\$([^$]+)\$", r"\\(\1\\)", title))


def squash(text):
    """Whitespace collapsed, typographic quotes (Sphinx's smartquotes) made straight."""
    text = text.replace("\u2019", "'").replace("\u2018", "'")
    text = text.replace("\u201c", '"').replace("\u201d", '"')
    return re.sub(r"\s+", " ", text).strip()


# ------------------------------------------------------------------ the sources
def test_chapters_have_erratum_boxes():
    boxes = all_boxes()
    assert len(boxes) >= 10, "found only %d erratum boxes in book/ch*.md" % len(boxes)
    assert {box["page"] for box in boxes} >= {"ch01_gates", "ch02_logistic", "ch03_mlp",
                                              "ch04_numeric"}


@pytest.mark.parametrize("path", chapter_sources(), ids=lambda p: p.name)
def test_every_box_has_a_label_and_one_style(path):
    """Each {erratum} follows a (label)= line (its stable anchor); no box is an old-style
    {admonition} with :class: erratum, which would miss the notes / correct layout."""
    text = path.read_text(encoding="utf-8")
    assert len(ANY_BOX.findall(text)) == len(boxes_in(path)), \
        "%s: an {erratum} box without a (label)= line before it" % path.name
    assert not LEGACY_BOX.search(text), \
        "%s: an {admonition} with :class: erratum; write it as an {erratum} box" % path.name
    anchors = [box["anchor"] for box in all_boxes()]
    assert len(anchors) == len(set(anchors)), "two erratum boxes share an anchor"


@pytest.mark.parametrize("path", chapter_sources(), ids=lambda p: p.name)
def test_every_box_shows_the_notes_and_the_right_version(path):
    text = path.read_text(encoding="utf-8")
    starts = [m.start() for m in BOX.finditer(text)] + [len(text)]
    for (start, end), box in zip(zip(starts, starts[1:]), boxes_in(path)):
        body = text[start:end]
        assert "{erratum-notes}" in body and "{erratum-correct}" in body, \
            "%s: box %s lacks an {erratum-notes} or {erratum-correct} part" % (
                path.name, box["label"])


def test_errata_page_is_built_from_the_boxes():
    """The errata page holds the list directive and no hand-written entries."""
    text = (BOOK / (ERRATA + ".md")).read_text(encoding="utf-8")
    assert re.search(r"^(`{3,}|:{3,})\{errata-list\}", text, re.M)
    assert "{glue" not in text and "code-cell" not in text


# ------------------------------------------------------------------ the built site
@pytest.fixture(scope="module")
def site():
    """Parsed built pages, by stem; fails when the book has not been built."""
    from bs4 import BeautifulSoup
    if not (PAGES / (ERRATA + ".html")).exists():
        pytest.fail("no built book at %s: run `make book` first" % sitecheck.SITE)
    pages = {}
    for stem in {box["page"] for box in all_boxes()} | {ERRATA}:
        html = (PAGES / (stem + ".html")).read_text(encoding="utf-8")
        pages[stem] = BeautifulSoup(html, "html.parser")
    return pages


def heading_text(section):
    heading = section.find(re.compile(r"^h[1-6]$"))
    for link in heading.find_all("a", class_="headerlink"):
        link.decompose()
    return squash(heading.get_text())


@pytest.mark.parametrize("box", all_boxes(), ids=lambda b: b["label"])
def test_box_is_on_the_errata_page_with_a_link_back(site, box):
    entry = site[ERRATA].find(id=box["anchor"])
    assert entry is not None, ("erratum box %s (%s.md) is missing from the built errata "
                               "page: rebuild the book (make book)" % (box["label"], box["page"]))
    assert entry.name == "section" and "errata-entry" in entry.get("class", [])
    assert heading_text(entry) == title_as_html_text(box["title"])
    back = "%s.html#%s" % (box["page"], box["anchor"])
    assert entry.find("a", href=back) is not None, "entry %s has no link to %s" % (
        box["anchor"], back)
    body = entry.find(class_="errata-entry-body")
    assert body is not None and body.find(class_="erratum-notes") is not None \
        and body.find(class_="erratum-correct") is not None


@pytest.mark.parametrize("box", all_boxes(), ids=lambda b: b["label"])
def test_box_in_its_chapter_links_to_its_entry(site, box):
    node = site[box["page"]].find(id=box["anchor"])
    assert node is not None, "box %s is not in the built %s.html" % (box["label"], box["page"])
    assert "erratum" in node.get("class", []) and "admonition" in node.get("class", [])
    title = node.find(class_="admonition-title")
    assert title.find(class_="erratum-label") is not None
    assert title.find("a", href="%s.html#%s" % (ERRATA, box["anchor"])) is not None
    assert node.find(class_="erratum-compare") is not None
    assert "$" not in title.get_text(), "maths in the title was not rendered as maths"


def test_errata_page_has_no_entry_without_a_box(site):
    entries = site[ERRATA].find_all("section", class_="errata-entry")
    anchors = {box["anchor"] for box in all_boxes()}
    stale = [e["id"] for e in entries if e["id"] not in anchors]
    assert not stale, "errata page entries without a box in book/ch*.md: %s" % stale
    assert len(entries) == len(anchors)


def test_erratum_style_is_in_the_site(site):
    css = sitecheck.SITE / "_static" / "erratum.css"
    assert css.exists(), "erratum.css is not in the site's _static"
    text = css.read_text(encoding="utf-8")
    assert "@media print" in text and '[data-theme="dark"]' in text
    for stem in (ERRATA, "ch01_gates"):
        assert site[stem].find("link", href=re.compile(r"_static/erratum\.css")) is not None
