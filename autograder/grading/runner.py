"""Grade one notebook: load it in a sandbox, run the assignment's hidden tests against it.

The hidden tests run here, in the trusted process; only the student's functions run in
the sandbox (see ``sandbox`` and ``proxy``). The result follows Gradescope's results.json
schema: ``score``, ``output``, ``execution_time`` and ``tests`` (``name``, ``score``,
``max_score``, ``output``, ``visibility``).
"""
import importlib
import inspect
import time
import warnings

from autograder.grading import testkit
from autograder.grading.proxy import StudentProxy
from autograder.grading.reference import load_reference
from autograder.sandbox import Limits, Session
from autograder.sandbox.inside import cells
from autograder.toolkit import checks


def hidden_tests(assignment):
    """The hidden tests of an assignment: list of (name, function, points, description)."""
    module = importlib.import_module("autograder.hidden.test_%s" % assignment)
    return testkit.collect(module)


def max_score(assignment):
    """Total points of an assignment."""
    return sum(points for _, _, points, _ in hidden_tests(assignment))


def run_test(test, assignment, student, reference):
    """Run one hidden test; returns (passed, feedback text)."""
    name, func, _, _ = test
    fixtures = {"student": student, "reference": reference,
                "rng": testkit.rng_for(assignment, name)}
    wanted = inspect.signature(func).parameters
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", checks.CheckWarning)
        try:
            func(**{k: fixtures[k] for k in wanted})
        except checks.CheckFailure as failure:
            return False, str(failure)
        except Exception as error:  # the student's value broke the test's arithmetic
            return False, ("the returned values could not be checked (%s: %s)"
                           % (type(error).__name__, str(error)[:200]))
    notes = ["warning: %s" % w.message for w in caught
             if issubclass(w.category, checks.CheckWarning)]
    return True, "\n".join(["passed"] + notes)


def notebook_output(session):
    """What to tell the student about their notebook as a whole (cells that failed)."""
    lines = []
    for index, why in sorted(session.skipped.items()):
        lines.append("%s was skipped: it %s." % (describe_cell(session.cells, index), why))
    for index, error in sorted(session.cell_errors.items()):
        lines.append("%s failed to run: %s" % (describe_cell(session.cells, index), error))
    return "\n".join(lines)


def describe_cell(sources, index):
    """'Code cell 3 (the one starting `def f(x):`)': how a student finds a cell again."""
    first = next((line.strip() for line in sources[index].splitlines() if line.strip()), "")
    if len(first) > 60:
        first = first[:57] + "..."
    return "Code cell %d (the one starting `%s`)" % (index + 1, first) if first else \
        "Code cell %d" % (index + 1)


def grade_notebook(text, assignment, limits=Limits(), sandboxed=True):
    """Grade a notebook's JSON text against ``assignment``; returns a results.json dict."""
    started = time.monotonic()
    tests = hidden_tests(assignment)
    try:
        sources = cells.code_cells(text)
    except ValueError as error:
        return unreadable(tests, "This file could not be read as a notebook: %s" % error,
                          started)
    reference = load_reference(assignment)
    session = Session(sources, limits, sandboxed)
    student = StudentProxy(session)
    results = []
    try:
        for test in tests:
            passed, output = run_test(test, assignment, student, reference)
            results.append({"name": test[3], "score": test[2] if passed else 0,
                            "max_score": test[2], "output": output,
                            "visibility": "visible"})
    finally:
        session.close()
    return {"score": sum(r["score"] for r in results), "output": notebook_output(session),
            "execution_time": round(time.monotonic() - started, 3), "tests": results}


def unreadable(tests, message, started):
    """Results for a submission that could not be graded at all: every test 0."""
    return {"score": 0, "output": message,
            "execution_time": round(time.monotonic() - started, 3),
            "tests": [{"name": t[3], "score": 0, "max_score": t[2], "output": message,
                       "visibility": "visible"} for t in tests]}
