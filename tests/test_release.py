"""exercises/ is exactly what nbgrader makes of solutions/, and holds no solution."""
import json
import subprocess
import sys

import pytest

from autograder.course import release
from autograder.course.samples import MARKERS, answer, solution_cells
from autograder.grading.reference import ROOT, assignments, solution_path

ASSIGNMENTS = assignments()


def test_there_are_chapters():
    assert {"ch01_gates", "ch02_logistic", "ch03_mlp", "ch04_numeric"} <= set(ASSIGNMENTS)


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    dest = tmp_path_factory.mktemp("release")
    release.generate(dest)
    return dest


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_exercises_are_up_to_date(name, generated):
    committed = (ROOT / "exercises" / name / ("%s.ipynb" % name)).read_text(encoding="utf-8")
    fresh = (generated / name / ("%s.ipynb" % name)).read_text(encoding="utf-8")
    assert committed == fresh, "exercises/%s is stale: run `make exercises`" % name


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_toolkit_cell_is_checks_py(name):
    nb = json.loads(solution_path(name).read_text(encoding="utf-8"))
    toolkit = [c for c in nb["cells"] if "toolkit" in c["metadata"].get("tags", [])]
    assert len(toolkit) == 1
    assert "".join(toolkit[0]["source"]) == release.toolkit_source()


def solution_lines(name):
    """Non-trivial lines of the reference answers (those absent from the stubs)."""
    sol = json.loads(solution_path(name).read_text(encoding="utf-8"))
    ex = json.loads((ROOT / "exercises" / name / ("%s.ipynb" % name)).read_text())
    stub_text = json.dumps(ex)
    lines = set()
    for cell in solution_cells(sol).values():
        text = "".join(cell["source"])
        body = text.split(MARKERS[0], 1)[1].split(MARKERS[1], 1)[0] if MARKERS[0] in text else ""
        for line in body.splitlines():
            line = line.strip()
            if len(line) >= 12 and not line.startswith("#") and line not in stub_text:
                lines.add(line)
    return lines


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_exercises_hold_no_solution_code(name):
    text = (ROOT / "exercises" / name / ("%s.ipynb" % name)).read_text(encoding="utf-8")
    assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text
    leaked = [line for line in solution_lines(name) if line in text]
    assert solution_lines(name), "the solution of %s has no lines to look for" % name
    assert leaked == []


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_every_solution_cell_is_a_named_function(name):
    sol = json.loads(solution_path(name).read_text(encoding="utf-8"))
    for grade_id, cell in solution_cells(sol).items():
        assert ("def %s(" % grade_id) in answer(cell["source"]), grade_id


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_exercise_public_checks_run_with_numpy_and_matplotlib_only(name, tmp_path):
    """Run the exercise's cells in a plain interpreter that cannot import the project."""
    nb = json.loads((ROOT / "exercises" / name / ("%s.ipynb" % name)).read_text())
    code = "\n\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    code = "\n".join(("# " + l) if l.lstrip().startswith(("%", "!")) else l
                     for l in code.splitlines())
    script = tmp_path / "exercise.py"
    script.write_text("import matplotlib\nmatplotlib.use('Agg')\n" + code)
    done = subprocess.run([sys.executable, "-I", str(script)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "[todo]" in done.stdout
    assert "[ ok ]" not in done.stdout.replace("[ ok ] toolkit", "")


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_exercise_imports_only_numpy_matplotlib_and_the_standard_library(name):
    import ast
    nb = json.loads((ROOT / "exercises" / name / ("%s.ipynb" % name)).read_text())
    allowed = set(sys.stdlib_module_names) | {"numpy", "matplotlib"}
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        for node in ast.walk(ast.parse("".join(cell["source"]))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for module in names:
                assert module.split(".")[0] in allowed, "%s imports %s" % (name, module)
