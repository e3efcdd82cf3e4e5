"""Scores into nbgrader's gradebook, one nbgrader grade cell per public check cell.

The mapping: each hidden-test file declares ``GRADE_CELLS = {"check_<function>": [test
names], ...}``. In the solution notebook, the cell ``check_<function>`` is an nbgrader
*autograder-test* cell (``grade: true``, ``solution: false``, ``locked: true``) whose
``points`` are the points of those hidden tests, so the formgrader shows a score per
function and ``nbgrader export`` the total. Every hidden test belongs to exactly one cell
(:func:`grade_cells` checks it). Cells graded by hand (a written answer: a markdown cell
with ``grade`` and ``solution`` true) are left to the instructor: writing the autograded
scores never touches them, so their manual scores survive a regrade.

The gradebook is the course's own database, found as nbgrader finds it (``nbgrader_config.py``
in the course directory, ``CourseDirectory.db_url``, default ``sqlite:///gradebook.db``
in the course root), and written through nbgrader's API (``nbgrader.api.Gradebook``).
nbgrader is needed only here, imported when a course is graded.
"""
from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from autograder.grading import runner
from autograder.grading.testkit import HiddenTest

CONFIG = "nbgrader_config.py"


def grade_cells(assignment: str) -> dict[str, list[HiddenTest]]:
    """{check cell id: its hidden tests}, in the order of GRADE_CELLS.

    Raises ValueError when the hidden-test file has no GRADE_CELLS, names a test that does
    not exist, or leaves a test out or puts it in two cells.
    """
    module = importlib.import_module("autograder.hidden.test_%s" % assignment)
    declared = getattr(module, "GRADE_CELLS", None)
    if not isinstance(declared, dict) or not declared:
        raise ValueError("%s declares no GRADE_CELLS" % module.__name__)
    tests = {t.name: t for t in runner.hidden_tests(assignment)}
    cells: dict[str, list[HiddenTest]] = {}
    seen: set[str] = set()
    for cell_id, names in declared.items():
        for name in names:
            if name not in tests:
                raise ValueError("%s: GRADE_CELLS[%r] names %s, which is not a hidden test"
                                 % (module.__name__, cell_id, name))
            if name in seen:
                raise ValueError("%s: %s is in two grade cells" % (module.__name__, name))
            seen.add(name)
        cells[cell_id] = [tests[name] for name in names]
    left = [name for name in tests if name not in seen]
    if left:
        raise ValueError("%s: no grade cell for %s" % (module.__name__, ", ".join(left)))
    return cells


def cell_points(assignment: str) -> dict[str, float]:
    """{check cell id: points}: the sum of its hidden tests' points."""
    return {cell: float(sum(t.points for t in tests))
            for cell, tests in grade_cells(assignment).items()}


