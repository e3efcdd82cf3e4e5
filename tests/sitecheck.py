"""Helpers of the site tests: what must never appear in the built book, and where to look.

Secrets are (a) the lines of the reference solutions (between ``### BEGIN SOLUTION`` and
``### END SOLUTION`` in ``solutions/*/*.ipynb``), (b) nbgrader's solution markers, and
(c) the lines of the hidden tests ``autograder/hidden/test_*.py``. Trivial lines (shorter
than :data:`MIN_LINE` characters once stripped) and lines that also appear in the released
exercise notebooks or in the public toolkit are not secrets.
"""
import html
import json
import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: The built site; BOOK_SITE=<dir> checks another build (an older one, say).
SITE = Path(os.environ.get("BOOK_SITE") or ROOT / "_build" / "html")
MIN_LINE = 20
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
MARKERS = ("BEGIN SOLUTION", "END SOLUTION")
_SPACE = re.compile(r"\s+")


def squash(text):
    """Collapse every run of whitespace into one space (str -> str)."""
    return _SPACE.sub(" ", text).strip()


def notebook_text(raw):
    """The cells' sources and text outputs of a notebook given as JSON text (str -> str)."""
    try:
        nb = json.loads(raw)
    except ValueError:
        return raw
    parts = []
    for cell in nb.get("cells", []):
        parts.append("".join(cell.get("source", "")))
        for out in cell.get("outputs", []):
            parts.append("".join(out.get("text", "")))
            for value in out.get("data", {}).values():
                if isinstance(value, (str, list)):
                    parts.append("".join(value))
    return "\n".join(parts)


def public_text(root=ROOT):
    """Text that students may see anyway: the exercise notebooks and the public toolkit."""
    parts = [notebook_text(p.read_text(encoding="utf-8"))
             for p in sorted((root / "exercises").glob("*/*.ipynb"))]
    checks = root / "autograder" / "toolkit" / "checks.py"
    if checks.exists():
        parts.append(checks.read_text(encoding="utf-8"))
    return squash("\n".join(parts))


#: Lines of hidden tests that reveal nothing: drawing random inputs (the seed comes from
#: the test's name, not from the line) and bare imports.
GENERIC = re.compile(r"^([\w, ]+ = rng\.\w+\([^()]*\)|(from [\w.]+ )?import [\w., ]+)$")


def _secret(line, public):
    """True when a stripped line is long enough, not generic and not already public."""
    return len(line) >= MIN_LINE and not GENERIC.match(line) and squash(line) not in public


def solution_lines(root=ROOT):
    """Non-trivial lines of code between the solution markers of solutions/*/*.ipynb.

    Returns a sorted list of (source file name, stripped line) pairs.
    """
    public = public_text(root)
    found = set()
    for path in sorted((root / "solutions").glob("*/*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        for cell in nb.get("cells", []):
            inside = False
            for line in "".join(cell.get("source", "")).splitlines():
                if line.strip().startswith(BEGIN):
                    inside = True
                elif line.strip().startswith(END):
                    inside = False
                elif inside and _secret(line.strip(), public):
                    found.add((path.name, line.strip()))
    return sorted(found)


def hidden_test_lines(root=ROOT):
    """Non-trivial lines of autograder/hidden/test_*.py, as sorted (file name, line) pairs."""
    public = public_text(root)
    found = set()
    for path in sorted((root / "autograder" / "hidden").glob("test_*.py")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if _secret(line.strip(), public):
                found.add((path.name, line.strip()))
    return sorted(found)


def site_files(site=SITE):
    """Every file of the built site, sorted (list of Path)."""
    return sorted(p for p in site.rglob("*") if p.is_file())


def readable_text(path):
    """A file's text as a reader would see it, whitespace collapsed.

    HTML loses its tags and entities (so highlighted code reads as plain lines), notebooks
    become their sources and outputs, other files are decoded leniently as UTF-8.
    """
    raw = path.read_bytes().decode("utf-8", errors="ignore")
    if path.suffix in (".html", ".htm", ".xml", ".svg"):
        raw = raw + "\n" + html.unescape(re.sub(r"<[^>]+>", "", raw))
    elif path.suffix == ".ipynb":
        raw = raw + "\n" + notebook_text(raw)
    return squash(raw)


#: Folders of the site that are verbatim copies of third-party assets (theme, MathJax):
#: they are searched line by line (a secret would be a whole line), the rest as text.
ASSET_DIRS = {"_static", "mathjax"}


def find_secrets(files, secrets):
    """Which secret lines occur in which files.

    files: iterable of Path; secrets: list of (origin, line) pairs.
    Returns a list of "file: origin: line" strings (empty when nothing leaked).
    """
    needles = [(origin, squash(line)) for origin, line in secrets]
    wanted = {needle for _, needle in needles}
    leaks = []
    for path in files:
        if ASSET_DIRS & set(path.parts):
            raw = path.read_bytes().decode("utf-8", errors="ignore")
            hits = wanted & {squash(line) for line in raw.splitlines()}
            leaks += ["%s: %s: %s" % (path, o, n) for o, n in needles if n in hits]
            continue
        text = readable_text(path)
        leaks += ["%s: %s: %s" % (path, o, n) for o, n in needles if n in text]
    return leaks


def find_markers(files):
    """Files that contain nbgrader's solution markers: list of "file: marker" strings."""
    leaks = []
    for path in files:
        raw = path.read_bytes().decode("utf-8", errors="ignore")
        leaks += ["%s: %s" % (path, m) for m in MARKERS if m in raw]
    return leaks
