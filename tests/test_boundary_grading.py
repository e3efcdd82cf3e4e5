"""Grading across the boundary: warnings and stability tests, hidden tests by name, and
the load step of a session (cells that hang or kill the worker, a notebook that cannot
start)."""
import json
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from autograder.grading import runner, testkit
from autograder.grading.proxy import StudentProxy
from autograder.grading.reference import ROOT
from autograder.grading.testkit import HiddenTest
from autograder.sandbox import Kind, Limits, LoadFailed, Session, Worker, check_bwrap
from autograder.sandbox import process as sandbox_process
from autograder.sandbox.local import LocalSession
from autograder.toolkit.checks import check_close

FAST = Limits(call_timeout=3, cell_timeout=1.5)
NAIVE = "def sigmoid(z):\n    return 1 / (1 + np.exp(-z))\n"
STABLE = ("def sigmoid(z):\n    e = np.exp(-np.abs(z))\n"
          "    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))\n")
RAISING = ("def sigmoid(z):\n    with np.errstate(over='raise'):\n"
           "        return 1 / (1 + np.exp(-z))\n")
LEAKY = ("import warnings\ndef sigmoid(z):\n"
         "    for i in range(20):\n        warnings.warn('input %r, try %d' % (z.tolist(), i))\n"
         "    return 1 / (1 + np.exp(-np.clip(z, -500, 500)))\n")
OVERFLOW = ("`sigmoid` raised RuntimeWarning (overflow encountered in exp) on extreme inputs: "
            "this test checks numerical stability; compute it in a form that cannot overflow")


def sigmoid_at_extremes(student):
    """sigmoid at -1000, 0 and 1000"""
    z = np.array([-1000.0, 0.0, 1000.0])
    check_close("sigmoid(z)", student.sigmoid(z), np.array([0.0, 0.5, 1.0]))


@pytest.fixture(params=["sandbox", "in-process"])
def grade(request):
    """grade(source, stable) -> (passed, output) of one hidden test on a notebook."""
    sessions = []

    def run(source, stable):
        cells = ["import numpy as np", source]
        if request.param == "sandbox":
            check_bwrap()
            session = Session(cells, FAST)
        else:
            session = LocalSession(cells)
        sessions.append(session)
        test = HiddenTest("test_sigmoid", sigmoid_at_extremes, 1, "sigmoid", stable)
        return runner.run_test(test, "ch02_logistic", StudentProxy(session), None)
    yield run
    for session in sessions:
        session.close()


def test_a_stable_test_fails_a_naive_sigmoid_that_overflows(grade):
    assert grade(NAIVE, stable=True) == (False, OVERFLOW)


def test_a_plain_test_passes_it_with_a_note(grade):
    passed, output = grade(NAIVE, stable=False)
    assert passed
    assert output == ("passed\nnote: `sigmoid` raised RuntimeWarning: overflow encountered "
                      "in exp (cell 2, line 2)")


def test_a_stable_sigmoid_passes_the_stable_test_without_notes(grade):
    assert grade(STABLE, stable=True) == (True, "passed")


def test_an_overflow_turned_into_an_error_fails_as_unstable(grade):
    passed, output = grade(RAISING, stable=True)
    assert not passed
    assert output.startswith("`sigmoid` raised FloatingPointError (overflow encountered in "
                             "exp) on extreme inputs")


def test_warning_text_is_capped_and_carries_no_long_numbers(grade):
    passed, output = grade(LEAKY.replace("z.tolist()", "(z * 1.2345678).tolist()"), False)
    assert passed
    notes = output.splitlines()[1:]
    assert 1 <= len(notes) <= 5
    assert "2345678" not in output and "1234" not in output
    assert all(len(note) < 250 for note in notes)


def test_hidden_tests_are_named_records_with_their_stable_flag():
    module = type(sys)("hidden_example")

    @testkit.points(2, stable=True)
    def test_a(student):
        """first line
        more"""

    @testkit.points(1)
    def test_b(student):
        pass
    module.test_a, module.test_b = test_a, test_b
    assert testkit.collect(module) == [HiddenTest("test_a", test_a, 2, "first line", True),
                                       HiddenTest("test_b", test_b, 1, "test_b", False)]


