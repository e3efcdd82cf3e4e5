"""Make ``exercises/`` from ``solutions/`` with nbgrader, and keep the toolkit cell current.

Steps for each assignment:

1. the solution notebook's toolkit cell (tag ``toolkit``) is rewritten with the source of
   ``autograder/toolkit/checks.py``, so notebooks and hidden tests share one set of checks;
2. ``nbgrader generate_assignment`` turns solutions into student notebooks (solution code
   replaced by stubs), into a scratch course directory;
3. the result is normalised (no execution counts, no outputs, stable JSON) and written to
   ``exercises/<assignment>/<assignment>.ipynb``.

``generate(dest)`` does steps 2-3 into any folder, which is how a test checks that
``exercises/`` is up to date.
"""
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from autograder.grading.reference import ROOT, SOLUTIONS, assignments, solution_path

CHECKS = Path(__file__).resolve().parents[1] / "toolkit" / "checks.py"
TOOLKIT_HEADER = ("# Checking toolkit (read-only). The same checks grade your notebook.\n"
                  "# Run this cell; you do not need to read it.\n")


def toolkit_source():
    """The toolkit cell's source: the header plus autograder/toolkit/checks.py."""
    return TOOLKIT_HEADER + CHECKS.read_text(encoding="utf-8")


def sync_toolkit(path):
    """Rewrite the toolkit cell of one solution notebook; True when it changed.

    Raises ValueError when the notebook has no code cell tagged ``toolkit``.
    """
    nb = json.loads(path.read_text(encoding="utf-8"))
    found = False
    changed = False
    for cell in nb["cells"]:
        if cell["cell_type"] == "code" and "toolkit" in cell.get("metadata", {}).get("tags", []):
            found = True
            new = toolkit_source().splitlines(keepends=True)
            if cell["source"] != new and "".join(cell["source"]) != "".join(new):
                cell["source"] = new
                changed = True
    if not found:
        raise ValueError("%s has no code cell tagged 'toolkit'" % path)
    if changed:
        write_notebook(path, nb)
    return changed


def write_notebook(path, nb):
    """Write a notebook as stable JSON (sorted keys, one-space indent, final newline)."""
    path.write_text(json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n",
                    encoding="utf-8")


def normalise(nb):
    """Drop what changes between runs: outputs and execution counts.

    Cell ids and nbgrader checksums are kept: both are deterministic, and nbgrader uses
    the checksums to notice a locked cell that a student changed.
    """
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
    return nb


def generate(dest, names=None):
    """Generate student notebooks for ``names`` (default: all) into ``dest``/<name>/."""
    names = names or assignments()
    with tempfile.TemporaryDirectory() as course:
        course = Path(course)
        shutil.copytree(SOLUTIONS, course / "source",
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        for name in names:
            cmd = [sys.executable, "-m", "nbgrader", "generate_assignment", name,
                   "--no-db", "--force", "--CourseDirectory.root=%s" % course,
                   "--log-level=WARN"]
            done = subprocess.run(cmd, cwd=course, capture_output=True, text=True)
            if done.returncode != 0:
                raise RuntimeError("nbgrader generate_assignment %s failed:\n%s"
                                   % (name, done.stdout + done.stderr))
            out = Path(dest) / name
            out.mkdir(parents=True, exist_ok=True)
            for nb_path in sorted((course / "release" / name).glob("*.ipynb")):
                nb = normalise(json.loads(nb_path.read_text(encoding="utf-8")))
                write_notebook(out / nb_path.name, nb)


def main(names=None):
    """Sync toolkit cells, then regenerate exercises/ for ``names`` (default: all).

    With no names, exercises/ is rebuilt whole, so an assignment removed from solutions/
    disappears from exercises/ too.
    """
    names = names or assignments()
    for name in names:
        if sync_toolkit(solution_path(name)):
            print("updated the toolkit cell of %s" % name)
    exercises = ROOT / "exercises"
    with tempfile.TemporaryDirectory() as tmp:
        generate(tmp, names)
        if names == assignments() and exercises.exists():
            shutil.rmtree(exercises)
        for name in names:
            shutil.rmtree(exercises / name, ignore_errors=True)
            shutil.copytree(Path(tmp) / name, exercises / name)
    print("exercises/ regenerated for: %s" % ", ".join(names))


if __name__ == "__main__":
    main(sys.argv[1:])
