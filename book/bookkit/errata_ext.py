"""Erratum boxes, and the errata page built from them: a local Sphinx extension.

A chapter page marks a mistake of the course notes with an erratum box::

    (erratum-ch04_numeric-half)=
    ````{erratum} A stray $\\tfrac12$ in the loss formula
    ```{erratum-notes}
    What the notes write.
    ```
    ```{erratum-correct}
    What is right.
    ```
    Why, with numbers.
    ````

``{erratum}`` is an admonition with the class ``erratum``, a label "Erratum" before its
title, and the notes' and the right version side by side (``{erratum-notes}`` and
``{erratum-correct}``; ``erratum.css`` lays them out). An ``{admonition}`` with
``:class: erratum`` counts as a box too.

The errata page holds an ``{errata-list}`` directive. Sphinx reads that page after every
other page (``env-before-read-docs``) and re-reads it whenever any other page changed
(``env-get-outdated``), so the directive finds every box already collected
(``doctree-read``) and writes one section per chapter and one per box: the box's title as
the heading, a copy of its body, and a link back to the box. Each box gets a link to its
entry on the errata page; links are resolved when the pages are written
(``doctree-resolved``), as are the chapter and section numbers they show. An entry keeps
the box's HTML id, so ``ch01_gates.html#erratum-ch01-gates-mul`` and
``errata.html#erratum-ch01-gates-mul`` are the box and its entry.

Registered in ``_config.yml`` under ``sphinx: local_extensions``; it also adds
``book/_static`` (``erratum.css``) to the static path.
"""
import re
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)

ERRATUM = "erratum"                       # the class that makes an admonition an erratum box
LABEL = "Erratum"
NOTES_LABEL, CORRECT_LABEL = "The notes", "Correct"
LIST_DIRECTIVE = "errata-list"
_LIST_USE = re.compile(r"^\s*(`{3,}|:{3,})\s*\{%s\}" % re.escape(LIST_DIRECTIVE), re.M)
_LEGACY_PREFIX = re.compile(r"^\s*Erratum\s*:\s*")
STATIC = Path(__file__).resolve().parents[1] / "_static"    # book/_static


# ------------------------------------------------------------------ directives
class ErratumDirective(SphinxDirective):
    """``{erratum} title``: an admonition of class ``erratum`` with a label and the
    notes / correct pair wrapped for a side-by-side layout."""

    required_arguments = 1
    final_argument_whitespace = True
    has_content = True
    option_spec = {"class": directives.class_option, "name": directives.unchanged}

    def run(self):
        title_text = self.arguments[0]
        textnodes, messages = self.state.inline_text(title_text, self.lineno)
        box = nodes.admonition(title_text, classes=[ERRATUM] + self.options.get("class", []))
        self.set_source_info(box)
        self.add_name(box)
        title = nodes.title(title_text, "", nodes.inline("", LABEL, classes=["erratum-label"]),
                            nodes.Text(" "), *textnodes)
        self.set_source_info(title)
        box += title
        box += messages
        self.state.nested_parse(self.content, self.content_offset, box)
        _wrap_pairs(box)
        return [box]


class _SideDirective(SphinxDirective):
    """One side of an erratum: a container with a label, then the content."""

    has_content = True
    label = ""
    side = ""

    def run(self):
        side = nodes.container(classes=["erratum-side", self.side])
        self.set_source_info(side)
        side += nodes.paragraph("", "", nodes.strong("", self.label),
                                classes=["erratum-side-label"])
        self.state.nested_parse(self.content, self.content_offset, side)
        return [side]


class NotesDirective(_SideDirective):
    """``{erratum-notes}``: what the course notes write."""

    label, side = NOTES_LABEL, "erratum-notes"


class CorrectDirective(_SideDirective):
    """``{erratum-correct}``: what is right."""

    label, side = CORRECT_LABEL, "erratum-correct"


def _wrap_pairs(box):
    """Put each run of consecutive notes / correct containers into one compare container."""
    children, run = [], []

    def flush():
        if run:
            children.append(nodes.container("", *run, classes=["erratum-compare"]))
            run.clear()

    for child in list(box.children):
        if isinstance(child, nodes.container) and "erratum-side" in child["classes"]:
            run.append(child)
        else:
            flush()
            children.append(child)
    flush()
    box.children = []
    box.extend(children)