def test_pytest_on_hidden_tests_judges_warnings_as_grading_does(tmp_path):
    """The hidden tests' conftest: a naive sigmoid fails a stable test, passes another."""
    notebook = {"cells": [{"cell_type": "code", "source": "import numpy as np"},
                          {"cell_type": "code", "source": NAIVE}],
                "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "naive.ipynb").write_text(json.dumps(notebook))
    (tmp_path / "test_ch02_logistic.py").write_text(textwrap.dedent('''
        import numpy as np
        from autograder.grading.testkit import points
        from autograder.toolkit.checks import check_close

        def check(student, reference):
            z = np.array([-1000.0, 0.0, 1000.0])
            check_close("sigmoid(z)", student.sigmoid(z), reference.sigmoid(z))

        @points(1, stable=True)
        def test_stable(student, reference):
            check(student, reference)

        @points(1)
        def test_plain(student, reference):
            check(student, reference)
    '''))
    env = {"BACKPROP_STUDENT_NOTEBOOK": str(tmp_path / "naive.ipynb"), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "autograder.hidden.conftest",
                           "-q", "-rA", str(tmp_path / "test_ch02_logistic.py")],
                          cwd=ROOT, capture_output=True, text=True, env=env, timeout=300)
    assert "1 failed, 1 passed" in done.stdout, done.stdout + done.stderr
    assert re.search(r"FAILED \S+::test_stable", done.stdout)
    assert OVERFLOW in done.stdout
    assert "StudentNote: note: `sigmoid` raised RuntimeWarning: overflow encountered in exp" \
        in done.stdout


# --- loading a notebook -----------------------------------------------------------------

HANG = "x = [0 for _ in iter(int, 1)]\n"
EXIT = "import os\n_ = os._exit(0)\n"


@pytest.mark.parametrize("cell, why", [(HANG, "took longer than 1.5 s to run"),
                                       (EXIT, "stopped the notebook (exited (status 0))")])
def test_load_step_names_the_cell_that_stopped_it(cell, why):
    check_bwrap()
    worker = Worker(FAST)
    try:
        with pytest.raises(LoadFailed) as info:
            sandbox_process.load_notebook(worker, ["import numpy as np", "y = 1", cell,
                                                   "def f():\n    return 1\n"], FAST)
    finally:
        worker.close()
    assert (info.value.cell_index, info.value.why) == (2, why)


def test_load_step_reports_cells_that_raise_and_goes_on():
    check_bwrap()
    worker = Worker(FAST)
    try:
        errors = sandbox_process.load_notebook(worker, ["x = 1 / 0", "def f(:", "y = 2"], FAST)
    finally:
        worker.close()
    assert sorted(errors) == [0, 1] and errors[0].startswith("ZeroDivisionError")


def test_restarts_are_capped_and_the_reason_reaches_the_feedback():
    check_bwrap()
    s = Session(["import numpy as np"] + [EXIT] * 5 + ["def f():\n    return 1\n"],
                Limits(call_timeout=3, cell_timeout=3, max_restarts=2))
    result = s.call("f")
    s.close()
    assert result.kind is Kind.CRASHED and "restarted 2 times" in result.message
    assert s.starts == 3 and sorted(s.skipped) == [1, 2, 3]
    assert "could not be run: the sandbox was restarted 2 times" in runner.notebook_output(s)


def test_a_notebook_that_cannot_start_fails_clearly_without_retrying(monkeypatch):
    check_bwrap()
    monkeypatch.setattr(sandbox_process, "python_dirs", lambda: [])   # no Python inside
    s = Session(["def f():\n    return 1\n"], FAST)
    first, second = s.call("f"), s.call("f")
    s.close()
    assert first.kind is Kind.CRASHED and "before running any cell" in first.message
    assert second == first and s.starts == 1 and s.skipped == {}
