"""Fixtures that let pytest run the hidden tests directly.

By default ``student`` is the reference itself, so every hidden test must pass: this is how
the project checks its hidden tests. With ``BACKPROP_STUDENT_NOTEBOOK=path.ipynb`` the
student is that notebook's definitions, run *without* a sandbox (for trusted notebooks
only, such as a deliberately wrong variant written to see a test fail).

Either way ``student`` is the grader's own proxy over a ``LocalSession``, which runs the
sandbox worker's call logic in this process: arguments and results are copied through the
wire format, dict arguments come back changed, an array argument changed in place fails
the call, and warnings are judged as in grading (a RuntimeWarning fails a test marked
``@points(n, stable=True)``; elsewhere it becomes a ``StudentNote`` warning). The grader
itself does not use this file: it calls the tests with a sandboxed proxy
(``autograder.grading.runner``).
"""
import os
import warnings
from pathlib import Path

import pytest

from autograder.grading.proxy import StudentProxy, judge_warnings, take_warnings
from autograder.grading.reference import load_reference
from autograder.grading.testkit import rng_for
from autograder.sandbox.inside import cells
from autograder.sandbox.local import LocalSession
from autograder.toolkit.checks import CheckFailure


class StudentNote(UserWarning):
    """A warning the student's code raised in a test that does not test stability."""


def _assignment(request):
    return request.module.__name__.rsplit(".", 1)[-1][len("test_"):]


@pytest.fixture
def reference(request):
    return load_reference(_assignment(request))


@pytest.fixture(scope="module")
def student_session(request):
    """The student's notebook, loaded once per test file (as grading loads it once)."""
    path = os.environ.get("BACKPROP_STUDENT_NOTEBOOK")
    if not path:
        return LocalSession.of_module(load_reference(_assignment(request)))
    return LocalSession(cells.code_cells(Path(path).read_text(encoding="utf-8")))


@pytest.fixture
def student(student_session):
    return StudentProxy(student_session)


@pytest.fixture
def rng(request):
    return rng_for(_assignment(request), request.node.name)


@pytest.hookimpl(wrapper=True)
def pytest_pyfunc_call(pyfuncitem):
    """After a hidden test's own checks pass, judge the warnings its student raised."""
    outcome = yield
    student = pyfuncitem.funcargs.get("student")
    if isinstance(student, StudentProxy):
        stable = bool(getattr(pyfuncitem.obj, "stable", False))
        failure, notes = judge_warnings(take_warnings(student), stable)
        for note in notes:
            warnings.warn(StudentNote(note), stacklevel=1)
        if failure:
            raise CheckFailure(failure)
    return outcome