class ErrataListDirective(SphinxDirective):
    """``{errata-list}``: one section per page with erratum boxes, one entry per box."""

    has_content = False

    def run(self):
        env = self.env
        collected = getattr(env, "bookkit_errata", {})
        rendered = set()
        sections = []
        for doc in _doc_order(env):
            entries = collected.get(doc) or []
            if not entries or doc == env.docname:
                continue
            chapter = nodes.section(ids=["errata-" + nodes.make_id(doc)],
                                    classes=["errata-chapter"])
            title = nodes.title("", "", *_copies(env.titles[doc].children))
            title["bookkit_chapter"] = doc
            chapter += title
            for entry in entries:
                chapter += _entry_section(doc, entry)
                rendered.add((doc, entry["id"]))
            sections.append(chapter)
        if not sections:
            return [nodes.paragraph("", "The chapters have no erratum boxes.")]
        env.bookkit_errata_rendered = rendered
        return sections


def _entry_section(doc, entry):
    """The errata page's section for one box: heading, where it is, a copy of its body."""
    section = nodes.section(ids=[entry["id"]], classes=["errata-entry"])
    section += nodes.title("", "", *_copies(entry["title"]))
    secnum = nodes.inline("", "", classes=["errata-secnum"])
    secnum["bookkit_secnum"] = (doc, entry["section_anchor"])
    where = nodes.reference("", "", secnum, nodes.Text(entry["section_title"]), internal=True,
                            refuri="", classes=["errata-backlink"])
    where["bookkit_target"] = (doc, entry["id"])
    section += nodes.paragraph("", "", nodes.Text("The box is in "), where, nodes.Text("."),
                               classes=["errata-where"])
    body = nodes.container("", classes=[ERRATUM, "errata-entry-body"])
    body.extend(_copies(entry["body"]))
    for node in list(body.findall(nodes.Element)):
        if isinstance(node, nodes.target):
            node.parent.remove(node)
            continue
        node["ids"], node["names"] = [], []
        if isinstance(node, nodes.math_block):
            node["label"], node["number"] = None, None
    section += body
    return section


# ------------------------------------------------------------------ collecting boxes
def _copies(children):
    """Deep copies of docutils nodes (Node.deepcopy: no parent, no document)."""
    return [child.deepcopy() for child in children]


def _is_box(node):
    return isinstance(node, nodes.admonition) and ERRATUM in node["classes"]


def _title_children(title):
    """The title's nodes without the "Erratum" label (or a typed "Erratum:" prefix)."""
    kids = [child for child in title.children
            if not (isinstance(child, nodes.inline) and "erratum-label" in child["classes"])]
    kids = _copies(kids)
    while kids and isinstance(kids[0], nodes.Text) and not kids[0].astext().strip():
        kids.pop(0)
    if kids and isinstance(kids[0], nodes.Text):
        text = _LEGACY_PREFIX.sub("", kids[0].astext(), count=1)
        if text != kids[0].astext():
            kids[0] = nodes.Text(text[:1].upper() + text[1:])
    return kids


def collect_boxes(app, doctree):
    """doctree-read: remember every erratum box of a page and link it to its entry."""
    env = app.env
    docname = env.docname
    if not hasattr(env, "bookkit_errata"):
        env.bookkit_errata = {}
    env.bookkit_errata.pop(docname, None)
    if docname in getattr(env, "bookkit_errata_pages", ()):
        return
    entries = []
    for box in list(doctree.findall(_is_box)):
        title = next((c for c in box.children if isinstance(c, nodes.title)), None)
        if title is None:
            logger.warning("an erratum box without a title", location=box)
            continue
        if not box["ids"]:
            box["ids"].append("erratum-" + nodes.make_id(docname + "-" + title.astext()))
        section = box.parent
        while section is not None and not isinstance(section, nodes.section):
            section = section.parent
        body = _copies(child for child in box.children if child is not title)
        entries.append({
            "id": box["ids"][0],
            "title": _title_children(title),
            "body": body,
            "section_title": (section[0].astext() if section is not None
                              and isinstance(section[0], nodes.title) else ""),
            "section_anchor": _section_anchor(section, doctree),
        })
        pages = getattr(env, "bookkit_errata_pages", ())
        if pages:
            link = nodes.reference("", "All errata", internal=True, refuri="",
                                   classes=["erratum-listlink"])
            link["bookkit_target"] = (pages[0], box["ids"][0])
            title += link
    if entries:
        env.bookkit_errata[docname] = entries


def _section_anchor(section, doctree):
    """The key of a section in env.toc_secnumbers: '' for the page's top section."""
    if section is None:
        return ""
    top = next(iter(doctree.findall(nodes.section)), None)
    if section is top or not section["ids"]:
        return ""
    return "#" + section["ids"][0]


def _doc_order(env):
    """All documents, in the order of the table of contents (then the rest, sorted)."""
    order, seen = [], set()

    def visit(doc):
        if doc in seen:
            return
        seen.add(doc)
        order.append(doc)
        for child in env.toctree_includes.get(doc, []):
            visit(child)

    visit(env.config.root_doc)
    return order + sorted(set(env.found_docs) - seen)


