"""Reference solutions, loaded from the solution notebooks (their one source of truth).

``load_reference("ch01_gates")`` runs the definitions of
``solutions/ch01_gates/ch01_gates.ipynb`` in the grader's own process (this code is
trusted) and returns them as a namespace: ``ref.mul_backward(...)``.
"""
import functools
import types
from pathlib import Path

from autograder.sandbox.inside import cells

PACKAGE = Path(__file__).resolve().parent.parent   # autograder/
ROOT = PACKAGE.parent                              # a clone of the repository


def _solutions_dir():
    """solutions/ of the clone, or the copy an installed grader carries inside itself."""
    packaged = PACKAGE / "solutions"
    return packaged if packaged.is_dir() else ROOT / "solutions"


SOLUTIONS = _solutions_dir()


def solution_path(assignment):
    """Path of an assignment's solution notebook: str -> Path (which must exist)."""
    path = SOLUTIONS / assignment / ("%s.ipynb" % assignment)
    if not path.is_file():
        raise FileNotFoundError("no solution notebook for assignment %r at %s"
                                % (assignment, path))
    return path


def assignments():
    """Names of all assignments that have a solution notebook, sorted."""
    return sorted(p.parent.name for p in SOLUTIONS.glob("*/*.ipynb")
                  if p.stem == p.parent.name)


@functools.lru_cache(maxsize=None)
def load_reference(assignment):
    """The reference functions of an assignment as a read-only namespace.

    Raises RuntimeError when a solution cell fails: the reference must be whole.
    """
    path = solution_path(assignment)
    module = types.ModuleType("reference_%s" % assignment)
    sources = cells.code_cells(path.read_text(encoding="utf-8"))
    report = cells.run_cells(sources, module.__dict__)
    errors = ["cell %d: %s" % (i + 1, err) for i, err in report if err]
    if errors:
        raise RuntimeError("reference %s does not load: %s" % (assignment, "; ".join(errors)))
    return module
