"""Grade one notebook: load it in a sandbox, run the assignment's hidden tests against it.

The hidden tests run here, in the trusted process; only the student's functions run in
the sandbox (see ``sandbox`` and ``proxy``). The result follows Gradescope's results.json
schema: ``score``, ``output``, ``execution_time`` and ``tests`` (``name``, ``score``,
``max_score``, ``output``, ``visibility``).

A test's output is "passed" or the failure, then notes: warnings of the checks
("warning: ...") and warnings the student's code raised ("note: `f` raised
RuntimeWarning: ..."), which cost nothing, except in a test marked
``@points(n, stable=True)``, which a RuntimeWarning fails (``proxy.judge_warnings``).
"""
from __future__ import annotations

import importlib
import inspect
import time
import types
import warnings
from typing import Any

from autograder.grading import testkit
from autograder.grading.proxy import (
    StudentError,
    StudentProxy,
    judge_warnings,
    stability_failure,
    take_warnings,
)
from autograder.grading.reference import load_reference
from autograder.grading.testkit import HiddenTest
from autograder.sandbox import Kind, Limits, Session
from autograder.sandbox.inside import cells
from autograder.sandbox.inside.wire import redact_error
from autograder.toolkit import checks


def hidden_tests(assignment: str) -> list[HiddenTest]:
    """The hidden tests of an assignment, in file order."""
    module = importlib.import_module("autograder.hidden.test_%s" % assignment)
    return testkit.collect(module)


def graded_functions(assignment: str) -> list[str]:
    """Names of the student's functions the hidden tests call, in the order first called.

    Found by running every hidden test with the reference standing in for the student and
    recording which of its functions are looked up (a test may call ``student.f`` directly
    or ``getattr(student, name)``).
    """
    reference = load_reference(assignment)
    called: list[str] = []

    class Recorder:
        def __getattr__(self, name: str) -> Any:
            if name.startswith("_"):
                raise AttributeError(name)
            called.append(name)
            return getattr(reference, name)

    for test in hidden_tests(assignment):
        fixtures = {"student": Recorder(), "reference": reference,
                    "rng": testkit.rng_for(assignment, test.name)}
        test.func(**{k: fixtures[k] for k in inspect.signature(test.func).parameters})
    return list(dict.fromkeys(called))


def max_score(assignment: str) -> float:
    """Total points of an assignment."""
    return sum(test.points for test in hidden_tests(assignment))


def run_test(test: HiddenTest, assignment: str, student: StudentProxy,
             reference: types.ModuleType) -> tuple[bool, str]:
    """Run one hidden test; returns (passed, feedback text)."""
    fixtures = {"student": student, "reference": reference,
                "rng": testkit.rng_for(assignment, test.name)}
    wanted = inspect.signature(test.func).parameters
    take_warnings(student)                     # forget what earlier tests raised
    failure, unstable = None, False
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", checks.CheckWarning)
        try:
            test.func(**{k: fixtures[k] for k in wanted})
        except checks.CheckFailure as error:
            failure = str(error)
            unstable = test.stable and isinstance(error, StudentError) and \
                error.kind is Kind.RAISED and "FloatingPointError" in failure
        except Exception as error:  # the student's value broke the test's arithmetic
            failure = ("the returned values could not be checked (%s)"
                       % redact_error("%s: %s" % (type(error).__name__, error)))
    found = take_warnings(student)
    if failure is None:
        failure, notes = judge_warnings(found, test.stable)
    else:
        raised = next((w for w in found if w.category == "FloatingPointError"), None)
        if unstable and raised:   # np.seterr(all="raise") made the overflow an error
            failure = stability_failure(raised)
        notes = judge_warnings(found, stable=False)[1]
    if failure is not None:
        return False, "\n".join([failure] + notes)
    checked = ["warning: %s" % w.message for w in caught
               if issubclass(w.category, checks.CheckWarning)]
    return True, "\n".join(["passed"] + checked + notes)


def notebook_output(session: Session) -> str:
    """What to tell the student about their notebook as a whole (cells that failed)."""
    lines = []
    if session.broken:
        lines.append("The notebook could not be run: %s." % session.broken)
    for index, why in sorted(session.skipped.items()):
        lines.append("%s was skipped: it %s." % (describe_cell(session.cells, index), why))
    for index, error in sorted(session.cell_errors.items()):
        lines.append("%s failed to run: %s" % (describe_cell(session.cells, index), error))
    return "\n".join(lines)


def describe_cell(sources: list[str], index: int) -> str:
    """'Code cell 3 (the one starting `def f(x):`)': how a student finds a cell again."""
    first = next((line.strip() for line in sources[index].splitlines() if line.strip()), "")
    if len(first) > 60:
        first = first[:57] + "..."
    return "Code cell %d (the one starting `%s`)" % (index + 1, first) if first else \
        "Code cell %d" % (index + 1)


def result_entry(test: HiddenTest, passed: bool, output: str) -> dict[str, Any]:
    """One entry of results.json's ``tests``."""
    return {"name": test.description, "score": test.points if passed else 0,
            "max_score": test.points, "output": output, "visibility": "visible"}


def grade_notebook(text: str, assignment: str, limits: Limits = Limits(),
                   sandboxed: bool = True) -> dict[str, Any]:
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
            results.append(result_entry(test, *run_test(test, assignment, student, reference)))
    finally:
        session.close()
    return {"score": sum(r["score"] for r in results), "output": notebook_output(session),
            "execution_time": round(time.monotonic() - started, 3), "tests": results}


def unreadable(tests: list[HiddenTest], message: str, started: float) -> dict[str, Any]:
    """Results for a submission that could not be graded at all: every test 0."""
    return {"score": 0, "output": message,
            "execution_time": round(time.monotonic() - started, 3),
            "tests": [result_entry(t, False, message) for t in tests]}