# ------------------------------------------------------------------ build order
def _errata_pages(env):
    """The documents that contain the errata-list directive (found in their sources)."""
    pages = []
    for doc in sorted(env.found_docs):
        try:
            source = Path(env.doc2path(doc)).read_text(encoding="utf-8")
        except OSError:
            continue
        if _LIST_USE.search(source):
            pages.append(doc)
    return pages


def read_errata_last(app, env, docnames):
    """env-before-read-docs: the errata page is read after every other page."""
    env.bookkit_errata_pages = _errata_pages(env)
    for page in env.bookkit_errata_pages:
        if page in docnames:
            docnames.remove(page)
            docnames.append(page)


def errata_outdated(app, env, added, changed, removed):
    """env-get-outdated: any other page changed, so the errata page is rebuilt."""
    pages = getattr(env, "bookkit_errata_pages", [])
    if (set(added) | set(changed) | set(removed)) - set(pages):
        return list(pages)
    return []


def purge(app, env, docname):
    """env-purge-doc: forget a page's boxes."""
    getattr(env, "bookkit_errata", {}).pop(docname, None)


def merge(app, env, docnames, other):
    """env-merge-info (parallel reads): take over the boxes another process collected."""
    if not hasattr(env, "bookkit_errata"):
        env.bookkit_errata = {}
    env.bookkit_errata.update({doc: entries for doc, entries in
                               getattr(other, "bookkit_errata", {}).items() if doc in docnames})


def check_complete(app, env):
    """env-updated: every collected box is on the errata page (warns, an error with -W)."""
    pages = getattr(env, "bookkit_errata_pages", [])
    if not pages:
        return []
    boxes = {(doc, entry["id"]) for doc, entries in getattr(env, "bookkit_errata", {}).items()
             for entry in entries}
    missing = boxes - getattr(env, "bookkit_errata_rendered", set())
    for doc, anchor in sorted(missing):
        logger.warning("erratum box %s#%s is missing from the errata page %s",
                       doc, anchor, pages[0], location=doc)
    return []


# ------------------------------------------------------------------ writing
def resolve_links(app, doctree, docname):
    """doctree-resolved: fill in the links between boxes and entries, and the numbers."""
    env, builder = app.env, app.builder
    for ref in list(doctree.findall(nodes.reference)):
        target = ref.get("bookkit_target")
        if not target:
            continue
        target_doc, anchor = target
        if target_doc not in env.all_docs:
            ref.replace_self(nodes.Text(ref.astext()))
            continue
        uri = "" if target_doc == docname else builder.get_relative_uri(docname, target_doc)
        ref["refuri"] = uri + "#" + anchor
    for node in list(doctree.findall(nodes.inline)):
        where = node.get("bookkit_secnum")
        if where:
            number = _secnumber(env, *where)
            node.children = []
            if number:
                node += nodes.Text("§" + number + " ")
    for title in list(doctree.findall(nodes.title)):
        doc = title.get("bookkit_chapter")
        if doc:
            number = _secnumber(env, doc, "")
            if number:
                title.insert(0, nodes.Text("Chapter %s: " % number))


def _secnumber(env, doc, anchor):
    """A section's number as text ('1.2'), or '' when the page is not numbered."""
    numbers = env.toc_secnumbers.get(doc, {})
    number = numbers.get(anchor) or ()
    return ".".join(map(str, number))


def add_static_path(app, config):
    """config-inited: book/_static (erratum.css) is copied to the site's _static."""
    path = str(STATIC)
    if STATIC.is_dir() and path not in [str(Path(app.confdir, p).resolve())
                                        for p in config.html_static_path]:
        config.html_static_path.append(path)


def setup(app):
    app.add_directive("erratum", ErratumDirective)
    app.add_directive("erratum-notes", NotesDirective)
    app.add_directive("erratum-correct", CorrectDirective)
    app.add_directive(LIST_DIRECTIVE, ErrataListDirective)
    app.connect("config-inited", add_static_path)
    app.connect("env-get-outdated", errata_outdated)
    app.connect("env-before-read-docs", read_errata_last)
    app.connect("env-purge-doc", purge)
    app.connect("env-merge-info", merge)
    app.connect("doctree-read", collect_boxes)
    app.connect("env-updated", check_complete)
    app.connect("doctree-resolved", resolve_links)
    # the errata page must be read after all others: not in parallel with them
    return {"version": "1.0", "parallel_read_safe": False, "parallel_write_safe": True,
            "env_version": 1}
