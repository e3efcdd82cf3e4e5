"""exercises/ is exactly what nbgrader makes of solutions/, and holds no solution."""
import json
import subprocess
import sys

import pytest

from autograder.course import release
from autograder.course.samples import MARKERS, answer, solution_cells
from autograder.grading.reference import (
    ROOT,
    assignments,
    earlier_namespace,
    is_earlier_layers,
    solution_path,
)

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


NOTEBOOKS = sorted(p for folder in ("solutions", "exercises")
                   for p in (ROOT / folder).glob("*/*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: "%s/%s" % (p.parts[-3], p.name))
def test_notebook_is_stored_as_nbformat_writes_it(path):
    """Valid nbformat 4.5, every cell's source a list of lines, the JSON nbformat writes
    (sorted keys, one-space indent, as release.write_notebook): a diff shows changed lines."""
    import nbformat
    text = path.read_text(encoding="utf-8")
    nb = nbformat.reads(text, as_version=4)
    nbformat.validate(nb)
    assert (nb.nbformat, nb.nbformat_minor) == (4, 5)
    raw = json.loads(text)
    for cell in raw["cells"]:
        assert isinstance(cell["source"], list), "one string: cell %s" % cell.get("id")
        assert all(line.endswith("\n") for line in cell["source"][:-1])
    assert text == nbformat.writes(nb) + "\n"


def test_solution_notebooks_pass_ruff():
    """The notebooks follow the project's lint rules (pyproject.toml; ruff reads notebooks)."""
    pytest.importorskip("ruff")
    done = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "solutions"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-3000:]


def test_toolkit_has_no_line_that_looks_like_a_magic():
    """Notebook tools comment out lines starting with %, ! or ? (IPython magics): in the
    toolkit cell such a line would break the checks, so checks.py has none."""
    lines = release.CHECKS.read_text(encoding="utf-8").splitlines()
    assert [line for line in lines if line.lstrip().startswith(("%", "!", "?"))] == []


# ---------------------------------------------------------------- public checks and grading agree

def _cells_of(nb):
    """The code cells an author runs (earlier chapters' stubs left out: see _namespace_of)."""
    return [c for c in nb["cells"] if c["cell_type"] == "code" and not is_earlier_layers(c)]


def _run_cells_like_jupyter(nb, stdout):
    """Run a notebook's code cells in one namespace, as Jupyter would; returns, per cell
    with a grade_id, the value its last expression would display (None: nothing shown)."""
    import ast
    import contextlib
    namespace, shown = earlier_namespace(nb), {}     # the earlier layers, as if pasted in
    with contextlib.redirect_stdout(stdout):
        for cell in _cells_of(nb):
            tree = ast.parse("".join(cell["source"]))
            last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
            exec(compile(tree, "cell", "exec"), namespace)
            value = eval(compile(ast.Expression(last.value), "cell", "eval"), namespace) \
                if last is not None else None
            shown[cell["metadata"].get("nbgrader", {}).get("grade_id")] = value
    return shown


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_check_cells_show_nothing_after_their_lines(name):
    """check_all returns None, so a check cell shows no stray True/False after its output."""
    import io
    nb = json.loads(solution_path(name).read_text(encoding="utf-8"))
    out = io.StringIO()
    shown = _run_cells_like_jupyter(nb, out)
    checks = {gid: value for gid, value in shown.items() if gid and gid.startswith("check_")}
    assert checks and all(value is None for value in checks.values()), checks
    assert "[FAIL]" not in out.getvalue() and "[todo]" not in out.getvalue()


def _variant(name, grade_id, old, new):
    """The solution notebook of `name` with `old` replaced by `new` in one solution cell."""
    nb = json.loads(solution_path(name).read_text(encoding="utf-8"))
    cell = solution_cells(nb)[grade_id]
    source = "".join(cell["source"])
    assert old in source, (grade_id, old)
    cell["source"] = source.replace(old, new).splitlines(keepends=True)
    return nb


def _public_output(nb):
    """What the notebook's public check cells print."""
    import io
    out = io.StringIO()
    _run_cells_like_jupyter(nb, out)
    return out.getvalue()


def _grade_unsandboxed(nb, name):
    """The hidden tests' verdicts on a (trusted) notebook: test name -> (passed, output).

    The notebook runs in-process (LocalSession), through the same proxy as in grading.
    """
    from autograder.grading import runner
    from autograder.grading.proxy import StudentProxy
    from autograder.grading.reference import load_reference
    from autograder.sandbox.inside import cells
    from autograder.sandbox.local import LocalSession
    student = StudentProxy(LocalSession(cells.code_cells(json.dumps(nb))))
    reference = load_reference(name)
    return {test.name: runner.run_test(test, name, student, reference)
            for test in runner.hidden_tests(name)}


# (assignment, solution cell, code replaced, by, public check line that fails, what it says,
#  hidden test that fails, what the grader says)
MISTAKES = [
    ("ch02_logistic", "logistic_forward", "return float(loss), cache",
     "return np.float32(loss), cache",
     "[FAIL] loss for y = 1", "returned float32; compute in float64",
     "test_forward_loss", "returned float32; compute in float64"),
    ("ch02_logistic", "logistic_forward", "return float(loss), cache",
     "return np.float32(loss), cache",
     "[FAIL] dw matches a numerical gradient", "returned float32; compute in float64",
     "test_forward_loss", "returned float32; compute in float64"),
    ("ch03_mlp", "affine_rows_backward", "db = np.sum(dout, axis=0)", "db = np.sum(dout, axis=1)",
     "[FAIL] db_r = column sums of dout", "summed over the wrong axis (axis=1)",
     "test_affine_rows_backward", "summed over the wrong axis (axis=1)"),
    ("ch03_mlp", "mlp2_backward", "db1 = dZ @ u.T", "db1 = np.sum(dZ, axis=0, keepdims=True)",
     "[FAIL] dL/db1", "summed over the wrong axis (axis=0)",
     "test_mlp2_backward_hidden_layer", "summed over the wrong axis (axis=0)"),
    ("ch04_numeric", "cross_entropy",
     "log_o = v - m - np.log(np.sum(np.exp(v - m)))", "log_o = np.log(softmax(v))",
     "[FAIL] cross_entropy is 1000, not inf", "divide by zero encountered in log",
     "test_cross_entropy_large_logits", "contains inf"),
    ("ch04_numeric", "backward", "dW1 = np.outer(du, x) + ds * W1", "dW1 = np.outer(du, x)",
     "[FAIL] backward on the chapter's network", "missing the regularisation gradient W1",
     "test_backward_random_networks", "missing the regularisation gradient W1"),
]


@pytest.mark.parametrize("case", MISTAKES, ids=lambda c: "%s-%s" % (c[0], c[6]))
def test_public_checks_and_grader_name_the_same_mistake(case):
    name, grade_id, old, new, line, public_says, test, grader_says = case
    nb = _variant(name, grade_id, old, new)
    out = _public_output(nb)
    failed = [block for block in out.split("\n[") if block.startswith(line[1:])]
    assert failed and public_says in failed[0], out
    passed, feedback = _grade_unsandboxed(nb, name)[test]
    assert not passed and grader_says in feedback, feedback


def test_public_checks_fail_an_overflowing_sigmoid():
    """The chapter teaches an overflow-free sigmoid: the public check fails the naive one
    (the grader fails it in its stable tests, through the overflow warning)."""
    nb = _variant("ch01_gates", "sigmoid_forward",
                  "e = np.exp(-np.abs(x))               # in (0, 1]: never overflows\n"
                  "    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))",
                  "return 1.0 / (1.0 + np.exp(-x))")
    out = _public_output(nb)
    assert "[FAIL] sigmoid_forward at -1000, -30, 30, 1000 without overflow" in out
    assert "overflow encountered in exp" in out
    import autograder.hidden.test_ch01_gates as hidden
    assert hidden.test_sigmoid_saturated.stable and hidden.test_neuron_saturated.stable


def test_a_backward_on_a_wrong_forward_cache_names_the_forward():
    """Backward tests use the student's own cache: a right backward on a wrong forward's
    cache passes, and a wrong one is told to fix the forward first."""
    only_forward = _variant("ch04_numeric", "forward", "L = cross_entropy(v, y) ",
                            "L = 0.5 * cross_entropy(v, y) ")
    verdicts = _grade_unsandboxed(only_forward, "ch04_numeric")
    assert not verdicts["test_forward_random_networks"][0]
    assert verdicts["test_backward_random_networks"][0]
    no_bias = _variant("ch02_logistic", "logistic_forward", "z = float(np.dot(w, x) + b)",
                       "z = float(np.dot(w, x))")
    passed, feedback = _grade_unsandboxed(no_bias, "ch02_logistic")["test_backward"]
    assert not passed and "logistic_forward is wrong here too" in feedback, feedback
