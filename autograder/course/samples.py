"""Sample submissions for trying the grader, made from ``solutions/`` and ``exercises/``.

``python -m autograder.course.samples DEST`` writes, in nbgrader's layout
``DEST/<student>/<assignment>/<assignment>.ipynb``, four students per assignment:

- ``ada_complete``: every function written (the reference solution, markers removed);
- ``ben_partial``: every other function written, the rest left as stubs;
- ``cy_untouched``: the exercise as released;
- ``dee_syntax_error``: complete, but one solution cell does not parse.

They are made from the notebooks rather than stored, so they never go stale.
"""
import json
import sys
from pathlib import Path

from autograder.course.release import write_notebook
from autograder.grading.reference import ROOT, assignments, solution_path

MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")


def solution_cells(nb):
    """The nbgrader solution code cells of a notebook, by grade_id."""
    return {c["metadata"]["nbgrader"]["grade_id"]: c for c in nb["cells"]
            if c["cell_type"] == "code"
            and c.get("metadata", {}).get("nbgrader", {}).get("solution")}


def answer(source):
    """A solution cell's source as a student would write it: markers removed."""
    text = "".join(source)
    return "".join(line for line in text.splitlines(keepends=True)
                   if line.strip() not in MARKERS)


def variant(exercise, solution, filled, broken=()):
    """The exercise with the cells in ``filled`` answered and those in ``broken`` garbled."""
    nb = json.loads(json.dumps(exercise))
    answers = solution_cells(solution)
    for grade_id, cell in solution_cells(nb).items():
        if grade_id in filled:
            cell["source"] = answer(answers[grade_id]["source"])
        if grade_id in broken:
            cell["source"] = "".join(cell["source"]) + "\nthis line is not python (\n"
    return nb


def students(exercise, solution):
    """The sample notebooks of one assignment: {student: notebook dict}."""
    ids = list(solution_cells(solution))
    return {"ada_complete": variant(exercise, solution, ids),
            "ben_partial": variant(exercise, solution, ids[::2]),
            "cy_untouched": variant(exercise, solution, ()),
            "dee_syntax_error": variant(exercise, solution, ids, broken=ids[:1])}


def write_samples(dest):
    """Write every assignment's samples under ``dest``; returns the paths written."""
    written = []
    for name in assignments():
        solution = json.loads(solution_path(name).read_text(encoding="utf-8"))
        exercise_path = ROOT / "exercises" / name / ("%s.ipynb" % name)
        exercise = json.loads(exercise_path.read_text(encoding="utf-8"))
        for student, nb in students(exercise, solution).items():
            path = Path(dest) / student / name / ("%s.ipynb" % name)
            path.parent.mkdir(parents=True, exist_ok=True)
            write_notebook(path, nb)
            written.append(path)
    return written


if __name__ == "__main__":
    dest = sys.argv[1] if len(sys.argv) > 1 else "_build/samples/submitted"
    print("wrote %d sample submissions under %s" % (len(write_samples(dest)), dest))
