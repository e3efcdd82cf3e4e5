"""Find the submissions of a course and say what is wrong with a bad one (standard library).

``find(PATH)`` lists :class:`Submission` s in nbgrader's layout
``PATH/<student>/<assignment>/``; ``read(submission)`` reads its notebook and returns the
JSON text to grade, or the status that says why it cannot be graded:

- ``no notebook``: the folder holds no ``.ipynb``;
- ``ambiguous``: several notebooks, none named after the assignment (which one to grade
  is the instructor's call: the output lists them);
- ``too large``: bigger than ``MAX_BYTES`` (refused from its size, never read);
- ``unreadable``: 0 bytes, not UTF-8, not JSON, or JSON that is not a notebook;
- ``empty``: a notebook without any code.

Which notebook of a folder is graded, by rule: the one named ``<assignment>.ipynb``; else
a browser re-download of it (``<assignment> (1).ipynb``, ``<assignment>(2).ipynb``,
``<assignment>-Copy1.ipynb``: the highest number); else the only notebook there. The
choice and the files left out are said in the submission's ``note``. Old notebooks
(nbformat 3: ``worksheets``, cells with ``input``) are converted here, without nbformat.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from pathlib import Path

MAX_BYTES = 50 << 20          # a notebook larger than this is refused (outputs included)
IGNORED = {"timestamp.txt"}   # written by nbgrader next to the notebook
COPY = re.compile(r"^(?P<name>.+?)(?:\s*\((?P<n>\d+)\)|-Copy(?P<c>\d+))$")


@dataclasses.dataclass(frozen=True)
class Submission:
    """One student's hand-in of one assignment.

    folder: the submission folder (None for a single notebook given on the command line);
    notebook: the notebook to grade, or None; status: set when the folder alone says it
    cannot be graded ("no notebook", "ambiguous"); note: how the notebook was chosen and
    what else the folder held, in words.
    """
    student: str
    assignment: str
    folder: Path | None
    notebook: Path | None
    status: str | None = None
    note: str = ""

    @property
    def key(self) -> str:
        return "%s/%s" % (self.student, self.assignment)


def copy_of(stem: str) -> tuple[str, int] | None:
    """('ch02_logistic', 1) for 'ch02_logistic (1)', 'ch02_logistic(1)', '...-Copy1'."""
    m = COPY.match(stem)
    if not m:
        return None
    return m.group("name"), int(m.group("n") or m.group("c"))


def assignment_of(stem: str, known: list[str]) -> str:
    """The assignment a notebook's file name stands for (a re-download's original name)."""
    if stem in known:
        return stem
    copy = copy_of(stem)
    return copy[0] if copy and copy[0] in known else stem


def choose(folder: Path, assignment: str) -> tuple[Path | None, str | None, str]:
    """(notebook, status, note) for one submission folder; see the module docstring."""
    files = sorted(p for p in folder.iterdir() if not p.name.startswith("."))
    notebooks = [p for p in files if p.suffix == ".ipynb" and p.is_file()]
    stray = [p.name for p in files if p not in notebooks and p.name not in IGNORED]
    notes = []
    chosen, status = None, None
    named = folder / ("%s.ipynb" % assignment)
    copies = sorted(((copy_of(p.stem)[1], p) for p in notebooks
                     if copy_of(p.stem) and copy_of(p.stem)[0] == assignment),
                    key=lambda item: item[0])
    if named in notebooks:
        chosen = named
    elif copies:
        chosen = copies[-1][1]
        notes.append("graded %s (a re-download of %s.ipynb: the highest number)"
                     % (chosen.name, assignment))
    elif len(notebooks) == 1:
        chosen = notebooks[0]
        notes.append("graded %s, the only notebook in the folder" % chosen.name)
    elif notebooks:
        status = "ambiguous"
        notes.append("%d notebooks (%s), none named %s.ipynb: rename the one to grade"
                     % (len(notebooks), ", ".join(p.name for p in notebooks), assignment))
    else:
        status = "no notebook"
        notes.append("no notebook in the folder (expected %s.ipynb)" % assignment)
    others = [p.name for p in notebooks if chosen is not None and p != chosen]
    if others:
        notes.append("not graded: %s" % ", ".join(others))
    if stray:
        notes.append("ignored other files: %s" % ", ".join(stray[:10]) +
                     (" and %d more" % (len(stray) - 10) if len(stray) > 10 else ""))
    return chosen, status, "; ".join(notes)


def find(path: str | Path, assignment: str | None = None,
         known: list[str] | None = None) -> list[Submission]:
    """The submissions under PATH (nbgrader's ``submitted/``) or PATH itself (a notebook).

    A single notebook is graded as ``assignment`` (default: the assignment its file name
    stands for) for the student named by its grandparent folder when the path looks like
    nbgrader's layout, else "student".
    """
    path = Path(path)
    known = list(known or [])
    if path.is_file():
        name = assignment or assignment_of(path.stem, known)
        student = path.parent.parent.name if path.parent.name == name else "student"
        return [Submission(student or "student", name, None, path)]
    if not path.is_dir():
        raise FileNotFoundError("no such file or folder: %s" % path)
    found = []
    for folder in sorted(p for p in path.glob("*/*") if p.is_dir()):
        if folder.name.startswith(".") or folder.parent.name.startswith("."):
            continue
        if assignment and folder.name != assignment:
            continue
        notebook, status, note = choose(folder, folder.name)
        found.append(Submission(folder.parent.name, folder.name, folder, notebook,
                                status, note))
    return found


class Unreadable(Exception):
    """The notebook cannot be graded; ``status`` and the message say why."""

    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.status = status


def convert_v3(nb: dict) -> dict:
    """An nbformat 3 notebook (worksheets; code cells with "input") as a minimal v4 one."""
    cells = []
    for sheet in nb.get("worksheets") or []:
        for cell in (sheet.get("cells") or []) if isinstance(sheet, dict) else []:
            if not isinstance(cell, dict):
                continue
            if cell.get("cell_type") == "code":
                cells.append({"cell_type": "code", "metadata": {},
                              "source": cell.get("input", "")})
            else:
                cells.append({"cell_type": "markdown", "metadata": {},
                              "source": cell.get("source", "")})
    return {"nbformat": 4, "nbformat_minor": 0, "metadata": {}, "cells": cells}


def parse(data: bytes) -> tuple[dict, str]:
    """(notebook as a v4 dict, note) from a file's bytes; raises Unreadable."""
    if not data.strip():
        raise Unreadable("unreadable", "The file is empty (%d bytes)." % len(data))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise Unreadable("unreadable", "The file is not text (UTF-8): byte %d."
                         % error.start) from None
    try:
        nb = json.loads(text)
    except ValueError as error:
        raise Unreadable("unreadable", "The file is not a notebook: it is not valid JSON "
                                       "(%s)." % str(error)[:120]) from None
    note = ""
    if isinstance(nb, dict) and "cells" not in nb and isinstance(nb.get("worksheets"), list):
        nb, note = convert_v3(nb), "an old notebook format (nbformat 3), converted"
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise Unreadable("unreadable", "The file is JSON but not a Jupyter notebook (it has "
                                       "no list of cells).")
    return nb, note


def has_code(nb: dict) -> bool:
    """True when some code cell has something other than blanks and comments."""
    for cell in nb["cells"]:
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            src = cell.get("source", "")
            src = "".join(src) if isinstance(src, list) else str(src)
            if any(line.strip() and not line.strip().startswith("#")
                   for line in src.splitlines()):
                return True
    return False


def read(notebook: Path, max_bytes: int = MAX_BYTES) -> tuple[str, str]:
    """(JSON text to grade, note) of a notebook; raises Unreadable.

    The size is checked before anything is read, so a huge file costs nothing.
    """
    size = notebook.stat().st_size
    if size > max_bytes:
        raise Unreadable("too large", "The notebook is %.0f MiB, more than the %.0f MiB "
                                      "allowed: clear its outputs (Kernel > Restart & Clear "
                                      "Output) and hand it in again."
                         % (size / 2**20, max_bytes / 2**20))
    return prepare(notebook.read_bytes())


def prepare(data: bytes) -> tuple[str, str]:
    """(JSON text to grade, note) from a notebook file's bytes; raises Unreadable."""
    nb, note = parse(data)
    if not has_code(nb):
        raise Unreadable("empty", "The notebook has no code in it.")
    return json.dumps(nb), note


def digest(*paths: Path | None, extra: str = "") -> str:
    """sha256 of files' contents (read in chunks) and of ``extra``: what --resume compares."""
    h = hashlib.sha256(extra.encode("utf-8"))
    for path in paths:
        h.update(b"\0file\0")
        if path is None or not path.is_file():
            h.update(b"missing")
            continue
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()
