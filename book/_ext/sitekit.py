"""Sphinx extension for the book's pages: what the themes do not do on their own.

- **Exercise button in the page header.** A chapter links its exercise notebook with
  ``{download}`...<chapter>.ipynb>``; the page header of that chapter gets the same link
  (template ``sitekit_templates/exercise-download.html``: ``_config.yml`` puts the folder
  in ``templates_path`` and the template in the theme's ``article_header_end``).
- **No line break inside a number or next to inline maths.** Numbers in scientific
  notation (``9.348077867e-14``) are wrapped in ``<span class="nowrap">``, and so is
  inline maths together with the punctuation or word that touches it (``$x$.``,
  ``($x$)``), and inline code with the punctuation after it, so that a line never starts
  with the rest of a number or with a full stop.
  The page's CSS (``book/_static/site.css``) gives ``.nowrap`` ``white-space: nowrap``.

Configured in ``_config.yml`` (``sphinx.local_extensions``).
"""
import re
from pathlib import PurePosixPath

from docutils import nodes
from sphinx import addnodes
from sphinx.transforms.post_transforms import SphinxPostTransform

#: A number in scientific notation; a line could otherwise break after its "e-".
SCI_NUMBER = re.compile(r"[-+\u2212]?\d+(?:\.\d+)?[eE][-+\u2212]?\d+")
#: Characters that must stay on the line of the inline maths they touch.
BEFORE = re.compile(r"[(\[{\u201c\u2018\"'/\w.,\u2212-]+$")
AFTER = re.compile(r"^[)\]}\u201d\u2019\"'.,;:!?%\u2026/\w\u2212-]+")
#: Punctuation that must stay on the line of the inline code before it.
AFTER_CODE = re.compile(r"^[)\]}\u201d\u2019\"'.,;:!?\u2026]+")

#: Nodes whose text is left alone (code, maths, raw markup).
SKIP = (nodes.FixedTextElement, nodes.literal, nodes.math, nodes.math_block, nodes.raw,
        nodes.comment, nodes.substitution_definition)


def _skipped(node):
    """True when node sits inside code, maths or raw markup."""
    parent = node.parent
    while parent is not None:
        if isinstance(parent, SKIP):
            return True
        parent = parent.parent
    return False


def _nowrap(*children):
    """An inline node that keeps its children on one line."""
    return nodes.inline("", "", *children, classes=["nowrap"])


class KeepTogether(SphinxPostTransform):
    """Wrap numbers in scientific notation, and inline maths with the characters that
    touch it, in ``<span class="nowrap">`` (HTML builders only)."""

    default_priority = 900        # after glue values have been pasted in (priority 5)
    formats = ("html",)

    def run(self, **kwargs):
        for math in list(self.document.findall(nodes.math)):
            self._keep_math(math)
        for code in list(self.document.findall(nodes.literal)):
            self._keep_math(code, before=None, after=AFTER_CODE)
        for text in list(self.document.findall(nodes.Text)):
            if text.parent is not None and not _skipped(text):
                self._keep_numbers(text)

    @staticmethod
    def _keep_math(math, before=BEFORE, after=AFTER):
        """Put inline maths (or code) and the characters touching it, as matched by the
        regular expressions ``before`` and ``after`` (None: none), into a nowrap span."""
        parent = math.parent
        if parent is None or _skipped(math) or "nowrap" in parent.get("classes", ()):
            return
        index = parent.index(math)
        prev = parent[index - 1] if index > 0 else None
        nxt = parent[index + 1] if index + 1 < len(parent) else None
        head = tail = ""
        if before is not None and isinstance(prev, nodes.Text):
            m = before.search(str(prev))
            head = m.group(0) if m else ""
        if after is not None and isinstance(nxt, nodes.Text):
            m = after.search(str(nxt))
            tail = m.group(0) if m else ""
        if not head and not tail:
            return
        group = _nowrap()
        if head:
            rest = str(prev)[:-len(head)]
            if rest:
                parent.replace(prev, nodes.Text(rest))
            else:
                parent.remove(prev)
            group += nodes.Text(head)
        index = parent.index(math)
        parent.remove(math)
        group += math
        if tail:
            rest = str(nxt)[len(tail):]
            if rest:
                parent.replace(nxt, nodes.Text(rest))
            else:
                parent.remove(nxt)
            group += nodes.Text(tail)
        parent.insert(index, group)

    @staticmethod
    def _keep_numbers(text):
        """Split a text node around numbers in scientific notation, each one in a span."""
        value = str(text)
        if not SCI_NUMBER.search(value) or "nowrap" in text.parent.get("classes", ()):
            return
        parts, last = [], 0
        for m in SCI_NUMBER.finditer(value):
            if m.start() > last:
                parts.append(nodes.Text(value[last:m.start()]))
            parts.append(_nowrap(nodes.Text(m.group(0))))
            last = m.end()
        if last < len(value):
            parts.append(nodes.Text(value[last:]))
        parent = text.parent
        index = parent.index(text)
        parent.remove(text)
        for offset, part in enumerate(parts):
            parent.insert(index + offset, part)


def exercise_download(app, pagename, templatename, context, doctree):
    """Give a chapter page ``exercise_download`` (url, name) for the header button.

    The exercise is the page's download link to a notebook named like the page
    (``book/ch01_gates`` -> ``.../ch01_gates.ipynb``).
    """
    context["exercise_download"] = None
    if doctree is None:
        return
    wanted = PurePosixPath(pagename).name + ".ipynb"
    for node in doctree.findall(addnodes.download_reference):
        dest = node.get("filename")
        if dest and PurePosixPath(dest).name == wanted:
            context["exercise_download"] = {
                "url": context["pathto"]("_downloads/" + dest, 1), "name": wanted}
            return


def setup(app):
    """Register the transform and the page-context hook."""
    app.connect("html-page-context", exercise_download)
    app.add_post_transform(KeepTogether)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
