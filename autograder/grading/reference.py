"""Reference solutions, loaded from the solution notebooks (their one source of truth).

``load_reference("ch01_gates")`` runs the definitions of
``solutions/ch01_gates/ch01_gates.ipynb`` in the grader's own process (this code is
trusted) and returns them as a namespace: ``ref.mul_backward(...)``.
"""
import functools
import json
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


EARLIER_TAG = "earlier_layers"


def earlier_chapters(notebook):
    """The chapters whose references an ``earlier_layers`` cell stands for: dict -> list.

    The cell (see solutions/README.md) lists them in its metadata as
    ``{"backprop": {"earlier": ["ch05_losses", ...]}}``.
    """
    names = []
    for cell in notebook.get("cells", []):
        meta = cell.get("metadata", {})
        if EARLIER_TAG in meta.get("tags", []):
            names += [n for n in meta.get("backprop", {}).get("earlier", []) if n not in names]
    return names


def is_earlier_layers(cell):
    """True for a notebook cell that stands for earlier chapters' layers (their stubs)."""
    return EARLIER_TAG in cell.get("metadata", {}).get("tags", [])


def reference_sources(notebook):
    """The code-cell sources a reference runs: every code cell but ``earlier_layers``."""
    kept = [c for c in notebook.get("cells", []) if not is_earlier_layers(c)]
    return cells.code_cells(json.dumps(dict(notebook, cells=kept)))


def earlier_namespace(notebook, assignment=None):
    """The definitions of the earlier chapters a notebook's ``earlier_layers`` cell names,
    as a dict: what a solution notebook runs with (in place of the stubs), as a student's
    notebook runs with the layers they pasted in."""
    namespace = {}
    for earlier in earlier_chapters(notebook):
        if earlier == assignment:
            raise RuntimeError("reference %s names itself as an earlier chapter" % assignment)
        namespace.update({k: v for k, v in vars(load_reference(earlier)).items()
                          if not k.startswith("__")})
    return namespace


@functools.lru_cache(maxsize=None)
def load_reference(assignment):
    """The reference functions of an assignment as a namespace (``ref.mul_backward``).

    A later chapter's reference starts from the references of the chapters its
    ``earlier_layers`` cell names, so it is whole without holding their code.
    Raises RuntimeError when a solution cell fails: the reference must be whole.
    """
    notebook = json.loads(solution_path(assignment).read_text(encoding="utf-8"))
    module = types.ModuleType("reference_%s" % assignment)
    module.__dict__.update(earlier_namespace(notebook, assignment))
    report = cells.run_cells(reference_sources(notebook), module.__dict__)
    errors = ["cell %d: %s" % (i + 1, err) for i, err in report if err]
    if errors:
        raise RuntimeError("reference %s does not load: %s" % (assignment, "; ".join(errors)))
    return module