def test_results(assignment: str, record: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """{hidden test name: its entry in results.json's ``tests``}.

    Entries are in the hidden tests' order and named by their description; an entry that
    does not match (a results.json from another version of the tests) is left out, so its
    test counts as 0.
    """
    entries = record.get("tests", []) if isinstance(record.get("tests"), list) else []
    tests = runner.hidden_tests(assignment)
    found: dict[str, dict[str, Any]] = {}
    if len(entries) == len(tests) and all(
            isinstance(e, dict) and e.get("name") == t.description for e, t in zip(entries, tests)):
        return {t.name: e for t, e in zip(tests, entries)}
    by_description = {e.get("name"): e for e in entries if isinstance(e, dict)}
    for t in tests:
        if t.description in by_description:
            found[t.name] = by_description[t.description]
    return found


def cell_scores(assignment: str, record: dict[str, Any]) -> dict[str, tuple[float, float]]:
    """{check cell id: (score, max score)} of one results.json record."""
    entries = test_results(assignment, record)
    scores = {}
    for cell, tests in grade_cells(assignment).items():
        got = sum(min(float(entries[t.name].get("score", 0) or 0), t.points)
                  for t in tests if t.name in entries)
        scores[cell] = (got, float(sum(t.points for t in tests)))
    return scores


def set_grade_metadata(nb: dict[str, Any], assignment: str) -> bool:
    """Make the check cells of a solution notebook nbgrader grade cells worth their hidden
    tests' points (nbgrader metadata only); True when something changed.

    Raises ValueError when a cell of GRADE_CELLS is not a code cell of the notebook.
    """
    points = cell_points(assignment)
    changed, found = False, set()
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader")
        if not meta or meta.get("grade_id") not in points:
            continue
        if cell["cell_type"] != "code":
            raise ValueError("grade cell %s is not a code cell" % meta["grade_id"])
        found.add(meta["grade_id"])
        wanted = dict(meta, grade=True, solution=False, locked=True,
                      points=points[meta["grade_id"]])
        if wanted != meta:
            cell["metadata"]["nbgrader"] = wanted
            changed = True
    missing = sorted(set(points) - found)
    if missing:
        raise ValueError("%s has no cell %s" % (assignment, ", ".join(missing)))
    return changed


# ---------------------------------------------------------------------------------------
# The course directory and its gradebook (nbgrader needed from here on)


def find_course(start: str | Path | None = None) -> Path | None:
    """The nbgrader course directory holding ``start`` (default: the current directory):
    the nearest folder, ``start`` or a parent, with an nbgrader_config.py; else None."""
    here = Path(start or os.getcwd()).resolve()
    for folder in [here, *here.parents]:
        if (folder / CONFIG).is_file():
            return folder
    return None


def _alembic_on_path() -> None:
    """nbgrader upgrades a fresh database with alembic, which it runs from PATH."""
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")


def course_settings(course: str | Path) -> tuple[str, Path]:
    """(database URL, feedback folder) of a course, read as nbgrader reads its config:
    ``nbgrader_config.py`` in the course directory, ``CourseDirectory.root`` (default the
    course directory), ``CourseDirectory.db_url`` (default ``sqlite:///<root>/gradebook.db``)
    and ``CourseDirectory.feedback_directory`` (default ``feedback``)."""
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    course = Path(course).resolve()
    config = PyFileConfigLoader(CONFIG, path=str(course)).load_config() \
        if (course / CONFIG).is_file() else None
    coursedir = CourseDirectory(config=config) if config is not None else CourseDirectory()
    given_root = config is not None and "root" in config.get("CourseDirectory", {})
    if not given_root:
        coursedir.root = str(course)
    elif not os.path.isabs(coursedir.root):
        coursedir.root = str(course / coursedir.root)
    return coursedir.db_url, Path(coursedir.root) / coursedir.feedback_directory


def _notebook_cells(assignment: str) -> list[tuple[str, float, str]]:
    """[(grade cell id, points, cell type)] of our solution notebook (nbgrader metadata)."""
    import json

    from autograder.grading.reference import solution_path
    nb = json.loads(solution_path(assignment).read_text(encoding="utf-8"))
    found = []
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade"):
            found.append((meta["grade_id"], float(meta.get("points", 0)),
                          cell["cell_type"]))
    return found


def ensure_assignment(gb: Any, assignment: str, notebook: str) -> None:
    """Give the gradebook the assignment, its notebook and grade cells when the instructor
    has not (``nbgrader generate_assignment`` normally does), from our solution notebook."""
    from nbgrader.api import MissingEntry
    try:
        nb = gb.find_notebook(notebook, assignment)
        if nb.grade_cells:
            return
    except MissingEntry:
        pass
    gb.update_or_create_assignment(assignment)
    gb.update_or_create_notebook(notebook, assignment)
    for cell_id, points, cell_type in _notebook_cells(assignment):
        gb.update_or_create_grade_cell(cell_id, notebook, assignment, max_score=points,
                                       cell_type=cell_type)


def write_scores(db_url: str, entries: Iterable[tuple[str, str, dict[str, Any]]],
                 notebook_of: Any = None) -> list[str]:
    """Write results into the gradebook at ``db_url``.

    entries: (student, assignment, results.json record). notebook_of(assignment): the
    notebook's name in the gradebook (default: the assignment's name). For each
    submission: the student and the submission are created if needed, each autograded
    cell that GRADE_CELLS maps gets ``auto_score`` (``needs_manual_grade`` False); grade
    cells graded by hand and cells we do not grade are not touched. Returns a list of
    problems in words (an assignment with no grade cells of ours, ...), one per line.
    """
    from nbgrader.api import Gradebook, MissingEntry

    _alembic_on_path()
    problems = []
    notebook_of = notebook_of or (lambda a: a)
    with Gradebook(db_url) as gb:
        for student, assignment, record in entries:
            notebook = notebook_of(assignment)
            try:
                scores = cell_scores(assignment, record)
            except (ImportError, ValueError) as error:
                problems.append("%s/%s: not written to the gradebook (%s)"
                                % (student, assignment, error))
                continue
            ensure_assignment(gb, assignment, notebook)
            gb.update_or_create_student(student)
            try:
                gb.find_submission(assignment, student)
            except MissingEntry:
                gb.add_submission(assignment, student)
            written = 0
            for cell_id, (score, _) in scores.items():
                try:
                    grade = gb.find_grade(cell_id, notebook, assignment, student)
                except MissingEntry:
                    continue
                grade.auto_score = score
                grade.needs_manual_grade = False
                written += 1
            for grade in gb.find_submission_notebook(notebook, assignment, student).grades:
                if (grade.cell.cell_type == "markdown" and grade.manual_score is None
                        and grade.name not in scores):
                    grade.needs_manual_grade = True     # a written answer: still to grade
            if not written:
                problems.append("%s/%s: the gradebook's notebook %s has none of our grade "
                                "cells (regenerate the assignment from the current "
                                "solutions)" % (student, assignment, notebook))
            gb.db.commit()
    return problems


def sync_solutions(names: Iterable[str] | None = None) -> list[str]:
    """Set the grade-cell metadata of the solution notebooks from GRADE_CELLS; returns the
    assignments changed (then regenerate exercises/: ``python -m autograder.course.release``)."""
    import json

    from autograder.course.release import write_notebook
    from autograder.grading.reference import assignments, solution_path
    changed = []
    for name in names or assignments():
        path = solution_path(name)
        nb = json.loads(path.read_text(encoding="utf-8"))
        if set_grade_metadata(nb, name):
            write_notebook(path, nb)
            changed.append(name)
    return changed


if __name__ == "__main__":
    print("grade cells updated: %s" % (", ".join(sync_solutions(sys.argv[1:])) or "none"))
