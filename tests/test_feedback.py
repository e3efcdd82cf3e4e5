"""Feedback pages, and what they (and results.json) must never show: hidden inputs.

The leak tests grade notebooks against a planted hidden test whose input holds a
recognizable number; each notebook tries one channel to carry it into the feedback."""
import html
import json

import lockdown
import numpy as np
import pytest

from autograder.course import feedback
from autograder.grading import runner
from autograder.grading.testkit import HiddenTest
from autograder.sandbox import Limits
from autograder.sandbox.inside import wire
from autograder.toolkit.checks import check_close

NAME = "ch01_gates"
SECRET = 12345.678
FAST = Limits(call_timeout=3, cell_timeout=3)


def planted(student, reference, rng):
    """f on the planted input"""
    x = np.array([SECRET, 2.5, -7.25])
    check_close("f", student.f(x.copy()), np.zeros(3))


def planted_dict(student, reference, rng):
    """g returns a dict"""
    got = student.g(np.array([SECRET]))
    from autograder.toolkit.checks import field
    check_close("g", field("g", got, "dx"), np.zeros(1))


CHANNELS = {
    "repr_in_exception": "def f(x):\n    raise ValueError(repr(x))\n",
    "str_in_exception": "def f(x):\n    raise RuntimeError('input was %s' % x[0])\n",
    "digits_spaced": "def f(x):\n    raise ValueError(' '.join(str(x[0])))\n",
    "exception_class_name": "def f(x):\n    raise type('E%d' % int(x[0]), (Exception,), {})('x')\n",
    "returned_string": "def f(x):\n    return 'x=%r' % (x,)\n",
    "returned_class": "def f(x):\n    return type('V%d' % int(x[0]), (), {})()\n",
    "returned_dict_keys": "def f(x):\n    return {str(x[0]): 1.0}\n",
    "printed": "import sys\ndef f(x):\n    print(x)\n    sys.stderr.write(repr(x))\n"
               "    return x * 0\n",
    "warning_text": "import warnings\ndef f(x):\n    warnings.warn(str(x))\n    return x * 0\n",
    "warning_class": "import warnings\ndef f(x):\n    warnings.warn('w', type('W%d' % int(x[0]),"
                     " (UserWarning,), {}))\n    return x * 0\n",
    "exit_message": "import sys\ndef f(x):\n    sys.exit(repr(x))\n",
    "nested_exception": "def f(x):\n    try:\n        1 / 0\n    except Exception as e:\n"
                        "        raise KeyError(str(x.tolist())) from e\n",
}


def grade(monkeypatch, source, mode="bwrap", tests=None):
    tests = tests or [HiddenTest("test_f", planted, 1, planted.__doc__),
                      HiddenTest("test_g", planted_dict, 1, planted_dict.__doc__)]
    monkeypatch.setattr(runner, "hidden_tests", lambda name: tests)
    nb = {"cells": [{"cell_type": "code", "source": source, "metadata": {}, "outputs": []},
                    {"cell_type": "code", "metadata": {}, "outputs": [], "source":
                     "def g(x):\n    return {'k%s' % x[0]: x, '<b>%d' % x[0]: 1}\n"}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    limits = FAST if mode == "bwrap" else Limits(call_timeout=3, cell_timeout=3, sandbox=mode)
    record = runner.grade_notebook(json.dumps(nb), NAME, limits)
    record["execution_time"] = 0
    return record


def leaked(text):
    text = html.unescape(text)
    return [s for s in ("12345", "45.67", "345.678", "1 2 3 4 5", "7.25", "2.5")
            if s in text]


@pytest.fixture(scope="module", params=["bwrap", "user"])
def mode(request):
    """Both sandboxes (user mode with the repository's secrets locked to root)."""
    if request.param == "bwrap":
        yield "bwrap"
        return
    with lockdown.locked():
        yield "user"


@pytest.mark.parametrize("channel", sorted(CHANNELS))
def test_no_hidden_input_reaches_results_or_feedback(monkeypatch, channel, mode):
    record = grade(monkeypatch, CHANNELS[channel], mode)
    assert record["tests"][1]["score"] == 0, record
    page = feedback.render("s", NAME, record)
    assert leaked(json.dumps(record)) == [], json.dumps(record, indent=1)
    assert leaked(page) == []


def test_the_channels_carry_the_input_before_redaction():
    """Guard against a vacuous test: without redaction the messages hold the input."""
    assert "12345" in "ValueError: %r" % np.array([SECRET])
    assert "12345" not in wire.redact_error("ValueError: %r" % np.array([SECRET]))
    assert wire.redact_error("Leak12345: 1 (cell 2, line 3)") == "an exception: # (cell 2, line 3)"
    assert wire.redact("shapes (3,4) and (5,)") == "shapes […] and […]"


def test_errors_keep_type_and_place(monkeypatch):
    record = grade(monkeypatch, "def f(x):\n    return x[0] / 0 + {}[1]\n")
    out = record["tests"][0]["output"]
    assert "KeyError" in out and "(cell 1, line 2)" in out, out


def sample_record():
    tests = runner.hidden_tests(NAME)
    record = runner.unreadable(tests, "", 0.0)
    record["output"] = "Code cell 4 (the one starting `<script>alert(1)</script>`) failed"
    for entry in record["tests"]:
        entry["output"] = "`f` raised an error: <img src=x onerror=alert(1)>\n" \
                          "note: `f` raised RuntimeWarning: overflow encountered in exp"
    record["tests"][0].update(score=record["tests"][0]["max_score"], output="passed")
    record["score"] = record["tests"][0]["score"]
    return record


def test_page_layout_groups_by_function_and_escapes(tmp_path):
    record = sample_record()
    path = feedback.write_feedback(tmp_path, "ann o'neil", NAME, record)
    assert path == tmp_path / "ann o'neil" / NAME / ("%s.html" % NAME)
    page = path.read_text(encoding="utf-8")
    assert "<script>" not in page and "<img" not in page
    assert "&lt;script&gt;" in page
    assert "@media print" in page and "<style>" in page
    assert "<link" not in page and "src=" not in page.replace("src=x", "")
    for function in ("add_backward", "mul_backward", "sigmoid", "neuron_forward_backward"):
        assert "<code>%s</code>" % function in page
    assert "1 / 1" in page                      # add_backward's cell, passed
    assert "0 / 4" in page                      # mul_backward's two tests
    assert "overflow encountered in exp" in page
    assert "Score: <strong>1 / %d</strong>" % runner.max_score(NAME) in page


def test_unknown_tests_still_listed():
    record = {"score": 1, "tests": [{"name": "mystery", "score": 1, "max_score": 2,
                                     "output": "half"}]}
    page = feedback.render("s", "not_a_chapter", record)
    assert "mystery" in page and "1 / 2" in page
